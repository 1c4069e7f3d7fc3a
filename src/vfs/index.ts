/**
 * Public surface of the virtual filesystem layer (STYLE.md §D).
 */
export type {
  FileHandle,
  FileInfo,
  Fs,
  FsCapabilities,
  FsKind,
  FsLogger,
  ResolvedFile,
  ResolvedLink,
  Op,
  OpenFileOptions,
  OpenFlags,
  SetStatAttrs,
  StatVfs,
  Upload,
  Usage,
  WriteStreamOptions,
} from './types.js';
export { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './types.js';
export {
  dirsForVirtualPath,
  isSameOrBelow,
  isStrictlyBelow,
  joinVirtual,
  normalizeVirtualPath,
  virtualBase,
  virtualDir,
} from './path.js';
export { errnoCode, mapFsError, throwIfAborted } from './errors.js';
export { MountTable, type Mount, type MountFolder, type Resolved } from './mount-table.js';
export {
  createFs,
  fsKindOf,
  PROVIDER_KINDS,
  storageLocationOf,
  type BackendModule,
  type CreateFsOptions,
  type FilesystemConfig,
  type ProviderNumber,
  type SecretDecrypter,
  type StorageLocation,
} from './registry.js';
export { LocalFs, type LocalFsOptions } from './backends/local/index.js';
