/**
 * Sharing a database with SFTPGo, shared by every SQL driver (sqlite.test.ts, postgres.test.ts,
 * mysql.test.ts): a database built with SFTPGo 2.1.2's (or 2.0.x's) own SQL (upstream-sql.ts) is
 * adopted by `initprovider` or a start with update_mode 0 and then used as it is; a database of
 * an earlier sftpgo-ts gets SFTPGo's mapping table names; and SFTPGo's queries read what
 * sftpgo-ts wrote.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataSource, type QueryRunner } from 'typeorm';
import { defaultConfig } from '../../../src/config/index.js';
import {
  createProvider,
  initializeProvider,
  type DataProviderConfigInput,
  type ProviderLogger,
  type User,
} from '../../../src/dataprovider/index.js';
import { resolveDataProviderConfig } from '../../../src/dataprovider/config.js';
import { buildDataSourceOptions, dialectOf } from '../../../src/dataprovider/data-source.js';
import {
  createEntities,
  legacyMappingNames,
  tableNames,
} from '../../../src/dataprovider/entities.js';
import type { Dialect } from '../../../src/dataprovider/migrations.js';
import { SftpgoError } from '../../../src/errors/index.js';
import { createKms, type Kms } from '../../../src/kms/index.js';
import type { DriverEnv } from './cases.js';
import {
  ADMIN_PASSWORD,
  createUpstreamSchema,
  insertUpstreamRows,
  USER_PASSWORD,
} from './upstream-sql.js';

const PREFIX = 'up_';

/** Runs fn on a raw connection: no entities' checks, no migrations of ours. */
async function withRaw<T>(
  cfgInput: DataProviderConfigInput,
  configDir: string,
  fn: (qr: QueryRunner, dialect: Dialect) => Promise<T>,
): Promise<T> {
  const cfg = resolveDataProviderConfig(cfgInput);
  const dialect = dialectOf(cfg.driver);
  const ds = new DataSource(
    buildDataSourceOptions(cfg, configDir, createEntities(PREFIX, dialect), []),
  );
  await ds.initialize();
  const qr = ds.createQueryRunner();
  try {
    return await fn(qr, dialect);
  } finally {
    await qr.release();
    await ds.destroy();
  }
}

/** the names of the tables, and of the mapping table's indexes and constraints */
async function schemaNames(
  qr: QueryRunner,
  dialect: Dialect,
): Promise<{ tables: string[]; mapping: string[] }> {
  let tables: { name: string }[];
  let mapping: { name: string }[];
  const t = tableNames(PREFIX).mapping;
  if (dialect === 'sqlite') {
    tables = (await qr.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'up\\_%' ESCAPE '\\'",
    )) as { name: string }[];
    mapping = (await qr.query(
      `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '${t}'`,
    )) as { name: string }[];
  } else if (dialect === 'postgres') {
    tables = (await qr.query(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'up\\_%'",
    )) as { name: string }[];
    mapping = (await qr.query(
      'SELECT conname AS name FROM pg_constraint WHERE conrelid = to_regclass($1) ' +
        'UNION SELECT indexname FROM pg_indexes WHERE tablename = $2 ' +
        "UNION SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE '%folders\\_mapping\\_id\\_seq'",
      [`"${t}"`, t],
    )) as { name: string }[];
  } else {
    tables = (await qr.query(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'up\\_%'",
    )) as { name: string }[];
    mapping = (await qr.query(
      'SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS ' +
        'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [t],
    )) as { name: string }[];
  }
  return { tables: tables.map((r) => r.name).sort(), mapping: mapping.map((r) => r.name).sort() };
}

async function versionOf(qr: QueryRunner): Promise<number> {
  const rows = (await qr.query(`SELECT version FROM ${PREFIX}schema_version`)) as {
    version: number | string;
  }[];
  return Number(rows[0]?.version);
}

/** a user with every permission and one virtual folder mounted at `at` */
function userWithFolder(
  username: string,
  password: string,
  folder: { name: string; mapped_path?: string },
  at: string,
): User {
  return {
    username,
    password,
    home_dir: `/srv/${username}`,
    status: 1,
    permissions: { '/': ['*'] } as unknown as User['permissions'],
    virtual_folders: [{ ...folder, virtual_path: at, quota_size: 0, quota_files: 0 }],
  };
}

/** a logger that keeps the messages */
function recordingLogger(): { logger: ProviderLogger; messages: string[] } {
  const messages: string[] = [];
  const keep = (_o: object, msg?: string): void => {
    if (msg !== undefined) messages.push(msg);
  };
  return { logger: { debug: keep, info: keep, warn: keep, error: keep }, messages };
}

/**
 * The 2.1.x queries that load a user's virtual folders (sqlqueries.go
 * getRelatedFoldersForUsersQuery) and the schema version (sqlCommonGetDatabaseVersion): SFTPGo
 * reading a database sftpgo-ts wrote.
 */
async function upstreamFoldersOf(qr: QueryRunner, username: string): Promise<unknown[]> {
  const users = (await qr.query(
    `SELECT id FROM ${PREFIX}users WHERE username = '${username}'`,
  )) as {
    id: number;
  }[];
  return (await qr.query(
    `SELECT f.id,f.name,f.path,f.used_quota_size,f.used_quota_files,f.last_quota_update,fm.virtual_path,
		fm.quota_size,fm.quota_files,fm.user_id,f.filesystem,f.description FROM ${PREFIX}folders f INNER JOIN ${PREFIX}folders_mapping fm ON f.id = fm.folder_id WHERE
		fm.user_id IN (${users.map((u) => u.id).join(',')}) ORDER BY fm.user_id`,
  )) as unknown[];
}

export function defineUpstreamSuite(driver: string, env: DriverEnv): void {
  void describe(`a database shared with SFTPGo (${driver})`, () => {
    let configDir = '';
    let kms: Kms;
    before(() => {
      configDir = mkdtempSync(join(tmpdir(), `sftpgo-upstream-${driver}-`));
      kms = createKms(defaultConfig().kms, configDir);
    });
    after(() => rmSync(configDir, { recursive: true, force: true }));

    async function upstreamDatabase(version: 8 | 10): Promise<DataProviderConfigInput> {
      const cfg: DataProviderConfigInput = {
        ...(await env.freshConfig()),
        sql_tables_prefix: PREFIX,
        password_hashing: { bcrypt_options: { cost: 4 } },
      };
      await withRaw(cfg, configDir, async (qr, dialect) => {
        await createUpstreamSchema(qr, dialect, PREFIX, version);
        await insertUpstreamRows(qr, dialect, PREFIX, version === 10);
      });
      return cfg;
    }

    void test('a 2.1.2 database (version 10) is adopted and used as it is', async () => {
      const cfg = await upstreamDatabase(10);
      const before10 = await withRaw(cfg, configDir, (qr, d) => schemaNames(qr, d));

      // update_mode 1: not initialized for us yet, and the refusal changes nothing
      await assert.rejects(
        createProvider({ ...cfg, update_mode: 1 }, { configDir, kms }),
        (e: unknown) => SftpgoError.is(e, 'BACKEND_UNAVAILABLE') && /initprovider/.test(e.message),
      );
      assert.deepEqual(await withRaw(cfg, configDir, (qr, d) => schemaNames(qr, d)), before10);

      const { logger, messages } = recordingLogger();
      assert.equal(await initializeProvider(cfg, { configDir, kms, logger }), 'created');
      assert.ok(messages.includes('adopted an SFTPGo schema at version 10'), String(messages));
      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'up to date');

      // no table of SFTPGo's was created, dropped or renamed; ours keeps its bookkeeping only
      const after10 = await withRaw(cfg, configDir, async (qr, d) => ({
        names: await schemaNames(qr, d),
        version: await versionOf(qr),
      }));
      assert.equal(after10.version, 10);
      assert.deepEqual(after10.names.mapping, before10.mapping);
      assert.deepEqual(
        after10.names.tables.filter((t) => t !== tableNames(PREFIX).migrations),
        before10.tables,
      );

      const p = await createProvider({ ...cfg, update_mode: 1 }, { configDir, kms });
      try {
        const u = await p.getUser('legacy');
        assert.equal(u.home_dir, '/srv/sftpgo/legacy');
        assert.equal(u.description, 'the legacy user');
        assert.equal(u.additional_info, 'migrated from 2.1.2');
        assert.equal(u.max_sessions, 2);
        assert.equal(u.quota_size, 1048576000);
        assert.equal(u.used_quota_size, 12345);
        assert.equal(u.upload_bandwidth, 100);
        assert.deepEqual(u.permissions, { '/': ['*'], '/docs': ['list', 'download'] });
        assert.deepEqual(u.filters?.allowed_ip, ['192.168.1.0/24']);
        assert.deepEqual(u.filters?.denied_login_methods, ['keyboard-interactive']);
        assert.deepEqual(u.filters?.file_patterns, [
          { path: '/docs', allowed_patterns: ['*.pdf', '*.txt'] },
        ]);
        assert.equal(u.filters?.max_upload_file_size, 1048576);
        assert.deepEqual(u.filters?.web_client, ['publickey-change-disabled']);
        assert.equal(u.filesystem?.provider, 0);
        assert.equal(u.virtual_folders?.length, 1);
        const vf = u.virtual_folders?.[0];
        assert.equal(vf?.name, 'shared');
        assert.equal(vf?.virtual_path, '/shared');
        assert.equal(vf?.mapped_path, '/srv/shared');
        assert.equal(vf?.quota_size, -1);
        assert.equal(vf?.quota_files, -1);

        const f = await p.getFolder('shared');
        assert.equal(f.used_quota_size, 4096);
        assert.equal(f.used_quota_files, 2);
        assert.equal(f.description, 'team share');
        assert.deepEqual(f.users, ['legacy']);
        const a = await p.getAdmin('root');
        assert.equal(a.email, 'root@example.com');
        assert.deepEqual(a.permissions, ['*']);
        assert.deepEqual(a.filters?.allow_list, ['127.0.0.0/8']);

        // SFTPGo's bcrypt hashes log in
        assert.equal((await p.checkUserPassword('legacy', USER_PASSWORD)).username, 'legacy');
        await assert.rejects(p.checkUserPassword('legacy', 'wrong'));
        await p.checkAdminPassword('root', ADMIN_PASSWORD);

        // and writes work on SFTPGo's tables
        await p.updateUserQuota('legacy', 100, 1, false);
        assert.equal((await p.getUser('legacy')).used_quota_size, 12445);
        await p.addUser(userWithFolder('newbie', 'newbie-pw', { name: 'shared' }, '/team'));
        await p.updateFolder('shared', { ...f, description: 'still shared' });
        assert.deepEqual((await p.getFolder('shared')).users, ['legacy', 'newbie']);
        await p.checkUserPassword('newbie', 'newbie-pw');
      } finally {
        await p.close();
      }

      // what sftpgo-ts wrote is what SFTPGo's own query reads
      const rows = await withRaw(cfg, configDir, (qr) => upstreamFoldersOf(qr, 'newbie'));
      assert.equal(rows.length, 1);
      const row = rows[0] as Record<string, unknown>;
      assert.equal(row['name'], 'shared');
      assert.equal(row['virtual_path'], '/team');
      assert.equal(row['description'], 'still shared');
    });

    void test('a 2.0.x database (version 8) is adopted and upgraded to 10 by a start', async () => {
      const cfg = await upstreamDatabase(8);
      const { logger, messages } = recordingLogger();
      const p = await createProvider({ ...cfg, update_mode: 0 }, { configDir, kms, logger });
      try {
        assert.ok(messages.includes('adopted an SFTPGo schema at version 8'), String(messages));
        const u = await p.getUser('legacy');
        assert.equal(u.description, undefined);
        assert.equal(u.virtual_folders?.[0]?.virtual_path, '/shared');
        await p.checkUserPassword('legacy', USER_PASSWORD);
        // the version-9 columns are there now
        const f = await p.getFolder('shared');
        await p.updateFolder('shared', { ...f, description: 'new in v9' });
        assert.equal((await p.getFolder('shared')).description, 'new in v9');
        await p.updateUser('legacy', { ...u, description: 'described' });
        assert.equal((await p.getUser('legacy')).description, 'described');
      } finally {
        await p.close();
      }
      assert.equal(await withRaw(cfg, configDir, (qr) => versionOf(qr)), 10);
      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'up to date');
    });

    void test('a newer SFTPGo schema (version 11) is refused, untouched', async () => {
      const cfg = await upstreamDatabase(10);
      await withRaw(cfg, configDir, (qr) =>
        qr.query(`UPDATE ${PREFIX}schema_version SET version = 11`),
      );
      await assert.rejects(
        initializeProvider(cfg, { configDir, kms }),
        (e: unknown) =>
          SftpgoError.is(e, 'BACKEND_UNAVAILABLE') && /newer than the supported/.test(e.message),
      );
      const names = await withRaw(cfg, configDir, (qr, d) => schemaNames(qr, d));
      assert.ok(!names.tables.includes(tableNames(PREFIX).migrations));
    });

    void test('an earlier sftpgo-ts database gets SFTPGo mapping names, data intact', async () => {
      const cfg: DataProviderConfigInput = {
        ...(await env.freshConfig()),
        sql_tables_prefix: PREFIX,
        password_hashing: { bcrypt_options: { cost: 4 } },
      };
      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'created');
      const fresh = await withRaw(cfg, configDir, (qr, d) => schemaNames(qr, d));
      let p = await createProvider(cfg, { configDir, kms });
      try {
        await p.addUser(
          userWithFolder('old', 'old-pw', { name: 'f1', mapped_path: '/srv/f1' }, '/f1'),
        );
      } finally {
        await p.close();
      }
      // back to the names sftpgo-ts used before (what its earlier InitSchemaV10 created)
      await withRaw(cfg, configDir, async (qr, d) => {
        const n = tableNames(PREFIX);
        const o = legacyMappingNames(PREFIX);
        const q = (s: string): string => (d === 'mysql' ? `\`${s}\`` : `"${s}"`);
        if (d === 'mysql') {
          await qr.query(`RENAME TABLE ${q(n.mapping)} TO ${q(o.mapping)}`);
          await qr.query(
            `ALTER TABLE ${q(o.mapping)} RENAME INDEX ${q(n.mappingUserFolderKey)} TO ${q(o.mappingUserFolderKey)}, ` +
              `RENAME INDEX ${q(n.mappingFolderIdx)} TO ${q(o.mappingFolderIdx)}`,
          );
        } else {
          await qr.query(`ALTER TABLE ${q(n.mapping)} RENAME TO ${q(o.mapping)}`);
        }
        if (d === 'sqlite') {
          await qr.query(`DROP INDEX ${q(n.mappingFolderIdx)}`);
          await qr.query(`CREATE INDEX ${q(o.mappingFolderIdx)} ON ${q(o.mapping)} ("folder_id")`);
        }
        if (d === 'postgres') {
          for (const [from, to] of [
            [n.mappingUserFolderKey, o.mappingUserFolderKey],
            [n.mappingUserFk, o.mappingUserFk],
            [n.mappingFolderFk, o.mappingFolderFk],
            [`${n.mapping}_pkey`, `${o.mapping}_pkey`],
          ] as const) {
            await qr.query(`ALTER TABLE ${q(o.mapping)} RENAME CONSTRAINT ${q(from)} TO ${q(to)}`);
          }
          await qr.query(`ALTER INDEX ${q(n.mappingFolderIdx)} RENAME TO ${q(o.mappingFolderIdx)}`);
          await qr.query(
            `ALTER SEQUENCE ${q(`${n.mapping}_id_seq`)} RENAME TO ${q(`${o.mapping}_id_seq`)}`,
          );
        }
        await qr.query(
          `DELETE FROM ${q(n.migrations)} WHERE ${q('name')} LIKE 'SftpgoUpstreamMappingNames%'`,
        );
      });
      const legacy = await withRaw(cfg, configDir, (qr, d) => schemaNames(qr, d));
      assert.ok(legacy.tables.includes(legacyMappingNames(PREFIX).mapping));

      assert.equal(await initializeProvider(cfg, { configDir, kms }), 'created');
      const renamed = await withRaw(cfg, configDir, (qr, d) => schemaNames(qr, d));
      assert.deepEqual(renamed, fresh);
      p = await createProvider({ ...cfg, update_mode: 1 }, { configDir, kms });
      try {
        const u = await p.getUser('old');
        assert.equal(u.virtual_folders?.[0]?.virtual_path, '/f1');
        assert.deepEqual((await p.getFolder('f1')).users, ['old']);
        await p.checkUserPassword('old', 'old-pw');
        await p.addUser(userWithFolder('new', 'x', { name: 'f1' }, '/f'));
        assert.deepEqual((await p.getFolder('f1')).users, ['new', 'old']);
      } finally {
        await p.close();
      }
    });
  });
}
