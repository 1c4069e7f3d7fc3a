/**
 * Tag "token": GET /token (HTTP Basic admin credentials -> JWT) and GET /logout.
 * Mirrors httpd/server.go:getToken and logout of SFTPGo 2.1.2.
 */
import type Router from '@koa/router';
import { SftpgoError } from '../../errors/index.js';
import type { Admin } from '../../dataprovider/provider.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { BASIC_REALM, HttpError } from '../errors.js';
import { requireAdminToken } from '../middleware/auth.js';
import { sendJson, sendMessage } from './respond.js';

function unauthorized(detail: string, logged = false): HttpError {
  return new HttpError(401, 'Unauthorized', {
    detail,
    headers: { 'WWW-Authenticate': BASIC_REALM },
    logged,
  });
}

/** `Authorization: Basic base64(user:password)`; undefined when absent or malformed */
export function parseBasicAuth(
  header: string | undefined,
): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export function registerTokenRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  router.get('/token', async (ctx) => {
    const creds = parseBasicAuth(ctx.get('authorization') || undefined);
    if (!creds || creds.username === '' || creds.password === '') {
      throw unauthorized('credentials cannot be null or empty');
    }
    let admin: Admin;
    try {
      // checks status and filters.allow_list too (upstream Admin.CanLogin)
      admin = await deps.provider.checkAdminPassword(creds.username, creds.password, ctx.state.remoteIp);
    } catch (e) {
      if (SftpgoError.is(e, 'AUTH_FAILED') || SftpgoError.is(e, 'NOT_FOUND')) {
        deps.logger.debug(
          { username: creds.username, remote_addr: ctx.state.remoteIp, reason: e.message },
          'admin login failed',
        );
        throw unauthorized(SftpgoError.is(e, 'AUTH_FAILED') ? e.message : 'invalid credentials', true);
      }
      throw e;
    }
    const issued = deps.tokens.issue(
      {
        username: admin.username ?? creds.username,
        permissions: admin.permissions ?? [],
        passwordHash: admin.password,
      },
      'API',
    );
    sendJson(ctx, 200, { access_token: issued.access_token, expires_at: issued.expires_at });
  });

  router.get('/logout', requireAdminToken(deps), (ctx) => {
    if (ctx.state.token !== undefined) deps.tokens.revoke(ctx.state.token);
    sendMessage(ctx, 200, 'Your token has been invalidated');
  });
}
