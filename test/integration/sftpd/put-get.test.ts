/**
 * Byte-exact uploads and downloads with OpenSSH `sftp -b`, and resumed transfers
 * (`reput` / `reget`).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, sha256File, startSftpTestServer, type SftpTestEnv, type TestUser } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

void describe('sftpd: put / get', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let local: string;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser();
    local = join(env.dir, 'local');
    await mkdir(local);
  });
  after(async () => {
    await env.stop();
  });

  void it('uploads and downloads byte-exact files (sha256), empty and multi-MiB', async () => {
    const big = join(local, 'big.bin');
    const bigSum = await randomFile(big, 5 * 1024 * 1024 + 123);
    const empty = join(local, 'empty.bin');
    await writeFile(empty, '');
    const r = await sftpBatch(env.target, user.creds, [
      `put ${big} /big.bin`,
      `put ${empty} /empty.bin`,
      'mkdir sub',
      `put ${big} /sub/big2.bin`,
      `get /big.bin ${join(local, 'big.back')}`,
      `get /empty.bin ${join(local, 'empty.back')}`,
      `get /sub/big2.bin ${join(local, 'big2.back')}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(join(user.home, 'big.bin')), bigSum);
    assert.equal(await sha256File(join(user.home, 'sub', 'big2.bin')), bigSum);
    assert.equal(await sha256File(join(local, 'big.back')), bigSum);
    assert.equal(await sha256File(join(local, 'big2.back')), bigSum);
    assert.equal((await stat(join(user.home, 'empty.bin'))).size, 0);
    assert.equal((await stat(join(local, 'empty.back'))).size, 0);
  });

  void it('overwrites an existing file completely', async () => {
    const a = join(local, 'a.txt');
    await writeFile(a, 'a much longer original content\n');
    const b = join(local, 'b.txt');
    await writeFile(b, 'short\n');
    const r = await sftpBatch(env.target, user.creds, [`put ${a} /over.txt`, `put ${b} /over.txt`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(user.home, 'over.txt'), 'utf8'), 'short\n');
  });

  void it('resumes an interrupted upload with reput', async () => {
    const f = join(local, 'resume-up.bin');
    const sum = await randomFile(f, 3 * 1024 * 1024);
    const r1 = await sftpBatch(env.target, user.creds, [`put ${f} /resume-up.bin`]);
    assert.equal(r1.code, 0, r1.stderr);
    // simulate an interrupted upload: keep the first 1 MiB + 17 bytes on the server
    await truncate(join(user.home, 'resume-up.bin'), 1024 * 1024 + 17);
    const r2 = await sftpBatch(env.target, user.creds, [`reput ${f} /resume-up.bin`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await sha256File(join(user.home, 'resume-up.bin')), sum);
  });

  void it('resumes an interrupted download with reget', async () => {
    const f = join(user.home, 'resume-down.bin');
    const sum = await randomFile(f, 3 * 1024 * 1024);
    const dst = join(local, 'resume-down.bin');
    const r1 = await sftpBatch(env.target, user.creds, [`get /resume-down.bin ${dst}`]);
    assert.equal(r1.code, 0, r1.stderr);
    await truncate(dst, 2 * 1024 * 1024 - 5);
    const r2 = await sftpBatch(env.target, user.creds, [`reget /resume-down.bin ${dst}`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await sha256File(dst), sum);
  });

  void it('keeps times and permissions with put -p / get -p', async () => {
    const f = join(local, 'times.txt');
    await writeFile(f, 'times\n', { mode: 0o640 });
    const { utimes, chmod } = await import('node:fs/promises');
    await chmod(f, 0o640);
    await utimes(f, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    const back = join(local, 'times.back');
    const r = await sftpBatch(env.target, user.creds, [`put -p ${f} /times.txt`, `get -p /times.txt ${back}`]);
    assert.equal(r.code, 0, r.stderr);
    const remote = await stat(join(user.home, 'times.txt'));
    assert.equal(remote.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    assert.equal(remote.mode & 0o777, 0o640);
    const l = await stat(back);
    assert.equal(l.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
  });

  void it('supports the default (SFTP based) scp in both directions', async () => {
    const { scp, remote } = await import('../../helpers/ssh.js');
    const f = join(local, 'scp-sftp.bin');
    const sum = await randomFile(f, 700 * 1024);
    const up = await scp(env.target, user.creds, [f, remote(user.creds, '/scp-sftp.bin')]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await sha256File(join(user.home, 'scp-sftp.bin')), sum);
    const back = join(local, 'scp-sftp.back');
    const down = await scp(env.target, user.creds, [remote(user.creds, '/scp-sftp.bin'), back]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await sha256File(back), sum);
  });
});
