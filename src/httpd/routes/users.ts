/**
 * Tag "users": /users CRUD with view_users / add_users / edit_users / del_users.
 * Mirrors httpd/api_user.go of SFTPGo 2.1.2. PUT semantics (the body decoded over the stored
 * user, permissions kept when omitted, filesystem and virtual folders replaced) are the data
 * provider's updateUser; `?disconnect=1` closes the user's connections after the update and
 * DELETE always does.
 */
import type Router from '@koa/router';
import { redactUser } from '../../dataprovider/index.js';
import type { User } from '../../dataprovider/provider.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeUser } from '../decode.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import { errorSummary } from '../middleware/errors.js';
import { parseDisconnect, parseListOptions } from '../query.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

/** POST /users from a JSON body (the web admin's user form builds the same body) */
export async function addUserFromBody(deps: ApiDeps, body: unknown): Promise<User> {
  return deps.provider.addUser(decodeUser(body));
}

/** PUT /users/{username} with the JSON body `body()` gives: 404 before reading it, as upstream */
export async function updateUserFromBody(
  deps: ApiDeps,
  username: string,
  body: () => Promise<unknown>,
): Promise<void> {
  await deps.provider.getUser(username);
  await deps.provider.updateUser(username, decodeUser(await body()));
}

/** closes the user's sessions after a change; a failure is logged, the change stays saved */
export async function disconnectAfterChange(deps: ApiDeps, username: string): Promise<void> {
  if (!deps.disconnectUser) return;
  try {
    await deps.disconnectUser(username);
  } catch (e) {
    // the change is already saved; a failure to kick sessions must not turn it into an error
    deps.logger.warn({ username, error: errorSummary(e) }, 'unable to disconnect user');
  }
}

/** DELETE /users/{username}: the user's connections are closed too */
export async function deleteUserAndDisconnect(deps: ApiDeps, username: string): Promise<void> {
  await deps.provider.deleteUser(username);
  await disconnectAfterChange(deps, username);
}

export function registerUserRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const { provider } = deps;

  router.get('/users', auth, requirePermission('view_users'), async (ctx) => {
    const opts = parseListOptions(ctx.query);
    // already redacted by the provider
    sendJson(ctx, 200, await provider.getUsers(opts));
  });

  router.post('/users', auth, requirePermission('add_users'), async (ctx) => {
    const added = await addUserFromBody(deps, await readJsonBody(ctx.req));
    sendJson(ctx, 201, redactUser(added));
  });

  router.get('/users/:username', auth, requirePermission('view_users'), async (ctx) => {
    sendJson(ctx, 200, redactUser(await provider.getUser(pathParam(ctx, 'username'))));
  });

  router.put('/users/:username', auth, requirePermission('edit_users'), async (ctx) => {
    const doDisconnect = parseDisconnect(ctx.query);
    const username = pathParam(ctx, 'username');
    await updateUserFromBody(deps, username, () => readJsonBody(ctx.req));
    if (doDisconnect) await disconnectAfterChange(deps, username);
    sendMessage(ctx, 200, 'User updated');
  });

  router.delete('/users/:username', auth, requirePermission('del_users'), async (ctx) => {
    await deleteUserAndDisconnect(deps, pathParam(ctx, 'username'));
    sendMessage(ctx, 200, 'User deleted');
  });
}
