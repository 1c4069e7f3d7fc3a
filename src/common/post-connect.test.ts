import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookReceiver, ScriptHooks } from '../../test/helpers/hooks.js';
import { httpClientSchema } from '../config/schema.js';
import { SftpgoError } from '../errors/index.js';
import { HookHttpClient } from '../util/hooks/http-client.js';
import { isPostConnectDenial, PostConnectHook } from './post-connect.js';
import type { Logger } from './types.js';

const scripts = new ScriptHooks();
before(async () => {
  await scripts.init();
});
after(async () => {
  await scripts.cleanup();
});

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
    const p = await scripts.script('ok');
    const r = recorder();
    await new PostConnectHook(p, { logger: r.logger }).check('10.0.0.9', 'FTP');
    const [call] = await scripts.calls(p);
    assert.deepEqual(
      [call?.args, call?.env.SFTPGO_CONNECTION_IP, call?.env.SFTPGO_CONNECTION_PROTOCOL],
      [[], '10.0.0.9', 'FTP'],
    );
    assert.deepEqual(r.warnings, []);
  });

  void it('a failing, hanging, missing or relative program rejects, logged with the protocol as sender', async () => {
    const fail = await scripts.script('fail', { exitCode: 1 });
    const hang = await scripts.script('hang', { sleepSeconds: 30 });
    // only the hanging program gets a short timeout: on a loaded machine starting a shell can
    // take longer than 200 ms, and the failing one must fail by its exit status
    for (const [hook, why, timeoutMs] of [
      [fail, `connect hook error: hook ${JSON.stringify(fail)} failed: exit status 1`, 30_000],
      [hang, `connect hook error: hook ${JSON.stringify(hang)} timed out after 200 ms, killed`, 200],
      [join(scripts.dir, 'missing.sh'), 'connect hook error: hook', 30_000],
      ['relative/hook.sh', 'connect hook error: invalid hook', 30_000],
    ] as const) {
      const r = recorder();
      const h = new PostConnectHook(hook, { logger: r.logger, timeoutMs });
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
    const hang = await scripts.script('hang', { sleepSeconds: 30 });
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
    http = new HookHttpClient(httpClientSchema.parse({ retry_max: 0 }), scripts.dir);
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
