/**
 * Validation of a filesystem config (provider 0-5 and its sub-config), mirroring upstream
 * vfs/vfs.go `*FsConfig.Validate` and dataprovider.go `validateFilesystemConfig` at v2.1.2.
 * The result keeps only the active provider's sub-config, as upstream does, with defaults and
 * empty values dropped.
 */
import type { ApiFilesystemConfig, ApiSecret } from '../../api/index.js';
import {
  isSecretEmpty,
  isSecretEncrypted,
  isSecretRedacted,
  isSecretValidInput,
  VALID_SECRET_STATUSES,
  type Secret,
  type SecretStatus,
} from '../secrets.js';
import {
  cleanPath,
  cleanVirtualPath,
  fieldPath,
  invalid,
  isRecord,
  q,
  readBool,
  readInt,
  readObject,
  readString,
  readStringArray,
  type JsonObject,
} from './common.js';

export const FS_PROVIDER = {
  local: 0,
  s3: 1,
  gcs: 2,
  azblob: 3,
  crypt: 4,
  sftp: 5,
} as const;
export type FsProvider = 0 | 1 | 2 | 3 | 4 | 5;

const AZ_ACCESS_TIERS = ['', 'Archive', 'Hot', 'Cool'] as const;

/** Reads a Secret object; undefined when absent or empty. Rejects Redacted (nothing to keep). */
function readSecret(o: JsonObject, key: string, label: string, field: string): Secret | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw invalid(`invalid ${label}: expected a secret object`);
  const out: Secret = {};
  const status = readString(v, 'status', `${label}.status`);
  if (status !== '') {
    if (!(VALID_SECRET_STATUSES as readonly string[]).includes(status)) {
      throw invalid(`invalid ${label}: unknown secret status ${q(status)}`, field);
    }
    out.status = status as SecretStatus;
  }
  for (const k of ['payload', 'key', 'additional_data'] as const) {
    const s = readString(v, k, `${label}.${k}`);
    if (s !== '') out[k] = s;
  }
  const mode = readInt(v, 'mode', `${label}.mode`, { min: 0 });
  if (mode !== 0) out.mode = mode;
  if (isSecretEmpty(out)) return undefined;
  if (isSecretRedacted(out)) {
    throw invalid(`invalid ${label}: a Redacted secret cannot be saved, send it Plain`, field);
  }
  return out;
}

function checkEncrypted(s: Secret | undefined, label: string, field: string): void {
  if (s !== undefined && isSecretEncrypted(s) && (s.payload ?? '') === '') {
    throw invalid(`invalid encrypted ${label}`, field);
  }
}

function normalizeKeyPrefix(prefix: string, ctx: string, field: string): string {
  if (prefix === '') return '';
  if (prefix.startsWith('/')) throw invalid(`${ctx}: key_prefix cannot start with /`, field);
  let p = cleanPath(prefix);
  if (!p.endsWith('/')) p += '/';
  return p;
}

/** net.SplitHostPort's checks (Go does not validate the port itself). */
function splitHostPortError(endpoint: string): string | undefined {
  if (endpoint.startsWith('[')) {
    const end = endpoint.indexOf(']');
    if (end < 0) return `address ${endpoint}: missing ']' in address`;
    if (endpoint[end + 1] !== ':') return `address ${endpoint}: missing port in address`;
    if (endpoint.indexOf(':', end + 2) >= 0)
      return `address ${endpoint}: too many colons in address`;
    return undefined;
  }
  const colons = endpoint.split(':').length - 1;
  if (colons === 0) return `address ${endpoint}: missing port in address`;
  if (colons > 1) return `address ${endpoint}: too many colons in address`;
  return undefined;
}

function set<T extends object, K extends keyof T>(
  o: T,
  k: K,
  v: T[K] | '' | 0 | false | undefined,
): void {
  if (v === '' || v === 0 || v === false || v === undefined) return;
  o[k] = v as T[K];
}

function validateS3(raw: JsonObject, at: string): NonNullable<ApiFilesystemConfig['s3config']> {
  const ctx = 'could not validate s3config';
  const f = (k: string): string => fieldPath(at, k);
  const bucket = readString(raw, 'bucket', 's3config.bucket');
  const region = readString(raw, 'region', 's3config.region');
  const accessKey = readString(raw, 'access_key', 's3config.access_key');
  const endpoint = readString(raw, 'endpoint', 's3config.endpoint');
  const storageClass = readString(raw, 'storage_class', 's3config.storage_class').trim();
  const partSize = readInt(raw, 'upload_part_size', 's3config.upload_part_size');
  const concurrency = readInt(raw, 'upload_concurrency', 's3config.upload_concurrency');
  const keyPrefix = readString(raw, 'key_prefix', 's3config.key_prefix');
  const secret = readSecret(raw, 'access_secret', 'access_secret', f('access_secret'));
  if (bucket === '') throw invalid(`${ctx}: bucket cannot be empty`, f('bucket'));
  if (region === '') throw invalid(`${ctx}: region cannot be empty`, f('region'));
  if (accessKey === '' && secret !== undefined) {
    throw invalid(
      `${ctx}: access_key cannot be empty with access_secret not empty`,
      f('access_key'),
    );
  }
  if (secret === undefined && accessKey !== '') {
    throw invalid(
      `${ctx}: access_secret cannot be empty with access_key not empty`,
      f('access_secret'),
    );
  }
  checkEncrypted(secret, 'access_secret', f('access_secret'));
  if (secret !== undefined && !isSecretValidInput(secret))
    throw invalid(`${ctx}: invalid access_secret`, f('access_secret'));
  const prefix = normalizeKeyPrefix(keyPrefix, ctx, f('key_prefix'));
  if (partSize !== 0 && (partSize < 5 || partSize > 5000)) {
    throw invalid(
      `${ctx}: upload_part_size cannot be != 0, lower than 5 (MB) or greater than 5000 (MB)`,
      f('upload_part_size'),
    );
  }
  if (concurrency < 0 || concurrency > 64) {
    throw invalid(`${ctx}: invalid upload concurrency: ${concurrency}`, f('upload_concurrency'));
  }
  const out: NonNullable<ApiFilesystemConfig['s3config']> = { bucket, region };
  set(out, 'access_key', accessKey);
  set(out, 'access_secret', secret);
  set(out, 'endpoint', endpoint);
  set(out, 'storage_class', storageClass);
  set(out, 'upload_part_size', partSize);
  set(out, 'upload_concurrency', concurrency);
  set(out, 'key_prefix', prefix);
  return out;
}

function validateGcs(raw: JsonObject, at: string): NonNullable<ApiFilesystemConfig['gcsconfig']> {
  const ctx = 'could not validate GCS config';
  const f = (k: string): string => fieldPath(at, k);
  const bucket = readString(raw, 'bucket', 'gcsconfig.bucket');
  const keyPrefix = readString(raw, 'key_prefix', 'gcsconfig.key_prefix');
  const storageClass = readString(raw, 'storage_class', 'gcsconfig.storage_class').trim();
  const automatic = readInt(raw, 'automatic_credentials', 'gcsconfig.automatic_credentials', {
    min: 0,
    max: 1,
  }) as 0 | 1;
  let credentials = readSecret(raw, 'credentials', 'credentials', f('credentials'));
  if (automatic === 1) credentials = undefined;
  if (bucket === '') throw invalid(`${ctx}: bucket cannot be empty`, f('bucket'));
  const prefix = normalizeKeyPrefix(keyPrefix, ctx, f('key_prefix'));
  checkEncrypted(credentials, 'credentials', f('credentials'));
  if (automatic === 0 && !isSecretValidInput(credentials)) {
    throw invalid(`${ctx}: credentials cannot be empty`, f('credentials'));
  }
  const out: NonNullable<ApiFilesystemConfig['gcsconfig']> = { bucket };
  set(out, 'credentials', credentials);
  set(out, 'automatic_credentials', automatic);
  set(out, 'storage_class', storageClass);
  set(out, 'key_prefix', prefix);
  return out;
}

function validateAzure(
  raw: JsonObject,
  at: string,
): NonNullable<ApiFilesystemConfig['azblobconfig']> {
  const ctx = 'could not validate Azure Blob config';
  const f = (k: string): string => fieldPath(at, k);
  const container = readString(raw, 'container', 'azblobconfig.container');
  const accountName = readString(raw, 'account_name', 'azblobconfig.account_name');
  const endpoint = readString(raw, 'endpoint', 'azblobconfig.endpoint');
  const partSize = readInt(raw, 'upload_part_size', 'azblobconfig.upload_part_size');
  const concurrency = readInt(raw, 'upload_concurrency', 'azblobconfig.upload_concurrency');
  const accessTier = readString(raw, 'access_tier', 'azblobconfig.access_tier');
  const keyPrefix = readString(raw, 'key_prefix', 'azblobconfig.key_prefix');
  const useEmulator = readBool(raw, 'use_emulator', 'azblobconfig.use_emulator');
  const accountKey = readSecret(raw, 'account_key', 'account_key', f('account_key'));
  const sasUrl = readSecret(raw, 'sas_url', 'sas_url', f('sas_url'));
  if (sasUrl === undefined && container === '')
    throw invalid(`${ctx}: container cannot be empty`, f('container'));
  if (sasUrl !== undefined) {
    checkEncrypted(sasUrl, 'sas_url', f('sas_url'));
    if (!isSecretValidInput(sasUrl)) throw invalid(`${ctx}: invalid sas_url`, f('sas_url'));
    if (sasUrl.status === 'Plain') {
      try {
        new URL(sasUrl.payload ?? '');
      } catch {
        throw invalid(`${ctx}: invalid sas_url: not a URL`, f('sas_url'));
      }
    }
  } else {
    if (accountName === '' || !isSecretValidInput(accountKey)) {
      throw invalid(
        `${ctx}: credentials cannot be empty or invalid`,
        f(accountName === '' ? 'account_name' : 'account_key'),
      );
    }
    checkEncrypted(accountKey, 'account_key', f('account_key'));
  }
  const prefix = normalizeKeyPrefix(keyPrefix, ctx, f('key_prefix'));
  if (partSize < 0 || partSize > 100)
    throw invalid(`${ctx}: invalid upload part size: ${partSize}`, f('upload_part_size'));
  if (concurrency < 0 || concurrency > 64) {
    throw invalid(`${ctx}: invalid upload concurrency: ${concurrency}`, f('upload_concurrency'));
  }
  if (!(AZ_ACCESS_TIERS as readonly string[]).includes(accessTier)) {
    throw invalid(
      `${ctx}: invalid access tier ${q(accessTier)}, valid values: "''${AZ_ACCESS_TIERS.slice(1).join(', ')}"`,
      f('access_tier'),
    );
  }
  const out: NonNullable<ApiFilesystemConfig['azblobconfig']> = {};
  set(out, 'container', container);
  set(out, 'account_name', accountName);
  set(out, 'account_key', sasUrl === undefined ? accountKey : undefined);
  set(out, 'sas_url', sasUrl);
  set(out, 'endpoint', endpoint);
  set(out, 'upload_part_size', partSize);
  set(out, 'upload_concurrency', concurrency);
  set(out, 'access_tier', accessTier as (typeof AZ_ACCESS_TIERS)[number]);
  set(out, 'key_prefix', prefix);
  set(out, 'use_emulator', useEmulator);
  return out;
}

function validateCrypt(
  raw: JsonObject,
  at: string,
): NonNullable<ApiFilesystemConfig['cryptconfig']> {
  const ctx = 'could not validate Crypt fs config';
  const field = fieldPath(at, 'passphrase');
  const passphrase = readSecret(raw, 'passphrase', 'passphrase', field);
  if (passphrase === undefined) throw invalid(`${ctx}: invalid passphrase`, field);
  checkEncrypted(passphrase, 'passphrase', field);
  if (!isSecretValidInput(passphrase))
    throw invalid(`${ctx}: passphrase cannot be empty or invalid`, field);
  return { passphrase };
}

function validateSftp(raw: JsonObject, at: string): NonNullable<ApiFilesystemConfig['sftpconfig']> {
  const ctx = 'could not validate SFTP fs config';
  const f = (k: string): string => fieldPath(at, k);
  const endpoint = readString(raw, 'endpoint', 'sftpconfig.endpoint');
  const username = readString(raw, 'username', 'sftpconfig.username');
  const fingerprints = readStringArray(raw, 'fingerprints', 'sftpconfig.fingerprints');
  const prefix = readString(raw, 'prefix', 'sftpconfig.prefix');
  const noConcurrentReads = readBool(
    raw,
    'disable_concurrent_reads',
    'sftpconfig.disable_concurrent_reads',
  );
  const bufferSize = readInt(raw, 'buffer_size', 'sftpconfig.buffer_size');
  const password = readSecret(raw, 'password', 'SFTP password', f('password'));
  const privateKey = readSecret(raw, 'private_key', 'SFTP private key', f('private_key'));
  if (endpoint === '') throw invalid(`${ctx}: endpoint cannot be empty`, f('endpoint'));
  const hostErr = splitHostPortError(endpoint);
  if (hostErr !== undefined) throw invalid(`${ctx}: invalid endpoint: ${hostErr}`, f('endpoint'));
  if (username === '') throw invalid(`${ctx}: username cannot be empty`, f('username'));
  if (bufferSize < 0 || bufferSize > 16)
    throw invalid(`${ctx}: invalid buffer_size, valid range is 0-16`, f('buffer_size'));
  if (password === undefined && privateKey === undefined) {
    throw invalid(`${ctx}: credentials cannot be empty`, f('password'));
  }
  checkEncrypted(password, 'password', f('password'));
  if (password !== undefined && !isSecretValidInput(password))
    throw invalid(`${ctx}: invalid password`, f('password'));
  checkEncrypted(privateKey, 'private key', f('private_key'));
  if (privateKey !== undefined && !isSecretValidInput(privateKey)) {
    throw invalid(`${ctx}: invalid private key`, f('private_key'));
  }
  const out: NonNullable<ApiFilesystemConfig['sftpconfig']> = {
    endpoint,
    username,
    prefix: prefix === '' ? '/' : cleanVirtualPath(prefix),
  };
  set(out, 'password', password);
  set(out, 'private_key', privateKey);
  if (fingerprints.length > 0) out.fingerprints = fingerprints;
  set(out, 'disable_concurrent_reads', noConcurrentReads);
  set(out, 'buffer_size', bufferSize);
  return out;
}

/**
 * Validates and normalizes a filesystem config coming from JSON. `undefined`/null means local.
 * Throws INVALID_INPUT with upstream's messages ("could not validate s3config: bucket cannot be
 * empty", ...).
 */
export function validateFilesystem(
  input: unknown,
  label = 'filesystem',
  /** the JSON path of the config in the input, for SftpgoError.field */
  at = label,
): ApiFilesystemConfig {
  const fs = readObject(input, label);
  const provider = readInt(fs, 'provider', `${label}.provider`) as number;
  if (!Number.isInteger(provider) || provider < 0 || provider > 5) {
    throw invalid(
      `invalid ${label}.provider: ${provider}, must be 0 (local), 1 (S3), 2 (GCS), 3 (Azure Blob), 4 (crypt) or 5 (SFTP)`,
      fieldPath(at, 'provider'),
    );
  }
  const sub = (key: string): JsonObject => readObject(fs[key], `${label}.${key}`);
  const f = (key: string): string => fieldPath(at, key);
  switch (provider as FsProvider) {
    case 0:
      return { provider: 0 };
    case 1:
      return { provider: 1, s3config: validateS3(sub('s3config'), f('s3config')) };
    case 2:
      return { provider: 2, gcsconfig: validateGcs(sub('gcsconfig'), f('gcsconfig')) };
    case 3:
      return { provider: 3, azblobconfig: validateAzure(sub('azblobconfig'), f('azblobconfig')) };
    case 4:
      return { provider: 4, cryptconfig: validateCrypt(sub('cryptconfig'), f('cryptconfig')) };
    case 5:
      return { provider: 5, sftpconfig: validateSftp(sub('sftpconfig'), f('sftpconfig')) };
  }
}

/** local (0) or crypt (4): backed by a directory on this host */
export function isLocalOrCrypt(fs: ApiFilesystemConfig | undefined): boolean {
  const p = fs?.provider ?? 0;
  return p === 0 || p === 4;
}

export type { ApiSecret };
