/**
 * JWT issuing and checking for the REST API (mirrors httpd/auth_utils.go of SFTPGo 2.1.2):
 * HS256, 15 minutes, `nbf` = now - 30 s, claims `username`, `permissions`, `jti`, `sub`
 * (the admin signature) and `aud`. Logout puts the raw token in a deny-list kept until the
 * token would expire anyway.
 *
 * Unlike upstream the key can be derived from a configured passphrase, so that several
 * instances behind a load balancer accept each other's tokens (upstream #466).
 */
import { createHash, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { HttpError } from './errors.js';

export const TOKEN_DURATION_MS = 15 * 60 * 1000;
const NOT_BEFORE_SKEW_S = 30;
const HKDF_SALT = 'sftpgo-ts jwt signing key';
const HKDF_INFO = 'httpd api token';

export type TokenAudience = 'API' | 'APIUser' | 'WebAdmin' | 'WebClient';

export interface TokenClaims {
  username: string;
  permissions: string[];
  jti: string;
  aud: string | string[];
  exp: number;
  nbf: number;
  iat: number;
  sub?: string;
}

export interface IssuedToken {
  access_token: string;
  /** RFC 3339, second precision, UTC (as Go's time.RFC3339) */
  expires_at: string;
  claims: TokenClaims;
}

export interface TokenSubject {
  username: string;
  permissions: string[];
  /** hashed password; when given, `sub` carries base64(sha256(username ‖ hash)) as upstream */
  passwordHash?: string | undefined;
  /** the `sub` claim as given (web client sessions: userSignature); wins over passwordHash */
  signature?: string | undefined;
}

export interface TokenManager {
  issue(subject: TokenSubject, audience: TokenAudience): IssuedToken;
  /** returns the claims or throws HttpError 401 with the message upstream uses */
  verify(token: string | undefined, audience: TokenAudience): TokenClaims;
  /** deny-lists the token until its expiry; invalid tokens are ignored */
  revoke(token: string): void;
}

export interface TokenManagerOptions {
  /** derive the key from this passphrase (HKDF-SHA256); random 32 bytes when empty */
  passphrase?: string | undefined;
  /** milliseconds since the epoch; injectable for tests */
  now?: () => number;
}

/** a 32-byte key for one purpose (`info`), derived from the configured passphrase */
export function deriveKey(passphrase: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', passphrase, HKDF_SALT, info, 32));
}

export function deriveSigningKey(passphrase: string): Buffer {
  return deriveKey(passphrase, HKDF_INFO);
}

export function adminSignature(username: string, passwordHash: string): string {
  return createHash('sha256').update(username).update(passwordHash).digest('base64');
}

/**
 * The `sub` of a web client session (upstream User.getSignature): changes when the user's
 * status, expiration date or password changes, which ends the session.
 */
export function userSignature(u: {
  username?: string | undefined;
  status?: number | undefined;
  expiration_date?: number | undefined;
  password?: string | undefined;
}): string {
  return createHash('sha256')
    .update(`${u.username ?? ''}_${u.status ?? 0}_${u.expiration_date ?? 0}`)
    .update(u.password ?? '')
    .digest('base64');
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function unauthorized(message: string, detail?: string): HttpError {
  return new HttpError(401, message, detail === undefined ? {} : { detail });
}

function isClaims(v: unknown): v is TokenClaims {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.username === 'string' &&
    Array.isArray(c.permissions) &&
    c.permissions.every((p) => typeof p === 'string') &&
    typeof c.exp === 'number'
  );
}

export function createTokenManager(o: TokenManagerOptions = {}): TokenManager {
  // A KeyObject, not the raw bytes: given a Buffer, jsonwebtoken first tries to parse it as a
  // public key (createPublicKey throws, then createSecretKey) on every sign and verify, which
  // was most of the CPU an authenticated request cost (issue 16's profile).
  const key = createSecretKey(o.passphrase ? deriveSigningKey(o.passphrase) : randomBytes(32));
  const now = o.now ?? Date.now;
  /** raw token -> expiry (ms) */
  const denied = new Map<string, number>();

  const purge = (t: number): void => {
    for (const [tok, exp] of denied) if (exp <= t) denied.delete(tok);
  };

  return {
    issue(subject, audience) {
      const t = now();
      const iat = Math.floor(t / 1000);
      const exp = Math.floor((t + TOKEN_DURATION_MS) / 1000);
      const claims: TokenClaims = {
        username: subject.username,
        permissions: [...subject.permissions],
        jti: randomBytes(10).toString('hex'),
        aud: audience,
        iat,
        nbf: iat - NOT_BEFORE_SKEW_S,
        exp,
      };
      if (subject.signature !== undefined) claims.sub = subject.signature;
      else if (subject.passwordHash) claims.sub = adminSignature(subject.username, subject.passwordHash);
      const access_token = jwt.sign(claims, key, { algorithm: 'HS256' });
      return { access_token, expires_at: rfc3339(exp * 1000), claims };
    },

    verify(token, audience) {
      if (!token) throw unauthorized('Unauthorized', 'no token found');
      let decoded: unknown;
      try {
        decoded = jwt.verify(token, key, {
          algorithms: ['HS256'],
          clockTimestamp: Math.floor(now() / 1000),
        });
      } catch (e) {
        const detail = e instanceof Error ? e.message : 'invalid token';
        throw unauthorized('Unauthorized', detail);
      }
      if (!isClaims(decoded)) throw unauthorized('Unauthorized', 'invalid token claims');
      const t = now();
      const exp = denied.get(token);
      if (exp !== undefined && exp > t) throw unauthorized('Your token is no longer valid');
      const aud = Array.isArray(decoded.aud) ? decoded.aud : [decoded.aud];
      if (!aud.includes(audience)) throw unauthorized('Your token audience is not valid');
      return decoded;
    },

    revoke(token) {
      const d = jwt.decode(token, { json: true });
      if (d === null || typeof d.exp !== 'number') return;
      const t = now();
      purge(t);
      if (d.exp * 1000 > t) denied.set(token, d.exp * 1000);
    },
  };
}
