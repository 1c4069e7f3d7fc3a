import { Option } from '@commander-js/extra-typings';
import type { Schemas } from '../../../api/index.js';
import { collect, intArg, type AnyCommand } from '../cmd.js';
import { FlagError } from '../errors.js';

export type FilesystemConfig = Schemas['FilesystemConfig'];
type Secret = Schemas['Secret'];

export const FS_PROVIDERS = ['local', 's3', 'gcs', 'azblob', 'crypt', 'sftp'] as const;
export type FsProviderName = (typeof FS_PROVIDERS)[number];
type ProviderCode = NonNullable<FilesystemConfig['provider']>;
const PROVIDER_CODE: Readonly<Record<FsProviderName, ProviderCode>> = {
  local: 0,
  s3: 1,
  gcs: 2,
  azblob: 3,
  crypt: 4,
  sftp: 5,
};

export function providerName(code: number | undefined): FsProviderName {
  return FS_PROVIDERS.find((n) => PROVIDER_CODE[n] === (code ?? 0)) ?? 'local';
}

/**
 * Storage backend flags, shared by users and folders (names follow the API's fields). They are
 * added untyped (there are too many for the type-level option inference); the action reads them
 * as FsFlags.
 */
export function withFsFlags<C extends AnyCommand>(cmd: C): C {
  cmd
    .addOption(new Option('--fs-provider <provider>', 'storage backend').choices(FS_PROVIDERS))
    .option('--s3-bucket <bucket>', 'S3 bucket')
    .option('--s3-region <region>', 'S3 region')
    .option('--s3-access-key <key>', 'S3 access key')
    .option('--s3-access-secret <secret>', 'S3 access secret (stored encrypted)')
    .option('--s3-endpoint <url>', 'S3 endpoint, for S3-compatible services')
    .option('--s3-storage-class <class>', 'S3 storage class')
    .option('--s3-key-prefix <prefix>', 'S3 key prefix (like a chroot; must end with /)')
    .option('--s3-upload-part-size <MB>', 'S3 multipart upload part size in MB', intArg(0))
    .option('--s3-upload-concurrency <n>', 'S3 parts uploaded in parallel', intArg(0))
    .option('--gcs-bucket <bucket>', 'Google Cloud Storage bucket')
    .option('--gcs-credentials-file <file>', 'GCS service account JSON credentials file')
    .option('--gcs-automatic-credentials', 'GCS: use the Application Default Credentials')
    .option('--gcs-storage-class <class>', 'GCS storage class')
    .option('--gcs-key-prefix <prefix>', 'GCS key prefix (must end with /)')
    .option('--az-container <container>', 'Azure Blob container')
    .option('--az-account-name <name>', 'Azure storage account name')
    .option('--az-account-key <key>', 'Azure storage account key (stored encrypted)')
    .option('--az-sas-url <url>', 'Azure shared access signature URL (stored encrypted)')
    .option('--az-endpoint <endpoint>', 'Azure endpoint (default blob.core.windows.net)')
    .option('--az-key-prefix <prefix>', 'Azure key prefix (must end with /)')
    .addOption(new Option('--az-access-tier <tier>', 'Azure access tier').choices(['Hot', 'Cool', 'Archive'] as const))
    .option('--az-upload-part-size <MB>', 'Azure upload part size in MB', intArg(0))
    .option('--az-upload-concurrency <n>', 'Azure parts uploaded in parallel', intArg(0))
    .option('--az-use-emulator', 'Azure: the endpoint is an emulator (Azurite)')
    .option('--crypt-passphrase <passphrase>', 'passphrase of the encrypted local filesystem (stored encrypted)')
    .option('--sftp-endpoint <host:port>', 'remote SFTP server')
    .option('--sftp-username <name>', 'remote SFTP username')
    .option('--sftp-password <password>', 'remote SFTP password (stored encrypted)')
    .option('--sftp-private-key-file <file>', 'remote SFTP private key file (stored encrypted)')
    .option('--sftp-fingerprint <sha256>', 'remote host key SHA256 fingerprint; repeatable', collect)
    .option('--sftp-prefix <path>', 'restrict the remote SFTP server to this path')
    .option('--sftp-disable-concurrent-reads', 'remote SFTP: read files sequentially')
    .option('--sftp-buffer-size <MB>', 'remote SFTP buffer size in MB (0-16)', intArg(0, 16));
  return cmd;
}

export interface FsFlags {
  fsProvider?: FsProviderName | undefined;
  s3Bucket?: string | undefined;
  s3Region?: string | undefined;
  s3AccessKey?: string | undefined;
  s3AccessSecret?: string | undefined;
  s3Endpoint?: string | undefined;
  s3StorageClass?: string | undefined;
  s3KeyPrefix?: string | undefined;
  s3UploadPartSize?: number | undefined;
  s3UploadConcurrency?: number | undefined;
  gcsBucket?: string | undefined;
  gcsCredentialsFile?: string | undefined;
  gcsAutomaticCredentials?: true | undefined;
  gcsStorageClass?: string | undefined;
  gcsKeyPrefix?: string | undefined;
  azContainer?: string | undefined;
  azAccountName?: string | undefined;
  azAccountKey?: string | undefined;
  azSasUrl?: string | undefined;
  azEndpoint?: string | undefined;
  azKeyPrefix?: string | undefined;
  azAccessTier?: 'Hot' | 'Cool' | 'Archive' | undefined;
  azUploadPartSize?: number | undefined;
  azUploadConcurrency?: number | undefined;
  azUseEmulator?: true | undefined;
  cryptPassphrase?: string | undefined;
  sftpEndpoint?: string | undefined;
  sftpUsername?: string | undefined;
  sftpPassword?: string | undefined;
  sftpPrivateKeyFile?: string | undefined;
  sftpFingerprint?: string[] | undefined;
  sftpPrefix?: string | undefined;
  sftpDisableConcurrentReads?: true | undefined;
  sftpBufferSize?: number | undefined;
}

const plain = (payload: string): Secret => ({ status: 'Plain', payload });

/** Which provider family a flag belongs to, from its camelCase name. */
function familyOf(key: string): FsProviderName | undefined {
  if (key.startsWith('s3')) return 's3';
  if (key.startsWith('gcs')) return 'gcs';
  if (key.startsWith('az')) return 'azblob';
  if (key.startsWith('crypt')) return 'crypt';
  if (key.startsWith('sftp')) return 'sftp';
  return undefined;
}

/** Copies only the defined values of `patch` onto `target`. */
function assignDefined<T extends object>(target: T, patch: Partial<T>): T {
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  }
  return target;
}

/**
 * Merges the filesystem flags into `current` (the stored config on update, undefined on add).
 * Backend flags imply their provider; mixing two backends, or contradicting --fs-provider, is a
 * usage error. Changing the provider starts from an empty config for the new backend.
 * Returns undefined when no filesystem flag was given.
 */
export async function applyFsFlags(
  current: FilesystemConfig | undefined,
  flags: FsFlags,
  readText: (path: string) => Promise<string>,
): Promise<FilesystemConfig | undefined> {
  const given = Object.entries(flags).filter(([k, v]) => v !== undefined && familyOf(k) !== undefined && k !== 'fsProvider');
  const families = [...new Set(given.map(([k]) => familyOf(k)))];
  if (families.length > 1) {
    throw new FlagError(`flags for different storage backends given together (${families.join(', ')})`);
  }
  const implied = families[0];
  if (flags.fsProvider !== undefined && implied !== undefined && implied !== flags.fsProvider) {
    throw new FlagError(`--${given[0]?.[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to --fs-provider ${flags.fsProvider}`);
  }
  if (flags.fsProvider === undefined && implied === undefined) return undefined;

  const currentName = providerName(current?.provider);
  const target = flags.fsProvider ?? implied ?? currentName;
  if (implied !== undefined && flags.fsProvider === undefined && current !== undefined && currentName !== implied) {
    throw new FlagError(`the storage backend is ${currentName}: add --fs-provider ${implied} to switch it`);
  }
  const fs: FilesystemConfig = current !== undefined && currentName === target ? structuredClone(current) : {};
  fs.provider = PROVIDER_CODE[target];

  switch (target) {
    case 'local':
      break;
    case 's3':
      fs.s3config = assignDefined(fs.s3config ?? {}, {
        bucket: flags.s3Bucket,
        region: flags.s3Region,
        access_key: flags.s3AccessKey,
        access_secret: flags.s3AccessSecret === undefined ? undefined : plain(flags.s3AccessSecret),
        endpoint: flags.s3Endpoint,
        storage_class: flags.s3StorageClass,
        key_prefix: flags.s3KeyPrefix,
        upload_part_size: flags.s3UploadPartSize,
        upload_concurrency: flags.s3UploadConcurrency,
      });
      break;
    case 'gcs':
      fs.gcsconfig = assignDefined(fs.gcsconfig ?? {}, {
        bucket: flags.gcsBucket,
        credentials:
          flags.gcsCredentialsFile === undefined ? undefined : plain(await readText(flags.gcsCredentialsFile)),
        automatic_credentials: flags.gcsAutomaticCredentials === true ? 1 : undefined,
        storage_class: flags.gcsStorageClass,
        key_prefix: flags.gcsKeyPrefix,
      });
      break;
    case 'azblob':
      fs.azblobconfig = assignDefined(fs.azblobconfig ?? {}, {
        container: flags.azContainer,
        account_name: flags.azAccountName,
        account_key: flags.azAccountKey === undefined ? undefined : plain(flags.azAccountKey),
        sas_url: flags.azSasUrl === undefined ? undefined : plain(flags.azSasUrl),
        endpoint: flags.azEndpoint,
        key_prefix: flags.azKeyPrefix,
        access_tier: flags.azAccessTier,
        upload_part_size: flags.azUploadPartSize,
        upload_concurrency: flags.azUploadConcurrency,
        use_emulator: flags.azUseEmulator,
      });
      break;
    case 'crypt':
      fs.cryptconfig = assignDefined(fs.cryptconfig ?? {}, {
        passphrase: flags.cryptPassphrase === undefined ? undefined : plain(flags.cryptPassphrase),
      });
      break;
    case 'sftp':
      fs.sftpconfig = assignDefined(fs.sftpconfig ?? {}, {
        endpoint: flags.sftpEndpoint,
        username: flags.sftpUsername,
        password: flags.sftpPassword === undefined ? undefined : plain(flags.sftpPassword),
        private_key:
          flags.sftpPrivateKeyFile === undefined ? undefined : plain(await readText(flags.sftpPrivateKeyFile)),
        fingerprints: flags.sftpFingerprint?.filter((s) => s !== ''),
        prefix: flags.sftpPrefix,
        disable_concurrent_reads: flags.sftpDisableConcurrentReads,
        buffer_size: flags.sftpBufferSize,
      });
      break;
  }
  return fs;
}
