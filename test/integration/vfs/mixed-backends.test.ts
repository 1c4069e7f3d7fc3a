/**
 * One session over three backends at once (issue 12): a user whose home is on S3 (s3rver) with a
 * virtual folder on Azure Blob (Azurite) and another on encrypted local storage, all created
 * through the REST API with Plain secrets. OpenSSH's sftp writes and reads each, moves files
 * between them (a rename across virtual folders is a copy + delete), and the REST user API
 * streams a zip that spans all three; the bytes are checked at the source of truth of each
 * backend (the S3 bucket, the Azure container, the encrypted files on disk).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { ApiUser } from '../../../src/api/index.js';
import { startAzurite, type AzuriteServer } from '../../helpers/azurite.js';
import { decryptFile } from '../../helpers/crypt.js';
import {
  startS3rver,
  s3FsConfig,
  S3RVER_KEY,
  S3RVER_SECRET,
  type S3Emulator,
} from '../../helpers/s3rver.js';
import {
  sha256,
  startSftpTestServer,
  type SftpTestEnv,
  type TestUser,
} from '../../helpers/sftpd.js';
import { requireTool, sftpBatch } from '../../helpers/ssh.js';

const exec = promisify(execFile);
const BUCKET = 'mixed';

void describe('one user on S3, Azure Blob and encrypted local storage at once', () => {
  let s3: S3Emulator;
  let az: AzuriteServer;
  let env: SftpTestEnv;
  let user: TestUser;
  let container: ContainerClient;
  let s3client: S3Client;
  let local: string;
  let encDir: string;
  const data = {
    home: randomBytes(300_000),
    az: randomBytes(200_001),
    enc: randomBytes(150_003),
  };

  before(async () => {
    requireTool('unzip', 'unzip');
    s3 = await startS3rver({ buckets: [BUCKET] });
    az = await startAzurite();
    container = new BlobServiceClient(
      az.serviceUrl,
      new StorageSharedKeyCredential(az.account, az.key),
    ).getContainerClient('mixed');
    await container.create();
    s3client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    });
    env = await startSftpTestServer();
    local = join(env.dir, 'local');
    encDir = join(env.dir, 'enc-folder');
    await mkdir(local);
    for (const [name, bytes] of Object.entries(data)) await writeFile(join(local, name), bytes);

    const folders = [
      {
        name: 'azf',
        mapped_path: join(env.dir, 'az-scratch'),
        filesystem: {
          provider: 3,
          azblobconfig: {
            container: 'mixed',
            account_name: az.account,
            account_key: { status: 'Plain', payload: az.key },
            endpoint: az.endpoint,
            use_emulator: true,
            key_prefix: 'folder/',
          },
        },
      },
      {
        name: 'encf',
        mapped_path: encDir,
        filesystem: {
          provider: 4,
          cryptconfig: { passphrase: { status: 'Plain', payload: 'folder pass' } },
        },
      },
    ];
    for (const f of folders) {
      const r = await env.srv.api('POST', '/folders', f);
      assert.equal(r.status, 201, r.text);
    }
    user = await env.createUser({
      filesystem: s3FsConfig(s3, BUCKET, { key_prefix: 'home/' }),
      virtual_folders: [
        { name: 'azf', virtual_path: '/az', quota_size: -1, quota_files: -1 },
        { name: 'encf', virtual_path: '/enc', quota_size: -1, quota_files: -1 },
      ] as ApiUser['virtual_folders'],
    });
  });
  after(async () => {
    s3client?.destroy();
    await env?.stop();
    await az?.stop();
    await s3?.stop();
  });

  async function sftp(commands: string[]): Promise<string> {
    const r = await sftpBatch(env.target, user.creds, commands, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `sftp ${commands.join('; ')}\n${r.stderr}`);
    return r.stdout;
  }
  async function s3Object(key: string): Promise<Buffer | undefined> {
    try {
      const r = await s3client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(
        await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch {
      return undefined;
    }
  }
  async function s3Keys(): Promise<string[]> {
    const r = await s3client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/' }));
    return (r.Contents ?? []).map((c) => c.Key ?? '').sort();
  }
  async function blob(name: string): Promise<Buffer | undefined> {
    const b = container.getBlobClient(`folder/${name}`);
    return (await b.exists()) ? b.downloadToBuffer() : undefined;
  }

  void it('writes and reads each backend byte-exact, where each keeps its bytes', async () => {
    const back = join(env.dir, 'back');
    await mkdir(back);
    await sftp([
      `put ${join(local, 'home')} /h.bin`,
      `put ${join(local, 'az')} /az/a.bin`,
      `put ${join(local, 'enc')} /enc/e.bin`,
      `get /h.bin ${join(back, 'h')}`,
      `get /az/a.bin ${join(back, 'a')}`,
      `get /enc/e.bin ${join(back, 'e')}`,
    ]);
    assert.equal(sha256(await readFile(join(back, 'h'))), sha256(data.home));
    assert.equal(sha256(await readFile(join(back, 'a'))), sha256(data.az));
    assert.equal(sha256(await readFile(join(back, 'e'))), sha256(data.enc));
    assert.equal(sha256((await s3Object('home/h.bin')) ?? Buffer.alloc(0)), sha256(data.home));
    assert.equal(sha256((await blob('a.bin')) ?? Buffer.alloc(0)), sha256(data.az));
    const onDisk = await readFile(join(encDir, 'e.bin'));
    assert.equal(onDisk[0], 0x10, 'the crypt header');
    assert.ok(!onDisk.includes(data.enc.subarray(0, 64)), 'no plaintext on disk');
    assert.equal(sha256(await decryptFile(join(encDir, 'e.bin'), 'folder pass')), sha256(data.enc));
  });

  void it('moves files between the backends (copy + delete)', async () => {
    await sftp([
      'rename /h.bin /az/from-s3.bin',
      'rename /enc/e.bin /from-enc.bin',
      'rename /az/a.bin /enc/from-az.bin',
    ]);
    assert.equal(sha256((await blob('from-s3.bin')) ?? Buffer.alloc(0)), sha256(data.home));
    assert.equal(
      sha256((await s3Object('home/from-enc.bin')) ?? Buffer.alloc(0)),
      sha256(data.enc),
    );
    assert.equal(
      sha256(await decryptFile(join(encDir, 'from-az.bin'), 'folder pass')),
      sha256(data.az),
    );
    // the sources are gone
    assert.deepEqual(await s3Keys(), ['home/from-enc.bin']);
    assert.equal(await blob('a.bin'), undefined);
    assert.deepEqual((await readdir(encDir)).sort(), ['from-az.bin']);
    const ls = await sftp(['ls -1 /', 'ls -1 /az', 'ls -1 /enc']);
    for (const name of ['from-enc.bin', 'from-s3.bin', 'from-az.bin'])
      assert.match(ls, new RegExp(name));
  });

  void it('the REST user API streams one zip spanning the three backends', async () => {
    const token = await env.srv.userToken(user.username, user.password);
    const res = await fetch(`${env.srv.httpUrl}/api/v2/user/streamzip`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(['/from-enc.bin', '/az', '/enc']),
    });
    assert.equal(res.status, 200);
    const zipPath = join(env.dir, 'all.zip');
    await writeFile(zipPath, Buffer.from(await res.arrayBuffer()));
    const out = join(env.dir, 'unzipped');
    await exec('unzip', ['-q', '-o', zipPath, '-d', out]);
    assert.equal(sha256(await readFile(join(out, 'from-enc.bin'))), sha256(data.enc));
    assert.equal(sha256(await readFile(join(out, 'az', 'from-s3.bin'))), sha256(data.home));
    assert.equal(sha256(await readFile(join(out, 'enc', 'from-az.bin'))), sha256(data.az));
  });
});
