/**
 * Secret encryption at rest (upstream `kms/kms.go`). Plain secrets are encrypted by the local
 * provider (NaCl secretbox, see local.ts). Remote KMS URLs (gcpkms://, awskms://, hashivault://)
 * are recognised and refused when the KMS is built, so `serve` does not start: neither an
 * emulator nor a server for them runs where this project is built and tested, and starting
 * anyway would leave every credential save failing (or, worse, encrypted with another key).
 */
import { readFileSync } from 'node:fs';
import type { KmsConfig } from '../config/index.js';
import { resolvePath } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';
import { aesGcmDecrypt, secretboxDecrypt, secretboxEncrypt } from './local.js';
import type { Secret } from './secret.js';
import { compactSecret, ENCRYPTED_STATUSES, isEmptySecret } from './secret.js';

export interface Kms {
  /** provider of new encryptions: "Local", or the remote scheme when kms.secrets.url selects one */
  readonly provider: 'Local' | 'GCP' | 'AWS' | 'VaultTransit';
  /**
   * Encrypts a Plain secret (non-empty payload; `additional_data` is bound to the ciphertext).
   * Any other status is refused, as upstream (`wrong secret status`).
   */
  encrypt(s: Secret): Promise<Secret>;
  /** Plaintext of an encrypted secret; a Plain secret gives its payload, an empty one "". */
  decrypt(s: Secret): Promise<string>;
  isEncrypted(s: Secret): boolean;
  /**
   * What the REST API and logs may show: status and (encrypted) payload, key and additional
   * data dropped (upstream `Secret.Hide` + omitempty). A Plain payload is never returned.
   */
  redact(s: Secret): Secret;
}

const REMOTE_SCHEMES: ReadonlyArray<[string, Kms['provider']]> = [
  ['gcpkms://', 'GCP'],
  ['awskms://', 'AWS'],
  ['hashivault://', 'VaultTransit'],
];

function unsupported(what: string): SftpgoError {
  return new SftpgoError(
    'OP_UNSUPPORTED',
    `${what} is not supported by sftpgo-ts (only local encryption is available)`,
  );
}

/** Reads the master key as upstream: file content with surrounding whitespace trimmed. */
function readMasterKey(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `kms.secrets.master_key_path: cannot read ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const key = text.trim();
  if (key === '')
    throw new SftpgoError('INVALID_INPUT', `kms.secrets.master_key_path: ${path} is empty`);
  return key;
}

export function createKms(cfg: KmsConfig, configDir: string): Kms {
  const url = cfg.secrets.url;
  const remote = REMOTE_SCHEMES.find(([scheme]) => url.startsWith(scheme));
  if (remote) {
    throw new SftpgoError(
      'OP_UNSUPPORTED',
      `kms.secrets.url: the ${remote[1]} KMS (${remote[0]}) is not supported by sftpgo-ts; ` +
        'only local encryption is available (an empty url, optionally with master_key_path)',
    );
  }
  const provider: Kms['provider'] = 'Local';
  const keyPath = resolvePath(configDir, cfg.secrets.master_key_path);
  const masterKey = keyPath === '' ? '' : readMasterKey(keyPath);

  const isEncrypted = (s: Secret): boolean => !!s.status && ENCRYPTED_STATUSES.includes(s.status);

  return {
    provider,
    isEncrypted,

    encrypt(s: Secret): Promise<Secret> {
      if (s.status !== 'Plain') {
        return Promise.reject(
          new SftpgoError(
            'INVALID_INPUT',
            `wrong secret status: cannot encrypt a secret with status "${s.status ?? ''}"`,
          ),
        );
      }
      if (!s.payload)
        return Promise.reject(
          new SftpgoError('INVALID_INPUT', 'invalid secret: the payload is empty'),
        );
      const ad = s.additional_data ?? '';
      const c = secretboxEncrypt(s.payload, ad, masterKey);
      // upstream JSON omits empty additional_data and mode 0
      return Promise.resolve(
        compactSecret({
          status: 'Secretbox',
          payload: c.payload,
          key: c.key,
          additional_data: ad,
          mode: c.mode,
        }),
      );
    },

    decrypt(s: Secret): Promise<string> {
      try {
        if (isEmptySecret(s)) return Promise.resolve('');
        const ad = s.additional_data ?? '';
        switch (s.status) {
          case 'Plain':
            return Promise.resolve(s.payload ?? '');
          case 'Secretbox':
            return Promise.resolve(
              secretboxDecrypt(s.payload ?? '', s.key ?? '', ad, s.mode ?? 0, masterKey),
            );
          case 'AES-256-GCM':
            return Promise.resolve(aesGcmDecrypt(s.payload ?? '', s.key ?? '', ad));
          case 'GCP':
          case 'AWS':
          case 'VaultTransit':
            throw unsupported(`decrypting a ${s.status} secret`);
          case 'Redacted':
            throw new SftpgoError('INVALID_INPUT', 'cannot decrypt a redacted secret');
          case '':
          case undefined:
            throw new SftpgoError('INVALID_INPUT', 'invalid secret: missing status');
        }
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },

    redact(s: Secret): Secret {
      if (isEmptySecret(s)) return {};
      if (s.status === 'Plain' || s.status === 'Redacted' || !s.status)
        return { status: 'Redacted' };
      const out: Secret = { status: s.status };
      if (s.payload) out.payload = s.payload;
      return out;
    },
  };
}
