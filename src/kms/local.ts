/**
 * Local encryption, byte-compatible with SFTPGo's `kms/local.go` (status "Secretbox") and the
 * legacy `kms/builtin.go` (status "AES-256-GCM", decrypt only), so dumps move both ways.
 *
 * Secretbox (gocloud.dev/secrets/localsecrets keeper):
 *   key        = 32 random bytes, stored hex-encoded (64 chars) in `key`
 *   ikm        = mode 0: sha256(key || additional_data || key); mode 1: the master key text
 *   derived    = HKDF-SHA256(ikm, salt = key, info = additional_data) -> 32 bytes
 *   payload    = base64(nonce(24) || secretbox(plaintext, nonce, derived))   (XSalsa20-Poly1305)
 *   mode       = 1 when a master key is configured, else 0
 * AES-256-GCM (legacy):
 *   aesKey     = sha256(key || additional_data || key)
 *   payload    = hex(nonce(12) || ciphertext || tag(16)), additional_data as AAD
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { SftpgoError } from '../errors/index.js';

const NONCE_SIZE = 24;
const KEY_SIZE = 32;
const GCM_NONCE_SIZE = 12;
const GCM_TAG_SIZE = 16;

export interface LocalCiphertext {
  payload: string;
  key: string;
  mode: number;
}

function malformed(what: string, cause?: unknown): SftpgoError {
  return new SftpgoError('INVALID_INPUT', `malformed secret: ${what}`, { cause });
}

function decodeKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0)
    throw malformed('the key is not hex encoded');
  const key = Buffer.from(hex, 'hex');
  if (key.length === 0) throw malformed('the key is empty');
  return key;
}

function sha256Mix(key: Uint8Array, additionalData: string): Buffer {
  const h = createHash('sha256');
  h.update(key);
  if (additionalData !== '') h.update(additionalData, 'utf8');
  h.update(key);
  return h.digest();
}

/** upstream localSecret.deriveKey */
export function deriveSecretboxKey(
  key: Uint8Array,
  additionalData: string,
  masterKey: string,
): Uint8Array {
  const ikm = masterKey === '' ? sha256Mix(key, additionalData) : Buffer.from(masterKey, 'utf8');
  const info = Buffer.from(additionalData, 'utf8');
  return new Uint8Array(hkdfSync('sha256', ikm, key, info, KEY_SIZE));
}

/** Encrypts with a fresh random key; `masterKey` "" = mode 0. */
export function secretboxEncrypt(
  plaintext: string,
  additionalData: string,
  masterKey: string,
): LocalCiphertext {
  const key = randomBytes(KEY_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const box = nacl.secretbox(
    Buffer.from(plaintext, 'utf8'),
    nonce,
    deriveSecretboxKey(key, additionalData, masterKey),
  );
  return {
    payload: Buffer.concat([nonce, box]).toString('base64'),
    key: key.toString('hex'),
    mode: masterKey === '' ? 0 : 1,
  };
}

/** `mode` 0 ignores the master key, as upstream does; mode 1 needs it. */
export function secretboxDecrypt(
  payload: string,
  hexKey: string,
  additionalData: string,
  mode: number,
  masterKey: string,
): string {
  if (mode !== 0 && masterKey === '') {
    throw new SftpgoError(
      'INVALID_INPUT',
      'the secret was encrypted with a master key (mode 1) but kms.secrets.master_key_path is not configured',
    );
  }
  const key = decodeKey(hexKey);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw malformed('the payload is not base64 encoded');
  const data = Buffer.from(payload, 'base64');
  if (data.length < NONCE_SIZE) throw malformed('the payload is too short');
  const derived = deriveSecretboxKey(key, additionalData, mode === 0 ? '' : masterKey);
  const plain = nacl.secretbox.open(
    data.subarray(NONCE_SIZE),
    data.subarray(0, NONCE_SIZE),
    derived,
  );
  if (plain === null)
    throw new SftpgoError(
      'INVALID_INPUT',
      'unable to decrypt the secret: authentication failed (wrong key, additional data or master key)',
    );
  return Buffer.from(plain).toString('utf8');
}

/** Legacy AES-256-GCM secrets (SFTPGo < 2.0 `builtin` provider). */
export function aesGcmDecrypt(payload: string, hexKey: string, additionalData: string): string {
  const key = decodeKey(hexKey);
  if (!/^[0-9a-fA-F]*$/.test(payload) || payload.length % 2 !== 0)
    throw malformed('the payload is not hex encoded');
  const data = Buffer.from(payload, 'hex');
  if (data.length < GCM_NONCE_SIZE + GCM_TAG_SIZE) throw malformed('the payload is too short');
  const nonce = data.subarray(0, GCM_NONCE_SIZE);
  const tag = data.subarray(data.length - GCM_TAG_SIZE);
  const ct = data.subarray(GCM_NONCE_SIZE, data.length - GCM_TAG_SIZE);
  const d = createDecipheriv('aes-256-gcm', sha256Mix(key, additionalData), nonce);
  if (additionalData !== '') d.setAAD(Buffer.from(additionalData, 'utf8'));
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
  } catch (e) {
    throw new SftpgoError(
      'INVALID_INPUT',
      'unable to decrypt the secret: authentication failed (wrong key or additional data)',
      { cause: e },
    );
  }
}

/** Legacy AES-256-GCM encryption; only tests use it (we always encrypt with Secretbox). */
export function aesGcmEncrypt(plaintext: string, additionalData: string): LocalCiphertext {
  const key = randomBytes(KEY_SIZE);
  const nonce = randomBytes(GCM_NONCE_SIZE);
  const c = createCipheriv('aes-256-gcm', sha256Mix(key, additionalData), nonce);
  if (additionalData !== '') c.setAAD(Buffer.from(additionalData, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return {
    payload: Buffer.concat([nonce, ct, c.getAuthTag()]).toString('hex'),
    key: key.toString('hex'),
    mode: 0,
  };
}
