/**
 * End to end: a user whose home is a GCS bucket (provider 2) and a local user with a virtual
 * folder on GCS, created through the REST API with the service account JSON sent as a Plain
 * secret (encrypted by the KMS on save, decrypted at login), used through the real server with
 * OpenSSH `sftp` and `scp`, curl over WebDAV and FTP, and the REST user API. The server reaches
 * the GCS emulator the documented way: STORAGE_EMULATOR_HOST in its environment (the server runs
 * in this process).
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiFolder, ApiFilesystemConfig, ApiUser } from '../../../src/api/index.js';
import { startGcsEmulator, type GcsEmulator } from '../../helpers/gcs-emulator.js';
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

const BUCKET = 'sftpgo-e2e';
const PREFIX = 'users/alice/';
const FOLDER_PREFIX = 'folders/shared/';
const MIB = 1024 * 1024;
/** a service account key as GCS issues them; the emulator checks no credentials */
const PRIVATE_KEY_MARKER = 'e2e-private-key-material-Zq9w';
const SERVICE_ACCOUNT = JSON.stringify({
  type: 'service_account',
  project_id: 'e2e-project',
  private_key_id: '0123456789abcdef',
  private_key: `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_MARKER}\n-----END PRIVATE KEY-----\n`,
  client_email: 'sftpgo@e2e-project.iam.gserviceaccount.com',
  client_id: '123456789',
  token_uri: 'https://oauth2.googleapis.com/token',
});

function gcsFs(keyPrefix: string): ApiFilesystemConfig {
  return {
    provider: 2,
    gcsconfig: {
      bucket: BUCKET,
      key_prefix: keyPrefix,
      credentials: { status: 'Plain', payload: SERVICE_ACCOUNT },
      storage_class: 'STANDARD',
    },
  };
}

void describe('GCS home and GCS virtual folder through the server', () => {
  let emu: GcsEmulator;
  let bucket: Bucket;
  let env: SftpTestEnv;
  let user: TestUser;
  let davPort: number;
  let ftpPort: number;
  let local: string;

  async function keys(prefix = PREFIX): Promise<string[]> {
    const [files] = await bucket.getFiles({ prefix });
    return files.map((f) => f.name.slice(prefix.length)).sort();
  }

  async function sftp(commands: string[], u: TestUser = user): Promise<string> {
    const r = await sftpBatch(env.target, u.creds, commands, { timeoutMs: 180_000 });
    assert.equal(r.code, 0, `sftp failed\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    requireSshTools();
    requireTool('curl', 'curl');
    emu = await startGcsEmulator();
    process.env.STORAGE_EMULATOR_HOST = emu.endpoint;
    [bucket] = await new Storage({ projectId: 'test' }).createBucket(BUCKET);
    davPort = await freePort();
    ftpPort = await freePort();
    env = await startSftpTestServer({
      config: {
        webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] },
        ftpd: { bindings: [{ port: ftpPort, address: '127.0.0.1' }] },
      },
    });
    user = await env.createUser({ filesystem: gcsFs(PREFIX) });
    local = join(env.dir, 'local');
    await mkdir(local);
  });
  after(async () => {
    await env?.stop();
    await emu?.stop();
  });

  void it('stores the credentials encrypted and never shows them', async () => {
    const r = await env.srv.api<ApiUser>('GET', `/users/${user.username}`);
    assert.equal(r.status, 200);
    const secret = r.body.filesystem?.gcsconfig?.credentials;
    assert.equal(secret?.status, 'Secretbox');
    assert.ok((secret?.payload ?? '') !== '');
    assert.equal(secret?.key, undefined, 'the key is not rendered');
    assert.equal(r.body.filesystem?.gcsconfig?.key_prefix, PREFIX);
    assert.equal(r.body.filesystem?.gcsconfig?.bucket, BUCKET);
    assert.doesNotMatch(r.text, new RegExp(PRIVATE_KEY_MARKER));
    const stored = await env.srv.provider.getUser(user.username);
    const storedSecret = stored?.filesystem?.gcsconfig?.credentials;
    assert.equal(storedSecret?.status, 'Secretbox');
    assert.equal(storedSecret?.additional_data, user.username);
    assert.doesNotMatch(JSON.stringify(stored), new RegExp(PRIVATE_KEY_MARKER));
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
    const [marker] = await bucket.file(`${PREFIX}small/`).getMetadata();
    assert.equal(marker.contentType, 'inode/directory');

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
    // upstream: a non-empty directory cannot be renamed or removed on GCS
    for (const cmd of ['rename /small /small2', 'rmdir /small']) {
      const refused = await sftpBatch(env.target, user.creds, [cmd], { timeoutMs: 60_000 });
      assert.notEqual(refused.code, 0, cmd);
    }
    assert.ok((await keys()).includes('small/f001.dat'));
    assert.deepEqual(emu.openSessions(), [], 'no upload session left open');
  });

  void it('sftp: reget resumes a download with a ranged GET', async () => {
    const src = join(local, 'resume.bin');
    const sum = await randomFile(src, 7 * MIB + 3);
    const dst = join(local, 'resume.back');
    await sftp([`put ${src} /resume.bin`, `get /resume.bin ${dst}`]);
    await truncate(dst, 5 * MIB + 7);
    const ranges: string[] = [];
    const onRequest = (r: { method: string; range: string }): void => {
      if (r.method === 'GET' && r.range !== '') ranges.push(r.range);
    };
    emu.events.on('request', onRequest);
    try {
      await sftp([`reget /resume.bin ${dst}`]);
    } finally {
      emu.events.off('request', onRequest);
    }
    assert.equal(await sha256File(dst), sum);
    assert.ok(
      ranges.includes(`bytes=${5 * MIB + 7}-`),
      `a GET from the resume offset: ${ranges.join()}`,
    );
  });

  void it('scp: upload and download byte-exact', async () => {
    const src = join(local, 'scp.bin');
    const sum = await randomFile(src, 3 * MIB + 5);
    const up = await scp(env.target, user.creds, [src, remote(user.creds, '/scp.bin')], {
      timeoutMs: 120_000,
    });
    assert.equal(up.code, 0, up.stderr);
    const out = join(local, 'scp.back');
    const down = await scp(env.target, user.creds, [remote(user.creds, '/scp.bin'), out], {
      timeoutMs: 120_000,
    });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await sha256File(out), sum);
    assert.ok((await keys()).includes('scp.bin'));
  });

  void it('WebDAV and FTP (curl): upload and download, whole and ranged', async () => {
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

    const ftp = `ftp://127.0.0.1:${ftpPort}`;
    const ftpUp = await run('curl', ['-sS', ...auth, '-T', src, `${ftp}/ftp.bin`]);
    assert.equal(ftpUp.code, 0, ftpUp.stderr);
    const ftpOut = join(local, 'ftp.back');
    const ftpDown = await run('curl', ['-sS', ...auth, '-o', ftpOut, `${ftp}/ftp.bin`]);
    assert.equal(ftpDown.code, 0, ftpDown.stderr);
    assert.equal(sha256(await readFile(ftpOut)), sha256(data));
    const ftpTail = join(local, 'ftp.tail');
    const ranged = await run('curl', [
      '-sS',
      ...auth,
      '-C',
      String(6 * MIB),
      '-o',
      ftpTail,
      `${ftp}/ftp.bin`,
    ]);
    assert.equal(ranged.code, 0, ranged.stderr);
    assert.deepEqual(await readFile(ftpTail), data.subarray(6 * MIB), 'FTP REST + RETR');
    const k = await keys();
    assert.ok(k.includes('dav.bin') && k.includes('ftp.bin'));
  });

  void it('REST user API: lists and downloads; a quota scan counts the objects', async () => {
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

    const scan = await env.srv.api('POST', `/quotas/users/${user.username}/scan`);
    assert.equal(scan.status, 202, scan.text);
    const files = (await keys()).filter((k) => !k.endsWith('/'));
    await waitFor(
      async () => (await env.getUser(user.username)).used_quota_files === files.length,
      30_000,
      'quota scan',
    );
  });

  void it('a virtual folder on GCS in a local home: sftp put/get, its own prefix and secret', async () => {
    const name = 'gcs-shared';
    const folder = await env.srv.api('POST', '/folders', {
      name,
      mapped_path: join(env.dir, 'unused-folder-dir'),
      filesystem: gcsFs(FOLDER_PREFIX),
    });
    assert.equal(folder.status, 201, folder.text);
    const shown = await env.srv.api<ApiFolder>('GET', `/folders/${name}`);
    assert.equal(shown.body.filesystem?.gcsconfig?.credentials?.status, 'Secretbox');
    assert.doesNotMatch(shown.text, new RegExp(PRIVATE_KEY_MARKER));
    const owner = await env.createUser({
      virtual_folders: [{ name, virtual_path: '/cloud' }],
    });
    const src = join(local, 'folder.bin');
    const sum = await randomFile(src, 2 * MIB + 1);
    const out = join(local, 'folder.back');
    const listing = await sftp(
      [
        `put ${src} /cloud/in-folder.bin`,
        `get /cloud/in-folder.bin ${out}`,
        'ls /cloud',
        `put ${src} /local.bin`,
      ],
      owner,
    );
    assert.match(listing, /in-folder\.bin/);
    assert.equal(await sha256File(out), sum);
    assert.deepEqual(await keys(FOLDER_PREFIX), ['in-folder.bin']);
    assert.ok(!(await keys()).includes('local.bin'), 'the home stays local');
    assert.equal(await sha256File(join(owner.home, 'local.bin')), sum);
  });
});
