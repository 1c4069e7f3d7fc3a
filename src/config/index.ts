/**
 * Public surface of src/config: the sftpgo.json schema of SFTPGo 2.1.2 (plus documented
 * sftpgo-ts additions, see schema.ts and docs/configuration.md) and the loader.
 */
export {
  loadConfig,
  defaultConfig,
  defaultConfigFor,
  defaultSearchDirs,
  findConfigFile,
  readConfigFile,
  CONFIG_NAME,
  CONFIG_EXTENSIONS,
} from './load.js';
export type { LoadConfigOptions, LoadedConfig } from './load.js';
export { resolvePath } from './paths.js';
export { NOT_IMPLEMENTED, checkNotImplemented, formatRefusals } from './not-implemented.js';
export type {
  NotImplementedAction,
  NotImplementedEntry,
  NotImplementedReport,
} from './not-implemented.js';
export { ENV_PREFIX, MAX_ENV_LIST_INDEX } from './env.js';
export {
  configSchema,
  isIpOrCidr,
  SUPPORTED_DRIVERS,
  UNSUPPORTED_DRIVERS,
  HASHING_ALGOS,
  RATE_LIMITER_PROTOCOLS,
  PROTOCOL_ACTIONS,
  PROVIDER_ACTIONS,
  SSH_COMMANDS,
} from './schema.js';
export type {
  Config,
  CommonConfig,
  ProtocolActionsConfig,
  DefenderConfig,
  RateLimiterConfig,
  SftpdConfig,
  SftpdBinding,
  FtpdConfig,
  FtpdBinding,
  WebdavdConfig,
  WebdavdBinding,
  WebdavdCorsConfig,
  DataProviderConfig,
  PasswordHashingConfig,
  HttpdConfig,
  HttpdBinding,
  TelemetryConfig,
  HttpClientConfig,
  KmsConfig,
  ProviderDriver,
  HashingAlgo,
} from './schema.js';
