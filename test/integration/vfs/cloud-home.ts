/**
 * The end-to-end scenario every cloud backend's home runs (S3, GCS, Azure Blob): a user created
 * through the REST API with its secret sent Plain (so the KMS encrypts it on save and decrypts it
 * at login), used through the real server with OpenSSH `sftp` and `scp`, curl over WebDAV and
 * FTP, and the REST user API. Each backend's test file calls `describeCloudHome` with what
 * differs (its emulator, where its secret sits, how its objects are listed) and adds its own
 * cases through `extra`, which run after the shared ones on the same server and user.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiFilesystemConfig, ApiSecret, ApiUser } from '../../../src/api/index.js';
import { basicAuth, freePort } from '../../helpers/server.js';
import {
  randomFile,
  requireSshTools,
  sha256,
  sha256File,
  startSftpTestServer,
  waitFor,
  type SftpTestEnv,
  type TestUser,
} from '../../helpers/sftpd.js';
import { remote, requireTool, scp, sftpBatch } from '../../helpers/ssh.js';
import { run } from '../../helpers/webdavd.js';

export const MIB = 1024 * 1024;

/** one object below the user's prefix */
export interface StoredObject {
  /** relative to the user's prefix */
  name: string;
  size: number;
  /** the backend's own sign of a directory marker (a trailing slash on S3, the content type
   * inode/directory on GCS and Azure) */
  dir: boolean;
}

export interface CloudBackend {
  /** the describe() title */
  title: string;
  provider: number;
  /** the user's key prefix, with its trailing slash */
  prefix: string;
  bucket: string;
  /** the secret's plaintext: it must never show */
  plaintext: string;
  /** starts the emulator and returns the user's filesystem, its secret Plain */
  start(): Promise<ApiFilesystemConfig>;
  stop(): Promise<void>;
  /** where the secret sits in a filesystem config: `section.secretField` (as `s3config.access_secret`) */
  section: 's3config' | 'gcsconfig' | 'azblobconfig';
  secretField: string;
  /** the field of `section` that names the bucket or container */
  bucketField: string;
  /** the objects below the user's prefix, sorted by name */
  objects(): Promise<StoredObject[]>;
  /** the object name of the marker of directory `dir` (`dir/` on S3 and GCS, `dir` on Azure) */
  marker(dir: string): string;
  /** starts recording the emulator's ranged GETs; the function returned gives their ranges */
  watchRangedGets?(): () => string[];
}

/** what the shared scenario sets up, for a backend's own cases (filled in before()) */
export interface CloudHomeContext {
  env: SftpTestEnv;
  user: TestUser;
  /** a local scratch directory */
  local: string;
  /** `sftp -b` as `u` (the home's user by default); fails the test unless it exits 0 */
  sftp(commands: string[], u?: TestUser): Promise<string>;
  /** the names of the objects below the user's prefix, sorted */
  names(): Promise<string[]>;
}

/** the secret, key prefix and bucket a filesystem config shows for backend `b` */
function showing(b: CloudBackend, fs: ApiFilesystemConfig | undefined) {
  const c = fs?.[b.section] as Record<string, unknown> | undefined;
  return {
    secret: c?.[b.secretField] as ApiSecret | undefined,
    keyPrefix: c?.key_prefix,
    bucket: c?.[b.bucketField],
  };
}

export function describeCloudHome(b: CloudBackend, extra?: (ctx: CloudHomeContext) => void): void {
  void describe(b.title, () => {
    let davPort: number;
    let ftpPort: number;
    const ctx = {
      names: async () => (await b.objects()).map((o) => o.name),
      async sftp(commands: string[], u: TestUser = ctx.user): Promise<string> {
        const r = await sftpBatch(ctx.env.target, u.creds, commands, { timeoutMs: 180_000 });
        assert.equal(
          r.code,
          0,
          `sftp ${commands.join('; ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
        );
        return r.stdout;
      },
    } as CloudHomeContext;
    const { sftp, names } = ctx;

    before(async () => {
      requireSshTools();
      requireTool('curl', 'curl');
      const filesystem = await b.start();
      davPort = await freePort();
      ftpPort = await freePort();
      ctx.env = await startSftpTestServer({
        config: {
          webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] },
          ftpd: { bindings: [{ port: ftpPort, address: '127.0.0.1' }] },
        },
      });
      ctx.user = await ctx.env.createUser({ filesystem });
      ctx.local = join(ctx.env.dir, 'local');
      await mkdir(ctx.local);
    });
    after(async () => {
      await ctx.env?.stop();
      await b.stop();
    });

    void it('the REST API shows the secret encrypted, never in clear, and stores it encrypted', async () => {
      const { env, user } = ctx;
      const r = await env.srv.api<ApiUser>('GET', `/users/${user.username}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.filesystem?.provider, b.provider);
      const seen = showing(b, r.body.filesystem);
      assert.equal(seen.secret?.status, 'Secretbox');
      assert.ok(seen.secret.payload && seen.secret.payload !== b.plaintext, 'an encrypted payload');
      assert.equal(seen.secret.key, undefined, 'the encryption key is hidden');
      assert.equal(seen.secret.additional_data, undefined, 'the additional data is hidden');
      assert.equal(seen.keyPrefix, b.prefix);
      assert.equal(seen.bucket, b.bucket);
      assert.ok(!r.text.includes(b.plaintext), 'the plaintext is nowhere in the answer');
      const stored = await env.srv.provider.getUser(user.username);
      const storedSecret = showing(b, stored?.filesystem).secret;
      assert.equal(storedSecret?.status, 'Secretbox');
      assert.equal(storedSecret.additional_data, user.username);
      assert.ok(
        !JSON.stringify(stored).includes(b.plaintext),
        'the stored user holds no plaintext',
      );
    });

    void it('sftp: put/get of 16 MiB and of 200 small files byte-exact, ls, rename, rm, mkdir/rmdir', async () => {
      const { env, user, local } = ctx;
      const big = join(local, 'big.bin');
      const bigSum = await randomFile(big, 16 * MIB);
      const small = join(local, 'small');
      await mkdir(small);
      const sums = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        const name = `f${String(i).padStart(3, '0')}.dat`;
        const data = randomBytes(i * 37);
        await writeFile(join(small, name), data);
        sums.set(name, sha256(data));
      }
      const back = join(local, 'back');
      await sftp([
        `put ${big} /big.bin`,
        `put -r ${small} /small`,
        `get -r /small ${back}`,
        `get /big.bin ${join(local, 'big.back')}`,
      ]);
      assert.equal(await sha256File(join(local, 'big.back')), bigSum);
      const got = (await readdir(back)).sort();
      assert.deepEqual(got, [...sums.keys()].sort());
      for (const name of got)
        assert.equal(await sha256File(join(back, name)), sums.get(name), name);
      const stored = await b.objects();
      assert.equal(stored.find((o) => o.name === 'big.bin')?.size, 16 * MIB);
      assert.equal(
        stored.find((o) => o.name === b.marker('small'))?.dir,
        true,
        'mkdir wrote the directory marker',
      );
      assert.equal(stored.filter((o) => o.name.startsWith('small/f')).length, 200);
      // the data went to the bucket, none to the local home directory
      assert.deepEqual(await readdir(user.home), []);

      const listing = await sftp(['ls -l /small', 'ls -l /', 'ls -1 /']);
      assert.equal((listing.match(/ f\d{3}\.dat$/gm) ?? []).length, 200, listing);
      assert.match(listing, /^d.* small$/m);
      assert.match(listing, new RegExp(`^-rw-r--r--.* ${16 * MIB} .* big\\.bin$`, 'm'));
      assert.match(listing, /^\/big\.bin$/m);
      assert.match(listing, /^\/small$/m);

      const txt = join(local, 'small.txt');
      await writeFile(txt, 'some text\n');
      const moved = await sftp([
        'rename /big.bin /big2.bin',
        'rm /small/f000.dat',
        'mkdir /empty',
        'rename /empty /empty2',
        'mkdir /gone',
        'rmdir /gone',
        `put ${txt} /a.txt`,
        'mkdir /newdir',
        'rename /a.txt /newdir/b.txt',
        'ls -l /newdir',
      ]);
      assert.match(moved, /-rw-r--r--.* 10 .*b\.txt$/m);
      const after = await b.objects();
      const has = (name: string): boolean => after.some((o) => o.name === name);
      assert.ok(has('big2.bin') && !has('big.bin'));
      assert.ok(!has('small/f000.dat') && has('small/f001.dat'));
      assert.ok(has(b.marker('empty2')) && !has(b.marker('empty')) && !has(b.marker('gone')));
      assert.ok(has('newdir/b.txt') && !has('a.txt'));
      assert.equal(after.find((o) => o.name === b.marker('newdir'))?.dir, true);
      // upstream: a non-empty directory cannot be renamed or removed on a bucket
      for (const cmd of ['rename /small /small2', 'rmdir /small', 'rmdir /newdir']) {
        const refused = await sftpBatch(env.target, user.creds, [cmd], { timeoutMs: 60_000 });
        assert.notEqual(refused.code, 0, cmd);
      }
      assert.ok((await names()).includes('small/f001.dat'));
      // emptied, it can be removed
      await sftp(['rm /newdir/b.txt', 'rmdir /newdir']);
      const left = await names();
      assert.ok(
        !left.some((n) => n === b.marker('newdir') || n.startsWith('newdir/')),
        left.join(', '),
      );
      assert.doesNotMatch(await sftp(['ls -1 /']), /newdir/);
    });

    void it('sftp: reget resumes a partial download, from the offset', async () => {
      const { local } = ctx;
      const src = join(local, 'resume.bin');
      const sum = await randomFile(src, 7 * MIB + 3);
      const dst = join(local, 'resume.back');
      await sftp([`put ${src} /resume.bin`, `get /resume.bin ${dst}`]);
      await truncate(dst, 5 * MIB + 7);
      const ranges = b.watchRangedGets?.();
      await sftp([`reget /resume.bin ${dst}`]);
      assert.equal(await sha256File(dst), sum);
      if (ranges) {
        const ranged = ranges();
        assert.ok(
          ranged.includes(`bytes=${5 * MIB + 7}-`),
          `a GET from the resume offset: ${ranged.join(', ')}`,
        );
      }
    });

    void it('scp up and down byte-exact, over SFTP and over the legacy protocol', async () => {
      const { env, user, local } = ctx;
      for (const legacy of [false, true]) {
        const src = join(local, `scp-${legacy}.bin`);
        const sum = await randomFile(src, 3 * MIB + 5);
        const o = { timeoutMs: 120_000, legacy };
        const up = await scp(env.target, user.creds, [src, remote(user.creds, '/scp.bin')], o);
        assert.equal(up.code, 0, up.stderr);
        const out = join(local, `scp-${legacy}.back`);
        const down = await scp(env.target, user.creds, [remote(user.creds, '/scp.bin'), out], o);
        assert.equal(down.code, 0, down.stderr);
        assert.equal(await sha256File(out), sum, legacy ? 'legacy scp' : 'scp over SFTP');
        assert.ok((await names()).includes('scp.bin'));
      }
    });

    void it('WebDAV and FTP (curl): upload and download, whole and ranged', async () => {
      const { user, local } = ctx;
      const src = join(local, 'dav.bin');
      const data = randomBytes(6 * MIB + 11);
      await writeFile(src, data);
      const auth = ['-u', `${user.username}:${user.password}`];
      const url = `http://127.0.0.1:${davPort}/dav.bin`;
      const up = await run('curl', ['-sS', '-f', ...auth, '-T', src, url]);
      assert.equal(up.code, 0, up.stderr);
      const out = join(local, 'dav.back');
      const down = await run('curl', ['-sS', '-f', ...auth, '-o', out, url]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(sha256(await readFile(out)), sha256(data));
      const res = await fetch(url, {
        headers: { authorization: basicAuth(user.username, user.password), range: 'bytes=100-199' },
      });
      assert.equal(res.status, 206);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(100, 200));

      const ftp = `ftp://127.0.0.1:${ftpPort}/ftp.bin`;
      const ftpUp = await run('curl', ['-sS', ...auth, '-T', src, ftp]);
      assert.equal(ftpUp.code, 0, ftpUp.stderr);
      const ftpOut = join(local, 'ftp.back');
      const ftpDown = await run('curl', ['-sS', ...auth, '-o', ftpOut, ftp]);
      assert.equal(ftpDown.code, 0, ftpDown.stderr);
      assert.equal(sha256(await readFile(ftpOut)), sha256(data));
      const ftpTail = join(local, 'ftp.tail');
      const tail = await run('curl', ['-sS', ...auth, '-C', String(6 * MIB), '-o', ftpTail, ftp]);
      assert.equal(tail.code, 0, tail.stderr);
      assert.deepEqual(await readFile(ftpTail), data.subarray(6 * MIB), 'FTP REST + RETR');
      const k = await names();
      assert.ok(k.includes('dav.bin') && k.includes('ftp.bin'));
    });

    void it('REST user API: lists and downloads; a quota scan counts the stored files', async () => {
      const { env, user, local } = ctx;
      const token = await env.srv.userToken(user.username, user.password);
      const list = await env.srv.api<{ name: string }[]>(
        'GET',
        '/user/folder?path=%2Fsmall',
        undefined,
        token,
      );
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.length, 199);
      const res = await fetch(`${env.srv.httpUrl}/api/v2/user/file?path=%2Fbig2.bin`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      assert.equal(
        sha256(Buffer.from(await res.arrayBuffer())),
        await sha256File(join(local, 'big.bin')),
      );

      // what the scan must find: every object below the prefix but the directory markers
      const files = (await b.objects()).filter((o) => !o.dir);
      const size = files.reduce((n, o) => n + o.size, 0);
      assert.ok(files.length > 200);
      const scan = await env.srv.api('POST', `/quotas/users/${user.username}/scan`);
      assert.equal(scan.status, 202, scan.text);
      await waitFor(
        async () => (await env.srv.api<unknown[]>('GET', '/quotas/users/scans')).body.length === 0,
        30_000,
        'quota scan',
      );
      const scanned = await env.getUser(user.username);
      assert.deepEqual([scanned.used_quota_files, scanned.used_quota_size], [files.length, size]);
    });

    extra?.(ctx);
  });
}
