/**
 * Password hashing and verification (upstream dataprovider.go at v2.1.2):
 * - new plaintext -> bcrypt (`$2a$`, cost from config) or argon2id (m/t/p from config, 16-byte
 *   salt, 32-byte key, as alexedwards/argon2id);
 * - values that already carry a known hash prefix are stored verbatim (users: argon2id, bcrypt,
 *   pbkdf2 variants, md5crypt, apr1, sha512crypt; admins: argon2id and `$2a$` only);
 * - verification of all of them, plus sha256crypt (`$5$`).
 */
import { createHash, pbkdf2 as pbkdf2Cb, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type { Algorithm } from '@node-rs/argon2';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { verify as unixVerify } from 'unixcrypt';
import type { PasswordHashingConfig } from './config.js';

const pbkdf2 = promisify(pbkdf2Cb);
// apache-md5 is CommonJS and its typings declare an ES default export that does not exist at
// run time: load it through require, typed as what module.exports really is
const aprMd5 = createRequire(import.meta.url)('apache-md5') as (
  password: string,
  salt?: string,
) => string;

export const ARGON2ID_PREFIX = '$argon2id$';
export const BCRYPT_PREFIXES = ['$2a$', '$2b$', '$2y$'] as const;
export const PBKDF2_PREFIXES = [
  '$pbkdf2-sha1$',
  '$pbkdf2-sha256$',
  '$pbkdf2-sha512$',
  '$pbkdf2-b64salt-sha256$',
] as const;
export const UNIX_CRYPT_PREFIXES = ['$1$', '$apr1$', '$6$'] as const;

/** Prefixes of values stored verbatim when given as a user password. */
export const USER_HASH_PREFIXES: readonly string[] = [
  ARGON2ID_PREFIX,
  ...BCRYPT_PREFIXES,
  ...PBKDF2_PREFIXES,
  ...UNIX_CRYPT_PREFIXES,
];
/** Prefixes of values stored verbatim when given as an admin password. */
export const ADMIN_HASH_PREFIXES: readonly string[] = [ARGON2ID_PREFIX, '$2a$'];

export function isUserPasswordHashed(p: string): boolean {
  return USER_HASH_PREFIXES.some((x) => p.startsWith(x));
}
export function isAdminPasswordHashed(p: string): boolean {
  return ADMIN_HASH_PREFIXES.some((x) => p.startsWith(x));
}

/** 2 = Argon2id in @node-rs/argon2's (ambient const) Algorithm enum */
const ARGON2ID = 2 as Algorithm;

/** Hashes a plaintext password with the configured algorithm. */
export async function hashPassword(plain: string, cfg: PasswordHashingConfig): Promise<string> {
  if (cfg.algo === 'argon2id') {
    return argonHash(plain, {
      algorithm: ARGON2ID,
      memoryCost: cfg.argon2_options.memory,
      timeCost: cfg.argon2_options.iterations,
      parallelism: cfg.argon2_options.parallelism,
      outputLen: 32,
    });
  }
  const h = await bcrypt.hash(plain, cfg.bcrypt_options.cost);
  // bcryptjs writes the `$2b$` revision; the algorithm is the same, SFTPGo stores `$2a$`
  return h.startsWith('$2b$') ? `$2a$${h.slice(4)}` : h;
}

/** The stored value for a user password: verbatim when already hashed, else hashed. */
export async function userPasswordForStorage(
  p: string,
  cfg: PasswordHashingConfig,
): Promise<string> {
  return isUserPasswordHashed(p) ? p : hashPassword(p, cfg);
}
export async function adminPasswordForStorage(
  p: string,
  cfg: PasswordHashingConfig,
): Promise<string> {
  return isAdminPasswordHashed(p) ? p : hashPassword(p, cfg);
}

/** Go's strconv.Atoi for the iteration count: optional sign, decimal digits only. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function decodeStdBase64(s: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

/** Upper bound on pbkdf2 iterations we are willing to compute for one login attempt. */
const PBKDF2_MAX_ITERATIONS = 10_000_000;

/**
 * `$<algo>$<iterations>$<salt>$<base64 hash>`; the b64salt variant has a base64 salt. The key
 * length is the decoded hash length; comparison in constant time.
 */
export async function verifyPbkdf2(password: string, hashed: string): Promise<boolean> {
  const parts = hashed.split('$');
  if (parts.length !== 5) return false;
  const [, algo = '', iterStr = '', saltStr = '', expectedStr = ''] = parts;
  const digest = {
    'pbkdf2-sha1': 'sha1',
    'pbkdf2-sha256': 'sha256',
    'pbkdf2-sha512': 'sha512',
    'pbkdf2-b64salt-sha256': 'sha256',
  }[algo];
  if (digest === undefined) return false;
  const iterations = atoi(iterStr);
  if (iterations === undefined || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS)
    return false;
  const expected = decodeStdBase64(expectedStr);
  if (expected === undefined || expected.length === 0) return false;
  let salt: Buffer | undefined;
  if (algo === 'pbkdf2-b64salt-sha256') salt = decodeStdBase64(saltStr);
  else salt = Buffer.from(saltStr, 'utf8');
  if (salt === undefined) return false;
  const derived = await pbkdf2(
    Buffer.from(password, 'utf8'),
    salt,
    iterations,
    expected.length,
    digest,
  );
  return timingSafeEqual(derived, expected);
}

function constantTimeStringEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a === b;
}

/** md5crypt (`$1$`) and Apache's apr1 (`$apr1$`), on the UTF-8 bytes of the password. */
export function verifyMd5Crypt(password: string, hashed: string): boolean {
  // apache-md5 hashes strings as latin1: feed it the UTF-8 bytes, as Go's crypt packages see them
  const asBytes = Buffer.from(password, 'utf8').toString('latin1');
  return constantTimeStringEqual(aprMd5(asBytes, hashed), hashed);
}

/**
 * Verifies `password` against any supported stored hash. Unknown formats never match.
 * Never throws for malformed hashes (returns false).
 */
export async function verifyPassword(password: string, hashed: string): Promise<boolean> {
  if (hashed === '') return false;
  try {
    if (hashed.startsWith(ARGON2ID_PREFIX)) return await argonVerify(hashed, password);
    if (BCRYPT_PREFIXES.some((x) => hashed.startsWith(x)))
      return await bcrypt.compare(password, hashed);
    if (PBKDF2_PREFIXES.some((x) => hashed.startsWith(x)))
      return await verifyPbkdf2(password, hashed);
    if (hashed.startsWith('$1$') || hashed.startsWith('$apr1$'))
      return verifyMd5Crypt(password, hashed);
    if (hashed.startsWith('$5$') || hashed.startsWith('$6$')) return unixVerify(password, hashed);
  } catch {
    // a malformed stored hash (bad salt, bad parameters) is a non-match, not a server error
    return false;
  }
  return false;
}

/**
 * Per-provider cache of verified passwords (data_provider.password_caching): avoids paying
 * argon2/bcrypt again for every login of the same user. Keys are usernames; values are SHA-256
 * digests of the verified plaintext, so no plaintext is kept in memory. Cleared on user
 * update/delete and password change.
 */
export class PasswordCache {
  readonly #entries = new Map<string, { hash: string; digest: Buffer }>();

  #digest(password: string): Buffer {
    return createHash('sha256').update(password, 'utf8').digest();
  }

  /** true when `password` was verified before against this very stored hash */
  check(username: string, storedHash: string, password: string): boolean {
    const e = this.#entries.get(username);
    if (e === undefined || e.hash !== storedHash) return false;
    return timingSafeEqual(e.digest, this.#digest(password));
  }

  add(username: string, storedHash: string, password: string): void {
    this.#entries.set(username, { hash: storedHash, digest: this.#digest(password) });
  }

  remove(username: string): void {
    this.#entries.delete(username);
  }

  clear(): void {
    this.#entries.clear();
  }
}
