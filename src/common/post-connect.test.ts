import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookReceiver } from '../../test/helpers/hooks.js';
import { httpClientSchema } from '../config/schema.js';
import { SftpgoError } from '../errors/index.js';
import { HookHttpClient } from '../util/hooks/http-client.js';
import { ConnectionGate } from './connection-gate.js';
import { Defender } from './defender.js';
import { isPostConnectDenial, POST_CONNECT_DENIED, PostConnectHook } from './post-connect.js';
import type { Logger } from './types.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'post-connect-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function script(name: string, body: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, 0o755);
  return p;
}

/** a logger keeping the warnings */
function recorder(): { logger: Logger; warnings: { obj: object; msg: string }[] } {
  const warnings: { obj: object; msg: string }[] = [];
  const nop = (): void => undefined;
  return {
    warnings,
    logger: {
      debug: nop,
      info: nop,
      error: nop,
      warn: (obj, msg) => warnings.push({ obj, msg: msg ?? '' }),
    },
  };
}

const denied = (e: unknown): boolean =>
  isPostConnectDenial(e) && SftpgoError.is(e, 'CONNECTION_DENIED');

void describe('PostConnectHook as a program', () => {
  void it('exit 0 accepts; the program sees the IP and protocol', async () => {
    const out = join(dir, 'seen');
    const p = await script(
      'ok.sh',
      `printf '%s %s' "$SFTPGO_CONNECTION_IP" "$SFTPGO_CONNECTION_PROTOCOL" > ${out}`,
    );
    const r = recorder();
    await new PostConnectHook(p, { logger: r.logger }).check('10.0.0.9', 'FTP');
    assert.equal(await readFile(out, 'utf8'), '10.0.0.9 FTP');
    assert.deepEqual(r.warnings, []);
  });

  void it('a failing, hanging, missing or relative program rejects, logged with the protocol as sender', async () => {
    const fail = await script('fail.sh', 'exit 1');
    const hang = await script('hang.sh', 'exec sleep 30');
    for (const [hook, why] of [
      [fail, `connect hook error: hook ${JSON.stringify(fail)} failed: exit status 1`],
      [hang, `connect hook error: hook ${JSON.stringify(hang)} timed out after 200 ms, killed`],
      [join(dir, 'missing.sh'), 'connect hook error: hook'],
      ['relative/hook.sh', 'connect hook error: invalid hook'],
    ] as const) {
      const r = recorder();
      const h = new PostConnectHook(hook, { logger: r.logger, timeoutMs: 200 });
      await assert.rejects(h.check('10.0.0.9', 'SSH'), denied);
      assert.equal(r.warnings.length, 1);
      assert.deepEqual(r.warnings[0]?.obj, { sender: 'SSH', remote_addr: '10.0.0.9' });
      assert.ok(
        r.warnings[0]?.msg.startsWith(`Login from ip "10.0.0.9" denied, ${why}`),
        r.warnings[0]?.msg,
      );
    }
  });

  void it('close() kills a running check (it rejects) and rejects later ones', async () => {
    const hang = await script('hang2.sh', 'exec sleep 30');
    const h = new PostConnectHook(hang, { logger: recorder().logger, timeoutMs: 60_000 });
    const pending = h.check('10.0.0.9', 'DAV');
    await h.close();
    await assert.rejects(pending, denied);
    await assert.rejects(h.check('10.0.0.9', 'DAV'), denied);
  });
});

void describe('PostConnectHook over HTTP', () => {
  const receiver = new HookReceiver();
  let http: HookHttpClient;
  before(async () => {
    await receiver.start((q) => ({ status: q.query.ip === '10.0.0.1' ? 200 : 204 }));
    http = new HookHttpClient(httpClientSchema.parse({ retry_max: 0 }), dir);
  });
  after(async () => {
    http.close();
    await receiver.stop();
  });

  void it('GET <hook>?ip=&protocol= (added to its own query); only 200 accepts', async () => {
    const r = recorder();
    const h = new PostConnectHook(`${receiver.url}/check?token=x`, { http, logger: r.logger });
    await h.check('10.0.0.1', 'HTTP');
    await assert.rejects(h.check('10.0.0.2', 'DAV'), denied);
    assert.deepEqual(
      receiver.requests.map((q) => [q.method, q.url]),
      [
        ['GET', '/check?ip=10.0.0.1&protocol=HTTP&token=x'],
        ['GET', '/check?ip=10.0.0.2&protocol=DAV&token=x'],
      ],
    );
    assert.deepEqual(
      r.warnings.map((w) => w.msg),
      ['Login from ip "10.0.0.2" denied, post connect hook response code: 204'],
    );
  });

  void it('an invalid URL rejects', async () => {
    const r = recorder();
    await assert.rejects(
      new PostConnectHook('http://[bad', { http, logger: r.logger }).check('10.0.0.1', 'FTP'),
      denied,
    );
    assert.deepEqual(
      r.warnings.map((w) => w.msg),
      ['Login from ip "10.0.0.1" denied: invalid post connect hook "http://[bad"'],
    );
  });
});

void describe('ConnectionGate with a post-connect hook', () => {
  void it('runs it after the ban check, not for banned hosts, and not when told so', async () => {
    const calls = join(dir, 'gate-calls');
    const p = await script('gate.sh', `echo "$SFTPGO_CONNECTION_IP" >> ${calls}`);
    const defender = new Defender({
      enabled: true,
      ban_time: 30,
      ban_time_increment: 50,
      threshold: 1,
      score_invalid: 2,
      score_valid: 1,
      score_limit_exceeded: 3,
      observation_time: 30,
      entries_soft_limit: 100,
      entries_hard_limit: 150,
      safelist_file: '',
      blocklist_file: '',
    });
    const gate = new ConnectionGate({
      defender,
      postConnect: new PostConnectHook(p, { logger: recorder().logger }),
    });
    defender.addEvent('10.0.0.66', 'login_failed');
    await assert.rejects(
      gate.checkConnectionAllowed('10.0.0.66', 'SSH'),
      (e: unknown) => SftpgoError.is(e, 'CONNECTION_DENIED') && !isPostConnectDenial(e),
    );
    await gate.checkConnectionAllowed('10.0.0.1:2222', 'SSH');
    await gate.checkConnectionAllowed('10.0.0.2', 'HTTP', { postConnect: false });
    assert.equal(await readFile(calls, 'utf8'), '10.0.0.1\n');
    assert.equal(POST_CONNECT_DENIED, 'access denied by post connect hook');
  });
});
