/**
 * Virtual folders through SFTP and SCP: they appear in listings, uploads land in the mapped
 * directory, their quota is tracked per folder, and renames across them are refused.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectStatus, randomFile, sha256File, ssh2Connect, startSftpTestServer, type SftpTestEnv, type TestUser } from '../../helpers/sftpd.js';
import { remote, scp, sftpBatch } from '../../helpers/ssh.js';

void describe('sftpd: virtual folders', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let mapped: string;
  let mapped2: string;

  before(async () => {
    env = await startSftpTestServer();
    mapped = join(env.dir, 'mapped1');
    mapped2 = join(env.dir, 'mapped2');
    await mkdir(mapped);
    await mkdir(mapped2);
    await writeFile(join(mapped, 'inside.txt'), 'inside\n');
    user = await env.createUser({
      // a quota limit, so that track_quota=2 keeps the user's counters
      quota_size: 100 * 1024 * 1024,
      virtual_folders: [
        { name: 'vf1', mapped_path: mapped, virtual_path: '/vdir', quota_size: 0, quota_files: 0 },
        { name: 'vf2', mapped_path: mapped2, virtual_path: '/deep/er/vdir2', quota_size: -1, quota_files: -1 },
      ],
    });
  });
  after(async () => {
    await env.stop();
  });

  void it('shows the mount points in listings, intermediate directories included', async () => {
    const r = await sftpBatch(env.target, user.creds, ['ls -1 /', 'ls -1 /deep', 'ls -1 /vdir']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/?vdir$/m);
    assert.match(r.stdout, /^\/?deep$/m);
    assert.match(r.stdout, /^(\/deep\/)?er$/m);
    assert.match(r.stdout, /inside\.txt/);
  });

  void it('stores uploads in the mapped directory and serves them back', async () => {
    const f = join(env.dir, 'vf-up.bin');
    const sum = await randomFile(f, 300 * 1024);
    const r = await sftpBatch(env.target, user.creds, [
      `put ${f} /vdir/up.bin`,
      `put ${f} /deep/er/vdir2/up2.bin`,
      `get /vdir/up.bin ${join(env.dir, 'vf-back.bin')}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(join(mapped, 'up.bin')), sum);
    assert.equal(await sha256File(join(mapped2, 'up2.bin')), sum);
    assert.equal(await sha256File(join(env.dir, 'vf-back.bin')), sum);
    await assert.rejects(stat(join(user.home, 'vdir', 'up.bin')), 'not in the home');
    // scp -O into the folder as well
    const s = await scp(env.target, user.creds, [f, remote(user.creds, '/vdir/scp.bin')], { legacy: true });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(await sha256File(join(mapped, 'scp.bin')), sum);
  });

  void it('tracks the folder quota separately (and in the user quota for -1/-1 folders)', async () => {
    const folder = await env.srv.api<{ used_quota_files?: number; used_quota_size?: number }>('GET', '/folders/vf1');
    assert.equal(folder.status, 200, folder.text);
    assert.equal(folder.body.used_quota_files, 2);
    assert.equal(folder.body.used_quota_size, 2 * 300 * 1024);
    const u = await env.getUser(user.username);
    // only vf2 (-1/-1) counts in the user quota
    assert.equal(u.used_quota_files, 1);
    assert.equal(u.used_quota_size, 300 * 1024);
  });

  void it('refuses renames across folders and of the mount points themselves', async () => {
    await writeFile(join(user.home, 'home.txt'), 'home\n');
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    try {
      await expectStatus(s.call('rename', '/home.txt', '/vdir/home.txt'), 3, 'rename into a folder');
      await expectStatus(s.call('rename', '/vdir/inside.txt', '/inside.txt'), 3, 'rename out of a folder');
      await expectStatus(s.call('rename', '/vdir', '/vdir-renamed'), 3, 'rename a mount point');
      await expectStatus(s.call('rmdir', '/vdir'), 3, 'rmdir a mount point');
      await s.call('rename', '/vdir/inside.txt', '/vdir/inside2.txt');
    } finally {
      await s.end();
    }
    assert.equal(await readFile(join(mapped, 'inside2.txt'), 'utf8'), 'inside\n');
    assert.equal(await readFile(join(user.home, 'home.txt'), 'utf8'), 'home\n');
  });
});
