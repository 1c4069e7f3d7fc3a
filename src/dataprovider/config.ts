/**
 * The keys of the `data_provider` config slice (src/config `Config['data_provider']`, snake_case
 * as in sftpgo.json) that this layer reads. The full slice is accepted wherever a
 * DataProviderConfigInput is expected.
 */
import type { DataProviderConfig as DataProviderConfigSlice } from '../config/index.js';
import { defaultConfig } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';

type SliceKeys =
  | 'name'
  | 'host'
  | 'port'
  | 'username'
  | 'password'
  | 'sslmode'
  | 'connection_string'
  | 'sql_tables_prefix'
  | 'track_quota'
  | 'delayed_quota_update'
  | 'pool_size'
  | 'users_base_dir'
  | 'create_default_admin'
  | 'password_caching'
  | 'skip_natural_keys_validation'
  | 'update_mode'
  | 'credentials_path'
  | 'prefer_database_credentials'
  | 'external_auth_hook'
  | 'external_auth_scope'
  | 'pre_login_hook'
  | 'check_password_hook'
  | 'check_password_scope'
  | 'actions';

export interface PasswordHashingConfig {
  bcrypt_options: { cost: number };
  argon2_options: { memory: number; iterations: number; parallelism: number };
  /** 'bcrypt' (default) or 'argon2id' */
  algo: string;
}

export type DataProviderConfig = Pick<DataProviderConfigSlice, SliceKeys> & {
  /** sqlite (default), postgresql, mysql; `memory` (tests, tools): a private in-memory SQLite */
  driver: DataProviderConfigSlice['driver'] | 'memory';
  password_hashing: PasswordHashingConfig;
};

/** A partial slice (tests, tools) completed with the defaults of src/config. */
export type DataProviderConfigInput = Partial<
  Omit<DataProviderConfig, 'password_hashing' | 'driver'>
> & {
  driver?: string;
  password_hashing?: {
    bcrypt_options?: Partial<PasswordHashingConfig['bcrypt_options']>;
    argon2_options?: Partial<PasswordHashingConfig['argon2_options']>;
    algo?: string;
  };
};

/** Defaults of the slice, from src/config (SFTPGo 2.1.2's shipped sftpgo.json). */
export function defaultDataProviderConfig(): DataProviderConfig {
  const d = defaultConfig().data_provider;
  return {
    driver: d.driver,
    name: d.name,
    host: d.host,
    port: d.port,
    username: d.username,
    password: d.password,
    sslmode: d.sslmode,
    connection_string: d.connection_string,
    sql_tables_prefix: d.sql_tables_prefix,
    track_quota: d.track_quota,
    delayed_quota_update: d.delayed_quota_update,
    pool_size: d.pool_size,
    users_base_dir: d.users_base_dir,
    create_default_admin: d.create_default_admin,
    password_caching: d.password_caching,
    skip_natural_keys_validation: d.skip_natural_keys_validation,
    update_mode: d.update_mode,
    credentials_path: d.credentials_path,
    prefer_database_credentials: d.prefer_database_credentials,
    external_auth_hook: d.external_auth_hook,
    external_auth_scope: d.external_auth_scope,
    pre_login_hook: d.pre_login_hook,
    check_password_hook: d.check_password_hook,
    check_password_scope: d.check_password_scope,
    actions: { execute_on: [...d.actions.execute_on], hook: d.actions.hook },
    password_hashing: {
      bcrypt_options: { ...d.password_hashing.bcrypt_options },
      argon2_options: { ...d.password_hashing.argon2_options },
      algo: d.password_hashing.algo,
    },
  };
}

export const SUPPORTED_DRIVERS = ['sqlite', 'postgresql', 'mysql', 'memory'] as const;
export type SupportedDriver = (typeof SUPPORTED_DRIVERS)[number];

const SQL_PREFIX_RE = /^[a-zA-Z0-9_]*$/;
/** bcrypt's own limit (golang.org/x/crypto/bcrypt MaxCost) */
const BCRYPT_MAX_COST = 31;
const BCRYPT_MIN_COST = 4;

function bad(key: string, msg: string): SftpgoError {
  return new SftpgoError('INVALID_INPUT', `data_provider.${key}: ${msg}`);
}

/**
 * Completes `input` with the defaults and checks the keys this layer depends on.
 * Throws INVALID_INPUT naming the key (`data_provider.sql_tables_prefix: ...`).
 */
export function resolveDataProviderConfig(input: DataProviderConfigInput): DataProviderConfig {
  const d = defaultDataProviderConfig();
  const ph = input.password_hashing ?? {};
  const cfg = {
    ...d,
    ...input,
    password_hashing: {
      bcrypt_options: {
        ...d.password_hashing.bcrypt_options,
        ...ph.bcrypt_options,
      },
      argon2_options: {
        ...d.password_hashing.argon2_options,
        ...ph.argon2_options,
      },
      algo: ph.algo ?? d.password_hashing.algo,
    },
  };
  const driver = cfg.driver === '' ? 'sqlite' : cfg.driver;
  if (!(SUPPORTED_DRIVERS as readonly string[]).includes(driver)) {
    throw bad(
      'driver',
      `unsupported data provider ${JSON.stringify(driver)}, supported: ${SUPPORTED_DRIVERS.join(', ')}`,
    );
  }
  if (!SQL_PREFIX_RE.test(cfg.sql_tables_prefix)) {
    throw bad(
      'sql_tables_prefix',
      "invalid sql_tables_prefix only chars in range 'a..z', 'A..Z', '0-9' and '_' are allowed",
    );
  }
  if (![0, 1, 2].includes(cfg.track_quota)) throw bad('track_quota', 'must be 0, 1 or 2');
  if (!Number.isSafeInteger(cfg.delayed_quota_update) || cfg.delayed_quota_update < 0) {
    throw bad('delayed_quota_update', 'must be an integer >= 0');
  }
  if (![0, 1].includes(cfg.update_mode)) throw bad('update_mode', 'must be 0 or 1');
  if (![0, 1, 2, 3].includes(cfg.sslmode)) throw bad('sslmode', 'must be 0, 1, 2 or 3');
  for (const [key, max] of [
    ['external_auth_scope', 15],
    ['check_password_scope', 7],
  ] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 0 || v > max) throw bad(key, `must be an integer in 0-${max}`);
  }
  if (!Number.isInteger(cfg.pool_size) || cfg.pool_size < 0) {
    throw bad('pool_size', 'must be an integer >= 0');
  }
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) {
    throw bad('port', 'must be an integer in 0-65535');
  }
  const hashing = cfg.password_hashing;
  if (hashing.algo === '') hashing.algo = 'bcrypt';
  if (hashing.algo !== 'bcrypt' && hashing.algo !== 'argon2id') {
    throw bad('password_hashing.algo', `unsupported algorithm ${JSON.stringify(hashing.algo)}`);
  }
  const cost = hashing.bcrypt_options.cost;
  if (!Number.isInteger(cost) || cost > BCRYPT_MAX_COST) {
    throw bad(
      'password_hashing.bcrypt_options.cost',
      `invalid bcrypt cost ${cost}, max allowed ${BCRYPT_MAX_COST}`,
    );
  }
  // Go's bcrypt silently raises costs below the minimum to the default (10)
  if (cost < BCRYPT_MIN_COST) hashing.bcrypt_options.cost = 10;
  const a = hashing.argon2_options;
  for (const k of ['memory', 'iterations', 'parallelism'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1) {
      throw bad(`password_hashing.argon2_options.${k}`, 'must be an integer >= 1');
    }
  }
  if (a.parallelism > 255) {
    throw bad('password_hashing.argon2_options.parallelism', 'must be at most 255');
  }
  return { ...cfg, driver: driver as SupportedDriver };
}
