/**
 * CSRF tokens of the web UIs: an HMAC over (session subject, expiry, nonce) with a key of the
 * process (or derived from `httpd.signing_passphrase`, so several instances accept each
 * other's forms). Every state-changing web request carries one, in the `_form_token` field or
 * the `X-CSRF-Token` header. The subject is `<area>:<username>` for a signed-in page and
 * `<area>:login` for the login forms, so a token from one user's page is refused for another.
 *
 * Written by hand: a signed double-submit token is a dozen lines of node:crypto, and the
 * CSRF middlewares on npm (csurf is deprecated, koa-csrf needs koa-session) assume a server
 * session store we do not have.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../jwt.js';

export const CSRF_FIELD = '_form_token';
export const CSRF_HEADER = 'x-csrf-token';
/** longer than a session (15 minutes, refreshed): a form left open for a while still posts */
const LIFETIME_MS = 60 * 60 * 1000;

export interface CsrfTokens {
  issue(subject: string): string;
  verify(token: string | undefined, subject: string): boolean;
}

export function createCsrfTokens(
  o: { passphrase?: string | undefined; now?: () => number } = {},
): CsrfTokens {
  const key = o.passphrase ? deriveKey(o.passphrase, 'web csrf token') : randomBytes(32);
  const now = o.now ?? Date.now;
  const mac = (subject: string, body: string): Buffer =>
    createHmac('sha256', key).update(subject).update('\0').update(body).digest();
  return {
    issue(subject) {
      const body = `${(now() + LIFETIME_MS).toString(36)}.${randomBytes(12).toString('base64url')}`;
      return `${body}.${mac(subject, body).toString('base64url')}`;
    },
    verify(token, subject) {
      if (typeof token !== 'string' || token.length > 200) return false;
      const i = token.lastIndexOf('.');
      if (i <= 0) return false;
      const body = token.slice(0, i);
      const given = Buffer.from(token.slice(i + 1), 'base64url');
      const want = mac(subject, body);
      if (given.length !== want.length || !timingSafeEqual(given, want)) return false;
      const exp = parseInt(body.slice(0, body.indexOf('.')), 36);
      return Number.isFinite(exp) && exp > now();
    },
  };
}
