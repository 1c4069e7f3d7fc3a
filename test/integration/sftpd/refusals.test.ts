/**
 * What SFTP, SCP and SSH-command clients see when the core refuses: OpenSSH `sftp` and
 * `scp -O` messages and exit codes, the SFTP status text of the WRITE that overruns a quota,
 * the hash commands, and SCP's own upload path (its cleanup and counters). The refusal rules
 * themselves (permissions, quota, file patterns, hostile paths, virtual folders) are the shared
 * cases of test/cases, run over SFTP by cases.test.ts; this file keeps only what is specific
 * to these clients and to SCP. One server, one user per concern.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  randomFile,
  sha256File,
  ssh2Connect,
  startSftpTestServer,
  type SftpTestEnv,
} from '../../helpers/sftpd.js';
import { remote, scp, sftpBatch, sshExec } from '../../helpers/ssh.js';

const KiB = 1024;

void describe('sftpd: refusals as clients see them', () => {
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

  void it('permissions: OpenSSH sftp reports "Permission denied"', async () => {
    const user = await env.createUser({ permissions: { '/': ['list', 'download'] } as never });
    const local = join(env.dir, 'perm-local.txt');
    await writeFile(local, 'x');
    const r = await sftpBatch(env.target, user.creds, [`put ${local} /denied.txt`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/);
    await assert.rejects(stat(join(user.home, 'denied.txt')));
  });

  void it('quota: OpenSSH sftp and scp -O report an overrun; scp leaves nothing behind', async () => {
    const user = await env.createUser({ quota_size: 1024 * KiB });
    const small = join(env.dir, 'q-small.bin');
    await randomFile(small, 600 * KiB);
    const big = join(env.dir, 'q-big.bin');
    await randomFile(big, 1536 * KiB);
    const ok = await sftpBatch(env.target, user.creds, [`put ${small} /small.bin`]);
    assert.equal(ok.code, 0, ok.stderr);

    const r = await sftpBatch(env.target, user.creds, [`put ${big} /big.bin`]);
    assert.notEqual(r.code, 0, 'the overrunning upload must fail');
    assert.match(r.stderr, /write remote "\/big\.bin": Failure/);

    // SCP has its own upload path: its cleanup and counters are checked here
    const r2 = await scp(env.target, user.creds, [big, remote(user.creds, '/big2.bin')], {
      legacy: true,
    });
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /space limit|quota/i);
    await assert.rejects(stat(join(user.home, 'big2.bin')));
    assert.deepEqual(await used(user.username), { size: 600 * KiB, files: 1 });
  });

  void it('quota: the ssh2 client sees "denying write due to space limit" on the write that overruns', async () => {
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
  });

  void describe('file patterns', () => {
    let creds: { user: string; password: string };
    let home: string;
    before(async () => {
      const user = await env.createUser({
        filters: { file_patterns: [{ path: '/', denied_patterns: ['*.exe', '*.zip'] }] },
      });
      creds = { user: user.username, password: user.password };
      home = user.home;
      await writeFile(join(home, 'already.exe'), 'MZ');
    });

    void it('refuses hashes of denied files', async () => {
      const r = await sshExec(env.target, creds, 'md5sum /already.exe');
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
    });

    void it('applies to OpenSSH sftp and scp -O alike', async () => {
      const f = join(env.dir, 'local.zip');
      await writeFile(f, 'PK');
      const r = await sftpBatch(env.target, creds, [`put ${f} /up.zip`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Permission denied/);
      const c = await scp(env.target, creds, [f, remote(creds, '/up2.zip')], { legacy: true });
      assert.notEqual(c.code, 0);
      await assert.rejects(stat(join(home, 'up.zip')));
      await assert.rejects(stat(join(home, 'up2.zip')));
    });
  });

  void describe('hostile paths', () => {
    let creds: { user: string; password: string };
    before(async () => {
      const user = await env.createUser();
      creds = { user: user.username, password: user.password };
      // an admin-made symlink leading out of the home
      await symlink('/etc/passwd', join(user.home, 'passwdlink'));
    });

    void it('OpenSSH sftp cannot get ../../etc/passwd', async () => {
      const local = join(env.dir, 'passwd-copy');
      const r = await sftpBatch(env.target, creds, [`get ../../etc/passwd ${local}`]);
      assert.notEqual(r.code, 0);
      await assert.rejects(stat(local));
    });

    void it('scp -O does not follow a symlink out of the home', async () => {
      const local = join(env.dir, 'passwdlink-copy');
      const r = await scp(env.target, creds, [remote(creds, '/passwdlink'), local], {
        legacy: true,
      });
      assert.notEqual(r.code, 0);
      await assert.rejects(stat(local));
    });

    void it('scp -O keeps ../ targets inside the home', async () => {
      const f = join(env.dir, 'scp-evil.txt');
      await writeFile(f, 'evil\n');
      const marker = `scp-escape-${randomBytes(4).toString('hex')}`;
      const r = await scp(
        env.target,
        creds,
        [f, remote(creds, `../../../../..${tmpdir()}/${marker}`)],
        { legacy: true },
      );
      // resolved inside the home, where the tmp directory does not exist
      assert.notEqual(r.code, 0);
      await assert.rejects(stat(join(tmpdir(), marker)));
    });
  });

  void describe('virtual folders', () => {
    let creds: { user: string; password: string };
    let username: string;
    let home: string;
    let mapped: string;
    let mapped2: string;
    let folder1: string;
    before(async () => {
      mapped = join(env.dir, 'mapped1');
      mapped2 = join(env.dir, 'mapped2');
      await mkdir(mapped);
      await mkdir(mapped2);
      folder1 = `vf1-${randomBytes(2).toString('hex')}`;
      const user = await env.createUser({
        // a quota limit, so that track_quota=2 keeps the user's counters
        quota_size: 100 * 1024 * KiB,
        virtual_folders: [
          {
            name: folder1,
            mapped_path: mapped,
            virtual_path: '/vdir',
            quota_size: 0,
            quota_files: 0,
          },
          {
            name: `vf2-${randomBytes(2).toString('hex')}`,
            mapped_path: mapped2,
            virtual_path: '/deep/er/vdir2',
            quota_size: -1,
            quota_files: -1,
          },
        ],
      });
      creds = { user: user.username, password: user.password };
      username = user.username;
      home = user.home;
    });

    void it('OpenSSH sftp and scp -O store uploads in the mapped directories and list the mount points', async () => {
      const f = join(env.dir, 'vf-up.bin');
      const sum = await randomFile(f, 300 * KiB);
      const r = await sftpBatch(env.target, creds, [
        'ls -1 /',
        `put ${f} /vdir/up.bin`,
        `put ${f} /deep/er/vdir2/up2.bin`,
        `get /vdir/up.bin ${join(env.dir, 'vf-back.bin')}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\/?vdir$/m);
      assert.match(r.stdout, /^\/?deep$/m);
      assert.equal(await sha256File(join(mapped, 'up.bin')), sum);
      assert.equal(await sha256File(join(mapped2, 'up2.bin')), sum);
      assert.equal(await sha256File(join(env.dir, 'vf-back.bin')), sum);
      await assert.rejects(stat(join(home, 'vdir', 'up.bin')), 'not in the home');
      const s = await scp(env.target, creds, [f, remote(creds, '/vdir/scp.bin')], { legacy: true });
      assert.equal(s.code, 0, s.stderr);
      assert.equal(await sha256File(join(mapped, 'scp.bin')), sum);
      await assert.rejects(stat(join(home, 'vdir', 'scp.bin')), 'not in the home');
    });

    void it('counts the scp upload in the folder quota, not in the user quota', async () => {
      const folder = await env.srv.api<{ used_quota_files?: number; used_quota_size?: number }>(
        'GET',
        `/folders/${folder1}`,
      );
      assert.equal(folder.status, 200, folder.text);
      // up.bin (sftp) and scp.bin (scp)
      assert.equal(folder.body.used_quota_files, 2);
      assert.equal(folder.body.used_quota_size, 2 * 300 * KiB);
      // only the -1/-1 folder counts in the user quota
      assert.deepEqual(await used(username), { size: 300 * KiB, files: 1 });
    });
  });
});
