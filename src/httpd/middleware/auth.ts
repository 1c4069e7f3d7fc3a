/**
 * Admin API authentication (Bearer JWT, audience "API") and per-operation permission checks,
 * as upstream's jwtAuthenticatorAPI and checkPerm. Unlike upstream, the admin behind the token
 * is checked on every request (data provider's getAdminCached): a deleted or disabled admin's
 * token is refused and the permissions are the admin's current ones, not those in the claims.
 */
import type { Middleware } from 'koa';
import type { AdminPermission } from '../../api/index.js';
import type { DataProvider } from '../../dataprovider/provider.js';
import { SftpgoError } from '../../errors/index.js';
import type { HttpdState } from '../context.js';
import { HttpError } from '../errors.js';
import type { TokenClaims, TokenManager } from '../jwt.js';

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export interface AdminTokenDeps {
  tokens: TokenManager;
  provider: Pick<DataProvider, 'getAdminCached'>;
}

/** the claims with the permissions of the admin as stored now; 401 when it is gone or disabled */
export async function currentAdminClaims(
  provider: AdminTokenDeps['provider'],
  claims: TokenClaims,
): Promise<TokenClaims> {
  const noLonger = (why: string): HttpError =>
    new HttpError(401, 'Your token is no longer valid', { detail: why });
  let admin;
  try {
    admin = await provider.getAdminCached(claims.username);
  } catch (e) {
    if (SftpgoError.is(e, 'NOT_FOUND')) throw noLonger(e.message);
    // The database cannot be reached: the token was valid when issued (at most 15 minutes
    // ago), so the claims decide, as they did before admins were checked per request; the
    // routes that need the database fail on their own, and /status can still say why.
    if (SftpgoError.is(e, 'BACKEND_UNAVAILABLE')) return claims;
    throw e;
  }
  if (admin.status !== 1) throw noLonger(`admin ${JSON.stringify(claims.username)} is disabled`);
  return { ...claims, permissions: admin.permissions ?? [] };
}

export function requireAdminToken(deps: AdminTokenDeps): Middleware<HttpdState> {
  return async function adminToken(ctx, next) {
    const token = bearerToken(ctx.get('authorization') || undefined);
    const claims = deps.tokens.verify(token, 'API');
    ctx.state.claims = await currentAdminClaims(deps.provider, claims);
    if (token !== undefined) ctx.state.token = token;
    await next();
  };
}

export function hasPermission(perms: readonly string[], perm: AdminPermission): boolean {
  return perms.includes('*') || perms.includes(perm);
}

export function requirePermission(perm: AdminPermission): Middleware<HttpdState> {
  return async function permission(ctx, next) {
    const claims = ctx.state.claims;
    if (!claims || !hasPermission(claims.permissions, perm)) {
      throw new HttpError(403, 'Forbidden', { detail: 'Forbidden' });
    }
    await next();
  };
}

/** the authenticated admin's username (the auth middleware ran) */
export function currentAdmin(state: HttpdState): string {
  const u = state.claims?.username;
  if (!u) throw new HttpError(400, 'Invalid token claims', { detail: 'no username in token' });
  return u;
}
