export {
  SftpgoClient,
  MAX_PAGE_SIZE,
  listAll,
  normalizeServerUrl,
  type Admin,
  type ApiMessage,
  type BackupData,
  type CallOptions,
  type ConnectionStatus,
  type DefenderEntry,
  type DumpOptions,
  type FetchFn,
  type Folder,
  type FolderQuotaScan,
  type ListOptions,
  type LoadMode,
  type LoadOptions,
  type QuotaMode,
  type QuotaScan,
  type QuotaUsage,
  type ScanQuotaMode,
  type ServicesStatus,
  type SftpgoClientOptions,
  type Transfer,
  type User,
  type VersionInfo,
} from './client.js';
export { ApiError, httpErrorMessage, type ApiErrorKind } from './errors.js';
export { TOKEN_RENEW_MARGIN_MS, isAccessToken, tokenIsFresh, type AccessToken } from './token.js';
export { profilePath, profileToken, readProfile, writeProfile, type Profile } from './profile.js';
export { defenderHostId } from './ids.js';
