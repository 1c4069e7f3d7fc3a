/**
 * The provider test suite, shared by every driver (sqlite.test.ts, postgres.test.ts): the same
 * cases against a real database. Each case gets a fresh, empty database from the driver's
 * `freshConfig()`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../../src/config/index.js';
import {
  ADMIN_CACHE_TTL_MS,
  createProvider,
  ensureDefaultAdmin,
  initializeProvider,
  LAST_LOGIN_MIN_DELAY_MS,
  redactUser,
  type DataProvider,
  type DataProviderConfigInput,
  type User,
} from '../../../src/dataprovider/index.js';
import { SftpgoError } from '../../../src/errors/index.js';
import { createKms, type Kms } from '../../../src/kms/index.js';
import { DataSource } from 'typeorm';
import { resolveDataProviderConfig } from '../../../src/dataprovider/config.js';
import { buildDataSourceOptions, dialectOf } from '../../../src/dataprovider/data-source.js';
import { createEntities } from '../../../src/dataprovider/entities.js';
import { createMigrations } from '../../../src/dataprovider/migrations.js';

export interface DriverEnv {
  /** connection settings of a new, empty database */
  freshConfig(): Promise<DataProviderConfigInput>;
}

const ED25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPQGzt7C6/nsZe9TnzlGj3XMc5RTUw/hiAh6KNt0nrDr test@host';
const FAST_HASHING = { bcrypt_options: { cost: 4 } };

function isCode(code: string) {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e), `expected an SftpgoError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

function newUser(username: string, extra: Partial<User> = {}): User {
  return {
    username,
    password: 'secret',
    home_dir: `/srv/sftpgo/${username}`,
    status: 1,
    permissions: { '/': ['*'] } as unknown as User['permissions'],
    ...extra,
  };
}

/**
 * The statements TypeORM would run to make the schema match our entities (none when the
 * migrations and the entities agree); with `migrate`, pending migrations run first.
 */
export async function schemaDrift(
  cfgInput: DataProviderConfigInput,
  configDir: string,
  o: { migrate?: boolean } = {},
): Promise<string[]> {
  const cfg = resolveDataProviderConfig(cfgInput);
  const dialect = dialectOf(cfg.driver);
  const prefix = cfg.sql_tables_prefix;
  const ds = new DataSource(
    buildDataSourceOptions(
      cfg,
      configDir,
      createEntities(prefix, dialect),
      createMigrations(dialect, prefix),
    ),
  );
  await ds.initialize();
  try {
    if (o.migrate === true) await ds.runMigrations();
    const log = await ds.driver.createSchemaBuilder().log();
    return log.upQueries.map((q) => q.query);
  } finally {
    await ds.destroy();
  }
}

export function defineProviderSuite(driver: string, env: DriverEnv): void {
  void describe(`data provider (${driver})`, () => {
    let configDir = '';
    let kms: Kms;
    before(() => {
      configDir = mkdtempSync(join(tmpdir(), `sftpgo-dp-${driver}-`));
      kms = createKms(defaultConfig().kms, configDir);
    });
    after(() => rmSync(configDir, { recursive: true, force: true }));

    async function open(
      extra: DataProviderConfigInput = {},
      o: { now?: () => number } = {},
    ): Promise<{ p: DataProvider; cfg: DataProviderConfigInput }> {
      const base = await env.freshConfig();
      const cfg: DataProviderConfigInput = { ...base, password_hashing: FAST_HASHING, ...extra };
      const p = await createProvider(cfg, { configDir, kms, ...(o.now ? { now: o.now } : {}) });
      return { p, cfg };
    }

    async function withProvider(
      fn: (p: DataProvider) => Promise<void>,
      extra: DataProviderConfigInput = {},
      o: { now?: () => number } = {},
    ): Promise<void> {
      const { p } = await open(extra, o);
      try {
        await fn(p);
      } finally {
        await p.close();
      }
    }

    void test('initializeProvider creates the schema, then reports it up to date', async () => {
      const cfg = { ...(await env.freshConfig()), update_mode: 1 };
      await assert.rejects(createProvider(cfg, { configDir }), (e: unknown) => {
        assert.ok(SftpgoError.is(e, 'BACKEND_UNAVAILABLE'));
        assert.match(e.message, /initprovider/);
        return true;
      });
      assert.equal(await initializeProvider(cfg, { configDir }), 'created');
      assert.equal(await initializeProvider(cfg, { configDir }), 'up to date');
      const p = await createProvider(cfg, { configDir });
      assert.equal(p.driver, driver);
      await p.checkAvailability();
      await p.close();
    });

    // TypeORM's 'mysql' driver reads MariaDB's nullable columns as having a 'NULL' default and
    // reports a (cosmetic) diff there, so the drift check runs on sqlite and postgresql
    if (driver !== 'mysql') {
      void test('entity metadata matches the migrated schema (no drift)', async () => {
        const cfg = { ...(await env.freshConfig()), sql_tables_prefix: 'drift_' };
        assert.deepEqual(await schemaDrift(cfg, configDir, { migrate: true }), []);
      });
    }

    void test('add, get, list users; defaults and password hashing', async () => {
      await withProvider(async (p) => {
        const added = await p.addUser(
          newUser('bob', { quota_size: 1000, description: 'Bob', public_keys: [ED25519] }),
        );
        assert.equal(typeof added.id, 'number');
        assert.match(added.password ?? '', /^\$2a\$04\$/);
        assert.equal(added.used_quota_size, 0);
        assert.equal(added.last_login, 0);
        assert.equal(added.quota_size, 1000);
        assert.deepEqual(added.public_keys, [ED25519]);
        assert.deepEqual(added.virtual_folders, []);
        assert.deepEqual(added.filesystem, { provider: 0 });
        const got = await p.getUser('bob');
        assert.deepEqual(got, added);
        await p.addUser(newUser('alice'));
        await p.addUser(newUser('carol'));
        const list = await p.getUsers();
        assert.deepEqual(
          list.map((u) => u.username),
          ['alice', 'bob', 'carol'],
        );
        assert.ok(
          list.every((u) => u.password === undefined),
          'list output is redacted',
        );
        assert.deepEqual(
          (await p.getUsers({ order: 'DESC', limit: 2 })).map((u) => u.username),
          ['carol', 'bob'],
        );
        assert.deepEqual(
          (await p.getUsers({ offset: 1, limit: 1 })).map((u) => u.username),
          ['bob'],
        );
        assert.deepEqual(await p.getUsers({ limit: 0 }), []);
        await assert.rejects(p.getUsers({ order: 'SIDEWAYS' as 'ASC' }), isCode('INVALID_INPUT'));
      });
    });

    void test('get and list read 64-bit counters as numbers and the same virtual folders', async () => {
      await withProvider(async (p) => {
        const big = 2 ** 40 + 3;
        await p.addFolder({ name: 'shared', mapped_path: '/srv/shared' });
        await p.addUser(
          newUser('dave', {
            quota_size: big,
            expiration_date: 4102444800000,
            virtual_folders: [
              { name: 'shared', virtual_path: '/s', quota_size: big + 1, quota_files: 7 },
              { name: 'own', mapped_path: '/srv/own', virtual_path: '/o' },
            ],
          } as Partial<User>),
        );
        await p.addUser(
          newUser('erin', {
            virtual_folders: [{ name: 'shared', virtual_path: '/x' }],
          } as Partial<User>),
        );
        await p.updateUserQuota('dave', 2 ** 35, 2, false);
        await p.updateFolderQuota('shared', 2 ** 36, 1, false);
        const dave = await p.getUser('dave');
        assert.equal(dave.quota_size, big);
        assert.equal(dave.used_quota_size, 2 ** 35);
        assert.equal(dave.expiration_date, 4102444800000);
        assert.deepEqual(
          dave.virtual_folders?.map((v) => [
            v.name,
            v.virtual_path,
            v.quota_size,
            v.quota_files,
            v.used_quota_size,
          ]),
          [
            ['shared', '/s', big + 1, 7, 2 ** 36],
            ['own', '/o', 0, 0, 0],
          ],
        );
        const listed = await p.getUsers();
        assert.deepEqual(listed, [redactUser(dave), redactUser(await p.getUser('erin'))]);
        assert.deepEqual(await p.getUsers({ order: 'DESC', limit: 1, offset: 1 }), [
          redactUser(dave),
        ]);
      });
    });

    void test('duplicates, unknown names and invalid input', async () => {
      await withProvider(async (p) => {
        await p.addUser(newUser('dup'));
        await assert.rejects(p.addUser(newUser('dup')), isCode('ALREADY_EXISTS'));
        await assert.rejects(p.getUser('ghost'), isCode('NOT_FOUND'));
        await assert.rejects(p.deleteUser('ghost'), isCode('NOT_FOUND'));
        await assert.rejects(p.updateUser('ghost', newUser('ghost')), isCode('NOT_FOUND'));
        await assert.rejects(
          p.addUser({ ...newUser('x'), quota_size: 'x' as unknown as number }),
          (e: unknown) => {
            assert.ok(SftpgoError.is(e, 'INVALID_INPUT'));
            assert.match(e.message, /quota_size/);
            return true;
          },
        );
        await assert.rejects(p.addUser(newUser('bad name')), isCode('INVALID_INPUT'));
        await assert.rejects(p.getFolder('nofolder'), isCode('NOT_FOUND'));
        await assert.rejects(p.getAdmin('noadmin'), isCode('NOT_FOUND'));
        assert.deepEqual(
          (await p.getUsers()).map((u) => u.username),
          ['dup'],
        );
      });
    });

    void test('concurrent writes all land', async () => {
      await withProvider(async (p) => {
        await Promise.all(Array.from({ length: 12 }, (_, i) => p.addUser(newUser(`par${i}`))));
        assert.equal((await p.getUsers({ limit: 500 })).length, 12);
      });
    });

    void test('update semantics: password, permissions, filesystem, secrets, identity', async () => {
      await withProvider(async (p) => {
        const s3 = {
          bucket: 'bkt',
          region: 'eu-west-1',
          access_key: 'AK',
          access_secret: { status: 'Plain' as const, payload: 'SK' },
        };
        const added = await p.addUser(
          newUser('upd', {
            filesystem: { provider: 1, s3config: s3 },
            permissions: { '/': ['list'], '/in': ['upload'] } as never,
          }),
        );
        const storedSecret = added.filesystem?.s3config?.access_secret;
        assert.equal(storedSecret?.status, 'Secretbox');
        assert.equal(storedSecret?.additional_data, 'upd');
        assert.notEqual(storedSecret?.payload, 'SK');
        assert.equal(await kms.decrypt(storedSecret ?? {}), 'SK');

        // GET as the API shows it, then PUT it back unchanged: nothing is lost
        const shown = redactUser(added);
        assert.equal(shown.password, undefined);
        assert.deepEqual(shown.filesystem?.s3config?.access_secret, {
          status: 'Secretbox',
          payload: storedSecret?.payload,
        });
        const same = await p.updateUser('upd', {
          ...shown,
          username: 'renamed',
          id: 999,
          used_quota_size: 5,
        });
        assert.equal(same.username, 'upd');
        assert.equal(same.id, added.id);
        assert.equal(same.used_quota_size, 0);
        assert.equal(same.password, added.password, 'omitted password keeps the hash');
        assert.deepEqual(
          same.filesystem,
          added.filesystem,
          'encrypted secret sent back keeps the stored one',
        );

        // Redacted keeps too; omitted permissions keep; description changes
        const red = await p.updateUser('upd', {
          description: 'changed',
          filesystem: { provider: 1, s3config: { ...s3, access_secret: { status: 'Redacted' } } },
        });
        assert.deepEqual(red.filesystem, added.filesystem);
        assert.deepEqual(red.permissions, { '/': ['list'], '/in': ['upload'] });
        assert.equal(red.description, 'changed');
        assert.equal(red.home_dir, added.home_dir, 'omitted fields keep their value');

        // Plain replaces, new password is hashed
        const plain = await p.updateUser('upd', {
          password: 'newpass',
          filesystem: {
            provider: 1,
            s3config: { ...s3, access_secret: { status: 'Plain', payload: 'SK2' } },
          },
        });
        assert.notEqual(plain.password, added.password);
        assert.equal(await kms.decrypt(plain.filesystem?.s3config?.access_secret ?? {}), 'SK2');
        await p.checkUserPassword('upd', 'newpass');
        await assert.rejects(p.checkUserPassword('upd', 'secret'), isCode('AUTH_FAILED'));

        // filesystem replaced: back to local drops the S3 config and its secret
        const local = await p.updateUser('upd', {
          filesystem: { provider: 0 },
          permissions: { '/': ['*'] } as never,
        });
        assert.deepEqual(local.filesystem, { provider: 0 });
        assert.deepEqual(local.permissions, { '/': ['*'] });

        // invalid update leaves the stored user untouched
        await assert.rejects(p.updateUser('upd', { status: 5 as 1 }), isCode('INVALID_INPUT'));
        await assert.rejects(
          p.updateUser('upd', { permissions: [] as never }),
          isCode('INVALID_INPUT'),
        );
        assert.deepEqual(await p.getUser('upd'), local);
      });
    });

    void test('restore mode: the dump object replaces the stored one, encrypted secrets as given', async () => {
      await withProvider(async (p) => {
        const s3 = {
          bucket: 'b',
          region: 'r',
          access_key: 'AK',
          access_secret: { status: 'Plain' as const, payload: 'OLD' },
        };
        await p.addUser(
          newUser('rst', { description: 'before', filesystem: { provider: 1, s3config: s3 } }),
        );
        const rotated = await kms.encrypt({
          status: 'Plain',
          payload: 'NEW',
          additional_data: 'rst',
        });
        const fromDump: User = {
          ...newUser('rst'),
          password: '$2a$04$Y0ZZZjA0R1Y0ZZZjA0R1Y.ZaNZeSU6H5mHcRrnJ2yvOa7rBbfMSPy',
          filesystem: { provider: 1, s3config: { ...s3, access_secret: rotated as never } },
        };
        const r = await p.updateUser('rst', fromDump, { mode: 'restore' });
        assert.equal(r.description, undefined, 'omitted fields are cleared, not kept');
        assert.equal(r.password, fromDump.password);
        assert.equal(await kms.decrypt(r.filesystem?.s3config?.access_secret ?? {}), 'NEW');
        // the same object through the API semantics keeps the stored secret instead
        const again = await kms.encrypt({
          status: 'Plain',
          payload: 'OTHER',
          additional_data: 'rst',
        });
        const api = await p.updateUser('rst', {
          filesystem: { provider: 1, s3config: { ...s3, access_secret: again as never } },
        });
        assert.equal(await kms.decrypt(api.filesystem?.s3config?.access_secret ?? {}), 'NEW');
        await assert.rejects(
          p.updateUser('rst', { username: 'rst', status: 1 }, { mode: 'restore' }),
          isCode('INVALID_INPUT'),
        );
      });
    });

    void test('virtual folders: created on the fly, referenced by name, users listed, deletions', async () => {
      await withProvider(async (p) => {
        const u1 = await p.addUser(
          newUser('vf1', {
            virtual_folders: [
              {
                name: 'shared',
                mapped_path: '/data/shared',
                virtual_path: '/shared',
                quota_size: -1,
                quota_files: -1,
              },
              {
                name: 'private1',
                mapped_path: '/data/p1',
                virtual_path: '/p',
                quota_size: 100,
                quota_files: 10,
              },
            ],
          }),
        );
        assert.deepEqual(
          u1.virtual_folders?.map((v) => [
            v.name,
            v.virtual_path,
            v.mapped_path,
            v.quota_size,
            v.quota_files,
          ]),
          [
            ['shared', '/shared', '/data/shared', -1, -1],
            ['private1', '/p', '/data/p1', 100, 10],
          ],
        );
        // a folder given by name only refers to the stored one
        const u2 = await p.addUser(
          newUser('vf2', { virtual_folders: [{ name: 'shared', virtual_path: '/s2' }] }),
        );
        assert.equal(u2.virtual_folders?.[0]?.mapped_path, '/data/shared');
        assert.equal(u2.virtual_folders?.[0]?.id, u1.virtual_folders?.[0]?.id);
        assert.deepEqual((await p.getFolder('shared')).users, ['vf1', 'vf2']);
        const folders = await p.getFolders();
        assert.deepEqual(
          folders.map((f) => [f.name, f.users ?? []]),
          [
            ['private1', ['vf1']],
            ['shared', ['vf1', 'vf2']],
          ],
        );
        // unknown folder by name only: validation error, nothing written
        await assert.rejects(
          p.addUser(newUser('vf3', { virtual_folders: [{ name: 'nope', virtual_path: '/n' }] })),
          isCode('INVALID_INPUT'),
        );
        await assert.rejects(p.getUser('vf3'), isCode('NOT_FOUND'));
        // folder quota is reported in the user's virtual folders
        await p.updateFolderQuota('shared', 500, 5, false);
        assert.equal((await p.getUser('vf2')).virtual_folders?.[0]?.used_quota_size, 500);
        // update replaces the mappings
        const upd = await p.updateUser('vf1', {
          virtual_folders: [{ name: 'private1', virtual_path: '/moved' }],
        });
        assert.deepEqual(
          upd.virtual_folders?.map((v) => v.virtual_path),
          ['/moved'],
        );
        assert.deepEqual((await p.getFolder('shared')).users, ['vf2']);
        // deleting a user removes its mappings, not the folder
        await p.deleteUser('vf2');
        const shared = await p.getFolder('shared');
        assert.equal(shared.users, undefined);
        assert.equal(shared.used_quota_size, 500);
        // deleting a folder removes the mappings of its users
        await p.deleteFolder('private1');
        assert.deepEqual((await p.getUser('vf1')).virtual_folders, []);
        await assert.rejects(p.deleteFolder('private1'), isCode('NOT_FOUND'));
      });
    });

    void test('folders: CRUD, secrets encrypted and preserved, redacted lists', async () => {
      await withProvider(async (p) => {
        const f = await p.addFolder({
          name: 'cryptf',
          mapped_path: '/data/crypt/',
          description: 'enc',
          filesystem: {
            provider: 4,
            cryptconfig: { passphrase: { status: 'Plain', payload: 'pass' } },
          },
        });
        assert.equal(f.mapped_path, '/data/crypt');
        assert.equal(f.used_quota_size, 0);
        const pp = f.filesystem?.cryptconfig?.passphrase;
        assert.equal(pp?.status, 'Secretbox');
        assert.equal(await kms.decrypt(pp ?? {}), 'pass');
        // bound to "folder_<name>", as upstream, so the envelope moves between the two
        assert.equal(pp?.additional_data, 'folder_cryptf');
        await assert.rejects(
          p.addFolder({ name: 'cryptf', mapped_path: '/x' }),
          isCode('ALREADY_EXISTS'),
        );
        const listed = await p.getFolders();
        assert.equal(
          listed[0]?.filesystem?.cryptconfig?.passphrase?.key,
          undefined,
          'lists are redacted',
        );
        const upd = await p.updateFolder('cryptf', {
          name: 'other',
          mapped_path: '/data/crypt2',
          filesystem: { provider: 4, cryptconfig: { passphrase: { status: 'Redacted' } } },
        });
        assert.equal(upd.name, 'cryptf');
        assert.equal(upd.mapped_path, '/data/crypt2');
        assert.equal(upd.description, 'enc', 'omitted description kept');
        assert.deepEqual(upd.filesystem, f.filesystem);
        await assert.rejects(
          p.updateFolder('cryptf', { filesystem: { provider: 4, cryptconfig: {} } }),
          isCode('INVALID_INPUT'),
        );
        await p.deleteFolder('cryptf');
        assert.deepEqual(await p.getFolders(), []);
      });
    });

    void test('quota: atomic deltas, reset, track_quota modes', async () => {
      await withProvider(async (p) => {
        await p.addUser(newUser('q', { quota_size: 10_000 }));
        await p.addUser(newUser('unlimited'));
        await p.addFolder({ name: 'qf', mapped_path: '/data/qf' });
        await Promise.all(Array.from({ length: 25 }, () => p.updateUserQuota('q', 100, 1, false)));
        assert.deepEqual(await p.getUserUsedQuota('q'), {
          usedQuotaSize: 2500,
          usedQuotaFiles: 25,
        });
        await p.updateUserQuota('q', -500, -5, false);
        assert.deepEqual(await p.getUserUsedQuota('q'), {
          usedQuotaSize: 2000,
          usedQuotaFiles: 20,
        });
        const u = await p.getUser('q');
        assert.ok((u.last_quota_update ?? 0) > 0);
        assert.equal(typeof u.used_quota_size, 'number');
        // track_quota 2 (default): users without quota restrictions are only reset
        await p.updateUserQuota('unlimited', 100, 1, false);
        assert.deepEqual(await p.getUserUsedQuota('unlimited'), {
          usedQuotaSize: 0,
          usedQuotaFiles: 0,
        });
        await p.updateUserQuota('unlimited', 7, 3, true);
        assert.deepEqual(await p.getUserUsedQuota('unlimited'), {
          usedQuotaSize: 7,
          usedQuotaFiles: 3,
        });
        await p.updateUserQuota('q', 0, 0, true);
        assert.deepEqual(await p.getUserUsedQuota('q'), { usedQuotaSize: 0, usedQuotaFiles: 0 });
        await Promise.all(
          Array.from({ length: 10 }, () => p.updateFolderQuota('qf', 2 ** 33, 1, false)),
        );
        assert.deepEqual(await p.getFolderUsedQuota('qf'), {
          usedQuotaSize: 10 * 2 ** 33,
          usedQuotaFiles: 10,
        });
        await p.updateFolderQuota('qf', 1, 1, true);
        assert.deepEqual(await p.getFolderUsedQuota('qf'), { usedQuotaSize: 1, usedQuotaFiles: 1 });
        await assert.rejects(p.updateUserQuota('ghost', 1, 1, false), isCode('NOT_FOUND'));
        await assert.rejects(p.updateFolderQuota('ghost', 1, 1, true), isCode('NOT_FOUND'));
        await assert.rejects(p.getFolderUsedQuota('ghost'), isCode('NOT_FOUND'));
        await assert.rejects(p.updateUserQuota('q', 1.5, 1, false), isCode('INVALID_INPUT'));
      });
      await withProvider(
        async (p) => {
          await p.addUser(newUser('unlimited'));
          await p.updateUserQuota('unlimited', 100, 1, false);
          assert.deepEqual(await p.getUserUsedQuota('unlimited'), {
            usedQuotaSize: 100,
            usedQuotaFiles: 1,
          });
        },
        { track_quota: 1 },
      );
      await withProvider(
        async (p) => {
          await p.addUser(newUser('u'));
          await assert.rejects(p.updateUserQuota('u', 1, 1, false), isCode('METHOD_DISABLED'));
          await assert.rejects(p.getUserUsedQuota('u'), isCode('METHOD_DISABLED'));
        },
        { track_quota: 0 },
      );
    });

    void test('last login is saved at most every 10 minutes', async () => {
      let now = Date.UTC(2026, 0, 1);
      await withProvider(
        async (p) => {
          await p.addUser(newUser('ll'));
          await p.updateLastLogin('ll');
          assert.equal((await p.getUser('ll')).last_login, now);
          const first = now;
          now += LAST_LOGIN_MIN_DELAY_MS - 1000;
          await p.updateLastLogin('ll');
          assert.equal((await p.getUser('ll')).last_login, first);
          now += 2000;
          await p.updateLastLogin('ll');
          assert.equal((await p.getUser('ll')).last_login, now);
          await p.updateLastLogin('nobody');
        },
        {},
        { now: () => now },
      );
    });

    void test('user authentication: hashes, pre-hashed values, disabled and expired users', async () => {
      let now = Date.UTC(2026, 0, 1);
      await withProvider(
        async (p) => {
          await p.addUser(newUser('auth'));
          assert.equal((await p.checkUserPassword('auth', 'secret')).username, 'auth');
          // second login is answered by the password cache
          assert.equal((await p.checkUserPassword('auth', 'secret')).username, 'auth');
          await assert.rejects(p.checkUserPassword('auth', 'wrong'), isCode('AUTH_FAILED'));
          await assert.rejects(p.checkUserPassword('auth', ''), isCode('AUTH_FAILED'));
          await assert.rejects(p.checkUserPassword('nobody', 'x'), (e: unknown) => {
            assert.ok(SftpgoError.is(e, 'AUTH_FAILED'));
            assert.ok(SftpgoError.is(e.cause, 'NOT_FOUND'));
            return true;
          });
          // sha512crypt stored verbatim (hash of "password" with salt "saltsalt")
          const sha512 =
            '$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/';
          const pre = await p.addUser(newUser('pre', { password: sha512 }));
          assert.equal(pre.password, sha512);
          await p.checkUserPassword('pre', 'password');
          await assert.rejects(p.checkUserPassword('pre', 'Password'), isCode('AUTH_FAILED'));
          // password change through setUserPassword clears the cache
          await p.setUserPassword('auth', 'changed');
          await assert.rejects(p.checkUserPassword('auth', 'secret'), isCode('AUTH_FAILED'));
          await p.checkUserPassword('auth', 'changed');
          await p.updateUser('auth', { status: 0 });
          await assert.rejects(p.checkUserPassword('auth', 'changed'), isCode('AUTH_FAILED'));
          await p.addUser(newUser('exp', { expiration_date: now + 1000 }));
          await p.checkUserPassword('exp', 'secret');
          now += 2000;
          await assert.rejects(p.checkUserPassword('exp', 'secret'), isCode('AUTH_FAILED'));
        },
        {},
        { now: () => now },
      );
    });

    void test('argon2id hashing when configured', async () => {
      await withProvider(
        async (p) => {
          const u = await p.addUser(newUser('argon'));
          assert.match(u.password ?? '', /^\$argon2id\$v=19\$m=65536,t=1,p=2\$/);
          await p.checkUserPassword('argon', 'secret');
        },
        { password_hashing: { algo: 'argon2id' } },
      );
    });

    void test('public keys and passwords set directly', async () => {
      await withProvider(async (p) => {
        await p.addUser(newUser('keys'));
        await p.setUserPublicKeys('keys', [ED25519, ED25519]);
        assert.deepEqual((await p.getUser('keys')).public_keys, [ED25519]);
        await assert.rejects(p.setUserPublicKeys('keys', ['garbage']), (e: unknown) => {
          assert.ok(SftpgoError.is(e, 'INVALID_INPUT'));
          assert.match(e.message, /could not parse key nr\. 1/);
          return true;
        });
        await p.setUserPassword('keys', '');
        assert.equal((await p.getUser('keys')).password, undefined);
        await assert.rejects(p.setUserPublicKeys('keys', []), isCode('INVALID_INPUT'));
        await assert.rejects(p.setUserPassword('ghost', 'x'), isCode('NOT_FOUND'));
      });
    });

    void test('onUserChanged: user, credential and folder writes are announced', async () => {
      await withProvider(async (p) => {
        const seen: (string | undefined)[] = [];
        assert.ok(p.onUserChanged, 'the provider announces user changes');
        const off = p.onUserChanged((u) => seen.push(u));
        await p.addUser(newUser('watched'));
        assert.deepEqual(seen, [], 'a new user is in no cache');
        await p.updateUser('watched', { status: 0 });
        await p.setUserPassword('watched', 'other');
        await p.setUserPublicKeys('watched', [ED25519]);
        await p.updateLastLogin('watched');
        await p.updateUserQuota('watched', 10, 1, false);
        assert.deepEqual(
          seen,
          ['watched', 'watched', 'watched'],
          'last login and quota are not changes',
        );
        seen.length = 0;
        await p.addFolder({ name: 'watchedf', mapped_path: '/data/watchedf' });
        await p.updateFolder('watchedf', { mapped_path: '/data/elsewhere' });
        await p.deleteFolder('watchedf');
        assert.deepEqual(seen, [undefined, undefined], "a folder may be any user's");
        seen.length = 0;
        await p.deleteUser('watched');
        assert.deepEqual(seen, ['watched']);
        off();
        await p.addUser(newUser('unwatched'));
        await p.deleteUser('unwatched');
        assert.deepEqual(seen, ['watched'], 'nothing after unsubscribing');
      });
    });

    void test('admins: CRUD, update semantics, authentication, allow list', async () => {
      await withProvider(async (p) => {
        assert.equal(await p.countAdmins(), 0);
        const a = await p.addAdmin({
          username: 'root',
          password: 'adminpw',
          status: 1,
          permissions: ['view_users', 'add_users'],
          email: 'root@example.com',
          filters: { allow_list: ['10.0.0.0/8', '::1/128'] },
        });
        assert.match(a.password ?? '', /^\$2a\$/);
        assert.equal(await p.countAdmins(), 1);
        await assert.rejects(
          p.addAdmin({ username: 'root', password: 'x', permissions: ['*'] }),
          isCode('ALREADY_EXISTS'),
        );
        assert.equal((await p.checkAdminPassword('root', 'adminpw')).username, 'root');
        await p.checkAdminPassword('root', 'adminpw', '10.1.2.3');
        await p.checkAdminPassword('root', 'adminpw', '::1');
        await assert.rejects(
          p.checkAdminPassword('root', 'adminpw', '192.168.1.1'),
          isCode('AUTH_FAILED'),
        );
        await assert.rejects(p.checkAdminPassword('root', 'bad'), isCode('AUTH_FAILED'));
        await assert.rejects(p.checkAdminPassword('ghost', 'bad'), isCode('AUTH_FAILED'));
        const upd = await p.updateAdmin('root', {
          username: 'hijack',
          description: 'the admin',
          filters: {},
        });
        assert.equal(upd.username, 'root');
        assert.equal(upd.password, a.password, 'omitted password keeps the hash');
        assert.deepEqual(upd.permissions, ['view_users', 'add_users'], 'omitted permissions kept');
        assert.deepEqual(upd.filters, a.filters, 'filters are overlaid field by field');
        assert.deepEqual(
          (await p.updateAdmin('root', { filters: { allow_list: [] } })).filters,
          {},
        );
        await p.checkAdminPassword('root', 'adminpw', '192.168.1.1');
        await p.setAdminPassword('root', 'newadminpw');
        await assert.rejects(p.checkAdminPassword('root', 'adminpw'), isCode('AUTH_FAILED'));
        await p.checkAdminPassword('root', 'newadminpw');
        await p.updateAdmin('root', { status: 0 });
        await assert.rejects(p.checkAdminPassword('root', 'newadminpw'), isCode('AUTH_FAILED'));
        await assert.rejects(
          p.updateAdmin('root', { permissions: ['fly'] as never }),
          isCode('INVALID_INPUT'),
        );
        const listed = await p.getAdmins();
        assert.equal(listed[0]?.password, undefined);
        await p.deleteAdmin('root');
        await assert.rejects(p.deleteAdmin('root'), isCode('NOT_FOUND'));
        assert.equal(await p.countAdmins(), 0);
      });
    });

    void test("getAdminCached: own writes seen at once, another instance's after the TTL", async () => {
      let t = 5_000_000;
      const { p: a, cfg } = await open({}, { now: () => t });
      const b = await createProvider(cfg, { configDir, kms, now: () => t });
      try {
        await a.addAdmin({
          username: 'root',
          password: 'adminpw',
          status: 1,
          permissions: ['view_users'],
        });
        assert.deepEqual((await a.getAdminCached('root')).permissions, ['view_users']);
        assert.deepEqual((await b.getAdminCached('root')).permissions, ['view_users']);
        await a.updateAdmin('root', { permissions: ['add_users'] });
        assert.deepEqual((await a.getAdminCached('root')).permissions, ['add_users']);
        assert.deepEqual((await b.getAdminCached('root')).permissions, ['view_users'], 'B: cached');
        t += ADMIN_CACHE_TTL_MS;
        assert.deepEqual((await b.getAdminCached('root')).permissions, ['add_users'], 'B: expired');
        await b.updateAdmin('root', { status: 0 });
        assert.equal((await b.getAdminCached('root')).status, 0);
        await a.setAdminPassword('root', 'other-pw');
        assert.equal((await a.getAdminCached('root')).status, 0, 'A read the row again');
        await a.deleteAdmin('root');
        await assert.rejects(a.getAdminCached('root'), isCode('NOT_FOUND'));
        assert.equal((await b.getAdminCached('root')).status, 0, 'B: cached');
        t += ADMIN_CACHE_TTL_MS;
        await assert.rejects(b.getAdminCached('root'), isCode('NOT_FOUND'));
        await a.addAdmin({ username: 'root', password: 'adminpw', status: 1, permissions: ['*'] });
        assert.deepEqual(
          (await a.getAdminCached('root')).permissions,
          ['*'],
          'added: not found no more',
        );
      } finally {
        await b.close();
        await a.close();
      }
    });

    void test('ensureDefaultAdmin: env credentials, create_default_admin, existing admins', async () => {
      await withProvider(async (p) => {
        assert.deepEqual(await ensureDefaultAdmin(p, { createDefaultAdmin: false, env: {} }), {
          action: 'none',
        });
        assert.deepEqual(
          await ensureDefaultAdmin(p, {
            createDefaultAdmin: true,
            env: { SFTPGO_DEFAULT_ADMIN_USERNAME: 'boss', SFTPGO_DEFAULT_ADMIN_PASSWORD: 'bosspw' },
          }),
          { action: 'created_from_env', username: 'boss' },
        );
        assert.deepEqual((await p.checkAdminPassword('boss', 'bosspw')).permissions, ['*']);
        assert.deepEqual(await ensureDefaultAdmin(p, { createDefaultAdmin: true, env: {} }), {
          action: 'exists',
        });
      });
      await withProvider(async (p) => {
        assert.deepEqual(
          await ensureDefaultAdmin(p, {
            createDefaultAdmin: true,
            env: { SFTPGO_DEFAULT_ADMIN_USERNAME: 'only-user' },
          }),
          { action: 'created_default', username: 'admin' },
        );
        await p.checkAdminPassword('admin', 'password');
      });
    });

    void test('dump returns everything unredacted with version 8', async () => {
      await withProvider(async (p) => {
        await p.addAdmin({ username: 'adm', password: 'pw', status: 1, permissions: ['*'] });
        await p.addUser(
          newUser('dumped', {
            filesystem: {
              provider: 4,
              cryptconfig: { passphrase: { status: 'Plain', payload: 'pp' } },
            },
            virtual_folders: [{ name: 'df', mapped_path: '/data/df', virtual_path: '/df' }],
          }),
        );
        const d = await p.dump();
        assert.equal(d.version, 8);
        assert.deepEqual(
          d.users?.map((u) => u.username),
          ['dumped'],
        );
        assert.match(d.users?.[0]?.password ?? '', /^\$2a\$/);
        assert.ok(
          d.users?.[0]?.filesystem?.cryptconfig?.passphrase?.key,
          'secret key kept for restore',
        );
        assert.deepEqual(
          d.folders?.map((f) => [f.name, f.users]),
          [['df', ['dumped']]],
        );
        assert.match(d.admins?.[0]?.password ?? '', /^\$2a\$/);
      });
    });

    void test('sql_tables_prefix isolates two providers in one database', async () => {
      const base = await env.freshConfig();
      const a = await createProvider(
        { ...base, password_hashing: FAST_HASHING },
        { configDir, kms },
      );
      const b = await createProvider(
        { ...base, password_hashing: FAST_HASHING, sql_tables_prefix: 'pfx_' },
        { configDir, kms },
      );
      try {
        await a.addUser(newUser('same'));
        await b.addUser(newUser('same'));
        await b.addUser(newUser('onlyb'));
        assert.deepEqual(
          (await a.getUsers()).map((u) => u.username),
          ['same'],
        );
        assert.deepEqual(
          (await b.getUsers()).map((u) => u.username),
          ['onlyb', 'same'],
        );
      } finally {
        await a.close();
        await b.close();
      }
      await assert.rejects(
        createProvider({ ...base, sql_tables_prefix: 'bad-prefix' }, { configDir }),
        isCode('INVALID_INPUT'),
      );
    });

    void test('a closed provider reports BACKEND_UNAVAILABLE', async () => {
      const { p } = await open();
      await p.checkAvailability();
      await p.close();
      await assert.rejects(p.checkAvailability(), isCode('BACKEND_UNAVAILABLE'));
      await assert.rejects(p.getUsers(), isCode('BACKEND_UNAVAILABLE'));
    });
  });
}
