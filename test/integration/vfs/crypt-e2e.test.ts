/**
 * Encrypted homes and folders (filesystem provider 4) end to end, through a real in-process
 * `sftpgo serve` with SFTP, FTP and WebDAV bindings: the passphrase is sent as a Plain Secret
 * and stored by the KMS, OpenSSH sftp/scp, curl (FTP, WebDAV, the REST user API) move files
 * byte-exact while the disk holds only SFTPGo 2.1.2's encrypted format, sizes shown and counted
 * are plaintext sizes, and what the format cannot do (resume) is refused with a clear error.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../../src/api/index.js';
import { encryptedFileSize } from '../../../src/vfs/backends/crypt/index.js';
import { decryptFile, encryptFile } from '../../helpers/crypt.js';
import { basicAuth, freePort } from '../../helpers/server.js';
import {
  sha256,
  startSftpTestServer,
  waitFor,
  type SftpTestEnv,
  type TestUser,
} from '../../helpers/sftpd.js';
import { remote, run, scp, sftpBatch, sshExec } from '../../helpers/ssh.js';

const PASS = 'e2e crypt passphrase ✓';
const GIB = 1024 * 1024 * 1024;
const SMALL_FILES = 2000;

const cryptFs = (passphrase = PASS): ApiUser['filesystem'] => ({
  provider: 4,
  cryptconfig: { passphrase: { status: 'Plain', payload: passphrase } },
});

async function sha256Stream(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    h.update(c as Buffer);
  return h.digest('hex');
}

/** `size` random bytes written to `path` in 4 MiB pieces; their sha256 */
async function bigRandomFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  const fh = await fsp.open(path, 'w');
  try {
    for (let done = 0; done < size;) {
      const b = randomBytes(Math.min(4 * 1024 * 1024, size - done));
      h.update(b);
      await fh.write(b);
      done += b.length;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** asserts that `path` on disk is `plain` in the encrypted format */
async function assertEncrypted(path: string, plain: Buffer, passphrase = PASS): Promise<void> {
  const raw = await fsp.readFile(path);
  assert.equal(raw[0], 0x10, `${path}: header byte`);
  assert.equal(raw.length, encryptedFileSize(plain.length), `${path}: size on disk`);
  assert.deepEqual(await decryptFile(path, passphrase), plain, `${path}: content`);
}

/** the file sizes `ls -l` printed, by name */
function lsSizes(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 9 && /^[-dl]/.test(f[0] ?? '')) m.set(f.slice(8).join(' '), Number(f[4]));
  }
  return m;
}

void describe('crypt storage end to end', () => {
  let env: SftpTestEnv;
  let ftpPort: number;
  let davPort: number;
  let local: string;

  before(async () => {
    ftpPort = await freePort();
    davPort = await freePort();
    env = await startSftpTestServer({
      config: {
        sftpd: { enabled_ssh_commands: ['scp', 'sha256sum', 'sftpgo-copy'] },
        ftpd: { bindings: [{ port: ftpPort, address: '127.0.0.1' }] },
        webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] },
      },
    });
    local = join(env.dir, 'local');
    await fsp.mkdir(local);
  });
  after(async () => {
    await env.stop();
  });

  async function cryptUser(extra: Partial<ApiUser> = {}): Promise<TestUser> {
    // a quota limit: with track_quota 2 only users with one are counted
    return env.createUser({ filesystem: cryptFs(), quota_size: 100 * GIB, ...extra });
  }

  async function usedQuota(username: string): Promise<{ size: number; files: number }> {
    const u = await env.getUser(username);
    return { size: u.used_quota_size ?? -1, files: u.used_quota_files ?? -1 };
  }

  void it('stores the passphrase encrypted: the REST API never shows it in clear', async () => {
    const user = await cryptUser();
    const r = await env.srv.api<ApiUser>('GET', `/users/${user.username}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.filesystem?.provider, 4);
    const secret = r.body.filesystem?.cryptconfig?.passphrase;
    assert.equal(secret?.status, 'Secretbox');
    assert.ok(secret?.payload && secret.payload !== PASS, 'an encrypted payload');
    assert.ok(!r.text.includes(PASS), 'the passphrase is not in the response');
    const all = await env.srv.api('GET', '/users');
    assert.ok(!all.text.includes(PASS));
  });

  void it(`sftp put and get of a 1 GiB file, byte-exact, encrypted on disk`, async (t) => {
    const user = await cryptUser();
    const src = join(local, 'big.bin');
    const back = join(local, 'big.back');
    try {
      const sum = await bigRandomFile(src, GIB);
      let t0 = Date.now();
      const up = await sftpBatch(env.target, user.creds, [`put ${src} /big.bin`, 'ls -l /'], {
        timeoutMs: 280_000,
      });
      const putSeconds = (Date.now() - t0) / 1000;
      assert.equal(up.code, 0, up.stderr);
      assert.equal(lsSizes(up.stdout).get('big.bin'), GIB, up.stdout);
      const onDisk = join(user.home, 'big.bin');
      assert.equal((await fsp.stat(onDisk)).size, encryptedFileSize(GIB));
      const head = Buffer.alloc(1);
      const fh = await fsp.open(onDisk, 'r');
      await fh.read(head, 0, 1, 0);
      await fh.close();
      assert.equal(head[0], 0x10);
      t0 = Date.now();
      const down = await sftpBatch(env.target, user.creds, [`get /big.bin ${back}`], {
        timeoutMs: 280_000,
      });
      const getSeconds = (Date.now() - t0) / 1000;
      assert.equal(down.code, 0, down.stderr);
      assert.equal(await sha256Stream(back), sum);
      assert.deepEqual(await usedQuota(user.username), { size: GIB, files: 1 });
      t.diagnostic(
        `1 GiB to a crypt home: put ${(1024 / putSeconds).toFixed(0)} MiB/s, get ${(1024 / getSeconds).toFixed(0)} MiB/s`,
      );
    } finally {
      await fsp.rm(src, { force: true });
      await fsp.rm(back, { force: true });
      await fsp.rm(join(user.home, 'big.bin'), { force: true });
    }
  });

  void it(`sftp put -r / get -r of ${SMALL_FILES} small files; counters equal a quota scan`, async () => {
    const user = await cryptUser();
    const dir = join(local, 'small');
    await fsp.mkdir(join(dir, 'sub'), { recursive: true });
    const files = new Map<string, Buffer>();
    let total = 0;
    for (let i = 0; i < SMALL_FILES; i++) {
      // 0 bytes, a few bytes, around one 64 KiB package
      const size = i % 50 === 0 ? 65536 + (i % 3) - 1 : (i * 37) % 3000;
      const name = i % 10 === 0 ? `sub/f${i}` : `f${i}`;
      const data = randomBytes(size);
      files.set(name, data);
      total += size;
      await fsp.writeFile(join(dir, name), data);
    }
    const back = join(local, 'small.back');
    const r = await sftpBatch(
      env.target,
      user.creds,
      [`put -r ${dir} /small`, `get -r /small ${back}`, 'ls -l /small'],
      { timeoutMs: 280_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const listed = lsSizes(r.stdout);
    for (const [name, data] of files) {
      assert.deepEqual(await fsp.readFile(join(back, name)), data, name);
      if (!name.includes('/')) assert.equal(listed.get(name), data.length, `ls size of ${name}`);
    }
    await assertEncrypted(join(user.home, 'small', 'f1'), files.get('f1') as Buffer);
    await assertEncrypted(join(user.home, 'small', 'sub', 'f0'), files.get('sub/f0') as Buffer);
    assert.deepEqual(await usedQuota(user.username), { size: total, files: SMALL_FILES });

    // a quota scan walks the encrypted files and finds the same plaintext numbers
    const reset = await env.srv.api('PUT', `/quotas/users/${user.username}/usage`, {
      used_quota_size: 1,
      used_quota_files: 1,
    });
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(await usedQuota(user.username), { size: 1, files: 1 });
    const scan = await env.srv.api('POST', `/quotas/users/${user.username}/scan`);
    assert.equal(scan.status, 202, scan.text);
    await waitFor(
      async () => {
        const s = await env.srv.api<unknown[]>('GET', '/quotas/users/scans');
        return s.body.length === 0;
      },
      60_000,
      'the quota scan',
    );
    assert.deepEqual(await usedQuota(user.username), { size: total, files: SMALL_FILES });
    await fsp.rm(back, { recursive: true, force: true });
  });

  void it('reget resumes a partial download; reput is refused and leaves the file', async () => {
    const user = await cryptUser();
    const src = join(local, 'resume.bin');
    const data = randomBytes(3 * 1024 * 1024 + 333);
    await fsp.writeFile(src, data);
    const dst = join(local, 'resume.back');
    const r1 = await sftpBatch(env.target, user.creds, [
      `put ${src} /resume.bin`,
      `get /resume.bin ${dst}`,
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    // a download that stopped inside a package
    await fsp.truncate(dst, 2 * 1024 * 1024 - 5);
    const r2 = await sftpBatch(env.target, user.creds, [`reget /resume.bin ${dst}`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(await fsp.readFile(dst), data);

    const before = await fsp.readFile(join(user.home, 'resume.bin'));
    const longer = Buffer.concat([data, randomBytes(1000)]);
    await fsp.writeFile(src, longer);
    const r3 = await sftpBatch(env.target, user.creds, [`reput ${src} /resume.bin`]);
    assert.notEqual(r3.code, 0, 'reput must fail');
    assert.match(r3.stderr, /unsupported/i);
    assert.deepEqual(
      await fsp.readFile(join(user.home, 'resume.bin')),
      before,
      'the file is untouched',
    );
  });

  void it('mkdir, rename, rm and rmdir; ls shows plaintext sizes; ssh hash and copy commands', async () => {
    const user = await cryptUser();
    const a = randomBytes(100_000);
    const src = join(local, 'ops.bin');
    await fsp.writeFile(src, a);
    const r = await sftpBatch(env.target, user.creds, [
      'mkdir /d',
      `put ${src} /d/a.bin`,
      'rename /d/a.bin /d/b.bin',
      `put ${src} /gone.bin`,
      'rm /gone.bin',
      'mkdir /empty',
      'rmdir /empty',
      'ls -l /d',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...lsSizes(r.stdout)], [['b.bin', a.length]]);
    assert.deepEqual((await fsp.readdir(user.home)).sort(), ['d']);
    assert.deepEqual(await fsp.readdir(join(user.home, 'd')), ['b.bin']);
    await assertEncrypted(join(user.home, 'd', 'b.bin'), a);

    const hash = await sshExec(env.target, user.creds, 'sha256sum /d/b.bin');
    assert.equal(hash.code, 0, hash.stderr);
    assert.equal(hash.stdout.split(/\s+/)[0], sha256(a), 'the hash of the plaintext');
    const copy = await sshExec(env.target, user.creds, 'sftpgo-copy /d/b.bin /c.bin');
    assert.equal(copy.code, 0, copy.stderr);
    await assertEncrypted(join(user.home, 'c.bin'), a);
    assert.deepEqual(await usedQuota(user.username), { size: 2 * a.length, files: 2 });
  });

  void it('scp (SCP protocol) uploads and downloads one file', async () => {
    const user = await cryptUser();
    const data = randomBytes(700 * 1024 + 9);
    const src = join(local, 'scp.bin');
    await fsp.writeFile(src, data);
    const up = await scp(env.target, user.creds, [src, remote(user.creds, '/scp.bin')], {
      legacy: true,
    });
    assert.equal(up.code, 0, up.stderr);
    await assertEncrypted(join(user.home, 'scp.bin'), data);
    const back = join(local, 'scp.back');
    const down = await scp(env.target, user.creds, [remote(user.creds, '/scp.bin'), back], {
      legacy: true,
    });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await fsp.readFile(back), data);
  });

  void it('FTP, WebDAV and the REST user API read and write the same encrypted files', async () => {
    const user = await cryptUser();
    const data = randomBytes(300 * 1024 + 77);
    const src = join(local, 'multi.bin');
    await fsp.writeFile(src, data);
    const creds = `${user.username}:${user.password}`;
    const curl = (args: string[]) =>
      run('curl', ['-sS', '-f', '--max-time', '60', '--user', creds, ...args]);

    const ftpUp = await curl(['-T', src, `ftp://127.0.0.1:${ftpPort}/ftp.bin`]);
    assert.equal(ftpUp.code, 0, ftpUp.stderr);
    await assertEncrypted(join(user.home, 'ftp.bin'), data);
    const davUp = await curl(['-T', src, `http://127.0.0.1:${davPort}/dav.bin`]);
    assert.equal(davUp.code, 0, davUp.stderr);
    await assertEncrypted(join(user.home, 'dav.bin'), data);

    const ftpBack = join(local, 'ftp.back');
    const ftpDown = await curl(['-o', ftpBack, `ftp://127.0.0.1:${ftpPort}/dav.bin`]);
    assert.equal(ftpDown.code, 0, ftpDown.stderr);
    assert.deepEqual(await fsp.readFile(ftpBack), data);
    const ftpSize = await curl(['-I', `ftp://127.0.0.1:${ftpPort}/dav.bin`]);
    assert.match(ftpSize.stdout, new RegExp(`Content-Length: ${data.length}\\b`));

    const davBack = join(local, 'dav.back');
    const davDown = await curl(['-o', davBack, `http://127.0.0.1:${davPort}/ftp.bin`]);
    assert.equal(davDown.code, 0, davDown.stderr);
    assert.deepEqual(await fsp.readFile(davBack), data);
    // a range across a package boundary
    const range = await fetch(`http://127.0.0.1:${davPort}/ftp.bin`, {
      headers: {
        authorization: basicAuth(user.username, user.password),
        range: 'bytes=65000-140000',
      },
    });
    assert.equal(range.status, 206);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), data.subarray(65000, 140001));

    const tok = await env.srv.api<{ access_token: string }>('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth(user.username, user.password) },
    });
    assert.equal(tok.status, 200, tok.text);
    const token = tok.body.access_token;
    const list = await env.srv.api<{ name: string; size: number }[]>(
      'GET',
      '/user/folder?path=/',
      undefined,
      token,
    );
    assert.equal(list.status, 200, list.text);
    const sizes = Object.fromEntries(list.body.map((e) => [e.name, e.size]));
    assert.deepEqual(sizes, { 'ftp.bin': data.length, 'dav.bin': data.length });
    const file = await fetch(`${env.srv.httpUrl}/api/v2/user/file?path=/dav.bin`, {
      headers: { authorization: `Bearer ${token}`, range: 'bytes=131072-' },
    });
    assert.equal(file.status, 206);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), data.subarray(131072));
    assert.deepEqual(await usedQuota(user.username), { size: 2 * data.length, files: 2 });
  });

  void it('a crypt virtual folder inside a local home', async () => {
    const mapped = join(env.dir, 'encf');
    const folder = await env.srv.api('POST', '/folders', {
      name: 'encf',
      mapped_path: mapped,
      filesystem: cryptFs('folder passphrase'),
    });
    assert.equal(folder.status, 201, folder.text);
    assert.ok(!folder.text.includes('folder passphrase'));
    const user = await env.createUser({
      quota_size: 100 * GIB,
      virtual_folders: [
        { name: 'encf', virtual_path: '/enc', quota_size: -1, quota_files: -1 },
      ] as ApiUser['virtual_folders'],
    });
    const a = randomBytes(150_000);
    const b = randomBytes(1234);
    await fsp.writeFile(join(local, 'vf-a'), a);
    await fsp.writeFile(join(local, 'vf-b'), b);
    // a file SFTPGo wrote with the folder's passphrase is there already
    await fsp.mkdir(mapped, { recursive: true });
    const theirs = randomBytes(70_000);
    await encryptFile(join(mapped, 'theirs.bin'), theirs, 'folder passphrase');

    const r = await sftpBatch(env.target, user.creds, [
      `put ${join(local, 'vf-a')} /enc/a.bin`,
      `put ${join(local, 'vf-b')} /plain.bin`,
      'ls -l /enc',
      `get /enc/theirs.bin ${join(local, 'vf-theirs')}`,
      // across the mount point: copied (decrypted) into the local home, then removed
      'rename /enc/a.bin /moved.bin',
      'rename /plain.bin /enc/plain.bin',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lsSizes(r.stdout).get('a.bin'), a.length, r.stdout);
    assert.equal(lsSizes(r.stdout).get('theirs.bin'), theirs.length, r.stdout);
    assert.deepEqual(await fsp.readFile(join(local, 'vf-theirs')), theirs);
    assert.deepEqual(
      await fsp.readFile(join(user.home, 'moved.bin')),
      a,
      'plaintext in the local home',
    );
    await assertEncrypted(join(mapped, 'plain.bin'), b, 'folder passphrase');
    assert.deepEqual((await fsp.readdir(mapped)).sort(), ['plain.bin', 'theirs.bin']);
  });
});
