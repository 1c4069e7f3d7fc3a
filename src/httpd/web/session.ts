/**
 * Who a web session stands for, checked on every request (stricter than upstream 2.1.2, which
 * looks only at the token until it is refreshed):
 * - web admin: the admin must still exist and be enabled, its permissions are the current ones
 *   (the REST API's rule, middleware/auth.ts), and its password must be the one the session was
 *   opened with (the `sub` signature): a password change ends the other sessions;
 * - web client: the user must still exist, and its status, expiration date and password must
 *   be those the session was opened with (upstream's user signature).
 * A request without a valid session is sent to the login page (302), or gets a 401 when it
 * came from our own script (`X-Requested-With: fetch`), which then reloads the page.
 */
import type { Middleware } from 'koa';
import { SftpgoError } from '../../errors/index.js';
import type { Admin, User } from '../../dataprovider/provider.js';
import type { HttpdState } from '../context.js';
import { HttpError } from '../errors.js';
import { adminSignature, userSignature, type TokenSubject } from '../jwt.js';
import { currentAdminClaims } from '../middleware/auth.js';
import type { WebArea, WebCtx, WebKit } from './kit.js';

function toLogin(kit: WebKit, ctx: WebCtx, area: WebArea, why: string): void {
  kit.deps.logger.debug({ uri: ctx.path, area, reason: why }, 'web session refused');
  if (ctx.get('x-requested-with') === 'fetch') {
    throw new HttpError(401, 'Unauthorized', {
      detail: 'your session ended: log in again',
      logged: true,
    });
  }
  kit.endSession(ctx, area);
  kit.redirect(ctx, area, '/login');
}

export function adminSubject(a: Admin): TokenSubject {
  return { username: a.username ?? '', permissions: a.permissions ?? [], passwordHash: a.password };
}

export function userSubject(u: User): TokenSubject {
  return {
    username: u.username ?? '',
    permissions: [...(u.filters?.web_client ?? [])],
    signature: userSignature(u),
  };
}

/** true when no admin exists yet: the web admin offers its first-admin setup page */
export async function needsSetup(kit: WebKit): Promise<boolean> {
  try {
    return (await kit.deps.provider.getAdmins({ limit: 1 })).length === 0;
  } catch {
    return false;
  }
}

export function requireWebAdmin(kit: WebKit): Middleware<HttpdState> {
  return async function webAdminSession(ctx, next) {
    const s = kit.sessionClaims(ctx, 'admin');
    if (!s) {
      if (await needsSetup(kit)) return kit.redirect(ctx, 'admin', '/setup');
      return toLogin(kit, ctx, 'admin', 'no valid session cookie');
    }
    let claims;
    try {
      claims = await currentAdminClaims(kit.deps.provider, s.claims);
    } catch (e) {
      if (HttpError.is(e) && e.status === 401)
        return toLogin(kit, ctx, 'admin', e.detail ?? e.message);
      throw e;
    }
    const admin = await kit.deps.provider.getAdminCached(claims.username).catch(() => undefined);
    if (
      admin &&
      s.claims.sub !== undefined &&
      s.claims.sub !== adminSignature(claims.username, admin.password ?? '')
    ) {
      return toLogin(kit, ctx, 'admin', 'the password changed since the session was opened');
    }
    ctx.state.claims = claims;
    ctx.state.token = s.token;
    if (admin) kit.refreshSession(ctx, 'admin', s.claims, adminSubject(admin));
    await next();
  };
}

export function requireWebClient(kit: WebKit): Middleware<HttpdState> {
  return async function webClientSession(ctx, next) {
    const s = kit.sessionClaims(ctx, 'client');
    if (!s) return toLogin(kit, ctx, 'client', 'no valid session cookie');
    let user: User;
    try {
      user = await kit.deps.provider.getUser(s.claims.username);
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND'))
        return toLogin(kit, ctx, 'client', 'the user no longer exists');
      throw e;
    }
    if (s.claims.sub !== userSignature(user)) {
      return toLogin(
        kit,
        ctx,
        'client',
        'the status, expiration or password changed since the session was opened',
      );
    }
    ctx.state.claims = s.claims;
    ctx.state.token = s.token;
    ctx.state.webUser = user;
    kit.refreshSession(ctx, 'client', s.claims, userSubject(user));
    await next();
  };
}
