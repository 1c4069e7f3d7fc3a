/**
 * The startup hook (common.startup_hook) through a real server: run once per start, in the
 * background, as a program (no argument, no extra variable) or an HTTP GET; its result is only
 * logged, whatever it is.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HookReceiver, ScriptHooks } from '../../helpers/hooks.js';
import { startServer } from '../../helpers/server.js';

interface LogLine {
  sender?: string;
  message?: string;
}

/** the "Startup hook executed" lines of the service log, once there is one (the hook runs in the background) */
async function startupLogged(configDir: string): Promise<LogLine[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = await readFile(join(configDir, 'sftpgo.log'), 'utf8').catch(() => '');
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine)
      .filter((l) => l.message?.startsWith('Startup hook executed'));
    if (lines.length > 0) return lines;
    if (Date.now() > deadline) throw new Error('no "Startup hook executed" log line');
    await new Promise((r) => setTimeout(r, 50));
  }
}

void describe('startup hook', () => {
  const scripts = new ScriptHooks();
  const receiver = new HookReceiver();
  /** config dirs kept after stop() so the log can be read */
  const dirs = {
    made: [] as string[],
    async make(): Promise<string> {
      const d = await mkdtemp(join(tmpdir(), 'sftpgo-startup-'));
      this.made.push(d);
      return d;
    },
  };

  before(async () => {
    await scripts.init();
    await receiver.start(() => ({ status: 404 }));
  });
  after(async () => {
    await receiver.stop();
    await scripts.cleanup();
    for (const d of dirs.made) await rm(d, { recursive: true, force: true });
  });

  void it('a program runs once, without argument nor extra variable; a failure is only logged', async () => {
    const hook = await scripts.script('startup', { exitCode: 3 });
    const configDir = await dirs.make();
    const srv = await startServer({ configDir, config: { common: { startup_hook: hook } } });
    try {
      const [call, ...more] = await scripts.waitForCalls(hook, 1);
      assert.deepEqual(more, []);
      assert.deepEqual(call?.args, []);
      assert.deepEqual(
        Object.keys(call?.env ?? {}).filter((k) => k.startsWith('SFTPGO_') && !(k in process.env)),
        [],
      );
      const logged = await startupLogged(configDir);
      assert.equal(logged.length, 1);
      assert.equal(logged[0]?.sender, 'common');
      assert.match(logged[0]?.message ?? '', /error: hook ".*" failed: exit status 3$/);
      // the service runs on, whatever the hook said
      assert.equal((await srv.api('GET', '/users')).status, 200);
    } finally {
      await srv.stop();
    }
    assert.equal((await scripts.calls(hook)).length, 1, 'once per start');
  });

  void it('a URL gets one GET; any status is accepted and logged', async () => {
    const configDir = await dirs.make();
    const srv = await startServer({
      configDir,
      config: { common: { startup_hook: `${receiver.url}/started` } },
    });
    try {
      const [r] = await receiver.waitFor(1);
      assert.equal(r?.method, 'GET');
      assert.equal(r?.url, '/started');
      assert.equal(r?.body, '');
      const logged = await startupLogged(configDir);
      assert.match(logged[0]?.message ?? '', /response code: 404$/);
    } finally {
      await srv.stop();
    }
    assert.equal(receiver.requests.length, 1);
  });
});
