/** Public surface of src/kms: the Secret envelope and its local (SFTPGo-compatible) encryption. */
export { createKms } from './kms.js';
export type { Kms } from './kms.js';
export {
  SECRET_STATUSES,
  ENCRYPTED_STATUSES,
  plainSecret,
  isEmptySecret,
  isPlainSecret,
  isRedactedSecret,
  isValidSecret,
  isValidSecretInput,
  compactSecret,
} from './secret.js';
export type { Secret, SecretStatus } from './secret.js';
export { deriveSecretboxKey, secretboxEncrypt, secretboxDecrypt, aesGcmDecrypt } from './local.js';
