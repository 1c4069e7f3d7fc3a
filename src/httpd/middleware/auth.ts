/**
 * Admin API authentication (Bearer JWT, audience "API") and per-operation permission checks,
 * as upstream's jwtAuthenticatorAPI and checkPerm: the permissions come from the token claims.
 */
import type { Middleware } from 'koa';
import type { AdminPermission } from '../../api/index.js';
import type { HttpdState } from '../context.js';
import { HttpError } from '../errors.js';
import type { TokenManager } from '../jwt.js';

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export function requireAdminToken(tokens: TokenManager): Middleware<HttpdState> {
  return async function adminToken(ctx, next) {
    const token = bearerToken(ctx.get('authorization') || undefined);
    ctx.state.claims = tokens.verify(token, 'API');
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
