/**
 * Tag "users": /users CRUD with view_users / add_users / edit_users / del_users.
 * Mirrors httpd/api_user.go of SFTPGo 2.1.2. PUT semantics (the body decoded over the stored
 * user, permissions kept when omitted, filesystem and virtual folders replaced) are the data
 * provider's updateUser; `?disconnect=1` closes the user's connections after the update and
 * DELETE always does.
 */
import type Router from '@koa/router';
import { redactUser } from '../../dataprovider/index.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeUser } from '../decode.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import { errorSummary } from '../middleware/errors.js';
import { parseDisconnect, parseListOptions } from '../query.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

export function registerUserRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const { provider } = deps;

  const disconnect = async (username: string): Promise<void> => {
    if (!deps.disconnectUser) return;
    try {
      await deps.disconnectUser(username);
    } catch (e) {
      // the change is already saved; a failure to kick sessions must not turn it into an error
      deps.logger.warn({ username, error: errorSummary(e) }, 'unable to disconnect user');
    }
  };

  router.get('/users', auth, requirePermission('view_users'), async (ctx) => {
    const opts = parseListOptions(ctx.query);
    // already redacted by the provider
    sendJson(ctx, 200, await provider.getUsers(opts));
  });

  router.post('/users', auth, requirePermission('add_users'), async (ctx) => {
    const body = decodeUser(await readJsonBody(ctx.req));
    const added = await provider.addUser(body);
    sendJson(ctx, 201, redactUser(added));
  });

  router.get('/users/:username', auth, requirePermission('view_users'), async (ctx) => {
    sendJson(ctx, 200, redactUser(await provider.getUser(pathParam(ctx, 'username'))));
  });

  router.put('/users/:username', auth, requirePermission('edit_users'), async (ctx) => {
    const doDisconnect = parseDisconnect(ctx.query);
    const username = pathParam(ctx, 'username');
    await provider.getUser(username); // 404 before looking at the body, as upstream
    const body = decodeUser(await readJsonBody(ctx.req));
    await provider.updateUser(username, body);
    if (doDisconnect) await disconnect(pathParam(ctx, 'username'));
    sendMessage(ctx, 200, 'User updated');
  });

  router.delete('/users/:username', auth, requirePermission('del_users'), async (ctx) => {
    await provider.deleteUser(pathParam(ctx, 'username'));
    await disconnect(pathParam(ctx, 'username'));
    sendMessage(ctx, 200, 'User deleted');
  });
}
