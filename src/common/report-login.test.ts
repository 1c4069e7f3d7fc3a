/**
 * reportLogin, the one call of every login result site: it counts the login in the metrics by
 * method and result, and tells the post-login hook (when one is configured) the same event.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '../../test/helpers/prometheus.js';
import { SftpgoError } from '../errors/index.js';
import { metricsRegistry } from '../util/metrics.js';
import { NO_AUTH_TRIED, PostLoginNotifier, reportLogin, type LoginEvent } from './post-login.js';
import { silentLogger } from './types.js';

const NAMES = [
  'sftpgo_login_attempts_total',
  'sftpgo_login_ok_total',
  'sftpgo_login_ko_total',
  'sftpgo_tls_cert_and_pwd_login_ok_total',
  'sftpgo_keyboard_interactive_login_ko_total',
];

async function counters(): Promise<number[]> {
  const m = parsePrometheusText(await metricsRegistry.metrics());
  return NAMES.map((n) => m.value(n));
}

/** a notifier that records what it is told instead of running a hook */
class Recorder extends PostLoginNotifier {
  readonly events: LoginEvent[] = [];
  constructor() {
    super('/bin/true', { scope: 0, logger: silentLogger });
  }
  override notify(e: LoginEvent): void {
    this.events.push(e);
  }
}

void describe('reportLogin', () => {
  void it('counts each login by method and result, and passes the event to the hook', async () => {
    const before = await counters();
    const hook = new Recorder();
    const ok: LoginEvent = {
      protocol: 'FTP',
      ip: '10.0.0.1',
      method: 'TLSCertificate+password',
      username: 'u',
    };
    const ko: LoginEvent = {
      protocol: 'SSH',
      ip: '10.0.0.2',
      method: 'keyboard-interactive',
      username: 'u',
      error: new SftpgoError('AUTH_FAILED', 'no'),
    };
    reportLogin(hook, ok);
    reportLogin(undefined, ko); // no hook configured: counted all the same
    const after = await counters();
    assert.deepEqual(
      after.map((v, i) => v - (before[i] ?? 0)),
      [2, 1, 1, 1, 1],
    );
    assert.deepEqual(hook.events, [ok]);
  });

  void it('a client gone without trying to log in goes to the hook only (sftpgo_no_auth_total counts it elsewhere)', async () => {
    const before = await counters();
    const hook = new Recorder();
    const gone: LoginEvent = {
      protocol: 'SSH',
      ip: '10.0.0.3',
      method: NO_AUTH_TRIED,
      username: '',
      error: new SftpgoError('AUTH_FAILED', 'no authentication tried'),
      noLookup: true,
    };
    reportLogin(hook, gone);
    assert.deepEqual(await counters(), before);
    assert.deepEqual(hook.events, [gone]);
  });
});
