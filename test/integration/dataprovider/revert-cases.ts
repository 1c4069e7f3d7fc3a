/**
 * `revertprovider` and the way back, shared by every SQL driver (sqlite.test.ts, postgres.test.ts,
 * mysql.test.ts): a version-10 schema with data goes down to version 8 (the SFTPGo 2.0.x layout),
 * then `initprovider` or a start with update_mode 0 brings it back to 10.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { defaultConfig } from '../../../src/config/index.js';
import {
  createProvider,
  initializeProvider,
  revertProvider,
  type DataProviderConfigInput,
  type User,
} from '../../../src/dataprovider/index.js';
import { resolveDataProviderConfig } from '../../../src/dataprovider/config.js';
import { buildDataSourceOptions, dialectOf } from '../../../src/dataprovider/data-source.js';
import { createEntities, tableNames } from '../../../src/dataprovider/entities.js';
import { SftpgoError } from '../../../src/errors/index.js';
import { createKms, type Kms } from '../../../src/kms/index.js';
import { schemaDrift, type DriverEnv } from './cases.js';

const PREFIX = 'rv_';
const SAS_URL = 'https://acct.blob.core.windows.net/cont?sv=2020-08-04&sig=c2VjcmV0';
const FOLDER_SAS_URL = 'https://acct.blob.core.windows.net/fold?sv=2020-08-04&sig=Zm9sZGVy';

interface Snapshot {
  version: number | undefined;
  columns: Record<'users' | 'admins' | 'folders' | 'mapping', string[]>;
  users: Record<string, unknown>[];
  admins: Record<string, unknown>[];
  folders: Record<string, unknown>[];
  mapping: Record<string, unknown>[];
  migrations: string[];
}

/** The raw tables, read without any migration or entity metadata of ours in between. */
async function snapshot(cfgInput: DataProviderConfigInput, configDir: string): Promise<Snapshot> {
  const cfg = resolveDataProviderConfig(cfgInput);
  const ds = new DataSource(
    buildDataSourceOptions(cfg, configDir, createEntities(PREFIX, dialectOf(cfg.driver)), []),
  );
  await ds.initialize();
  const qr = ds.createQueryRunner();
  try {
    const n = tableNames(PREFIX);
    const q = (s: string): string => ds.driver.escape(s);
    const columns = async (t: string): Promise<string[]> =>
      ((await qr.getTable(t))?.columns.map((c) => c.name) ?? []).sort();
    const rows = async (t: string, cols: string): Promise<Record<string, unknown>[]> =>
      (await qr.query(`SELECT ${cols} FROM ${q(t)} ORDER BY ${q('id')}`)) as Record<
        string,
        unknown
      >[];
    const version = (await qr.query(`SELECT ${q('version')} FROM ${q(n.schemaVersion)}`)) as {
      version: number | string;
    }[];
    const common = ['id', 'username', 'home_dir', 'quota_size', 'used_quota_files', 'filesystem'];
    return {
      version: version[0] === undefined ? undefined : Number(version[0].version),
      columns: {
        users: await columns(n.users),
        admins: await columns(n.admins),
        folders: await columns(n.folders),
        mapping: await columns(n.mapping),
      },
      users: await rows(n.users, common.map(q).join(', ')),
      admins: await rows(n.admins, ['username', 'email', 'permissions'].map(q).join(', ')),
      folders: await rows(n.folders, ['name', 'path', 'used_quota_size'].map(q).join(', ')),
      mapping: await rows(n.mapping, ['user_id', 'folder_id', 'virtual_path'].map(q).join(', ')),
      migrations: (
        (await qr.query(`SELECT ${q('name')} FROM ${q(n.migrations)}`)) as { name: string }[]
      )
        .map((r) => r.name)
        .sort(),
    };
  } finally {
    await qr.release();
    await ds.destroy();
  }
}

function sasUrlOf(row: Record<string, unknown> | undefined): unknown {
  const fs = JSON.parse(String(row?.['filesystem'])) as { azblobconfig?: { sas_url?: unknown } };
  return fs.azblobconfig?.sas_url;
}

function isCode(code: string) {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e), `expected an SftpgoError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

export function defineRevertSuite(driver: string, env: DriverEnv): void {
  void describe(`revertprovider (${driver})`, () => {
    let configDir = '';
    let kms: Kms;
    before(() => {
      configDir = mkdtempSync(join(tmpdir(), `sftpgo-revert-${driver}-`));
      kms = createKms(defaultConfig().kms, configDir);
    });
    after(() => rmSync(configDir, { recursive: true, force: true }));

    /** a version-10 database with a user (Azure Blob, SAS URL), a folder, a mapping, an admin */
    async function populated(): Promise<{ cfg: DataProviderConfigInput; user: User }> {
      const cfg: DataProviderConfigInput = {
        ...(await env.freshConfig()),
        sql_tables_prefix: PREFIX,
        password_hashing: { bcrypt_options: { cost: 4 } },
      };
      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'created');
      const p = await createProvider(cfg, { configDir, kms });
      try {
        await p.addFolder({
          name: 'shared',
          mapped_path: '/srv/shared',
          description: 'the shared folder',
          filesystem: {
            provider: 3,
            azblobconfig: {
              container: 'fold',
              sas_url: { status: 'Plain', payload: FOLDER_SAS_URL },
            },
          },
        });
        await p.updateFolderQuota('shared', 300, 3, true);
        await p.addUser({
          username: 'alice',
          password: 'secret',
          home_dir: '/srv/sftpgo/alice',
          status: 1,
          description: 'Alice',
          quota_size: 1000,
          permissions: { '/': ['*'] } as unknown as User['permissions'],
          filesystem: {
            provider: 3,
            azblobconfig: {
              container: 'cont',
              key_prefix: 'alice/',
              sas_url: { status: 'Plain', payload: SAS_URL },
            },
          },
          virtual_folders: [
            { name: 'shared', virtual_path: '/shared', quota_size: -1, quota_files: -1 },
          ],
        });
        await p.updateUserQuota('alice', 700, 7, true);
        await p.addAdmin({
          username: 'boss',
          password: 'adminpw',
          status: 1,
          email: 'boss@example.com',
          description: 'the admin',
          permissions: ['*'],
        });
        return { cfg, user: await p.getUser('alice') };
      } finally {
        await p.close();
      }
    }

    function assertVersion8(s: Snapshot, before10: Snapshot): void {
      assert.equal(s.version, 8);
      assert.ok(!s.columns.users.includes('description'));
      assert.ok(!s.columns.admins.includes('description'));
      assert.ok(!s.columns.folders.includes('description'));
      assert.ok(!s.columns.folders.includes('filesystem'));
      // nothing else was dropped
      assert.deepEqual(
        s.columns.users,
        before10.columns.users.filter((c) => c !== 'description'),
      );
      assert.deepEqual(s.columns.mapping, before10.columns.mapping);
      // the data of the remaining columns survives; v9 keeps the SAS URL as a plain string
      assert.deepEqual(
        s.users.map((u) => ({ ...u, filesystem: undefined })),
        before10.users.map((u) => ({ ...u, filesystem: undefined })),
      );
      assert.equal(sasUrlOf(s.users[0]), SAS_URL);
      assert.deepEqual(s.admins, before10.admins);
      assert.deepEqual(s.mapping, before10.mapping);
      assert.deepEqual(
        s.folders.map((f) => ({ ...f, used_quota_size: Number(f['used_quota_size']) })),
        [{ name: 'shared', path: '/srv/shared', used_quota_size: 300 }],
      );
    }

    async function assertBackAt10(
      cfg: DataProviderConfigInput,
      user: User,
      before10: Snapshot,
    ): Promise<void> {
      const s = await snapshot(cfg, configDir);
      assert.equal(s.version, 10);
      assert.deepEqual(s.columns, before10.columns);
      assert.deepEqual(s.migrations, before10.migrations);
      const p = await createProvider({ ...cfg, update_mode: 1 }, { configDir, kms });
      try {
        const got = await p.getUser('alice');
        // what version 8 does not have comes back empty, everything else as it was
        assert.equal(got.description, undefined);
        const sas = got.filesystem?.azblobconfig?.sas_url;
        assert.equal(sas?.status, 'Secretbox');
        assert.equal(await kms.decrypt(sas ?? {}), SAS_URL);
        const rest = (u: User): Partial<User> => ({
          ...u,
          description: undefined,
          filesystem: undefined,
          virtual_folders: undefined,
        });
        assert.deepEqual(rest(got), rest(user));
        assert.equal(got.used_quota_size, 700);
        const noSas = (u: User): unknown => ({
          ...u.filesystem,
          azblobconfig: { ...u.filesystem?.azblobconfig, sas_url: undefined },
        });
        assert.deepEqual(noSas(got), noSas(user));
        // the mapping survives; the folder's own description and filesystem were dropped
        const mount = (u: User): unknown =>
          u.virtual_folders?.map((f) => ({ ...f, description: undefined, filesystem: undefined }));
        assert.deepEqual(mount(got), mount(user));
        assert.deepEqual(got.virtual_folders?.[0]?.filesystem, { provider: 0 });
        const folder = await p.getFolder('shared');
        assert.equal(folder.description, undefined);
        assert.deepEqual(folder.filesystem, { provider: 0 });
        assert.equal(folder.mapped_path, '/srv/shared');
        assert.equal(folder.used_quota_size, 300);
        const admin = await p.getAdmin('boss');
        assert.equal(admin.description, undefined);
        assert.equal(admin.email, 'boss@example.com');
        await p.checkAdminPassword('boss', 'adminpw');
        await p.checkUserPassword('alice', 'secret');
        // and the schema is usable again for the dropped columns
        await p.updateFolder('shared', { ...folder, description: 'again' });
        assert.equal((await p.getFolder('shared')).description, 'again');
      } finally {
        await p.close();
      }
    }

    void test('revert to 8, initprovider back to 10; data intact, dropped data defaulted', async () => {
      const { cfg, user } = await populated();
      const before10 = await snapshot(cfg, configDir);
      assert.equal(before10.version, 10);
      assert.equal((sasUrlOf(before10.users[0]) as { status?: string }).status, 'Secretbox');

      assert.equal(await revertProvider(cfg, 8, { configDir, kms }), 'reverted');
      const at8 = await snapshot(cfg, configDir);
      assertVersion8(at8, before10);
      assert.equal(await revertProvider(cfg, 8, { configDir, kms }), 'already at target');
      assert.deepEqual(await snapshot(cfg, configDir), at8);

      // any other target is refused and changes nothing
      await assert.rejects(revertProvider(cfg, 9, { configDir, kms }), isCode('INVALID_INPUT'));
      assert.deepEqual(await snapshot(cfg, configDir), at8);

      // a version-8 schema is not up to date: update_mode 1 refuses to start on it
      await assert.rejects(
        createProvider({ ...cfg, update_mode: 1 }, { configDir, kms }),
        (e: unknown) => isCode('BACKEND_UNAVAILABLE')(e) && /initprovider/.test(String(e)),
      );

      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'created');
      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'up to date');
      await assertBackAt10(cfg, user, before10);

      // at 10, --to-version 9 is refused too and leaves the schema as it is
      const at10 = await snapshot(cfg, configDir);
      await assert.rejects(revertProvider(cfg, 9, { configDir, kms }), isCode('INVALID_INPUT'));
      assert.deepEqual(await snapshot(cfg, configDir), at10);
    });

    void test('a start with update_mode 0 upgrades a reverted schema', async () => {
      const { cfg, user } = await populated();
      const before10 = await snapshot(cfg, configDir);
      assert.equal(await revertProvider(cfg, 8, { configDir, kms }), 'reverted');
      const p = await createProvider({ ...cfg, update_mode: 0 }, { configDir, kms });
      await p.close();
      await assertBackAt10(cfg, user, before10);
    });

    // see cases.ts for why mysql is left out of the drift check
    if (driver !== 'mysql') {
      void test('after the round trip the schema matches the entities (no drift)', async () => {
        const { cfg } = await populated();
        await revertProvider(cfg, 8, { configDir, kms });
        await initializeProvider(cfg, { configDir, kms });
        assert.deepEqual(await schemaDrift(cfg, configDir), []);
      });
    }

    void test('the memory driver cannot be reverted', async () => {
      await assert.rejects(
        revertProvider({ driver: 'memory' }, 8, { configDir, kms }),
        (e: unknown) => isCode('INVALID_INPUT')(e) && /memory provider/.test(String(e)),
      );
    });

    void test('nothing to revert on a database that was never initialized', async () => {
      const cfg = { ...(await env.freshConfig()), sql_tables_prefix: PREFIX };
      await assert.rejects(
        revertProvider(cfg, 8, { configDir, kms }),
        (e: unknown) => isCode('BACKEND_UNAVAILABLE')(e) && /not initialized/.test(String(e)),
      );
    });
  });
}
