/**
 * Tag "admins": /admins CRUD (permission manage_admins) and the admin's own password change.
 * Mirrors httpd/api_admin.go of SFTPGo 2.1.2, including the self-protection rules.
 */
import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import { SftpgoError } from '../../errors/index.js';
import { redactAdmin } from '../../dataprovider/index.js';
import type { Admin } from '../../dataprovider/provider.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeAdmin, decodePwdChange } from '../decode.js';
import { HttpError } from '../errors.js';
import { currentAdmin, requireAdminToken, requirePermission } from '../middleware/auth.js';
import { parseListOptions } from '../query.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

function badRequest(message: string): HttpError {
  return new HttpError(400, message, { detail: message });
}

/** the API rendering of an admin: no password, and `email` omitted when empty (Go omitempty) */
export function adminDto(a: Admin): Admin {
  const out = redactAdmin(a);
  if (out.email === '') delete out.email;
  return out;
}

const CRITICAL = ['*', 'manage_admins'] as const;

function holdsCritical(perms: readonly string[] | undefined): boolean {
  return (perms ?? []).some((p) => (CRITICAL as readonly string[]).includes(p));
}

export function registerAdminRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const manage = requirePermission('manage_admins');
  const { provider } = deps;

  router.get('/admins', auth, manage, async (ctx) => {
    const opts = parseListOptions(ctx.query);
    const admins = await provider.getAdmins(opts);
    sendJson(ctx, 200, admins.map((a) => adminDto(a)));
  });

  router.post('/admins', auth, manage, async (ctx) => {
    const body = decodeAdmin(await readJsonBody(ctx.req));
    const added = await provider.addAdmin(body);
    sendJson(ctx, 201, adminDto(added));
  });

  router.get('/admins/:username', auth, manage, async (ctx) => {
    sendJson(ctx, 200, adminDto(await provider.getAdmin(pathParam(ctx, 'username'))));
  });

  router.put('/admins/:username', auth, manage, async (ctx) => {
    const self = currentAdmin(ctx.state);
    const username = pathParam(ctx, 'username');
    const stored = await provider.getAdmin(username);
    const body = decodeAdmin(await readJsonBody(ctx.req));
    // fields omitted from the body keep their stored value (the provider's updateAdmin)
    if (stored.username === self) {
      const perms = body.permissions ?? stored.permissions;
      if (holdsCritical(stored.permissions) && !holdsCritical(perms)) {
        throw badRequest('you cannot remove these permissions to yourself');
      }
      if ((body.status ?? stored.status) === 0) throw badRequest('you cannot disable yourself');
    }
    await provider.updateAdmin(username, body);
    sendMessage(ctx, 200, 'Admin updated');
  });

  router.delete('/admins/:username', auth, manage, async (ctx) => {
    if (pathParam(ctx, 'username') === currentAdmin(ctx.state)) {
      throw badRequest('you cannot delete yourself');
    }
    await provider.deleteAdmin(pathParam(ctx, 'username'));
    sendMessage(ctx, 200, 'Admin deleted');
  });

  const changePassword: RouterMiddleware<HttpdState> = async (ctx) => {
    const username = currentAdmin(ctx.state);
    const pwd = decodePwdChange(await readJsonBody(ctx.req));
    const current = pwd.current_password ?? '';
    const next = pwd.new_password ?? '';
    if (current === '' || next === '') {
      throw badRequest('please provide the current password and the new one');
    }
    if (current === next) throw badRequest('the new password must be different from the current one');
    try {
      await provider.checkAdminPassword(username, current);
    } catch (e) {
      if (!SftpgoError.is(e, 'AUTH_FAILED')) throw e;
      throw badRequest('current password does not match');
    }
    await provider.setAdminPassword(username, next);
    sendMessage(ctx, 200, 'Password updated');
  };
  router.put('/admin/changepwd', auth, changePassword);
  /** deprecated alias kept by the 2.1.2 contract */
  router.put('/changepwd/admin', auth, changePassword);
}
