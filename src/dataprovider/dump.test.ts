import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { createKms } from '../kms/index.js';
import { createBackup, parseBackup, parseBackupJson, restoreBackup, type Backup } from './dump.js';
import { createProvider, type DataProvider, type SecretEncrypter, type User } from './index.js';

/** the generated type of User.permissions is too narrow (Record<string, never>) */
const perms = (p: Record<string, string[]>): User['permissions'] =>
  p as unknown as User['permissions'];

function encrypter(configDir: string): SecretEncrypter {
  const kms = createKms({ secrets: { url: '', master_key_path: '' } }, configDir);
  return { encrypt: (s) => kms.encrypt(s) as ReturnType<SecretEncrypter['encrypt']> };
}

/** fields a restore does not carry over (ids, counters, last login) */
function comparable(b: Backup): unknown {
  const strip = (o: Record<string, unknown>): Record<string, unknown> => {
    const {
      id: _id,
      used_quota_size: _s,
      used_quota_files: _f,
      last_quota_update: _q,
      last_login: _l,
      ...rest
    } = o;
    return rest;
  };
  return {
    version: b.version,
    folders: b.folders.map((f) => strip(f as Record<string, unknown>)),
    admins: b.admins.map((a) => strip(a as Record<string, unknown>)),
    users: b.users.map((u) => ({
      ...strip(u as Record<string, unknown>),
      virtual_folders: (u.virtual_folders ?? []).map((v) => strip(v as Record<string, unknown>)),
    })),
  };
}

void describe('dump / restore', () => {
  let dir: string;
  let n = 0;
  const providers: DataProvider[] = [];

  async function provider(): Promise<DataProvider> {
    const p = await createProvider(
      { driver: 'sqlite', name: join(dir, `db-${++n}.sqlite`), users_base_dir: '' },
      { configDir: dir, kms: encrypter(dir) },
    );
    providers.push(p);
    return p;
  }

  async function seed(p: DataProvider): Promise<void> {
    await p.addFolder({
      name: 'shared',
      mapped_path: join(dir, 'shared'),
      description: 'a shared folder',
      filesystem: {
        provider: 1,
        s3config: {
          bucket: 'bkt',
          region: 'eu-west-1',
          access_key: 'AK',
          access_secret: { status: 'Plain', payload: 'top-secret' },
        },
      },
    });
    await p.addFolder({ name: 'plain', mapped_path: join(dir, 'plain') });
    await p.addUser({
      username: 'alice',
      password: 'alice-password',
      status: 1,
      home_dir: join(dir, 'alice'),
      description: 'Alice',
      public_keys: [
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVILdH2u3yV5SAeE6XksD1z1vXRg0E4hJUov8ITDAZ2 alice@host',
      ],
      permissions: perms({ '/': ['*'], '/sub': ['list', 'download'] }),
      quota_size: 1000,
      quota_files: 10,
      max_sessions: 2,
      upload_bandwidth: 100,
      download_bandwidth: 200,
      expiration_date: 1_900_000_000_000,
      additional_info: 'info',
      filters: {
        allowed_ip: ['192.168.1.0/24'],
        denied_login_methods: ['password'],
        denied_protocols: ['FTP'],
        file_patterns: [{ path: '/sub', allowed_patterns: ['*.txt'], denied_patterns: [] }],
        max_upload_file_size: 5000,
      },
      filesystem: {
        provider: 4,
        cryptconfig: { passphrase: { status: 'Plain', payload: 'crypt-pass' } },
      },
      virtual_folders: [
        { name: 'shared', virtual_path: '/shared', quota_size: -1, quota_files: -1 },
        { name: 'plain', virtual_path: '/vplain', quota_size: 100, quota_files: 2 },
      ],
    });
    await p.addUser({
      username: 'bob',
      password: 'bob-password',
      status: 0,
      home_dir: join(dir, 'bob'),
      permissions: perms({ '/': ['list'] }),
    });
    await p.addAdmin({
      username: 'root',
      password: 'root-password',
      status: 1,
      email: 'root@example.com',
      permissions: ['add_users', 'view_users'],
      filters: { allow_list: ['10.0.0.0/8'] },
      description: 'the admin',
      additional_info: 'x',
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dump-test-'));
  });
  after(async () => {
    for (const p of providers) await p.close();
    await rm(dir, { recursive: true, force: true });
  });

  void it('dump -> JSON -> restore into an empty store keeps every field, secrets encrypted as they were', async () => {
    const a = await provider();
    await seed(a);
    await a.updateUserQuota('alice', 123, 4, true);
    const dump = await createBackup(a);
    assert.equal(dump.version, 8);
    const alice = dump.users.find((u) => u.username === 'alice');
    assert.ok(alice?.password?.startsWith('$2a$'), 'the dump holds the password hash');
    assert.equal(alice?.filesystem?.cryptconfig?.passphrase?.status, 'Secretbox');
    assert.ok(alice?.filesystem?.cryptconfig?.passphrase?.key, 'the dump holds the whole envelope');
    const shared = dump.folders.find((f) => f.name === 'shared');
    assert.equal(shared?.filesystem?.s3config?.access_secret?.status, 'Secretbox');
    assert.ok(dump.admins[0]?.password?.startsWith('$2a$'));

    const b = await provider();
    const r = await restoreBackup(b, parseBackupJson(JSON.stringify(dump)));
    assert.deepEqual(r.users, { added: 2, updated: 0, skipped: 0 });
    assert.deepEqual(r.folders, { added: 2, updated: 0, skipped: 0 });
    assert.deepEqual(r.admins, { added: 1, updated: 0, skipped: 0 });
    const again = await createBackup(b);
    assert.deepEqual(comparable(again), comparable(dump));
    // the restored hashes still verify the original passwords
    await b.checkUserPassword('alice', 'alice-password');
    await b.checkAdminPassword('root', 'root-password');
  });

  void it('restoring over an existing user replaces its encrypted secret with the one of the dump', async () => {
    const p = await provider();
    await seed(p);
    const dump = await createBackup(p);
    const before = dump.users.find((u) => u.username === 'alice')?.filesystem?.cryptconfig
      ?.passphrase;
    assert.ok(before?.payload);
    // the passphrase is rotated through the API after the dump was taken
    const alice = await p.getUser('alice');
    await p.updateUser('alice', {
      ...alice,
      filesystem: {
        provider: 4,
        cryptconfig: { passphrase: { status: 'Plain', payload: 'rotated' } },
      },
    });
    const rotated = (await p.getUser('alice')).filesystem?.cryptconfig?.passphrase;
    assert.notEqual(rotated?.payload, before.payload);
    await restoreBackup(p, parseBackupJson(JSON.stringify(dump)), { mode: 0 });
    const restored = (await p.getUser('alice')).filesystem?.cryptconfig?.passphrase;
    assert.equal(restored?.payload, before.payload);
    assert.equal(restored?.key, before.key);
  });

  void it('modes: 1 leaves existing objects alone, 0 updates them, 2 also reports updated users', async () => {
    const p = await provider();
    await seed(p);
    const dump = await createBackup(p);
    const changed = parseBackup(JSON.parse(JSON.stringify(dump)));
    for (const u of changed.users) {
      u.description = 'changed';
      // users carry their folders' definitions too (a user update rewrites them, as upstream)
      for (const v of u.virtual_folders ?? []) v.description = 'changed';
    }
    for (const f of changed.folders) f.description = 'changed';
    for (const a of changed.admins) a.description = 'changed';
    changed.users.push({
      username: 'carol',
      password: 'carol-pw',
      status: 1,
      home_dir: join(dir, 'carol'),
      permissions: perms({ '/': ['*'] }),
    });

    const updated: string[] = [];
    const restored: string[] = [];
    let r = await restoreBackup(p, changed, {
      mode: 1,
      onUserUpdated: (u) => updated.push(u),
      onUserRestored: (u) => restored.push(u.username ?? ''),
    });
    assert.deepEqual(r.users, { added: 1, updated: 0, skipped: 2 });
    assert.equal((await p.getUser('alice')).description, 'Alice');
    assert.equal(updated.length, 0);
    assert.deepEqual(restored, ['carol']);

    r = await restoreBackup(p, changed, { mode: 0, onUserUpdated: (u) => updated.push(u) });
    assert.deepEqual(r.users, { added: 0, updated: 3, skipped: 0 });
    assert.equal((await p.getUser('alice')).description, 'changed');
    assert.equal((await p.getFolder('shared')).description, 'changed');
    assert.equal((await p.getAdmin('root')).description, 'changed');
    assert.equal(updated.length, 0);

    const folders: string[] = [];
    r = await restoreBackup(p, changed, {
      mode: 2,
      onUserUpdated: (u) => updated.push(u),
      onFolderRestored: (f) => folders.push(f.name ?? ''),
    });
    assert.deepEqual(r.users, { added: 0, updated: 3, skipped: 0 });
    assert.deepEqual(updated.sort(), ['alice', 'bob', 'carol']);
    assert.deepEqual(folders.sort(), ['plain', 'shared']);
    // the user's password still works after updates with the hash from the dump
    await p.checkUserPassword('alice', 'alice-password');
    await assert.rejects(restoreBackup(p, changed, { mode: 3 }), (e: unknown) =>
      SftpgoError.is(e, 'INVALID_INPUT'),
    );
  });

  void it('stops at the first invalid object, names it, keeps the code and what was restored before', async () => {
    const p = await provider();
    const backup = parseBackup({
      version: 7,
      folders: [{ name: 'f1', mapped_path: join(dir, 'f1') }],
      users: [
        {
          username: 'ok',
          password: 'pw',
          status: 1,
          home_dir: join(dir, 'ok'),
          permissions: perms({ '/': ['*'] }),
        },
        {
          username: 'bad',
          password: 'pw',
          status: 1,
          home_dir: 'relative/home',
          permissions: perms({ '/': ['*'] }),
        },
        {
          username: 'never',
          password: 'pw',
          status: 1,
          home_dir: join(dir, 'never'),
          permissions: perms({ '/': ['*'] }),
        },
      ],
    });
    await assert.rejects(
      restoreBackup(p, backup),
      (e: unknown) =>
        SftpgoError.is(e, 'INVALID_INPUT') && e.message.startsWith('unable to restore user "bad"'),
    );
    await p.getFolder('f1');
    await p.getUser('ok');
    await assert.rejects(p.getUser('never'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
  });

  void it('parse errors are INVALID_INPUT with a clear message', () => {
    const bad = (input: unknown, re: RegExp): void => {
      assert.throws(
        () => (typeof input === 'string' ? parseBackupJson(input) : parseBackup(input)),
        (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT') && re.test(e.message),
      );
    };
    bad('', /empty/);
    bad('{"users": [', /Unable to parse backup content/);
    // the content of a file that is not JSON never comes back in the message
    assert.throws(
      () => parseBackupJson('PATH=/usr/bin\nSECRET=hunter2'),
      (e: unknown) =>
        SftpgoError.is(e, 'INVALID_INPUT') &&
        !e.message.includes('PATH=') &&
        e.message.includes("Unexpected token 'P'"),
    );
    bad([], /expected a JSON object/);
    bad({ version: 9 }, /unsupported backup version 9/);
    bad({ version: '8' }, /"version" must be an integer/);
    bad({ users: {} }, /"users" must be a list of objects/);
    bad({ users: [1] }, /users\[0\] must be an object/);
    bad({ folders: [{ mapped_path: '/x' }] }, /folders\[0\] has no "name"/);
    bad({ admins: [{ username: '' }] }, /admins\[0\] has no "username"/);
    bad({ users: [{ username: 'a' }, { username: 'a' }] }, /user "a" is listed twice/);
    const ok = parseBackup({ users: null, api_keys: [{}], shares: [] });
    assert.deepEqual(ok, { users: [], folders: [], admins: [], version: 8 });
  });
});
