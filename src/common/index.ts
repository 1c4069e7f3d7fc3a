/**
 * Public surface of the protocol-independent core (STYLE.md §D, DESIGN.md "src/common"):
 * what sftpd, ftpd, webdavd and httpd build on.
 */
export {
  Connection,
  type ConnectionOptions,
  type CopyOptions,
  type QuotaCheckResult,
  type TreeResult,
  type UploadOptions,
} from './connection.js';
export {
  MAX_WALK_DEPTH,
  walkDenial,
  walkTree,
  type WalkEntry,
  type WalkEntryType,
  type WalkHost,
  type WalkOptions,
} from './walk.js';
export {
  ConnectionRegistry,
  IDLE_LOGIN_TIMEOUT_MS,
  newConnectionId,
  newXid,
  type ActiveConnection,
  type ConnectionRegistryOptions,
  type IdleCheckerOptions,
  type NetworkConnection,
} from './registry.js';
export {
  checkLogin,
  getAllowedLoginMethods,
  getNextAuthMethods,
  isLoginMethodAllowed,
  isPartialAuth,
  LOGIN_METHODS,
  SSH_MULTI_STEP_METHODS,
  type CheckLoginOptions,
  type SessionCounter,
} from './login.js';
export { createUserFs, isFolderIncludedInUserQuota, type UserFsDeps } from './user-fs.js';
export {
  DownloadTransfer,
  ERR_QUOTA_EXCEEDED,
  UploadTransfer,
  type Transfer,
  type UploadOpenMode,
} from './transfer.js';
export {
  getPermissionsForPath,
  hasPerm,
  hasPerms,
  ipFromRemoteAddress,
  isFileAllowed,
  isLoginFromAddrAllowed,
  matchShellPattern,
  userHasQuotaRestrictions,
} from './user-policy.js';
export { scanFolderQuota, scanUserQuota, type ScanResult } from './quota-scan.js';
export { WriteQueue, type PositionalWriter, type WriteQueueOptions } from './write-queue.js';
export {
  UploadBuffers,
  type BufferedUploadTarget,
  type UploadBuffersOptions,
} from './upload-buffers.js';
export { Throttle } from './throttle.js';
export {
  loginProtocolOf,
  PROTOCOLS,
  silentLogger,
  type ConnectionConfig,
  type ConnectionStatus,
  type LoginMethod,
  type LoginProtocol,
  type Logger,
  type Permission,
  type Protocol,
  type QuotaStore,
  type SetstatMode,
  type TrackQuota,
  type TransferStatus,
  type UploadMode,
} from './types.js';
export type { ListeningAddress, ProtocolServer } from './server.js';
