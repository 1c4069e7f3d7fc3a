/**
 * The `Secret` object of the REST spec and of dump files (upstream `kms.Secret` JSON):
 * `{status, payload, key, additional_data, mode}`, empty fields omitted as upstream's omitempty.
 */

export const SECRET_STATUSES = [
  'Plain',
  'AES-256-GCM',
  'Secretbox',
  'GCP',
  'AWS',
  'VaultTransit',
  'Redacted',
] as const;
export type SecretStatus = (typeof SECRET_STATUSES)[number];

export interface Secret {
  /** "" or absent = empty secret (no credential configured) */
  status?: SecretStatus | '';
  payload?: string;
  key?: string;
  additional_data?: string;
  /** 1 = encrypted using the master key (kms.secrets.master_key_path) */
  mode?: number;
}

/** statuses produced by an encryption provider */
export const ENCRYPTED_STATUSES: readonly SecretStatus[] = [
  'AES-256-GCM',
  'Secretbox',
  'GCP',
  'AWS',
  'VaultTransit',
];

export function plainSecret(payload: string, additionalData = ''): Secret {
  const s: Secret = { status: 'Plain', payload };
  if (additionalData !== '') s.additional_data = additionalData;
  return s;
}

/** upstream Secret.IsEmpty: no status, payload, key or additional data */
export function isEmptySecret(s: Secret | undefined | null): boolean {
  return !s || (!s.status && !s.payload && !s.key && !s.additional_data);
}

export function isPlainSecret(s: Secret | undefined | null): boolean {
  return s?.status === 'Plain';
}

export function isRedactedSecret(s: Secret | undefined | null): boolean {
  return s?.status === 'Redacted';
}

/** upstream Secret.IsValidInput: a known status and a payload */
export function isValidSecretInput(s: Secret): boolean {
  return (
    typeof s.status === 'string' &&
    (SECRET_STATUSES as readonly string[]).includes(s.status) &&
    !!s.payload
  );
}

/** upstream Secret.IsValid: valid input and, for local encryption, a 32-byte hex key */
export function isValidSecret(s: Secret): boolean {
  if (!isValidSecretInput(s)) return false;
  const key = s.key ?? '';
  if (s.status === 'AES-256-GCM' || s.status === 'Secretbox') return key.length === 64;
  if (s.status === 'GCP' || s.status === 'AWS' || s.status === 'VaultTransit')
    return key === '' || key.length === 64;
  return true;
}

/** JSON shape as upstream marshals it: empty fields omitted. */
export function compactSecret(s: Secret): Secret {
  const out: Secret = {};
  if (s.status) out.status = s.status;
  if (s.payload) out.payload = s.payload;
  if (s.key) out.key = s.key;
  if (s.additional_data) out.additional_data = s.additional_data;
  if (s.mode) out.mode = s.mode;
  return out;
}
