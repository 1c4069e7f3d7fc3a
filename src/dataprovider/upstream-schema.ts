/**
 * Adopting a database SFTPGo 2.0.x/2.1.2 created (dataprovider/{sqlite,pgsql,mysql}.go): it has
 * upstream's tables and `schema_version` (8 for 2.0.x, 10 for 2.1.x) but not our migrations
 * table. Adopting records our migrations as applied for what the version says (the initial
 * schema and the table names always, the upgrade step only at 10), so that the pending upgrade
 * step alone then runs (8 -> 10, schema-versions.ts). No table is created or dropped.
 */
import { MigrationExecutor, type DataSource, type QueryRunner } from 'typeorm';
import { SftpgoError } from '../errors/index.js';
import { tableNames } from './entities.js';
import { SCHEMA_VERSION, upgradeMigrationName, type Dialect } from './migrations.js';
import { OLDEST_SCHEMA_VERSION, quoter, readSchemaVersion } from './schema-versions.js';

/**
 * The schema version of a database SFTPGo created, which has upstream's tables and
 * `schema_version` but no migrations of ours recorded; undefined when there is nothing to adopt
 * (a database of ours, or an empty one). Throws BACKEND_UNAVAILABLE for a version we cannot
 * adopt (below 8, above 10) or when a table the version implies is missing.
 */
export async function adoptableSchemaVersion(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
): Promise<number | undefined> {
  const n = tableNames(prefix);
  if (await qr.hasTable(n.migrations)) {
    const rows = (await qr.query(`SELECT COUNT(*) AS c FROM ${quoter(dialect)(n.migrations)}`)) as {
      c: number | string;
    }[];
    if (Number(rows[0]?.c ?? 0) > 0) return undefined;
  }
  const version = await readSchemaVersion(qr, dialect, prefix);
  if (version === undefined) return undefined;
  if (version < OLDEST_SCHEMA_VERSION) {
    throw new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `database version ${version} is too old, please see the upgrading docs`,
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `database version ${version} is newer than the supported one: ${SCHEMA_VERSION}`,
    );
  }
  for (const t of [n.users, n.admins, n.folders, n.mapping]) {
    if (!(await qr.hasTable(t))) {
      throw new SftpgoError(
        'BACKEND_UNAVAILABLE',
        `the database has schema version ${version} but no ${t} table, it cannot be adopted`,
      );
    }
  }
  return version;
}

/**
 * Adopts a database SFTPGo created (see adoptableSchemaVersion): creates our migrations table
 * and records the migrations the schema already has. Returns the adopted version, or undefined
 * when there was nothing to adopt.
 */
export async function adoptUpstreamSchema(
  ds: DataSource,
  dialect: Dialect,
  prefix: string,
): Promise<number | undefined> {
  const qr = ds.createQueryRunner();
  try {
    const version = await adoptableSchemaVersion(qr, dialect, prefix);
    if (version === undefined) return undefined;
    const executor = new MigrationExecutor(ds, qr);
    // creates the migrations table (and reports every migration as pending)
    await executor.showMigrations();
    for (const m of await executor.getPendingMigrations()) {
      if (m.name === upgradeMigrationName(dialect) && version < SCHEMA_VERSION) continue;
      await executor.insertMigration(m);
    }
    return version;
  } finally {
    await qr.release();
  }
}
