/**
 * The one place where KMS secrets inside filesystem configs are handled (STYLE §K: secrets are
 * encrypted at rest, redacted on output, never returned in clear):
 *
 * - save:   Plain -> encrypted through the injected KMS (additional data = owner name, as upstream);
 *           an already-encrypted envelope is stored as given (dump restore);
 *           Redacted on add -> INVALID_INPUT (nothing to keep).
 * - update: a secret sent back encrypted (what GET returned) or Redacted keeps the stored one;
 *           an empty/omitted secret clears it; Plain replaces it.
 * - output: key and additional_data are blanked, `{status, payload}` remain (plus `mode` when set).
 *
 * Secrets live in: s3config.access_secret, gcsconfig.credentials, azblobconfig.account_key,
 * azblobconfig.sas_url, cryptconfig.passphrase, sftpconfig.password, sftpconfig.private_key.
 */
import type { ApiFilesystemConfig, ApiSecret } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import type { Secret as KmsSecret } from '../kms/index.js';

export type Secret = ApiSecret;
export type SecretStatus = NonNullable<ApiSecret['status']>;

/** What this layer needs from src/kms (its `createKms(...)` result satisfies it). */
export interface SecretEncrypter {
  /** Plain secret (additional_data set to the owner's name) -> encrypted envelope */
  encrypt(secret: KmsSecret): KmsSecret | Promise<KmsSecret>;
  decrypt?(secret: KmsSecret): string | Promise<string>;
  redact?(secret: KmsSecret): KmsSecret;
}

export const ENCRYPTED_STATUSES: readonly SecretStatus[] = [
  'AES-256-GCM',
  'Secretbox',
  'GCP',
  'AWS',
  'VaultTransit',
];
export const VALID_SECRET_STATUSES: readonly SecretStatus[] = [
  'Plain',
  ...ENCRYPTED_STATUSES,
  'Redacted',
];

export function isSecretEmpty(s: Secret | undefined | null): boolean {
  if (s === undefined || s === null) return true;
  return !s.status && !s.payload && !s.key && !s.additional_data;
}
export const isSecretPlain = (s: Secret | undefined): boolean => s?.status === 'Plain';
export const isSecretRedacted = (s: Secret | undefined): boolean => s?.status === 'Redacted';
export const isSecretEncrypted = (s: Secret | undefined): boolean =>
  s?.status !== undefined && ENCRYPTED_STATUSES.includes(s.status);
/** upstream Secret.IsValidInput: a known status and a payload */
export function isSecretValidInput(s: Secret | undefined): boolean {
  return (
    s?.status !== undefined && VALID_SECRET_STATUSES.includes(s.status) && (s.payload ?? '') !== ''
  );
}

/** Where each secret lives: [sub-config key, secret key, label used in messages]. */
export const SECRET_FIELDS = [
  ['s3config', 'access_secret', 'access_secret'],
  ['gcsconfig', 'credentials', 'credentials'],
  ['azblobconfig', 'account_key', 'account_key'],
  ['azblobconfig', 'sas_url', 'sas_url'],
  ['cryptconfig', 'passphrase', 'passphrase'],
  ['sftpconfig', 'password', 'SFTP password'],
  ['sftpconfig', 'private_key', 'SFTP private key'],
] as const;

type SubKey = (typeof SECRET_FIELDS)[number][0];

function getSecret(
  fs: ApiFilesystemConfig | undefined,
  sub: SubKey,
  key: string,
): Secret | undefined {
  const c = fs?.[sub] as Record<string, unknown> | undefined;
  const v = c?.[key];
  return typeof v === 'object' && v !== null ? (v as Secret) : undefined;
}

function setSecret(fs: ApiFilesystemConfig, sub: SubKey, key: string, s: Secret | undefined): void {
  const c = fs[sub] as Record<string, unknown> | undefined;
  if (c === undefined) return;
  if (s === undefined || isSecretEmpty(s)) delete c[key];
  else c[key] = s;
}

/** A deep copy of a JSON-shaped value. */
export function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Update semantics: in the (not yet validated) incoming filesystem config, every secret that is
 * Redacted or encrypted (i.e. not Plain and not empty) is replaced by the stored secret at the
 * same place. With `onlyRedacted` (restore of a dump) encrypted secrets are kept as given and
 * only Redacted ones are replaced. Mutates and returns `incoming`.
 */
export function keepStoredSecrets(
  incoming: Record<string, unknown> | undefined,
  stored: ApiFilesystemConfig | undefined,
  o: { onlyRedacted?: boolean } = {},
): Record<string, unknown> | undefined {
  if (incoming === undefined) return incoming;
  for (const [sub, key] of SECRET_FIELDS) {
    const c = incoming[sub];
    if (typeof c !== 'object' || c === null || Array.isArray(c)) continue;
    const cfg = c as Record<string, unknown>;
    const s = cfg[key];
    if (typeof s !== 'object' || s === null || Array.isArray(s)) continue;
    const sec = s as Secret;
    const replace = o.onlyRedacted
      ? isSecretRedacted(sec)
      : !isSecretPlain(sec) && !isSecretEmpty(sec);
    if (replace) {
      const old = getSecret(stored, sub, key);
      if (old === undefined || isSecretEmpty(old)) delete cfg[key];
      else cfg[key] = cloneJson(old);
    }
  }
  return incoming;
}

/** the additional data a folder's secrets are bound to, as upstream: `folder_<name>` (users: the username) */
export function folderSecretAd(name: string): string {
  return `folder_${name}`;
}

/**
 * Encrypts every Plain secret of a validated filesystem config with `additionalData` (the owner's
 * name, as upstream). Throws INTERNAL when there is a Plain secret but no KMS.
 */
export async function encryptPlainSecrets(
  fs: ApiFilesystemConfig,
  kms: SecretEncrypter | undefined,
  additionalData: string,
): Promise<void> {
  for (const [sub, key, label] of SECRET_FIELDS) {
    const s = getSecret(fs, sub, key);
    if (s === undefined || !isSecretPlain(s)) continue;
    if (kms === undefined) {
      throw new SftpgoError('INTERNAL', `cannot encrypt ${label}: no KMS configured`);
    }
    let enc: KmsSecret;
    try {
      enc = await kms.encrypt({
        status: 'Plain',
        payload: s.payload ?? '',
        additional_data: additionalData,
      });
    } catch (e) {
      if (SftpgoError.is(e)) throw e;
      throw new SftpgoError('INTERNAL', `could not encrypt ${label}`, { cause: e });
    }
    if (
      enc.status === undefined ||
      enc.status === '' ||
      enc.status === 'Plain' ||
      enc.status === 'Redacted'
    ) {
      throw new SftpgoError('INTERNAL', `could not encrypt ${label}: the KMS returned no envelope`);
    }
    const out: Secret = { status: enc.status };
    if (enc.payload) out.payload = enc.payload;
    if (enc.key) out.key = enc.key;
    if (enc.additional_data) out.additional_data = enc.additional_data;
    if (enc.mode) out.mode = enc.mode;
    setSecret(fs, sub, key, out);
  }
}

/** What the API may show of a stored secret. */
export function redactSecret(s: Secret | undefined): Secret {
  if (s === undefined || isSecretEmpty(s)) return {};
  if (isSecretPlain(s)) return { status: 'Redacted' };
  const out: Secret = {};
  if (s.status !== undefined) out.status = s.status;
  if (s.payload !== undefined && s.payload !== '') out.payload = s.payload;
  if (typeof s.mode === 'number' && s.mode !== 0) out.mode = s.mode;
  return out;
}

/** A copy of `fs` with every secret redacted; `fs` itself when it holds no secret. */
export function redactFilesystem(
  fs: ApiFilesystemConfig | undefined,
): ApiFilesystemConfig | undefined {
  if (fs === undefined) return undefined;
  if (SECRET_FIELDS.every(([sub, key]) => getSecret(fs, sub, key) === undefined)) return fs;
  const out = cloneJson(fs);
  for (const [sub, key] of SECRET_FIELDS) {
    const s = getSecret(out, sub, key);
    if (s !== undefined) setSecret(out, sub, key, redactSecret(s));
  }
  return out;
}
