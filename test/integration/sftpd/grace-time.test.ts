/**
 * common.grace_time: the service's stop (what SIGTERM/SIGINT run) refuses new connections, waits
 * for the running transfers up to the grace time, then cuts the rest and logs each one cut.
 * Uploads are slowed down with the user's upload_bandwidth (4 MiB: the first ~2 MiB fit in the
 * SSH window and buffers before the throttle bites) so they are running when the stop begins;
 * the assertions are on outcomes, never on durations.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

async function untilUploading(env: SftpTestEnv, username: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const c = env
      .connections()
      .find((x) => x.username === username && (x.active_transfers ?? []).length > 0);
    if (c) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the upload never showed up as a running transfer');
}

void describe('grace time on stop', () => {
  void it('a transfer that ends within the grace time completes; new connections are refused meanwhile', async () => {
    const env = await startSftpTestServer({ config: { common: { grace_time: 60 } } });
    try {
      const u = await env.createUser({ upload_bandwidth: 512 });
      const src = join(env.dir, 'src.bin');
      await writeFile(src, Buffer.alloc(4 * 1024 * 1024, 7));
      const upload = sftpBatch(env.target, u.creds, [`put ${src} /done.bin`]);
      await untilUploading(env, u.username);
      const stopping = env.srv.service.stop();
      // the stop is waiting: a new session is refused
      await new Promise((r) => setTimeout(r, 300));
      const late = await sftpBatch(env.target, u.creds, ['ls /'], { timeoutMs: 30_000 });
      assert.notEqual(late.code, 0, 'a new connection during the grace time is refused');
      const r = await upload;
      assert.equal(r.code, 0, r.stderr);
      await stopping;
      assert.equal((await readFile(join(u.home, 'done.bin'))).length, 4 * 1024 * 1024);
      const log = await readFile(join(env.srv.configDir, 'sftpgo.log'), 'utf8');
      assert.match(log, /waiting for the running transfers to end/);
      assert.doesNotMatch(log, /transfer cut by the service stop/);
    } finally {
      await env.stop();
    }
  });

  void it('a transfer still running at the end of the grace time is cut, and logged', async () => {
    const env = await startSftpTestServer({ config: { common: { grace_time: 1 } } });
    try {
      const u = await env.createUser({ upload_bandwidth: 64 });
      const src = join(env.dir, 'big.bin');
      await writeFile(src, Buffer.alloc(4 * 1024 * 1024, 9));
      const upload = sftpBatch(env.target, u.creds, [`put ${src} /cut.bin`]);
      await untilUploading(env, u.username);
      await env.srv.service.stop();
      const r = await upload;
      assert.notEqual(r.code, 0, 'the client saw its upload cut');
      const log = await readFile(join(env.srv.configDir, 'sftpgo.log'), 'utf8');
      const cut = log
        .split('\n')
        .filter((l) => l.includes('transfer cut by the service stop'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(cut.length, 1, log);
      assert.equal(cut[0]?.username, u.username);
      assert.equal(cut[0]?.file_path, '/cut.bin');
      assert.equal(cut[0]?.operation, 'upload');
    } finally {
      await env.stop();
    }
  });
});
