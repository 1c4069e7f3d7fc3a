/** An admin JWT as returned by `GET /api/v2/token`. */
export interface AccessToken {
  access_token: string;
  /** RFC 3339 date-time */
  expires_at: string;
}

/** Tokens are renewed this long before they expire (they live 15 minutes on the server). */
export const TOKEN_RENEW_MARGIN_MS = 60_000;

/** Milliseconds since the epoch at which the token expires, or NaN when unparsable. */
export function tokenExpiry(t: AccessToken): number {
  return Date.parse(t.expires_at);
}

/** True while the token may still be used (more than `marginMs` before its expiry). */
export function tokenIsFresh(
  t: AccessToken | undefined,
  now: number,
  marginMs = TOKEN_RENEW_MARGIN_MS,
): t is AccessToken {
  if (t === undefined || t.access_token === '') return false;
  const exp = tokenExpiry(t);
  return Number.isFinite(exp) && exp - now > marginMs;
}

/** Narrows an unknown JSON value to an AccessToken. */
export function isAccessToken(v: unknown): v is AccessToken {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { access_token?: unknown; expires_at?: unknown };
  return typeof o.access_token === 'string' && o.access_token !== '' && typeof o.expires_at === 'string';
}
