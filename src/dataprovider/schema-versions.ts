/**
 * SFTPGo's SQL schema versions below the current one (10), for `sftpgo revertprovider` and for
 * upgrading a version-8 database (the SFTPGo 2.0.x layout) back to 10. Mirrors the version steps
 * of upstream dataprovider/{sqlite,pgsql,mysql,sqlcommon,compat}.go at v2.1.2:
 *
 * - 8 -> 9: `description` on users, admins and folders, `filesystem` on folders (DDL);
 *   9 -> 8 drops them again (their data is lost, as upstream).
 * - 9 -> 10: no DDL; the Azure Blob `sas_url` inside the users' and folders' filesystem JSON
 *   changes from a plain string (v9) to an encrypted KMS secret (v10), and back on revert
 *   (decrypted). Rows whose JSON does not parse in the expected shape are left alone, as upstream
 *   ("is it already migrated?").
 *
 * Where we differ: upstream's SQLite 9 -> 8 rebuilds each table (SQLite had no DROP COLUMN then);
 * we use ALTER TABLE DROP COLUMN (SQLite >= 3.35, bundled by better-sqlite3), which drops the same
 * columns, keeps the other data and, unlike a rebuild, keeps our named constraints and DEFAULTs and
 * needs no `PRAGMA foreign_keys=OFF` (without which dropping the old users table would cascade
 * into the folder mappings).
 */
import type { QueryRunner } from 'typeorm';
import { SftpgoError } from '../errors/index.js';
import { tableNames } from './entities.js';
import type { Dialect } from './migrations.js';
import {
  encryptPlainSecrets,
  folderSecretAd,
  isSecretEmpty,
  isSecretPlain,
  type Secret,
  type SecretEncrypter,
} from './secrets.js';

/** the oldest schema version we can upgrade from, and the only one we revert to (SFTPGo 2.0.x) */
export const OLDEST_SCHEMA_VERSION = 8;

/** upstream vfs.AzureBlobFilesystemProvider */
const AZURE_BLOB_PROVIDER = 3;

export function quoter(dialect: Dialect): (s: string) => string {
  return dialect === 'mysql' ? (s) => `\`${s}\`` : (s) => `"${s}"`;
}

/** the i-th (1-based) bind parameter */
function param(dialect: Dialect, i: number): string {
  return dialect === 'postgres' ? `$${i}` : '?';
}

/** upstream sqliteV9SQL / pgsqlV9SQL / mysqlV9SQL, with our table names */
export function v9UpSql(dialect: Dialect, prefix: string): string[] {
  const n = tableNames(prefix);
  const qi = quoter(dialect);
  const text = dialect === 'mysql' ? 'longtext' : 'text';
  return [
    `ALTER TABLE ${qi(n.admins)} ADD COLUMN ${qi('description')} varchar(512) NULL`,
    `ALTER TABLE ${qi(n.folders)} ADD COLUMN ${qi('description')} varchar(512) NULL`,
    `ALTER TABLE ${qi(n.folders)} ADD COLUMN ${qi('filesystem')} ${text} NULL`,
    `ALTER TABLE ${qi(n.users)} ADD COLUMN ${qi('description')} varchar(512) NULL`,
  ];
}

/** upstream pgsqlV9DownSQL / mysqlV9DownSQL (and, for SQLite, the same drops: see above) */
export function v9DownSql(dialect: Dialect, prefix: string): string[] {
  const n = tableNames(prefix);
  const qi = quoter(dialect);
  const cascade = dialect === 'postgres' ? ' CASCADE' : '';
  return [
    `ALTER TABLE ${qi(n.users)} DROP COLUMN ${qi('description')}${cascade}`,
    `ALTER TABLE ${qi(n.folders)} DROP COLUMN ${qi('filesystem')}${cascade}`,
    `ALTER TABLE ${qi(n.folders)} DROP COLUMN ${qi('description')}${cascade}`,
    `ALTER TABLE ${qi(n.admins)} DROP COLUMN ${qi('description')}${cascade}`,
  ];
}

/** The version recorded in `schema_version`, undefined when the table is missing or empty. */
export async function readSchemaVersion(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
): Promise<number | undefined> {
  const t = tableNames(prefix).schemaVersion;
  if (!(await qr.hasTable(t))) return undefined;
  const qi = quoter(dialect);
  const rows = (await qr.query(`SELECT ${qi('version')} FROM ${qi(t)} LIMIT 1`)) as {
    version: number | string;
  }[];
  const v = rows[0]?.version;
  return v === undefined ? undefined : Number(v);
}

/** upstream sqlCommonUpdateDatabaseVersion */
export async function writeSchemaVersion(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
  version: number,
): Promise<void> {
  const qi = quoter(dialect);
  await qr.query(
    `UPDATE ${qi(tableNames(prefix).schemaVersion)} SET ${qi('version')} = ${param(dialect, 1)}`,
    [version],
  );
}

type FsJson = Record<string, unknown> & { provider?: unknown; azblobconfig?: unknown };

/** The filesystem JSON of a row when it parses to an object, else undefined (left alone). */
function parseFs(s: string | null): FsJson | undefined {
  if (s === null || s === '') return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as FsJson) : undefined;
  } catch {
    // upstream skips a row it cannot unmarshal ("is it already migrated?") and goes on
    return undefined;
  }
}

function azblobOf(fs: FsJson): Record<string, unknown> | undefined {
  const c = fs.azblobconfig;
  return typeof c === 'object' && c !== null && !Array.isArray(c)
    ? (c as Record<string, unknown>)
    : undefined;
}

/** v9 -> v10 (upstream convertFsConfigFromV9): the plain sas_url string becomes a secret */
async function fsToV10(
  fs: FsJson,
  kms: SecretEncrypter | undefined,
  additionalData: string,
): Promise<boolean> {
  const az = azblobOf(fs);
  const sas = az?.['sas_url'];
  if (az === undefined || typeof sas !== 'string') return false;
  if (sas === '' || fs.provider !== AZURE_BLOB_PROVIDER) {
    delete az['sas_url'];
    return true;
  }
  az['sas_url'] = { status: 'Plain', payload: sas } satisfies Secret;
  await encryptPlainSecrets(fs as Parameters<typeof encryptPlainSecrets>[0], kms, additionalData);
  return true;
}

/** v10 -> v9 (upstream convertFsConfigToV9): the sas_url secret becomes its plaintext */
async function fsToV9(fs: FsJson, kms: SecretEncrypter | undefined): Promise<boolean> {
  const az = azblobOf(fs);
  const sas = az?.['sas_url'];
  if (az === undefined || typeof sas !== 'object' || sas === null || Array.isArray(sas))
    return false;
  const secret = sas as Secret;
  if (isSecretEmpty(secret)) return false;
  let plain = '';
  if (fs.provider === AZURE_BLOB_PROVIDER) {
    if (isSecretPlain(secret)) plain = secret.payload ?? '';
    else {
      if (kms?.decrypt === undefined)
        throw new SftpgoError('INTERNAL', 'cannot decrypt an Azure Blob sas_url: no KMS');
      try {
        plain = await kms.decrypt({ ...secret, status: secret.status ?? '' });
      } catch (e) {
        if (SftpgoError.is(e)) throw e;
        throw new SftpgoError('INTERNAL', 'could not decrypt an Azure Blob sas_url', { cause: e });
      }
    }
  }
  if (plain === '') delete az['sas_url'];
  else az['sas_url'] = plain;
  return true;
}

/** Rewrites the filesystem JSON of every user and folder row that `convert` changes. */
async function convertFilesystems(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
  convert: (fs: FsJson, additionalData: string) => Promise<boolean>,
): Promise<void> {
  const n = tableNames(prefix);
  const qi = quoter(dialect);
  const tables = [
    { table: n.users, name: 'username', ad: (name: string) => name },
    { table: n.folders, name: 'name', ad: folderSecretAd },
  ];
  for (const { table, name, ad } of tables) {
    const rows = (await qr.query(
      `SELECT ${qi('id')} AS id, ${qi(name)} AS name, ${qi('filesystem')} AS filesystem ` +
        `FROM ${qi(table)} WHERE ${qi('filesystem')} IS NOT NULL`,
    )) as { id: number; name: string; filesystem: string | null }[];
    for (const row of rows) {
      const fs = parseFs(row.filesystem);
      if (fs === undefined || !(await convert(fs, ad(row.name)))) continue;
      await qr.query(
        `UPDATE ${qi(table)} SET ${qi('filesystem')} = ${param(dialect, 1)} ` +
          `WHERE ${qi('id')} = ${param(dialect, 2)}`,
        [JSON.stringify(fs), row.id],
      );
    }
  }
}

async function exec(qr: QueryRunner, statements: string[]): Promise<void> {
  for (const s of statements) await qr.query(s);
}

/**
 * Brings a schema at version 8 or 9 to 10 (upstream migrateDatabase); nothing to do at 10 or
 * above. Runs inside the caller's transaction where the dialect has transactional DDL.
 */
export async function upgradeSchema(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
  kms: SecretEncrypter | undefined,
): Promise<void> {
  const version = await readSchemaVersion(qr, dialect, prefix);
  if (version === undefined)
    throw new SftpgoError('BACKEND_UNAVAILABLE', 'the schema_version table is missing or empty');
  if (version >= 10) return;
  if (version < OLDEST_SCHEMA_VERSION) {
    throw new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `database version ${version} is too old, please see the upgrading docs`,
    );
  }
  if (version === 8) {
    await exec(qr, v9UpSql(dialect, prefix));
    await writeSchemaVersion(qr, dialect, prefix, 9);
  }
  await convertFilesystems(qr, dialect, prefix, (fs, ad) => fsToV10(fs, kms, ad));
  await writeSchemaVersion(qr, dialect, prefix, 10);
}

/**
 * Takes a schema at version 10 or 9 down to 8 (upstream revertDatabase): 10 -> 9 converts the
 * sas_url secrets back to plain strings (needs `kms.decrypt` when there is one), 9 -> 8 drops
 * the v9 columns. Throws INVALID_INPUT for any other starting version.
 */
export async function downgradeSchema(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
  kms: SecretEncrypter | undefined,
): Promise<void> {
  const version = await readSchemaVersion(qr, dialect, prefix);
  if (version !== 9 && version !== 10)
    throw new SftpgoError('INVALID_INPUT', `database version not handled: ${String(version)}`);
  if (version === 10) {
    await convertFilesystems(qr, dialect, prefix, (fs) => fsToV9(fs, kms));
    await writeSchemaVersion(qr, dialect, prefix, 9);
  }
  await exec(qr, v9DownSql(dialect, prefix));
  await writeSchemaVersion(qr, dialect, prefix, 8);
}
