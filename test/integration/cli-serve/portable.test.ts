/**
 * `sftpgo portable` as a real process: one directory served to one user over SFTP (OpenSSH sftp),
 * FTP (curl) and WebDAV (curl) on random ports, with the given permissions and pattern filters;
 * a generated password when none is given; SIGTERM stops it (mDNS: portable-mdns.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  listeningPort as portOf,
  run as runCli,
  start,
  waitFor,
} from '../../helpers/cli-process.js';
import { run } from '../../helpers/ftpd.js';
import { requireTool, sftpBatch } from '../../helpers/ssh.js';

void describe('sftpgo portable', () => {
  let dir: string;
  let served: string;

  before(async () => {
    requireTool('sftp', 'openssh-client');
    requireTool('sshpass', 'sshpass');
    requireTool('curl', 'curl');
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-portable-test-'));
    served = join(dir, 'share');
    await run('mkdir', [served]);
    await writeFile(join(served, 'hello.txt'), 'hello portable\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('serves the directory over SFTP, FTP and WebDAV with the permissions and patterns given', async () => {
    const p = start([
      'portable',
      '-d',
      served,
      '--bind-address',
      '127.0.0.1',
      '--ftpd-port',
      '0',
      '--webdav-port',
      '0',
      '-u',
      'alice',
      '-p',
      'alice-secret',
      '-g',
      'list,download,upload',
      '--denied-patterns',
      '/::*.exe,*.bat',
    ]);
    try {
      await waitFor(p, /Portable mode ready, user: "alice", password: as given/);
      assert.doesNotMatch(p.out.stderr, /alice-secret/, 'a given password is not printed');
      const sftpPort = portOf(p.out.stderr, 'SFTP');
      const ftpPort = portOf(p.out.stderr, 'FTP');
      const davPort = portOf(p.out.stderr, 'WebDAV');
      for (const port of [sftpPort, ftpPort, davPort])
        assert.ok(port >= 49152 && port <= 64151, String(port));

      const creds = { user: 'alice', password: 'alice-secret' };
      await writeFile(join(dir, 'up.txt'), 'uploaded\n');
      await writeFile(join(dir, 'bad.exe'), 'x');
      const put = await sftpBatch({ port: sftpPort }, creds, [
        `put ${join(dir, 'up.txt')} /up.txt`,
        `get /hello.txt ${join(dir, 'got.txt')}`,
      ]);
      assert.equal(put.code, 0, put.stderr);
      assert.equal(await readFile(join(served, 'up.txt'), 'utf8'), 'uploaded\n');
      assert.equal(await readFile(join(dir, 'got.txt'), 'utf8'), 'hello portable\n');
      const denied = await sftpBatch({ port: sftpPort }, creds, [
        `put ${join(dir, 'bad.exe')} /bad.exe`,
      ]);
      assert.notEqual(denied.code, 0);
      const noDelete = await sftpBatch({ port: sftpPort }, creds, ['rm /hello.txt']);
      assert.notEqual(noDelete.code, 0, 'delete was not granted');

      const ftp = await run('curl', [
        '-sS',
        '--max-time',
        '20',
        '--user',
        'alice:alice-secret',
        `ftp://127.0.0.1:${ftpPort}/`,
        '--list-only',
      ]);
      assert.equal(ftp.code, 0, ftp.stderr);
      assert.deepEqual(
        ftp.stdout
          .split(/\r?\n/)
          .filter((l) => l !== '')
          .sort(),
        ['hello.txt', 'up.txt'],
      );
      const dav = await run('curl', [
        '-sS',
        '--max-time',
        '20',
        '--user',
        'alice:alice-secret',
        `http://127.0.0.1:${davPort}/hello.txt`,
      ]);
      assert.equal(dav.stdout, 'hello portable\n');
      const wrong = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--user',
        'alice:nope',
        `http://127.0.0.1:${davPort}/hello.txt`,
      ]);
      assert.equal(wrong.stdout, '401');
    } finally {
      p.child.kill('SIGTERM');
    }
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
  });

  void it('without a password or key it generates one and prints it; the default permissions are list and download', async () => {
    const p = start(['portable', '-d', served, '--bind-address', '127.0.0.1']);
    try {
      const m = await waitFor(p, /Portable mode ready, user: "user", generated password: (\S+),/);
      const sftpPort = portOf(p.out.stderr, 'SFTP');
      const creds = { user: 'user', password: m[1] ?? '' };
      const ls = await sftpBatch({ port: sftpPort }, creds, ['ls /']);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /hello\.txt/);
      await writeFile(join(dir, 'nope.txt'), 'x');
      const put = await sftpBatch({ port: sftpPort }, creds, [
        `put ${join(dir, 'nope.txt')} /nope.txt`,
      ]);
      assert.notEqual(put.code, 0, 'upload was not granted');
    } finally {
      p.child.kill('SIGINT');
    }
    assert.equal((await p.done).code, 0);
  });

  void it('a bad pattern filter is a clear error', async () => {
    const bad = await runCli(['portable', '-d', served, '--allowed-patterns', '*.jpg']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid file pattern filter "\*\.jpg"/);
  });
});
