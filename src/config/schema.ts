/**
 * The sftpgo.json key tree of SFTPGo 2.1.2 with its shipped defaults, as a zod 4 schema.
 *
 * Every key keeps upstream's snake_case name; `Config` mirrors the file as-is (STYLE.md §B, §E).
 * Parsing `{}` yields the complete default configuration: every field carries its default and
 * every nested object uses `.prefault({})` so its own field defaults apply.
 *
 * Deliberate differences from the shipped sftpgo.json of 2.1.2 (also in docs/configuration.md):
 * - `httpd.bindings[].address` defaults to "127.0.0.1" (the upstream *code* default) instead of
 *   the json's "" (all interfaces): the REST API and web admin are not exposed by accident.
 * - `httpd.signing_passphrase` (string, default ""): sftpgo-ts addition (upstream got it in 2.2).
 *   When set, the JWT signing key is derived from it, so several instances accept each other's
 *   tokens; empty means a random key per start.
 * - `common.fsync_uploads` (boolean, default false): sftpgo-ts addition, fsync every upload
 *   before its completion is reported (atomic uploads are always synced before their rename).
 * - `httpd.max_header_bytes` (integer 4096-1048576, default 65536): sftpgo-ts addition, the
 *   limit on a request's line plus headers (431 past it); upstream has Go's fixed 1 MiB.
 * - `data_provider.driver` accepts sqlite, postgresql, mysql and memory (service/memory-dump.ts);
 *   "bolt" and "cockroachdb" are rejected with a clear "not supported by sftpgo-ts" message.
 * - Values upstream silently resets (invalid upload_mode, external_auth_scope ...) are errors here.
 * What upstream accepts is accepted: its own ranges (client_auth_type 2 for ftpd/webdavd, negative
 * max_auth_tries, fractional http.timeout, hash_support > 1, any bcrypt cost <= 31, anything in a
 * disabled rate limiter); keys in any case and weakly typed values are handled by coerce.ts.
 */
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// leaf builders with our error wording

const MSG_STRING = 'expected a string';
const MSG_BOOL = 'expected a boolean (true/false)';
const MSG_OBJECT = 'expected an object';
const MSG_STRING_LIST = 'expected a list of strings';

const str = (def = '') => z.string({ error: MSG_STRING }).default(def);
const bool = (def: boolean) => z.boolean({ error: MSG_BOOL }).default(def);
const strList = (def: readonly string[] = []) =>
  z.array(z.string({ error: MSG_STRING }), { error: MSG_STRING_LIST }).default(() => [...def]);

/** An integer in [min, max]; `max` undefined = unbounded. */
function intIn(min: number, max: number | undefined, def: number) {
  const msg =
    max === undefined ? `expected an integer >= ${min}` : `expected an integer ${min}-${max}`;
  let s = z.number({ error: msg }).int({ error: msg }).min(min, { error: msg });
  if (max !== undefined) s = s.max(max, { error: msg });
  return s.default(def);
}
const port = (def: number) => intIn(0, 65535, def);
/** any integer, negative included (upstream gives negative values a meaning, e.g. "unlimited") */
const anyInt = (def: number) =>
  z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }).default(def);
const nonNegInt = (def: number) => intIn(0, undefined, def);

/** `.prefault({})` makes a missing nested object take all of its field defaults. */
function obj<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape, { error: MSG_OBJECT });
}

/** list of IP addresses or CIDR networks (proxy_allowed) */
const ipOrCidrList = () =>
  z
    .array(
      z.string({ error: MSG_STRING }).refine(isIpOrCidr, {
        error: (iss) => `"${String(iss.input)}" is not an IP address or CIDR network`,
      }),
      { error: MSG_STRING_LIST },
    )
    .default(() => []);

export function isIpOrCidr(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return isIP(v) !== 0;
  const ip = v.slice(0, slash);
  const bitsStr = v.slice(slash + 1);
  const fam = isIP(ip);
  if (fam === 0 || !/^\d{1,3}$/.test(bitsStr)) return false;
  const bits = Number(bitsStr);
  return bits <= (fam === 4 ? 32 : 128);
}

// ---------------------------------------------------------------------------------------------
// enumerations

export const SUPPORTED_DRIVERS = ['sqlite', 'postgresql', 'mysql', 'memory'] as const;
export type ProviderDriver = (typeof SUPPORTED_DRIVERS)[number];
/** upstream driver names we recognise only to reject them clearly */
export const UNSUPPORTED_DRIVERS = ['bolt', 'cockroachdb'] as const;

export const HASHING_ALGOS = ['bcrypt', 'argon2id'] as const;
export type HashingAlgo = (typeof HASHING_ALGOS)[number];

/** protocol names accepted by rate limiters (upstream common.ProtocolSSH ...) */
export const RATE_LIMITER_PROTOCOLS = ['SSH', 'FTP', 'DAV', 'HTTP'] as const;

/** `common.actions.execute_on` / `execute_sync` values understood by SFTPGo 2.1.2 */
export const PROTOCOL_ACTIONS = [
  'download',
  'pre-download',
  'upload',
  'pre-upload',
  'delete',
  'pre-delete',
  'rename',
  'ssh_cmd',
] as const;
/** `data_provider.actions.execute_on` values */
export const PROVIDER_ACTIONS = ['add', 'update', 'delete'] as const;
/** `sftpd.enabled_ssh_commands` values understood by SFTPGo 2.1.2 ("*" = all) */
export const SSH_COMMANDS = [
  '*',
  'md5sum',
  'sha1sum',
  'sha256sum',
  'sha384sum',
  'sha512sum',
  'cd',
  'pwd',
  'scp',
  'git-receive-pack',
  'git-upload-pack',
  'git-upload-archive',
  'rsync',
  'sftpgo-copy',
  'sftpgo-remove',
] as const;

const driverSchema = z
  .enum(SUPPORTED_DRIVERS, {
    error: (iss) => {
      const v = iss.input;
      if (typeof v === 'string' && (UNSUPPORTED_DRIVERS as readonly string[]).includes(v)) {
        return `driver "${v}" is not supported by sftpgo-ts (use one of ${SUPPORTED_DRIVERS.join(', ')})`;
      }
      return `expected one of ${SUPPORTED_DRIVERS.join(', ')}`;
    },
  })
  .default('sqlite');

const algoSchema = z
  .enum(HASHING_ALGOS, { error: `expected one of ${HASHING_ALGOS.join(', ')}` })
  .default('bcrypt');

// ---------------------------------------------------------------------------------------------
// common

const protocolActionsSchema = obj({
  execute_on: strList(),
  execute_sync: strList(),
  hook: str(),
});

export const defenderSchema = obj({
  enabled: bool(false),
  ban_time: nonNegInt(30),
  ban_time_increment: nonNegInt(50),
  threshold: nonNegInt(15),
  score_invalid: nonNegInt(2),
  score_valid: nonNegInt(1),
  score_limit_exceeded: nonNegInt(3),
  observation_time: nonNegInt(30),
  entries_soft_limit: nonNegInt(100),
  entries_hard_limit: nonNegInt(150),
  safelist_file: str(),
  blocklist_file: str(),
}).superRefine((d, ctx) => {
  // upstream DefenderConfig.validate, only when the defender is enabled
  if (!d.enabled) return;
  const add = (path: string, message: string): void => {
    ctx.addIssue({ code: 'custom', path: [path], message });
  };
  if (d.score_invalid >= d.threshold) add('score_invalid', 'must be lower than threshold');
  if (d.score_valid >= d.threshold) add('score_valid', 'must be lower than threshold');
  if (d.score_limit_exceeded >= d.threshold)
    add('score_limit_exceeded', 'must be lower than threshold');
  if (d.ban_time <= 0) add('ban_time', 'must be greater than 0');
  if (d.ban_time_increment <= 0) add('ban_time_increment', 'must be greater than 0');
  if (d.observation_time <= 0) add('observation_time', 'must be greater than 0');
  if (d.entries_soft_limit <= 0) add('entries_soft_limit', 'must be greater than 0');
  if (d.entries_hard_limit <= d.entries_soft_limit)
    add('entries_hard_limit', 'must be greater than entries_soft_limit');
});

/**
 * A disabled limiter (average <= 0) is never looked at upstream (RateLimiterConfig.validate runs
 * only for enabled ones), so its other fields take any value of the right type; the range and
 * enumeration checks below apply to enabled limiters only.
 */
export const rateLimiterSchema = obj({
  average: anyInt(0),
  period: anyInt(1000),
  burst: anyInt(1),
  type: anyInt(2),
  protocols: strList(RATE_LIMITER_PROTOCOLS),
  generate_defender_events: bool(false),
  entries_soft_limit: anyInt(100),
  entries_hard_limit: anyInt(150),
}).superRefine((r, ctx) => {
  // upstream RateLimiterConfig.validate, only for enabled limiters (average > 0)
  if (r.average <= 0) return;
  const add = (path: (string | number)[], message: string): void => {
    ctx.addIssue({ code: 'custom', path, message });
  };
  if (r.burst < 1) add(['burst'], 'must be at least 1');
  if (r.period < 100) add(['period'], 'must be at least 100 (milliseconds)');
  if (r.type !== 1 && r.type !== 2) add(['type'], 'expected an integer 1-2');
  if (r.protocols.length === 0) add(['protocols'], 'at least one protocol is required');
  r.protocols.forEach((p, i) => {
    if (!(RATE_LIMITER_PROTOCOLS as readonly string[]).includes(p))
      add(['protocols', i], `expected one of ${RATE_LIMITER_PROTOCOLS.join(', ')}`);
  });
  if (r.type === 2) {
    if (r.entries_soft_limit <= 0) add(['entries_soft_limit'], 'must be greater than 0');
    if (r.entries_hard_limit <= r.entries_soft_limit)
      add(['entries_hard_limit'], 'must be greater than entries_soft_limit');
  }
});

export const commonSchema = obj({
  idle_timeout: nonNegInt(15),
  upload_mode: intIn(0, 2, 0),
  actions: protocolActionsSchema.prefault({}),
  setstat_mode: intIn(0, 2, 0),
  temp_path: str(),
  /**
   * sftpgo-ts addition: fsync every upload before its completion is reported. Default false,
   * as OpenSSH and upstream: then only atomic uploads (upload_mode 1/2) are synced, before
   * their rename, so a crash never leaves a truncated file under the final name; clients that
   * want durability of a direct upload ask for it (SFTP fsync@openssh.com, `put -f`).
   */
  fsync_uploads: bool(false),
  /**
   * sftpgo-ts addition (the name later SFTPGo versions use): seconds a stopping service
   * (SIGTERM/SIGINT) waits for running transfers before cutting them; new connections are
   * refused meanwhile. 0 = cut at once (2.1.2 exits at once).
   */
  grace_time: nonNegInt(0),
  proxy_protocol: intIn(0, 2, 0),
  proxy_allowed: ipOrCidrList(),
  startup_hook: str(),
  post_connect_hook: str(),
  max_total_connections: nonNegInt(0),
  max_per_host_connections: nonNegInt(20),
  defender: defenderSchema.prefault({}),
  rate_limiters: z.array(rateLimiterSchema, { error: 'expected a list of objects' }).prefault([{}]),
});

// ---------------------------------------------------------------------------------------------
// sftpd

export const sftpdBindingSchema = obj({
  port: port(2022),
  address: str(),
  apply_proxy_config: bool(true),
});

export const sftpdSchema = obj({
  bindings: z.array(sftpdBindingSchema, { error: 'expected a list of objects' }).prefault([{}]),
  /** 0 = 6 (upstream default), negative = unlimited (src/sftpd effectiveMaxAuthTries) */
  max_auth_tries: anyInt(0),
  banner: str(),
  host_keys: strList(),
  kex_algorithms: strList(),
  ciphers: strList(),
  macs: strList(),
  trusted_user_ca_keys: strList(),
  login_banner_file: str(),
  enabled_ssh_commands: strList(['md5sum', 'sha1sum', 'cd', 'pwd', 'scp']),
  keyboard_interactive_auth_hook: str(),
  password_authentication: bool(true),
});

// ---------------------------------------------------------------------------------------------
// ftpd

export const ftpdBindingSchema = obj({
  port: port(0),
  address: str(),
  apply_proxy_config: bool(true),
  tls_mode: intIn(0, 2, 0),
  force_passive_ip: str(),
  /** 0 no client certificate, 1 required, 2 verified if given (upstream ftpd/webdavd) */
  client_auth_type: intIn(0, 2, 0),
  tls_cipher_suites: strList(),
});

export const ftpdSchema = obj({
  bindings: z.array(ftpdBindingSchema, { error: 'expected a list of objects' }).prefault([{}]),
  banner: str(),
  banner_file: str(),
  active_transfers_port_non_20: bool(true),
  passive_port_range: obj({
    start: port(50000),
    end: port(50100),
  })
    .refine((r) => r.end >= r.start, { error: 'end must not be lower than start', path: ['end'] })
    .prefault({}),
  disable_active_mode: bool(false),
  enable_site: bool(false),
  /** upstream: any value > 0 enables the feature */
  hash_support: nonNegInt(0),
  combine_support: nonNegInt(0),
  certificate_file: str(),
  certificate_key_file: str(),
  ca_certificates: strList(),
  ca_revocation_lists: strList(),
});

// ---------------------------------------------------------------------------------------------
// webdavd

export const webdavdBindingSchema = obj({
  port: port(0),
  address: str(),
  enable_https: bool(false),
  /** 0 no client certificate, 1 required, 2 verified if given (upstream ftpd/webdavd) */
  client_auth_type: intIn(0, 2, 0),
  tls_cipher_suites: strList(),
  prefix: str(),
  proxy_allowed: ipOrCidrList(),
});

const corsSchema = obj({
  enabled: bool(false),
  allowed_origins: strList(),
  allowed_methods: strList(),
  allowed_headers: strList(),
  exposed_headers: strList(),
  allow_credentials: bool(false),
  max_age: nonNegInt(0),
});

export const webdavdSchema = obj({
  bindings: z.array(webdavdBindingSchema, { error: 'expected a list of objects' }).prefault([{}]),
  certificate_file: str(),
  certificate_key_file: str(),
  ca_certificates: strList(),
  ca_revocation_lists: strList(),
  cors: corsSchema.prefault({}),
  cache: obj({
    users: obj({
      expiration_time: nonNegInt(0),
      max_size: nonNegInt(50),
    }).prefault({}),
    mime_types: obj({
      enabled: bool(true),
      max_size: nonNegInt(1000),
    }).prefault({}),
  }).prefault({}),
});

// ---------------------------------------------------------------------------------------------
// data_provider

export const dataProviderSchema = obj({
  driver: driverSchema,
  name: str('sftpgo.db'),
  host: str(),
  port: port(0),
  username: str(),
  password: str(),
  sslmode: intIn(0, 3, 0),
  connection_string: str(),
  sql_tables_prefix: str(),
  track_quota: intIn(0, 2, 2),
  delayed_quota_update: nonNegInt(0),
  pool_size: nonNegInt(0),
  users_base_dir: str().refine((p) => p === '' || isAbsolute(p), {
    error: 'must be an absolute path',
  }),
  actions: obj({
    execute_on: strList(),
    hook: str(),
  }).prefault({}),
  external_auth_hook: str(),
  external_auth_scope: intIn(0, 15, 0),
  credentials_path: str('credentials'),
  prefer_database_credentials: bool(false),
  pre_login_hook: str(),
  post_login_hook: str(),
  post_login_scope: intIn(0, 2, 0),
  check_password_hook: str(),
  check_password_scope: intIn(0, 7, 0),
  password_hashing: obj({
    bcrypt_options: obj({
      /**
       * Go's bcrypt uses its default cost (10) for any cost below 4 (bcrypt.MinCost); loadConfig
       * does the same, with a warning. Above 31 bcrypt fails, so that is refused.
       */
      cost: z
        .number({ error: 'expected an integer <= 31' })
        .int({ error: 'expected an integer <= 31' })
        .max(31, { error: 'expected an integer <= 31' })
        .default(10),
    }).prefault({}),
    argon2_options: obj({
      memory: intIn(1, undefined, 65536),
      iterations: intIn(1, undefined, 1),
      parallelism: intIn(1, 255, 2),
    }).prefault({}),
    algo: algoSchema,
  }).prefault({}),
  password_caching: bool(true),
  update_mode: intIn(0, 1, 0),
  skip_natural_keys_validation: bool(false),
  create_default_admin: bool(false),
});

// ---------------------------------------------------------------------------------------------
// httpd

export const httpdBindingSchema = obj({
  port: port(8080),
  /** sftpgo-ts default: 127.0.0.1 (upstream code default; the shipped json has "") */
  address: str('127.0.0.1'),
  enable_web_admin: bool(true),
  enable_web_client: bool(true),
  enable_https: bool(false),
  client_auth_type: intIn(0, 1, 0),
  tls_cipher_suites: strList(),
  proxy_allowed: ipOrCidrList(),
});

export const httpdSchema = obj({
  bindings: z.array(httpdBindingSchema, { error: 'expected a list of objects' }).prefault([{}]),
  templates_path: str('templates'),
  static_files_path: str('static'),
  backups_path: str('backups'),
  web_root: str(),
  certificate_file: str(),
  certificate_key_file: str(),
  ca_certificates: strList(),
  ca_revocation_lists: strList(),
  /** sftpgo-ts addition: derive the JWT signing key from this passphrase; "" = random per start */
  signing_passphrase: str(),
  /**
   * sftpgo-ts addition: the most bytes a request line plus its headers may take before the
   * answer is 431. Node's own default (16 KiB) refuses the large cookies and SSO headers that
   * proxies forward; Go's (upstream's) default is 1 MiB, kept as the upper bound.
   */
  max_header_bytes: intIn(4096, 1024 * 1024, 64 * 1024),
});

// ---------------------------------------------------------------------------------------------
// telemetry, http (hooks' HTTP client), kms

export const telemetrySchema = obj({
  bind_port: port(10000),
  bind_address: str('127.0.0.1'),
  enable_profiler: bool(false),
  auth_user_file: str(),
  certificate_file: str(),
  certificate_key_file: str(),
  tls_cipher_suites: strList(),
});

export const httpClientCertificateSchema = obj({ cert: str(), key: str() });
export const httpClientHeaderSchema = obj({ key: str(), value: str(), url: str() });

export const httpClientSchema = obj({
  /** seconds; fractions allowed (upstream float64) */
  timeout: z
    .number({ error: 'expected a number >= 0' })
    .min(0, { error: 'expected a number >= 0' })
    .default(20),
  retry_wait_min: nonNegInt(2),
  retry_wait_max: nonNegInt(30),
  retry_max: nonNegInt(3),
  ca_certificates: strList(),
  certificates: z
    .array(httpClientCertificateSchema, { error: 'expected a list of objects' })
    .default(() => []),
  skip_tls_verify: bool(false),
  headers: z
    .array(httpClientHeaderSchema, { error: 'expected a list of objects' })
    .default(() => []),
});

export const kmsSchema = obj({
  secrets: obj({
    url: str(),
    master_key_path: str(),
  }).prefault({}),
});

// ---------------------------------------------------------------------------------------------
// root

export const configSchema = obj({
  common: commonSchema.prefault({}),
  sftpd: sftpdSchema.prefault({}),
  ftpd: ftpdSchema.prefault({}),
  webdavd: webdavdSchema.prefault({}),
  data_provider: dataProviderSchema.prefault({}),
  httpd: httpdSchema.prefault({}),
  telemetry: telemetrySchema.prefault({}),
  http: httpClientSchema.prefault({}),
  kms: kmsSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type CommonConfig = Config['common'];
export type ProtocolActionsConfig = CommonConfig['actions'];
export type DefenderConfig = CommonConfig['defender'];
export type RateLimiterConfig = CommonConfig['rate_limiters'][number];
export type SftpdConfig = Config['sftpd'];
export type SftpdBinding = SftpdConfig['bindings'][number];
export type FtpdConfig = Config['ftpd'];
export type FtpdBinding = FtpdConfig['bindings'][number];
export type WebdavdConfig = Config['webdavd'];
export type WebdavdBinding = WebdavdConfig['bindings'][number];
export type WebdavdCorsConfig = WebdavdConfig['cors'];
export type DataProviderConfig = Config['data_provider'];
export type PasswordHashingConfig = DataProviderConfig['password_hashing'];
export type HttpdConfig = Config['httpd'];
export type HttpdBinding = HttpdConfig['bindings'][number];
export type TelemetryConfig = Config['telemetry'];
export type HttpClientConfig = Config['http'];
export type KmsConfig = Config['kms'];

/**
 * Lists of objects that env variables address by index (`SFTPGO_SFTPD__BINDINGS__0__PORT`),
 * with the schema of one element (a new element starts from its defaults, as upstream).
 */
export const INDEXED_LISTS: Readonly<Record<string, z.ZodType>> = {
  'common.rate_limiters': rateLimiterSchema,
  'sftpd.bindings': sftpdBindingSchema,
  'ftpd.bindings': ftpdBindingSchema,
  'webdavd.bindings': webdavdBindingSchema,
  'httpd.bindings': httpdBindingSchema,
  'http.certificates': httpClientCertificateSchema,
  'http.headers': httpClientHeaderSchema,
};
