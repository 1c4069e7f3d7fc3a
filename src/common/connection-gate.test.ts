import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptHooks } from '../../test/helpers/hooks.js';
import { SftpgoError } from '../errors/index.js';
import { ConnectionGate, loginFailureEvent } from './connection-gate.js';
import { Defender } from './defender.js';
import { isPostConnectDenial, PostConnectHook } from './post-connect.js';
import { RateLimiters } from './ratelimiter.js';
import { silentLogger } from './types.js';

const defenderCfg = {
  enabled: true,
  ban_time: 30,
  ban_time_increment: 50,
  threshold: 4,
  score_invalid: 2,
  score_valid: 1,
  score_limit_exceeded: 3,
  observation_time: 30,
  entries_soft_limit: 100,
  entries_hard_limit: 150,
  safelist_file: '',
  blocklist_file: '',
};

void describe('ConnectionGate', () => {
  void it('refuses banned hosts, rate limits, reports login failures by kind', async () => {
    const t = 1_000_000;
    const defender = new Defender(defenderCfg, { now: () => t });
    const rateLimiters = new RateLimiters(
      [
        {
          average: 1,
          period: 10_000,
          burst: 1,
          type: 2,
          protocols: ['HTTP'],
          generate_defender_events: true,
          entries_soft_limit: 10,
          entries_hard_limit: 20,
        },
      ],
      { now: () => t, onLimitExceeded: (ip) => defender.addEvent(ip, 'limit_exceeded') },
    );
    const gate = new ConnectionGate({ defender, rateLimiters });

    await gate.checkConnectionAllowed('10.0.0.1:1234', 'SSH');
    gate.reportLoginFailure('10.0.0.1', new SftpgoError('AUTH_FAILED', 'bad password'));
    assert.equal(defender.getScore('10.0.0.1'), 1);
    gate.reportLoginFailure('10.0.0.1', new SftpgoError('AUTH_FAILED', 'x', { cause: new SftpgoError('NOT_FOUND', 'no user') }));
    assert.equal(defender.getScore('10.0.0.1'), 3);
    gate.reportNoLoginTried('[::ffff:10.0.0.1]:22');
    await assert.rejects(gate.checkConnectionAllowed('10.0.0.1', 'SSH'), (e: unknown) => SftpgoError.is(e, 'CONNECTION_DENIED'));
    await assert.rejects(gate.checkConnectionAllowed('10.0.0.1', 'HTTP'), (e: unknown) => SftpgoError.is(e, 'CONNECTION_DENIED'));

    await gate.checkConnectionAllowed('10.0.0.2', 'HTTP');
    await assert.rejects(gate.checkConnectionAllowed('10.0.0.2', 'HTTP'), (e: unknown) => SftpgoError.is(e, 'RATE_LIMITED'));
    assert.equal(defender.getScore('10.0.0.2'), 3);
    // other protocols are not limited
    await gate.checkConnectionAllowed('10.0.0.2', 'SSH');
    gate.reportLimitExceeded('10.0.0.2');
    await assert.rejects(gate.checkConnectionAllowed('10.0.0.2', 'SSH'), (e: unknown) => SftpgoError.is(e, 'CONNECTION_DENIED'));
  });

  void it('maps errors to defender events', () => {
    assert.equal(loginFailureEvent(new SftpgoError('NOT_FOUND', 'x')), 'user_not_found');
    assert.equal(loginFailureEvent(new SftpgoError('PERMISSION_DENIED', 'x')), 'login_failed');
    assert.equal(loginFailureEvent(new Error('x')), 'login_failed');
  });
});

void describe('ConnectionGate with a post-connect hook', () => {
  void it('runs it last: not for a banned host, and not when told so (HTTP requests)', async () => {
    const scripts = await new ScriptHooks().init();
    try {
      const hook = await scripts.script('post-connect');
      const defender = new Defender({ ...defenderCfg, threshold: 1 });
      const gate = new ConnectionGate({
        defender,
        postConnect: new PostConnectHook(hook, { logger: silentLogger }),
      });
      defender.addEvent('10.0.0.66', 'login_failed');
      await assert.rejects(
        gate.checkConnectionAllowed('10.0.0.66', 'SSH'),
        (e: unknown) => SftpgoError.is(e, 'CONNECTION_DENIED') && !isPostConnectDenial(e),
      );
      await gate.checkConnectionAllowed('10.0.0.1:2222', 'SSH');
      await gate.checkConnectionAllowed('10.0.0.2', 'HTTP', { postConnect: false });
      assert.deepEqual(
        (await scripts.calls(hook)).map((c) => c.env.SFTPGO_CONNECTION_IP),
        ['10.0.0.1'],
      );
    } finally {
      await scripts.cleanup();
    }
  });
});
