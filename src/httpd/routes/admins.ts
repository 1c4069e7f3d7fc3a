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

/** POST /admins from a JSON body (the web admin's admin form builds the same body) */
export async function addAdminFromBody(deps: ApiDeps, body: unknown): Promise<Admin> {
  return deps.provider.addAdmin(decodeAdmin(body));
}

/**
 * PUT /admins/{username} with the JSON body `body()` gives (read after the 404 check), as the
 * admin `self`: an admin cannot take the critical permissions from itself nor disable itself
 */
export async function updateAdminFromBody(
  deps: ApiDeps,
  self: string,
  username: string,
  body: () => Promise<unknown>,
): Promise<void> {
  const stored = await deps.provider.getAdmin(username);
  const a = decodeAdmin(await body());
  // fields omitted from the body keep their stored value (the provider's updateAdmin)
  if (stored.username === self) {
    const perms = a.permissions ?? stored.permissions;
    if (holdsCritical(stored.permissions) && !holdsCritical(perms)) {
      throw badRequest('you cannot remove these permissions to yourself');
    }
    if ((a.status ?? stored.status) === 0) throw badRequest('you cannot disable yourself');
  }
  await deps.provider.updateAdmin(username, a);
}

/** DELETE /admins/{username} as the admin `self`: an admin cannot delete itself */
export async function deleteAdminAs(deps: ApiDeps, self: string, username: string): Promise<void> {
  if (username === self) throw badRequest('you cannot delete yourself');
  await deps.provider.deleteAdmin(username);
}

/** PUT /admin/changepwd for the admin `username` */
export async function changeAdminPassword(
  deps: ApiDeps,
  username: string,
  current: string,
  next: string,
): Promise<void> {
  if (current === '' || next === '') {
    throw badRequest('please provide the current password and the new one');
  }
  if (current === next) throw badRequest('the new password must be different from the current one');
  try {
    await deps.provider.checkAdminPassword(username, current);
  } catch (e) {
    if (!SftpgoError.is(e, 'AUTH_FAILED')) throw e;
    throw badRequest('current password does not match');
  }
  await deps.provider.setAdminPassword(username, next);
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
    const added = await addAdminFromBody(deps, await readJsonBody(ctx.req));
    sendJson(ctx, 201, adminDto(added));
  });

  router.get('/admins/:username', auth, manage, async (ctx) => {
    sendJson(ctx, 200, adminDto(await provider.getAdmin(pathParam(ctx, 'username'))));
  });

  router.put('/admins/:username', auth, manage, async (ctx) => {
    const self = currentAdmin(ctx.state);
    const username = pathParam(ctx, 'username');
    await updateAdminFromBody(deps, self, username, () => readJsonBody(ctx.req));
    sendMessage(ctx, 200, 'Admin updated');
  });

  router.delete('/admins/:username', auth, manage, async (ctx) => {
    await deleteAdminAs(deps, currentAdmin(ctx.state), pathParam(ctx, 'username'));
    sendMessage(ctx, 200, 'Admin deleted');
  });

  const changePassword: RouterMiddleware<HttpdState> = async (ctx) => {
    const username = currentAdmin(ctx.state);
    const pwd = decodePwdChange(await readJsonBody(ctx.req));
    await changeAdminPassword(deps, username, pwd.current_password ?? '', pwd.new_password ?? '');
    sendMessage(ctx, 200, 'Password updated');
  };
  router.put('/admin/changepwd', auth, changePassword);
  /** deprecated alias kept by the 2.1.2 contract */
  router.put('/changepwd/admin', auth, changePassword);
}
