import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import type { ApiFilesystemConfig } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import { createKms } from '../kms/index.js';
import { CredentialsFiles, saveWithCredentials } from './credentials-files.js';
import { createProvider, type DataProvider, type SecretEncrypter, type User } from './index.js';

const SA = '{"type":"service_account","private_key":"unit-private-key-Xy7"}';
const ENVELOPE = { status: 'Secretbox', payload: 'cGF5bG9hZA==', key: 'ab'.repeat(32) } as const;

const perms = (p: Record<string, string[]>): User['permissions'] =>
  p as unknown as User['permissions'];

function gcsFs(credentials?: object, automatic = 0): ApiFilesystemConfig {
  return {
    provider: 2,
    gcsconfig: {
      bucket: 'bkt',
      automatic_credentials: automatic as 0 | 1,
      ...(credentials ? { credentials } : {}),
    },
  } as ApiFilesystemConfig;
}

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

void describe('CredentialsFiles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-creds-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('stage + commit: the envelope goes to <name>_gcs_credentials.json, 0600 in a 0700 dir, and leaves the config', async () => {
    const credsDir = join(dir, 'a', 'credentials');
    const files = new CredentialsFiles({ dir: credsDir, preferDatabase: false });
    const fs = gcsFs({ ...ENVELOPE });
    const staged = await files.stage(fs, { kind: 'user', name: 'alice' });
    assert.ok(staged);
    assert.equal(fs.gcsconfig?.credentials, undefined, 'the database copy is emptied');
    assert.deepEqual(await readdir(credsDir).then((l) => l.length), 1, 'only the temporary file');
    await staged.commit();
    const file = join(credsDir, 'alice_gcs_credentials.json');
    assert.deepEqual(await readdir(credsDir), ['alice_gcs_credentials.json']);
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(credsDir), 0o700);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), ENVELOPE);

    const loaded = gcsFs();
    await files.fill(loaded, { kind: 'user', name: 'alice' });
    assert.deepEqual(loaded.gcsconfig?.credentials, ENVELOPE);
  });

  void it('folders live under folders/', async () => {
    const credsDir = join(dir, 'b');
    const files = new CredentialsFiles({ dir: credsDir, preferDatabase: false });
    assert.equal(
      files.path({ kind: 'folder', name: 'shared' }),
      join(credsDir, 'folders', 'shared_gcs_credentials.json'),
    );
    const fs = gcsFs({ ...ENVELOPE });
    await (await files.stage(fs, { kind: 'folder', name: 'shared' }))?.commit();
    assert.equal(await mode(join(credsDir, 'folders')), 0o700);
    assert.equal(await mode(join(credsDir, 'folders', 'shared_gcs_credentials.json')), 0o600);
    const loaded = gcsFs();
    await files.fill(loaded, { kind: 'folder', name: 'shared' });
    assert.deepEqual(loaded.gcsconfig?.credentials, ENVELOPE);
    const asUser = gcsFs();
    await files.fill(asUser, { kind: 'user', name: 'shared' });
    assert.equal(asUser.gcsconfig?.credentials, undefined, 'a user of that name has no file');
  });

  void it('prefer_database_credentials: nothing is written, the config keeps the secret', async () => {
    const credsDir = join(dir, 'c');
    const files = new CredentialsFiles({ dir: credsDir, preferDatabase: true });
    const fs = gcsFs({ ...ENVELOPE });
    assert.equal(await files.stage(fs, { kind: 'user', name: 'bob' }), undefined);
    assert.deepEqual(fs.gcsconfig?.credentials, ENVELOPE);
    await assert.rejects(stat(credsDir), { code: 'ENOENT' });
  });

  void it('a secret in the database wins over the file; automatic credentials read no file', async () => {
    const credsDir = join(dir, 'd');
    const files = new CredentialsFiles({ dir: credsDir, preferDatabase: false });
    await (await files.stage(gcsFs({ ...ENVELOPE }), { kind: 'user', name: 'carol' }))?.commit();
    const inDb = { status: 'Secretbox', payload: 'b3RoZXI=', key: 'cd'.repeat(32) };
    const fs = gcsFs(inDb);
    await files.fill(fs, { kind: 'user', name: 'carol' });
    assert.deepEqual(fs.gcsconfig?.credentials, inDb);
    const auto = gcsFs(undefined, 1);
    await files.fill(auto, { kind: 'user', name: 'carol' });
    assert.equal(auto.gcsconfig?.credentials, undefined);
    const s3 = { provider: 1, s3config: { bucket: 'x' } } as ApiFilesystemConfig;
    await files.fill(s3, { kind: 'user', name: 'carol' });
    assert.deepEqual(s3, { provider: 1, s3config: { bucket: 'x' } });
    // what listings ask before calling fill
    assert.deepEqual(
      [gcsFs(undefined), gcsFs(inDb), auto, s3, undefined].map((f) => files.needsFill(f)),
      [true, false, false, false, false],
    );
  });

  void it('a failed database write leaves the existing file untouched and no temporary file', async () => {
    const credsDir = join(dir, 'e');
    const files = new CredentialsFiles({ dir: credsDir, preferDatabase: false });
    const owner = { kind: 'user', name: 'dave' } as const;
    await (await files.stage(gcsFs({ ...ENVELOPE }), owner))?.commit();
    const other = { status: 'Secretbox', payload: 'bmV3', key: 'ef'.repeat(32) };
    await assert.rejects(
      saveWithCredentials(files, [{ fs: gcsFs(other), owner }], () =>
        Promise.reject(new SftpgoError('ALREADY_EXISTS', 'duplicate')),
      ),
      (e: unknown) => SftpgoError.is(e, 'ALREADY_EXISTS'),
    );
    assert.deepEqual(await readdir(credsDir), ['dave_gcs_credentials.json']);
    assert.deepEqual(JSON.parse(await readFile(files.path(owner), 'utf8')), ENVELOPE);
    await files.remove(owner);
    assert.deepEqual(await readdir(credsDir), []);
    await files.remove(owner); // no file: fine
  });

  void it('an unreadable file: missing credentials on load, an error for dumps', async () => {
    const credsDir = join(dir, 'f');
    const files = new CredentialsFiles({ dir: credsDir, preferDatabase: false });
    const owner = { kind: 'user', name: 'erin' } as const;
    await (await files.stage(gcsFs({ ...ENVELOPE }), owner))?.commit();
    await writeFile(files.path(owner), 'not json');
    const fs = gcsFs();
    await files.fill(fs, owner);
    assert.equal(fs.gcsconfig?.credentials, undefined);
    await assert.rejects(files.fill(gcsFs(), owner, true), (e: unknown) => {
      assert.ok(SftpgoError.is(e, 'INTERNAL'));
      assert.match(e.message, /credentials file of user "erin" holds no valid secret/);
      assert.doesNotMatch(e.message, new RegExp(credsDir), 'no server path');
      return true;
    });
    await files.fill(gcsFs(), { kind: 'user', name: 'nobody' }, true); // missing: not an error
  });

  void it('a name with a path separator cannot have a file', () => {
    const files = new CredentialsFiles({ dir, preferDatabase: false });
    assert.throws(
      () => files.path({ kind: 'user', name: '../escape' }),
      (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT'),
    );
  });
});

void describe('ProviderCore with credentials files', () => {
  let dir: string;
  let n = 0;
  const open: (DataProvider | DataSource)[] = [];

  function encrypter(): SecretEncrypter {
    const kms = createKms({ secrets: { url: '', master_key_path: '' } }, dir);
    return { encrypt: (s) => kms.encrypt(s) as ReturnType<SecretEncrypter['encrypt']> };
  }

  async function provider(prefer = false): Promise<{ p: DataProvider; db: string }> {
    const db = join(dir, `db-${++n}.sqlite`);
    const p = await createProvider(
      { driver: 'sqlite', name: db, prefer_database_credentials: prefer },
      { configDir: dir, kms: encrypter() },
    );
    open.push(p);
    return { p, db };
  }

  /** the filesystem column as stored, read past the provider */
  async function storedFs(db: string, table: string, key: string, name: string): Promise<unknown> {
    const ds = new DataSource({ type: 'better-sqlite3', database: db });
    await ds.initialize();
    open.push(ds);
    const rows = (await ds.query(`SELECT filesystem FROM ${table} WHERE ${key} = ?`, [name])) as {
      filesystem: string;
    }[];
    return JSON.parse(rows[0]?.filesystem ?? 'null');
  }

  const user = (username: string, fs: ApiFilesystemConfig): User => ({
    username,
    password: 'pw-123456',
    status: 1,
    home_dir: join(dir, username),
    permissions: perms({ '/': ['*'] }),
    filesystem: fs,
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-creds-provider-'));
  });
  after(async () => {
    for (const o of open) await (o instanceof DataSource ? o.destroy() : o.close());
    await rm(dir, { recursive: true, force: true });
  });

  void it('file mode: saved encrypted to the file, emptied in the row, filled back on load and in dumps, removed on delete', async () => {
    const { p, db } = await provider();
    await p.addUser(user('alice', gcsFs({ status: 'Plain', payload: SA })));
    const file = join(dir, 'credentials', 'alice_gcs_credentials.json');
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /unit-private-key/);
    const env = JSON.parse(text) as Record<string, unknown>;
    assert.equal(env['status'], 'Secretbox');
    assert.equal(env['additional_data'], 'alice');
    const row = (await storedFs(db, 'users', 'username', 'alice')) as ApiFilesystemConfig;
    assert.equal(row.gcsconfig?.credentials, undefined);
    assert.equal(row.gcsconfig?.bucket, 'bkt');

    const loaded = await p.getUser('alice');
    assert.deepEqual(loaded.filesystem?.gcsconfig?.credentials, env);
    const dumped = (await p.dumpUsers()).find((u) => u.username === 'alice');
    assert.deepEqual(dumped?.filesystem?.gcsconfig?.credentials, env);
    const listed = (await p.getUsers()).find((u) => u.username === 'alice');
    assert.equal(listed?.filesystem?.gcsconfig?.credentials?.status, 'Secretbox');
    assert.equal(listed?.filesystem?.gcsconfig?.credentials?.key, undefined, 'redacted');

    // an update that sends the secret back as GET shows it keeps it; one without it too
    await p.updateUser('alice', { ...loaded, description: 'x' });
    await p.updateUser('alice', {
      ...loaded,
      filesystem: { provider: 2, gcsconfig: { bucket: 'bkt2' } },
    });
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), env);
    assert.equal((await p.getUser('alice')).filesystem?.gcsconfig?.bucket, 'bkt2');

    // a second add of the same name fails and does not touch the first user's file
    await assert.rejects(
      p.addUser(user('alice', gcsFs({ status: 'Plain', payload: '{"other":1}' }))),
    );
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), env);

    await p.deleteUser('alice');
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  void it('file mode for folders, also when saved through a user', async () => {
    const { p, db } = await provider();
    await p.addFolder({
      name: 'shared',
      mapped_path: join(dir, 'shared'),
      filesystem: gcsFs({ status: 'Plain', payload: SA }),
    });
    const file = join(dir, 'credentials', 'folders', 'shared_gcs_credentials.json');
    assert.equal(await mode(file), 0o600);
    const row = (await storedFs(db, 'folders', 'name', 'shared')) as ApiFilesystemConfig;
    assert.equal(row.gcsconfig?.credentials, undefined);
    const env = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    assert.equal(env['status'], 'Secretbox');
    assert.deepEqual((await p.getFolder('shared')).filesystem?.gcsconfig?.credentials, env);
    assert.deepEqual(
      (await p.dumpFolders()).find((f) => f.name === 'shared')?.filesystem?.gcsconfig?.credentials,
      env,
    );

    // a local user mapping it by name, and one redefining it inline with the secret sent back
    const u = { ...user('bob', { provider: 0 }) };
    u.virtual_folders = [{ name: 'shared', virtual_path: '/shared' }];
    await p.addUser(u);
    const bob = await p.getUser('bob');
    assert.deepEqual(bob.virtual_folders?.[0]?.filesystem?.gcsconfig?.credentials, env);
    await p.updateUser('bob', bob);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), env);
    assert.deepEqual((await p.getFolder('shared')).filesystem?.gcsconfig?.credentials, env);

    await p.deleteUser('bob');
    await p.deleteFolder('shared');
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  void it('prefer_database_credentials: the row keeps the encrypted secret, no file', async () => {
    const { p, db } = await provider(true);
    await p.addUser(user('carol', gcsFs({ status: 'Plain', payload: SA })));
    const row = (await storedFs(db, 'users', 'username', 'carol')) as ApiFilesystemConfig;
    assert.equal(row.gcsconfig?.credentials?.status, 'Secretbox');
    assert.equal(row.gcsconfig?.credentials?.additional_data, 'carol');
    await assert.rejects(stat(join(dir, 'credentials', 'carol_gcs_credentials.json')), {
      code: 'ENOENT',
    });
    assert.deepEqual(
      (await p.getUser('carol')).filesystem?.gcsconfig?.credentials,
      row.gcsconfig?.credentials,
    );
  });

  void it('no secret and no file: the save is refused', async () => {
    const { p } = await provider();
    await assert.rejects(p.addUser(user('dave', gcsFs())), (e: unknown) => {
      assert.ok(SftpgoError.is(e, 'INVALID_INPUT'));
      assert.match(e.message, /credentials cannot be empty/);
      return true;
    });
  });
});
