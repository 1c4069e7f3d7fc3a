/**
 * Tag "connections": the active connections of every protocol and closing one
 * (mirrors httpd/server.go GetStats / handleCloseConnection of SFTPGo 2.1.2).
 */
import type Router from '@koa/router';
import type { ApiDeps, HttpdState } from '../context.js';
import { HttpError } from '../errors.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

export function registerConnectionRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);

  router.get('/connections', auth, requirePermission('view_conns'), (ctx) => {
    sendJson(ctx, 200, deps.connections.list());
  });

  router.delete('/connections/:connectionID', auth, requirePermission('close_conns'), (ctx) => {
    const id = pathParam(ctx, 'connectionID');
    if (id === '') throw new HttpError(400, 'connectionID is mandatory', { detail: 'connectionID is mandatory' });
    if (!deps.connections.close(id)) throw new HttpError(404, 'Not Found', { detail: 'Not Found' });
    sendMessage(ctx, 200, 'Connection closed');
  });
}
