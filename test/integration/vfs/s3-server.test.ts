/**
 * End to end: a user whose home is an S3 bucket (provider 1, s3rver as the endpoint), created
 * through the REST API with its access secret sent Plain (so it is encrypted by the KMS on save
 * and decrypted at login), used through the real server with OpenSSH `sftp`, curl over WebDAV
 * and the REST user API.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../../src/api/index.js';
import { basicAuth, freePort } from '../../helpers/server.js';
import { s3FsConfig, startS3rver, type S3Emulator } from '../../helpers/s3rver.js';
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
import { requireTool, sftpBatch } from '../../helpers/ssh.js';
import { run } from '../../helpers/webdavd.js';

const BUCKET = 'sftpgo-e2e';
const PREFIX = 'users/alice/';
/** s3rver checks the access key only; any secret signs */
const SECRET = 'e2e-secret-Zq9w';
const MIB = 1024 * 1024;

void describe('S3 home through the server', () => {
  let s3: S3Emulator;
  let env: SftpTestEnv;
  let user: TestUser;
  let davPort: number;
  let local: string;

  async function keys(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.client.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: PREFIX,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? []) out.push((o.Key ?? '').slice(PREFIX.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async function sftp(commands: string[]): Promise<string> {
    const r = await sftpBatch(env.target, user.creds, commands, { timeoutMs: 180_000 });
    assert.equal(r.code, 0, `sftp failed\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    requireSshTools();
    requireTool('curl', 'curl');
    s3 = await startS3rver({ buckets: [BUCKET] });
    davPort = await freePort();
    env = await startSftpTestServer({
      config: { webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] } },
    });
    user = await env.createUser({
      filesystem: s3FsConfig(s3, BUCKET, {
        access_secret: { status: 'Plain', payload: SECRET },
        key_prefix: PREFIX,
        upload_part_size: 5,
        upload_concurrency: 2,
      }),
    });
    local = join(env.dir, 'local');
    await mkdir(local);
  });
  after(async () => {
    await env?.stop();
    await s3?.stop();
  });

  void it('stores the access secret encrypted and never shows it', async () => {
    const r = await env.srv.api<ApiUser>('GET', `/users/${user.username}`);
    assert.equal(r.status, 200);
    const secret = r.body.filesystem?.s3config?.access_secret;
    assert.equal(secret?.status, 'Secretbox');
    assert.ok((secret?.payload ?? '') !== '');
    assert.equal(secret?.key, undefined, 'the key is not rendered');
    assert.equal(r.body.filesystem?.s3config?.key_prefix, PREFIX);
    assert.doesNotMatch(r.text, new RegExp(SECRET));
    const stored = await env.srv.provider.getUser(user.username);
    const storedSecret = stored?.filesystem?.s3config?.access_secret;
    assert.equal(storedSecret?.status, 'Secretbox');
    assert.equal(storedSecret?.additional_data, user.username);
    assert.doesNotMatch(JSON.stringify(stored), new RegExp(SECRET));
  });

  void it('sftp: put/get of 16 MiB and of 200 small files byte-exact, ls, rename, rm, mkdir/rmdir', async () => {
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
    await mkdir(back);
    await sftp([
      `put ${big} /big.bin`,
      'mkdir /small',
      `lcd ${small}`,
      'cd /small',
      'put *',
      `lcd ${back}`,
      'get *',
      `get /big.bin ${join(local, 'big.back')}`,
    ]);
    assert.equal(await sha256File(join(local, 'big.back')), bigSum);
    const got = (await readdir(back)).sort();
    assert.deepEqual(got, [...sums.keys()].sort());
    for (const name of got) assert.equal(await sha256File(join(back, name)), sums.get(name), name);
    const stored = await keys();
    assert.ok(stored.includes('big.bin'));
    assert.ok(stored.includes('small/'), 'mkdir wrote the directory marker');
    assert.equal(stored.filter((k) => k.startsWith('small/f')).length, 200);

    const listing = await sftp(['ls -l /small', 'ls -l /']);
    assert.equal((listing.match(/ f\d{3}\.dat$/gm) ?? []).length, 200, listing);
    assert.match(listing, /^d.* small$/m);
    assert.match(listing, new RegExp(`^-rw-r--r--.* ${16 * MIB} .* big\\.bin$`, 'm'));

    await sftp([
      'rename /big.bin /big2.bin',
      'rm /small/f000.dat',
      'mkdir /empty',
      'rename /empty /empty2',
      'mkdir /gone',
      'rmdir /gone',
    ]);
    const after = await keys();
    assert.ok(after.includes('big2.bin') && !after.includes('big.bin'));
    assert.ok(!after.includes('small/f000.dat') && after.includes('small/f001.dat'));
    assert.ok(after.includes('empty2/') && !after.includes('empty/') && !after.includes('gone/'));
    // upstream: a non-empty directory cannot be renamed or removed on S3
    const refused = await sftpBatch(env.target, user.creds, ['rename /small /small2'], {
      timeoutMs: 60_000,
    });
    assert.notEqual(refused.code, 0);
    assert.ok((await keys()).includes('small/f001.dat'));
  });

  void it('sftp: reget resumes a download with a ranged GET', async () => {
    const src = join(local, 'resume.bin');
    const sum = await randomFile(src, 7 * MIB + 3);
    const dst = join(local, 'resume.back');
    await sftp([`put ${src} /resume.bin`, `get /resume.bin ${dst}`]);
    await truncate(dst, 5 * MIB + 7);
    s3.clearRequests();
    await sftp([`reget /resume.bin ${dst}`]);
    assert.equal(await sha256File(dst), sum);
    const ranged = s3.requests.filter((r) => r.method === 'GET' && r.range !== '');
    assert.ok(
      ranged.some((r) => r.range === `bytes=${5 * MIB + 7}-`),
      `a GET from the resume offset: ${JSON.stringify(ranged)}`,
    );
  });

  void it('WebDAV (curl): upload and download, whole and ranged', async () => {
    const src = join(local, 'dav.bin');
    const data = randomBytes(6 * MIB + 11);
    await writeFile(src, data);
    const url = `http://127.0.0.1:${davPort}/dav.bin`;
    const auth = ['-u', `${user.username}:${user.password}`];
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
  });

  void it('REST user API: lists and downloads; a quota scan counts the objects', async () => {
    const login = await env.srv.api<{ access_token: string }>(
      'GET',
      '/user/token',
      undefined,
      null,
      {
        headers: { authorization: basicAuth(user.username, user.password) },
      },
    );
    assert.equal(login.status, 200, login.text);
    const token = login.body.access_token;
    const list = await env.srv.api<{ name: string; type?: string }[]>(
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

    const scan = await env.srv.api('POST', `/quotas/users/${user.username}/scan`);
    assert.equal(scan.status, 202, scan.text);
    const objects = await keys();
    const files = objects.filter((k) => !k.endsWith('/'));
    await waitFor(
      async () => (await env.getUser(user.username)).used_quota_files === files.length,
      30_000,
      'quota scan',
    );
    assert.equal((await env.getUser(user.username)).used_quota_files, files.length);
  });

  void it('sftp: 1 GiB and 2,000 small files byte-exact both ways (put -r / get -r)', async () => {
    const big = join(local, 'gib.bin');
    const bigSum = await randomFile(big, 1024 * MIB);
    const many = join(local, 'many');
    await mkdir(many);
    for (let i = 0; i < 2000; i++) await writeFile(join(many, `m${i}`), randomBytes(i % 97));
    const back = join(local, 'gib.back');
    const manyBack = join(local, 'many.back');
    await sftp([
      `put ${big} /gib.bin`,
      `get /gib.bin ${back}`,
      `put -r ${many} /many`,
      `get -r /many ${manyBack}`,
    ]);
    assert.equal(await sha256File(back), bigSum);
    const names = (await readdir(manyBack)).sort();
    assert.equal(names.length, 2000);
    for (const n of names) {
      assert.equal(
        sha256(await readFile(join(manyBack, n))),
        sha256(await readFile(join(many, n))),
        n,
      );
    }
    // 2,000 objects and the directory's marker
    assert.deepEqual((await keys()).filter((k) => k.startsWith('many/')).length, 2001);
    assert.ok((await keys()).includes('many/'));
    await sftp(['rm /gib.bin', 'rm /many/*', 'rmdir /many']);
  });
});
