/**
 * DataSource options per driver, from the `data_provider` config slice:
 * - sqlite (better-sqlite3): file `name` resolved against the config dir (default sftpgo.db),
 *   WAL journal, busy_timeout 10 s, foreign keys on; `memory`: a private in-memory database;
 * - postgresql (pg): host/port/username/password/name or connection_string, sslmode 0-3,
 *   pool_size;
 * - mysql (mysql2): same keys, utf8mb4.
 * Always `synchronize: false`; migrations run explicitly (see index.ts).
 */
import { isAbsolute, join } from 'node:path';
import type { DataSourceOptions, MigrationInterface } from 'typeorm';
import type { DataProviderConfig } from './config.js';
import { tableNames, type Entities } from './entities.js';
import type { Dialect } from './migrations.js';

export function dialectOf(driver: string): Dialect {
  if (driver === 'postgresql') return 'postgres';
  if (driver === 'mysql') return 'mysql';
  return 'sqlite';
}

/** Absolute path of the SQLite database file. */
export function sqlitePath(cfg: DataProviderConfig, configDir: string): string {
  const name = cfg.name === '' ? 'sftpgo.db' : cfg.name;
  return isAbsolute(name) ? name : join(configDir, name);
}

const SQLITE_BUSY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

function pgSsl(mode: number): boolean | Record<string, unknown> {
  switch (mode) {
    case 1:
      return { rejectUnauthorized: false };
    case 2:
      // verify-ca: the chain must be trusted, the host name is not checked
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 3:
      return { rejectUnauthorized: true };
    default:
      return false;
  }
}

function mysqlSsl(mode: number): Record<string, unknown> | undefined {
  switch (mode) {
    case 1:
      return { rejectUnauthorized: true };
    case 2: // skip-verify
    case 3: // preferred: mysql2 cannot fall back to plain text, so TLS without verification
      return { rejectUnauthorized: false };
    default:
      return undefined;
  }
}

export function buildDataSourceOptions(
  cfg: DataProviderConfig,
  configDir: string,
  entities: Entities,
  migrations: (new () => MigrationInterface)[],
): DataSourceOptions {
  const common = {
    entities: Object.values(entities),
    migrations,
    migrationsTableName: tableNames(cfg.sql_tables_prefix).migrations,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  const url = cfg.connection_string === '' ? undefined : cfg.connection_string;
  const poolSize = cfg.pool_size > 0 ? cfg.pool_size : undefined;
  switch (cfg.driver) {
    case 'postgresql':
      return {
        ...common,
        type: 'postgres',
        ...(url !== undefined
          ? { url }
          : {
              host: cfg.host === '' ? 'localhost' : cfg.host,
              port: cfg.port === 0 ? 5432 : cfg.port,
              username: cfg.username,
              password: cfg.password,
              database: cfg.name,
              ssl: pgSsl(cfg.sslmode),
            }),
        ...(poolSize !== undefined ? { poolSize } : {}),
        applicationName: 'sftpgo',
        connectTimeoutMS: CONNECT_TIMEOUT_MS,
      };
    case 'mysql': {
      const ssl = mysqlSsl(cfg.sslmode);
      return {
        ...common,
        type: 'mysql',
        ...(url !== undefined
          ? { url }
          : {
              host: cfg.host === '' ? 'localhost' : cfg.host,
              port: cfg.port === 0 ? 3306 : cfg.port,
              username: cfg.username,
              password: cfg.password,
              database: cfg.name,
              ...(ssl !== undefined ? { ssl } : {}),
            }),
        ...(poolSize !== undefined ? { poolSize } : {}),
        charset: 'utf8mb4',
        connectTimeout: CONNECT_TIMEOUT_MS,
      };
    }
    case 'memory':
      return { ...common, type: 'better-sqlite3', database: ':memory:' };
    case 'sqlite':
      return {
        ...common,
        type: 'better-sqlite3',
        database: sqlitePath(cfg, configDir),
        enableWAL: true,
        timeout: SQLITE_BUSY_TIMEOUT_MS,
      };
  }
}
