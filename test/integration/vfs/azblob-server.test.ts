/**
 * End to end on Azure Blob storage: a real server, a user created through the REST API with
 * filesystem provider 3 (Azurite behind a recording proxy; the account key sent as a Plain
 * secret, so the KMS encrypts it on save and decrypts it at login), driven by OpenSSH's sftp
 * (put/get of a 16 MiB file and of 200 small files byte-exact, ls, rename, rm, mkdir/rmdir,
 * reget: a ranged download from the resume offset) and scp, curl over WebDAV and the REST user
 * API, with a quota scan. The blobs are checked in Azurite itself, and the REST API never shows
 * the key in clear.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { ApiUser } from '../../../src/api/index.js';
import {
  startAzurite,
  startAzuriteProxy,
  type AzuriteProxy,
  type AzuriteServer,
} from '../../helpers/azurite.js';
import { basicAuth, freePort } from '../../helpers/server.js';
import {
  randomFile,
  sha256,
  sha256File,
  startSftpTestServer,
  waitFor,
  type SftpTestEnv,
  type TestUser,
} from '../../helpers/sftpd.js';
import { remote, requireTool, scp, sftpBatch } from '../../helpers/ssh.js';
import { run } from '../../helpers/webdavd.js';

const MIB = 1024 * 1024;
const PREFIX = 'users/e2e/';

void describe('Azure Blob home through the server', () => {
  let az: AzuriteServer;
  let proxy: AzuriteProxy;
  let davPort: number;
  let env: SftpTestEnv;
  let container: ContainerClient;
  let user: TestUser;

  before(async () => {
    az = await startAzurite();
    container = new BlobServiceClient(
      az.serviceUrl,
      new StorageSharedKeyCredential(az.account, az.key),
    ).getContainerClient('e2e');
    await container.create();
    requireTool('curl', 'curl');
    proxy = await startAzuriteProxy(az);
    davPort = await freePort();
    env = await startSftpTestServer({
      config: { webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] } },
    });
    user = await env.createUser({
      filesystem: {
        provider: 3,
        azblobconfig: {
          container: 'e2e',
          account_name: az.account,
          account_key: { status: 'Plain', payload: az.key },
          endpoint: proxy.endpoint,
          use_emulator: true,
          key_prefix: PREFIX,
        },
      },
    });
  });
  after(async () => {
    await env?.stop();
    await proxy?.close();
    // Azurite exits only once every connection to it is closed: a download stream the server
    // left open (a seek, a reget) would hang here
    await az?.stop();
  });

  async function blobNames(prefix = PREFIX): Promise<string[]> {
    const out: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix }))
      out.push(b.name.slice(PREFIX.length));
    return out.sort();
  }

  async function sftp(commands: string[]): Promise<string> {
    const r = await sftpBatch(env.target, user.creds, commands, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `sftp ${commands.join('; ')}\n${r.stderr}`);
    return r.stdout;
  }

  void it('the REST API shows the account key encrypted, never in clear', async () => {
    const r = await env.srv.api<ApiUser>('GET', `/users/${user.username}`);
    assert.equal(r.status, 200);
    const key = r.body.filesystem?.azblobconfig?.account_key;
    assert.equal(r.body.filesystem?.provider, 3);
    assert.equal(key?.status, 'Secretbox');
    assert.ok(key?.payload && key.payload !== az.key, 'an encrypted payload');
    assert.equal(key.key, undefined, 'the encryption key is hidden');
    assert.equal(key.additional_data, undefined, 'the additional data is hidden');
    assert.ok(!r.text.includes(az.key), 'the plain key is nowhere in the answer');
    const stored = await env.srv.provider.getUser(user.username);
    assert.notEqual(stored?.filesystem?.azblobconfig?.account_key?.payload, az.key);
  });

  void it('put and get a 16 MiB file byte-exact, then reget resumes a partial download', async () => {
    const local = join(env.dir, 'big.bin');
    const sum = await randomFile(local, 16 * MIB);
    const back = join(env.dir, 'big.back');
    await sftp([`put ${local} /big.bin`, `get /big.bin ${back}`]);
    assert.equal(await sha256File(back), sum);
    const props = await container.getBlobClient(`${PREFIX}big.bin`).getProperties();
    assert.equal(props.contentLength, 16 * MIB);
    // 16 MiB in 4 MiB blocks
    const blocks = await container.getBlockBlobClient(`${PREFIX}big.bin`).getBlockList('committed');
    assert.equal(blocks.committedBlocks?.length, 4);

    const partial = join(env.dir, 'big.partial');
    await writeFile(partial, await readFile(local));
    await truncate(partial, 5 * MIB + 123);
    proxy.log.length = 0;
    await sftp([`reget /big.bin ${partial}`]);
    assert.equal(await sha256File(partial), sum);
    const ranges = proxy.log.filter((r) => r.method === 'GET' && r.comp === '').map((r) => r.range);
    assert.ok(
      ranges.includes(`bytes=${5 * MIB + 123}-`),
      `a download from the offset: ${ranges.join(', ')}`,
    );
    // the data went to the container, none to the local home directory
    assert.deepEqual(await readdir(user.home), []);
  });

  void it('put -r and get -r of 200 small files byte-exact', async () => {
    const src = join(env.dir, 'many');
    await mkdir(src);
    const sums = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const name = `file-${String(i).padStart(3, '0')}.dat`;
      sums.set(name, await randomFile(join(src, name), 1 + ((i * 977) % 9000)));
    }
    const dst = join(env.dir, 'many-back');
    await sftp([`put -r ${src} /many`, `get -r /many ${dst}`]);
    const names = (await readdir(dst)).sort();
    assert.deepEqual(names, [...sums.keys()].sort());
    for (const [name, sum] of sums) {
      assert.equal(sha256(await readFile(join(dst, name))), sum, name);
    }
    const blobs = await blobNames(`${PREFIX}many/`);
    assert.equal(blobs.length, 200);
  });

  void it('ls, rename, rm, mkdir and rmdir', async () => {
    const local = join(env.dir, 'small.txt');
    await writeFile(local, 'some text\n');
    const out = await sftp([
      `put ${local} /a.txt`,
      'mkdir /newdir',
      'ls -1 /',
      'rename /a.txt /newdir/b.txt',
      'ls -l /newdir',
    ]);
    assert.match(out, /^\/a\.txt$/m);
    assert.match(out, /^\/newdir$/m);
    assert.match(out, /-rw-r--r--.* 10 .*b\.txt$/m);
    assert.ok((await blobNames()).includes('newdir/b.txt'));
    assert.ok(!(await blobNames()).includes('a.txt'));
    // the directory marker: a blob named like the directory, with the directory content type
    const marker = await container.getBlobClient(`${PREFIX}newdir`).getProperties();
    assert.equal(marker.contentType, 'inode/directory');

    // a non-empty directory cannot be removed; emptied, it can
    const refused = await sftpBatch(env.target, user.creds, ['rmdir /newdir']);
    assert.notEqual(refused.code, 0, 'rmdir of a non-empty directory fails');
    await sftp(['rm /newdir/b.txt', 'rmdir /newdir']);
    const left = await blobNames();
    assert.ok(!left.some((n) => n === 'newdir' || n.startsWith('newdir/')), left.join(', '));
    const listing = await sftp(['ls -1 /']);
    assert.doesNotMatch(listing, /newdir/);
  });

  void it('scp (legacy protocol) copies up and down', async () => {
    const local = join(env.dir, 'scp.bin');
    const sum = await randomFile(local, 5 * MIB + 17);
    const up = await scp(env.target, user.creds, [local, remote(user.creds, '/scp.bin')], {
      legacy: true,
    });
    assert.equal(up.code, 0, up.stderr);
    const back = join(env.dir, 'scp.back');
    const down = await scp(env.target, user.creds, [remote(user.creds, '/scp.bin'), back], {
      legacy: true,
    });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await sha256File(back), sum);
    assert.ok((await blobNames()).includes('scp.bin'));
  });

  void it('WebDAV (curl): upload and download, whole and ranged', async () => {
    const src = join(env.dir, 'dav.bin');
    const sum = await randomFile(src, 6 * MIB + 11);
    const url = `http://127.0.0.1:${davPort}/dav.bin`;
    const auth = ['-u', `${user.username}:${user.password}`];
    const up = await run('curl', ['-sS', '-f', ...auth, '-T', src, url]);
    assert.equal(up.code, 0, up.stderr);
    const out = join(env.dir, 'dav.back');
    const down = await run('curl', ['-sS', '-f', ...auth, '-o', out, url]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await sha256File(out), sum);
    const res = await fetch(url, {
      headers: { authorization: basicAuth(user.username, user.password), range: 'bytes=100-199' },
    });
    assert.equal(res.status, 206);
    assert.deepEqual(
      Buffer.from(await res.arrayBuffer()),
      (await readFile(src)).subarray(100, 200),
    );
    assert.ok((await blobNames()).includes('dav.bin'));
  });

  void it('REST user API: lists and downloads; a quota scan counts the blobs', async () => {
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
    const list = await env.srv.api<{ name: string }[]>(
      'GET',
      '/user/folder?path=%2Fmany',
      undefined,
      token,
    );
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.length, 200);
    const res = await fetch(`${env.srv.httpUrl}/api/v2/user/file?path=%2Fbig.bin`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    assert.equal(
      sha256(Buffer.from(await res.arrayBuffer())),
      await sha256File(join(env.dir, 'big.bin')),
    );

    // what the scan must find: every blob below the prefix but the directory markers
    let files = 0;
    let size = 0;
    for await (const b of container.listBlobsFlat({ prefix: PREFIX })) {
      if (b.properties.contentType === 'inode/directory') continue;
      files++;
      size += b.properties.contentLength ?? 0;
    }
    assert.ok(files > 200);
    const scan = await env.srv.api('POST', `/quotas/users/${user.username}/scan`);
    assert.equal(scan.status, 202, scan.text);
    await waitFor(
      async () => (await env.srv.api<unknown[]>('GET', '/quotas/users/scans')).body.length === 0,
      30_000,
      'quota scan',
    );
    const after = await env.getUser(user.username);
    assert.deepEqual([after.used_quota_files, after.used_quota_size], [files, size]);
  });
});
