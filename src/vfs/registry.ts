/**
 * Backend factory by filesystem provider number (REST `FilesystemConfig.provider`):
 * 0 local, 1 s3, 2 gcs, 3 azblob, 4 crypt, 5 sftp. Backends are loaded with a lazy
 * `import()` so a backend's dependencies (cloud SDKs) load only when a user or folder uses it.
 */
import type { ApiFilesystemConfig, ApiSecret } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import type { Fs, FsKind, FsLogger } from './types.js';

export type FilesystemConfig = ApiFilesystemConfig;
export type ProviderNumber = 0 | 1 | 2 | 3 | 4 | 5;

export const PROVIDER_KINDS: Readonly<Record<ProviderNumber, FsKind>> = Object.freeze({
  0: 'local',
  1: 's3',
  2: 'gcs',
  3: 'azblob',
  4: 'crypt',
  5: 'sftp',
});

/** Decrypts a stored Secret of a filesystem config (the KMS); "" for an empty secret. */
export type SecretDecrypter = (secret: ApiSecret) => Promise<string>;

export interface CreateFsOptions {
  /**
   * absolute server directory: the user's home_dir or the folder's mapped_path. Local and
   * crypt store files here; the other backends may use it for local scratch data.
   */
  root: string;
  /** virtual mount point, for error messages */
  displayPrefix?: string;
  /** common.temp_path: where atomic-upload temp files go (default: beside the target) */
  tempDir?: string;
  /** fsync every upload before reporting it complete (default false: atomic uploads only) */
  fsync?: boolean;
  /** create the root directory (mkdir -p) when it is missing, on first access */
  createRoot?: boolean;
  /** owner for created files when running as root */
  uid?: number;
  gid?: number;
  /** errors that need an operator (a file left under a temporary name) */
  logger?: FsLogger;
  /**
   * decrypts the config's secrets (access keys, passphrases, private keys) in memory when the
   * backend is built; backends with credentials refuse to start without it
   */
  decryptSecret?: SecretDecrypter;
  /** the user the filesystem is built for (log lines; the SFTP backend's loop guard) */
  username?: string;
  /**
   * the SHA256 fingerprints of this server's own SSH host keys: the SFTP backend refuses to log
   * in to this very server as the user it serves (upstream's loop guard)
   */
  localHostKeyFingerprints?: readonly string[];
  /**
   * whether a local user of this server has an SFTP backend (home or any virtual folder); false
   * for an unknown user. The SFTP backend also refuses this server as such a user (upstream's
   * loop guard against nested local SFTP filesystems: A → B → A)
   */
  userUsesSftp?: (username: string) => Promise<boolean>;
  /** the connection the filesystem serves, for backend log lines */
  connectionId?: string;
  /** cancels building the backend (connecting to a remote server) */
  signal?: AbortSignal;
}

/** What a backend module (`backends/<kind>/index.ts`) exports for the registry. */
export interface BackendModule {
  create(config: FilesystemConfig, o: CreateFsOptions): Promise<Fs>;
}

/** the backend kind of a filesystem config (absent config = local) */
export function fsKindOf(config: FilesystemConfig | undefined): FsKind {
  const n = config?.provider ?? 0;
  const kind = PROVIDER_KINDS[n as ProviderNumber];
  if (!kind) throw new SftpgoError('INVALID_INPUT', `invalid filesystem provider ${String(n)}`);
  return kind;
}

/**
 * Lazy loaders, one per provider: a backend's SDK is imported by the first filesystem that
 * uses it, never by a server whose users are all local.
 */
const BACKENDS: Readonly<Record<FsKind, () => Promise<BackendModule>>> = {
  local: () => import('./backends/local/index.js'),
  s3: () => import('./backends/s3/index.js'),
  gcs: () => import('./backends/gcs/index.js'),
  azblob: () => import('./backends/azblob/index.js'),
  crypt: () => import('./backends/crypt/index.js'),
  sftp: () => import('./backends/sftp/index.js'),
};

/**
 * Where a filesystem config stores its data, as custom actions report it (upstream
 * newActionNotification): the provider number, the bucket (S3, GCS) or container (Azure Blob),
 * and the endpoint (S3, Azure Blob when set, SFTP). Empty strings where not applicable.
 */
export interface StorageLocation {
  provider: ProviderNumber;
  bucket: string;
  endpoint: string;
}

export function storageLocationOf(config: FilesystemConfig | undefined): StorageLocation {
  const provider = (config?.provider ?? 0) as ProviderNumber;
  switch (provider) {
    case 1:
      return {
        provider,
        bucket: config?.s3config?.bucket ?? '',
        endpoint: config?.s3config?.endpoint ?? '',
      };
    case 2:
      return { provider, bucket: config?.gcsconfig?.bucket ?? '', endpoint: '' };
    case 3:
      // upstream sends the SAS URL here when there is one: it is a credential, never sent
      return {
        provider,
        bucket: config?.azblobconfig?.container ?? '',
        endpoint: config?.azblobconfig?.endpoint ?? '',
      };
    case 5:
      return { provider, bucket: '', endpoint: config?.sftpconfig?.endpoint ?? '' };
    case 0:
    case 4:
    default:
      return { provider, bucket: '', endpoint: '' };
  }
}

/** Builds the backend for a filesystem config (an unknown provider is INVALID_INPUT). */
export async function createFs(
  config: FilesystemConfig | undefined,
  o: CreateFsOptions,
): Promise<Fs> {
  const backend = await BACKENDS[fsKindOf(config)]();
  return backend.create(config ?? { provider: 0 }, o);
}
