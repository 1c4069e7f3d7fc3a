/**
 * Public surface of the data provider layer: users, admins, virtual folders, quota counters and
 * last login, stored with TypeORM in SQLite (default), PostgreSQL or MySQL; the model validation
 * shared by the REST API, loaddata and the CLI; password hashing; secret redaction.
 */
import { resolve } from 'node:path';
import { DataSource, MigrationExecutor } from 'typeorm';
import { SftpgoError } from '../errors/index.js';
import {
  resolveDataProviderConfig,
  type DataProviderConfig,
  type DataProviderConfigInput,
} from './config.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { CredentialsFiles } from './credentials-files.js';
import { checkLoginHookPaths } from './hooks/login-hooks.js';
import { buildDataSourceOptions, dialectOf } from './data-source.js';
import { createEntities, tableNames } from './entities.js';
import {
  createMigrations,
  SCHEMA_VERSION,
  upgradeMigrationName,
  type Dialect,
} from './migrations.js';
import { downgradeSchema, OLDEST_SCHEMA_VERSION, readSchemaVersion } from './schema-versions.js';
import type { DataProvider, ProviderLogger } from './provider.js';
import type { QuotaTimers } from './quota-updater.js';
import type { SecretEncrypter } from './secrets.js';
import { loadMemoryDump, memoryDumpFile } from './memory-dump.js';
import { ProviderCore } from './core.js';
import { TypeormStore } from './typeorm-provider.js';
import { adoptUpstreamSchema } from './upstream-schema.js';

export type {
  Admin,
  DataProvider,
  Folder,
  ListOptions,
  ProviderLogger,
  QuotaUsage,
  UpdateOptions,
  User,
} from './provider.js';
export type { LoginAttempt, LoginCertificate, UserLoginMethod, UserLoginProtocol } from './auth.js';
export {
  KEYBOARD_INTERACTIVE_TIMEOUT_MS,
  type KeyboardInteractiveChallenge,
} from './hooks/keyboard-interactive.js';
export {
  defaultDataProviderConfig,
  resolveDataProviderConfig,
  SUPPORTED_DRIVERS,
  type DataProviderConfig,
  type DataProviderConfigInput,
  type PasswordHashingConfig,
} from './config.js';
export { sqlitePath } from './data-source.js';
export { SCHEMA_VERSION } from './migrations.js';
export { OLDEST_SCHEMA_VERSION } from './schema-versions.js';
export type { QuotaTimers } from './quota-updater.js';
export { LAST_LOGIN_MIN_DELAY_MS } from './core.js';
export { ADMIN_CACHE_TTL_MS } from './admin-cache.js';
export { DUMP_VERSION } from './dump.js';
export { memoryDumpFile, reloadMemoryDump } from './memory-dump.js';
export { redactAdmin, redactFolder, redactUser } from './redact.js';
export { renderedUserObject } from './hooks/user-json.js';
export { PROVIDER_ACTION_TIMEOUT_MS, type ProviderAction } from './hooks/actions.js';
export {
  isSecretEmpty,
  isSecretEncrypted,
  isSecretPlain,
  isSecretRedacted,
  redactSecret,
  type Secret,
  type SecretEncrypter,
} from './secrets.js';
export {
  ADMIN_HASH_PREFIXES,
  hashPassword,
  isAdminPasswordHashed,
  isUserPasswordHashed,
  PasswordCache,
  USER_HASH_PREFIXES,
  verifyPassword,
} from './passwords.js';
export {
  validateUser,
  validatePermissions,
  validatePublicKeys,
  validateUserFilters,
  VALID_LOGIN_METHODS,
  VALID_PERMISSIONS,
  VALID_PROTOCOLS,
  VALID_TLS_USERNAMES,
  VALID_WEB_CLIENT_OPTIONS,
  type UserValidationOptions,
  type ValidatedUser,
  type ValidatedVirtualFolder,
} from './validation/user.js';
export { validateAdmin, VALID_ADMIN_PERMISSIONS } from './validation/admin.js';
export {
  validateFolder,
  type NaturalKeyOptions,
  type ValidatedFolder,
} from './validation/folder.js';
export { validateFilesystem } from './validation/filesystem.js';
export { cleanPath, isValidGlob, parseCidr, type ParsedCidr } from './validation/common.js';

export interface CreateProviderOptions {
  /** directory the sqlite file name and credentials_path are resolved against */
  configDir: string;
  logger?: ProviderLogger;
  /** encrypts Plain secrets on save (src/kms); without it, saving a Plain secret fails */
  kms?: SecretEncrypter;
  /** clock in ms (tests) */
  now?: () => number;
  /** timers of the delayed quota update loop (tests) */
  quotaTimers?: QuotaTimers;
  /** the hooks' HTTP client (the service's, built from the `http` section): login hooks and data-provider actions that are URLs */
  hookHttp?: HookHttpClient;
  /** time limits of login hook programs (tests) */
  hookTimeouts?: { loginMs?: number; keyboardInteractiveMs?: number };
}

interface Opened {
  ds: DataSource;
  cfg: DataProviderConfig;
  dialect: Dialect;
  entities: ReturnType<typeof createEntities>;
}

async function open(input: DataProviderConfigInput, o: CreateProviderOptions): Promise<Opened> {
  const cfg = resolveDataProviderConfig(input);
  const dialect = dialectOf(cfg.driver);
  const entities = createEntities(cfg.sql_tables_prefix, dialect);
  const ds = new DataSource(
    buildDataSourceOptions(
      cfg,
      o.configDir,
      entities,
      createMigrations(dialect, cfg.sql_tables_prefix, { kms: o.kms }),
    ),
  );
  try {
    await ds.initialize();
  } catch (e) {
    throw new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `unable to open the ${cfg.driver} data provider: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return { ds, cfg, dialect, entities };
}

/**
 * Runs pending migrations under a cross-process lock where the database offers one (pg advisory
 * lock, MySQL GET_LOCK), so several `sftpgo serve` instances can start together; a database
 * SFTPGo created is adopted first (upstream-schema.ts). Returns how many migrations ran, plus one
 * for an adoption.
 */
async function migrate(
  ds: DataSource,
  dialect: Dialect,
  cfg: DataProviderConfig,
  logger: ProviderLogger | undefined,
): Promise<number> {
  const prefix = cfg.sql_tables_prefix;
  const lockName = `sftpgo_${tableNames(prefix).migrations}`;
  const qr = dialect === 'sqlite' ? undefined : ds.createQueryRunner();
  try {
    if (dialect === 'postgres')
      await qr?.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    if (dialect === 'mysql') await qr?.query('SELECT GET_LOCK(?, 60)', [lockName]);
    const adopted = await adoptUpstreamSchema(ds, dialect, prefix);
    if (adopted !== undefined) {
      logger?.info(
        { sender: 'dataprovider', driver: cfg.driver, schema_version: adopted },
        `adopted an SFTPGo schema at version ${adopted}`,
      );
    }
    const ran = await ds.runMigrations({ transaction: dialect === 'mysql' ? 'each' : 'all' });
    return ran.length + (adopted === undefined ? 0 : 1);
  } finally {
    if (qr !== undefined) {
      try {
        if (dialect === 'postgres')
          await qr.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]);
        if (dialect === 'mysql') await qr.query('SELECT RELEASE_LOCK(?)', [lockName]);
      } finally {
        await qr.release();
      }
    }
  }
}

/** The version in `schema_version`, undefined when the schema is not there. */
async function schemaVersionOf(
  ds: DataSource,
  dialect: Dialect,
  prefix: string,
): Promise<number | undefined> {
  const qr = ds.createQueryRunner();
  try {
    return await readSchemaVersion(qr, dialect, prefix);
  } finally {
    await qr.release();
  }
}

/**
 * Whether a start with update_mode 1 must refuse the database: a migration is pending (without
 * creating the migrations table, as TypeORM's showMigrations would). A schema at the current
 * version only missing the (no-op) upgrade step's bookkeeping row is fine. A database SFTPGo
 * created has every migration pending until `initprovider` adopts it.
 */
async function needsInitialization(
  ds: DataSource,
  dialect: Dialect,
  prefix: string,
): Promise<boolean> {
  const pending = await new MigrationExecutor(ds).getPendingMigrations();
  if (pending.length === 0) return false;
  if (pending.some((m) => m.name !== upgradeMigrationName(dialect))) return true;
  return (await schemaVersionOf(ds, dialect, prefix)) !== SCHEMA_VERSION;
}

function migrationError(
  cfg: DataProviderConfig,
  e: unknown,
  what: 'initialize' | 'revert' = 'initialize',
): SftpgoError {
  if (SftpgoError.is(e)) return e;
  return new SftpgoError(
    'BACKEND_UNAVAILABLE',
    `unable to ${what} the ${cfg.driver} data provider: ${(e as Error).message}`,
    { cause: e },
  );
}

/**
 * Opens the configured store. With update_mode 0 pending migrations run first; with update_mode 1
 * a store that is not up to date is refused (run `sftpgo initprovider`).
 * Throws INVALID_INPUT for a bad config slice, BACKEND_UNAVAILABLE when the database cannot be
 * opened or migrated.
 */
export async function createProvider(
  cfgInput: DataProviderConfigInput,
  o: CreateProviderOptions,
): Promise<DataProvider> {
  // program hooks must exist before anything is opened (upstream refuses to start otherwise)
  await checkLoginHookPaths(resolveDataProviderConfig(cfgInput));
  const { ds, cfg, dialect, entities } = await open(cfgInput, o);
  try {
    if (cfg.update_mode === 0 || cfg.driver === 'memory') {
      const n = await migrate(ds, dialect, cfg, o.logger);
      if (n > 0)
        o.logger?.info({ sender: 'dataprovider', driver: cfg.driver }, 'data provider initialized');
    } else if (await needsInitialization(ds, dialect, cfg.sql_tables_prefix)) {
      throw new SftpgoError(
        'BACKEND_UNAVAILABLE',
        'the data provider is not initialized or not up to date, run "sftpgo initprovider" (update_mode is 1)',
      );
    }
  } catch (e) {
    await ds.destroy();
    throw migrationError(cfg, e);
  }
  const core = new ProviderCore({
    store: new TypeormStore({ dataSource: ds, entities, dialect }),
    config: cfg,
    kms: o.kms,
    // relative to the config dir, as upstream (src/config has resolved it already for serve)
    credentialsFiles: new CredentialsFiles({
      dir: resolve(o.configDir, cfg.credentials_path),
      preferDatabase: cfg.prefer_database_credentials,
      logger: o.logger,
    }),
    logger: o.logger,
    ...(o.now !== undefined ? { now: o.now } : {}),
    ...(o.quotaTimers !== undefined ? { quotaTimers: o.quotaTimers } : {}),
    hookHttp: o.hookHttp,
    hookTimeouts: o.hookTimeouts,
  });
  const dumpFile = memoryDumpFile(cfg, o.configDir);
  if (dumpFile !== undefined) {
    try {
      await loadMemoryDump(core, dumpFile, o.logger);
    } catch (e) {
      await core.close();
      throw e;
    }
  }
  return core;
}

export type InitializeResult = 'created' | 'up to date';

/**
 * `sftpgo initprovider`: creates or updates the schema, adopting a database SFTPGo created
 * (upstream-schema.ts). Returns 'up to date' when there was nothing to do (upstream's "the data
 * provider is up to date"), 'created' otherwise.
 */
export async function initializeProvider(
  cfgInput: DataProviderConfigInput,
  o: CreateProviderOptions,
): Promise<InitializeResult> {
  // nothing is stored: upstream's ErrNoInitRequired, "the data provider is up to date"
  if (resolveDataProviderConfig(cfgInput).driver === 'memory') return 'up to date';
  const { ds, cfg, dialect } = await open(cfgInput, o);
  try {
    const n = await migrate(ds, dialect, cfg, o.logger);
    return n > 0 ? 'created' : 'up to date';
  } catch (e) {
    throw migrationError(cfg, e);
  } finally {
    await ds.destroy();
  }
}

export type RevertResult = 'reverted' | 'already at target';

/**
 * `sftpgo revertprovider --to-version 8`: takes the SQL schema from version 10 (or 9) down to 8,
 * the SFTPGo 2.0.x layout (schema-versions.ts has what changes), and removes the bookkeeping row
 * of the upgrade migration so that the next `initprovider` brings it back to 10. Returns 'already
 * at target' when the schema is at 8. Throws INVALID_INPUT for another target version, for the
 * memory driver and for a schema this cannot revert; BACKEND_UNAVAILABLE when the database
 * cannot be opened or the schema is missing. `kms` must decrypt when an Azure Blob sas_url is
 * stored.
 */
export async function revertProvider(
  cfgInput: DataProviderConfigInput,
  targetVersion: number,
  o: CreateProviderOptions,
): Promise<RevertResult> {
  if (targetVersion !== OLDEST_SCHEMA_VERSION) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `unsupported target version ${targetVersion}, ${OLDEST_SCHEMA_VERSION} is the only supported one`,
    );
  }
  if (resolveDataProviderConfig(cfgInput).driver === 'memory')
    throw new SftpgoError('INVALID_INPUT', 'the memory provider cannot be reverted');
  const { ds, cfg, dialect } = await open(cfgInput, o);
  const prefix = cfg.sql_tables_prefix;
  const qr = ds.createQueryRunner();
  try {
    const version = await readSchemaVersion(qr, dialect, prefix);
    if (version === undefined) {
      throw new SftpgoError(
        'BACKEND_UNAVAILABLE',
        'the data provider is not initialized, there is nothing to revert',
      );
    }
    if (version === targetVersion) return 'already at target';
    // one transaction where DDL is transactional (MySQL commits each ALTER on its own: there the
    // intermediate version 9 is what a re-run starts from)
    await qr.startTransaction();
    try {
      await downgradeSchema(qr, dialect, prefix, o.kms);
      const esc = (s: string): string => ds.driver.escape(s);
      await qr.query(
        `DELETE FROM ${esc(tableNames(prefix).migrations)} WHERE ${esc('name')} = ` +
          (dialect === 'postgres' ? '$1' : '?'),
        [upgradeMigrationName(dialect)],
      );
      await qr.commitTransaction();
    } catch (e) {
      await qr.rollbackTransaction();
      throw e;
    }
    return 'reverted';
  } catch (e) {
    throw migrationError(cfg, e, 'revert');
  } finally {
    await qr.release();
    await ds.destroy();
  }
}

export type DefaultAdminResult =
  | { action: 'exists' }
  | { action: 'created_from_env'; username: string }
  | { action: 'created_default'; username: string }
  | { action: 'none' };

export interface EnsureDefaultAdminOptions {
  /** data_provider.create_default_admin */
  createDefaultAdmin: boolean;
  /** the process environment (passed in: no code below service reads process.env) */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * First-admin logic, when the store has no admin: SFTPGO_DEFAULT_ADMIN_USERNAME and
 * SFTPGO_DEFAULT_ADMIN_PASSWORD (both set) create that admin with `*`; otherwise
 * create_default_admin creates admin/password with `*`; otherwise nothing is done.
 */
export async function ensureDefaultAdmin(
  provider: DataProvider,
  o: EnsureDefaultAdminOptions,
): Promise<DefaultAdminResult> {
  if ((await provider.countAdmins()) > 0) return { action: 'exists' };
  const envUser = o.env['SFTPGO_DEFAULT_ADMIN_USERNAME'] ?? '';
  const envPassword = o.env['SFTPGO_DEFAULT_ADMIN_PASSWORD'] ?? '';
  if (envUser !== '' && envPassword !== '') {
    await provider.addAdmin({
      username: envUser,
      password: envPassword,
      status: 1,
      permissions: ['*'],
    });
    return { action: 'created_from_env', username: envUser };
  }
  if (o.createDefaultAdmin) {
    await provider.addAdmin({
      username: 'admin',
      password: 'password',
      status: 1,
      permissions: ['*'],
    });
    return { action: 'created_default', username: 'admin' };
  }
  return { action: 'none' };
}
