/**
 * Quota: an upload that overruns the size quota mid-transfer fails, leaves no partial file and
 * keeps the counters right; the files quota refuses new files; overwrites adjust the size.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectStatus, randomFile, ssh2Connect, startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { scp, remote, sftpBatch } from '../../helpers/ssh.js';

const KiB = 1024;

void describe('sftpd: quota', () => {
  let env: SftpTestEnv;

  before(async () => {
    env = await startSftpTestServer();
  });
  after(async () => {
    await env.stop();
  });

  async function used(username: string): Promise<{ size: number; files: number }> {
    const u = await env.getUser(username);
    return { size: u.used_quota_size ?? -1, files: u.used_quota_files ?? -1 };
  }

  void it('an upload overrunning the size quota fails mid-transfer and leaves nothing behind', async () => {
    const user = await env.createUser({ quota_size: 1024 * KiB });
    const small = join(env.dir, 'q-small.bin');
    await randomFile(small, 600 * KiB);
    const big = join(env.dir, 'q-big.bin');
    await randomFile(big, 1536 * KiB);
    const ok = await sftpBatch(env.target, user.creds, [`put ${small} /small.bin`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await used(user.username), { size: 600 * KiB, files: 1 });

    const r = await sftpBatch(env.target, user.creds, [`put ${big} /big.bin`]);
    assert.notEqual(r.code, 0, 'the overrunning upload must fail');
    await assert.rejects(stat(join(user.home, 'big.bin')), 'no partial file');
    assert.deepEqual(await used(user.username), { size: 600 * KiB, files: 1 });

    // the same through scp -O
    const r2 = await scp(env.target, user.creds, [big, remote(user.creds, '/big2.bin')], { legacy: true });
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /space limit|quota/i);
    await assert.rejects(stat(join(user.home, 'big2.bin')));
    assert.deepEqual(await used(user.username), { size: 600 * KiB, files: 1 });

    // overwriting the small file with itself keeps the counters
    const again = await sftpBatch(env.target, user.creds, [`put ${small} /small.bin`]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await used(user.username), { size: 600 * KiB, files: 1 });
  });

  void it('the ssh2 client sees "denying write due to space limit" on the write that overruns', async () => {
    const user = await env.createUser({ quota_size: 100 * KiB });
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    try {
      const h = await s.call<Buffer>('open', '/w.bin', 'w');
      const chunk = Buffer.alloc(64 * KiB, 1);
      await s.call('write', h, chunk, 0, chunk.length, 0);
      await assert.rejects(s.call('write', h, chunk, 0, chunk.length, 64 * KiB), (e: Error) => {
        assert.equal((e as { code?: number }).code, 4);
        assert.match(e.message, /denying write due to space limit/);
        return true;
      });
      await assert.rejects(s.call('close', h));
    } finally {
      await s.end();
    }
    await assert.rejects(stat(join(user.home, 'w.bin')));
    assert.deepEqual(await used(user.username), { size: 0, files: 0 });
  });

  void it('the files quota refuses a new file but allows overwriting', async () => {
    const user = await env.createUser({ quota_files: 2 });
    const f = join(env.dir, 'q-files.bin');
    await randomFile(f, 10 * KiB);
    const r = await sftpBatch(env.target, user.creds, [`put ${f} /1.bin`, `put ${f} /2.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await used(user.username), { size: 20 * KiB, files: 2 });
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    try {
      await expectStatus(s.call('open', '/3.bin', 'w'), 4, 'third file');
      const h = await s.call<Buffer>('open', '/1.bin', 'w');
      await s.call('write', h, Buffer.from('x'), 0, 1, 0);
      await s.call('close', h);
    } finally {
      await s.end();
    }
    assert.deepEqual(await used(user.username), { size: 10 * KiB + 1, files: 2 });
    // removing a file updates the counters
    const rm = await sftpBatch(env.target, user.creds, ['rm /2.bin']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await used(user.username), { size: 1, files: 1 });
  });
});
