/**
 * GCS credentials files (data_provider.credentials_path, prefer_database_credentials false as
 * shipped) through the real server: a user created over REST with a Plain service account JSON
 * gets its encrypted secret written to <config dir>/credentials/<user>_gcs_credentials.json and
 * none in its database row; the REST API still shows the secret redacted; the user logs in and
 * its GCS filesystem is built with the decrypted credentials (listing the emulator's bucket);
 * a dump carries the secret, and restoring it on a second server writes that server's file.
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import type { ApiFilesystemConfig, ApiUser, BackupData } from '../../../src/api/index.js';
import { createKms } from '../../../src/kms/index.js';
import { gcsOptionsOf } from '../../../src/vfs/backends/gcs/index.js';
import { startGcsEmulator, type GcsEmulator } from '../../helpers/gcs-emulator.js';
import { startServer, type TestServer } from '../../helpers/server.js';

const BUCKET = 'sftpgo-credfile';
const PREFIX = 'home/gina/';
const USERNAME = 'gina';
const PASSWORD = 'gina-password-1';
const MARKER = 'credfile-private-key-material-Kp3';
const SERVICE_ACCOUNT = JSON.stringify({
  type: 'service_account',
  project_id: 'credfile-project',
  private_key_id: 'fedcba9876543210',
  private_key: `-----BEGIN PRIVATE KEY-----\n${MARKER}\n-----END PRIVATE KEY-----\n`,
  client_email: 'sftpgo@credfile-project.iam.gserviceaccount.com',
  token_uri: 'https://oauth2.googleapis.com/token',
});

const credentialsFile = (srv: TestServer, username: string): string =>
  join(srv.configDir, 'credentials', `${username}_gcs_credentials.json`);

/** the user's filesystem column as stored, read past the provider */
async function storedFs(srv: TestServer, username: string): Promise<ApiFilesystemConfig> {
  const ds = new DataSource({ type: 'better-sqlite3', database: join(srv.configDir, 'sftpgo.db') });
  await ds.initialize();
  try {
    const rows = (await ds.query('SELECT filesystem FROM users WHERE username = ?', [
      username,
    ])) as { filesystem: string }[];
    assert.equal(rows.length, 1);
    return JSON.parse(rows[0]?.filesystem ?? 'null') as ApiFilesystemConfig;
  } finally {
    await ds.destroy();
  }
}

/** logs in through the user REST API and lists the home: the GCS filesystem must be built */
async function listHome(srv: TestServer): Promise<string[]> {
  const token = await srv.userToken(USERNAME, PASSWORD);
  const r = await srv.api<{ name: string }[]>('GET', '/user/folder?path=/', undefined, token);
  assert.equal(r.status, 200, r.text);
  return r.body.map((e) => e.name).sort();
}

void describe('GCS credentials kept in credentials_path files', () => {
  let emu: GcsEmulator;
  let bucket: Bucket;
  let srv: TestServer;
  let other: TestServer | undefined;

  before(async () => {
    emu = await startGcsEmulator();
    process.env.STORAGE_EMULATOR_HOST = emu.endpoint;
    [bucket] = await new Storage({ projectId: 'test' }).createBucket(BUCKET);
    await bucket.file(`${PREFIX}hello.txt`).save('hello');
    srv = await startServer();
    const r = await srv.api('POST', '/users', {
      username: USERNAME,
      password: PASSWORD,
      status: 1,
      home_dir: join(srv.configDir, USERNAME),
      permissions: { '/': ['*'] },
      filesystem: {
        provider: 2,
        gcsconfig: {
          bucket: BUCKET,
          key_prefix: PREFIX,
          credentials: { status: 'Plain', payload: SERVICE_ACCOUNT },
        },
      },
    });
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    await other?.stop();
    await srv?.stop();
    await emu?.stop();
  });

  void it('writes the encrypted secret to the file (0600, dir 0700) and none to the database', async () => {
    const file = credentialsFile(srv, USERNAME);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(srv.configDir, 'credentials'))).mode & 0o777, 0o700);
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, new RegExp(MARKER), 'never the plain JSON');
    const env = JSON.parse(text) as Record<string, unknown>;
    assert.equal(env['status'], 'Secretbox');
    assert.equal(env['additional_data'], USERNAME);
    assert.ok(typeof env['payload'] === 'string' && env['payload'] !== '');

    const row = await storedFs(srv, USERNAME);
    assert.equal(row.provider, 2);
    assert.equal(row.gcsconfig?.bucket, BUCKET);
    assert.equal(row.gcsconfig?.credentials, undefined, 'no secret in the database row');
  });

  void it('GET /users/{name} shows the secret redacted, as for a secret in the database', async () => {
    const env = JSON.parse(await readFile(credentialsFile(srv, USERNAME), 'utf8')) as Record<
      string,
      unknown
    >;
    const r = await srv.api<ApiUser>('GET', `/users/${USERNAME}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.filesystem?.gcsconfig?.credentials, {
      status: 'Secretbox',
      payload: env['payload'],
    });
    assert.doesNotMatch(r.text, new RegExp(MARKER));
  });

  void it('a login builds the GCS filesystem with the decrypted credentials', async () => {
    assert.deepEqual(await listHome(srv), ['hello.txt']);
    // the same user through the backend factory: the credentials are the service account's
    const user = await srv.provider.getUser(USERNAME);
    const kms = createKms({ secrets: { url: '', master_key_path: '' } }, srv.configDir);
    const opts = await gcsOptionsOf(user.filesystem ?? {}, {
      root: user.home_dir ?? '',
      decryptSecret: (s) => kms.decrypt(s),
    });
    assert.equal(opts.credentials?.['private_key_id'], 'fedcba9876543210');
    assert.match(String(opts.credentials?.['private_key']), new RegExp(MARKER));
  });

  void it('a PUT that sends the redacted secret back keeps the file', async () => {
    const before = await readFile(credentialsFile(srv, USERNAME), 'utf8');
    const got = await srv.api<ApiUser>('GET', `/users/${USERNAME}`);
    const r = await srv.api('PUT', `/users/${USERNAME}`, { ...got.body, description: 'edited' });
    assert.equal(r.status, 200, r.text);
    assert.equal(await readFile(credentialsFile(srv, USERNAME), 'utf8'), before);
    assert.equal((await storedFs(srv, USERNAME)).gcsconfig?.credentials, undefined);
    assert.deepEqual(await listHome(srv), ['hello.txt']);
  });

  void it('a dump carries the encrypted secret; restored on another server it gets its own file', async () => {
    const env = JSON.parse(await readFile(credentialsFile(srv, USERNAME), 'utf8')) as Record<
      string,
      unknown
    >;
    const d = await srv.api<BackupData>('GET', '/dumpdata?output-data=1');
    assert.equal(d.status, 200);
    assert.doesNotMatch(d.text, new RegExp(MARKER));
    const dumped = d.body.users?.find((u) => u.username === USERNAME);
    assert.deepEqual(dumped?.filesystem?.gcsconfig?.credentials, env);

    other = await startServer();
    const r = await other.api('POST', '/loaddata', d.text, undefined, {
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(await readFile(credentialsFile(other, USERNAME), 'utf8')), env);
    assert.equal((await storedFs(other, USERNAME)).gcsconfig?.credentials, undefined);
    assert.deepEqual(await listHome(other), ['hello.txt']);
  });

  void it('deleting the user removes its file', async () => {
    const r = await srv.api('DELETE', `/users/${USERNAME}`);
    assert.equal(r.status, 200, r.text);
    await assert.rejects(stat(credentialsFile(srv, USERNAME)), { code: 'ENOENT' });
  });
});
