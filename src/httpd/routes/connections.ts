/**
 * Tag "connections": the active connections of every protocol and closing one
 * (mirrors httpd/server.go GetStats / handleCloseConnection of SFTPGo 2.1.2).
 */
import type Router from '@koa/router';
import type { ApiDeps, HttpdState } from '../context.js';
import { HttpError } from '../errors.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

/** DELETE /connections/{id}: closes the connection, 404 when it is not active */
export function closeConnection(deps: ApiDeps, id: string): void {
  if (id === '') throw new HttpError(400, 'connectionID is mandatory', { detail: 'connectionID is mandatory' });
  if (!deps.connections.close(id)) throw new HttpError(404, 'Not Found', { detail: 'Not Found' });
}

export function registerConnectionRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);

  router.get('/connections', auth, requirePermission('view_conns'), (ctx) => {
    sendJson(ctx, 200, deps.connections.list());
  });

  router.delete('/connections/:connectionID', auth, requirePermission('close_conns'), (ctx) => {
    closeConnection(deps, pathParam(ctx, 'connectionID'));
    sendMessage(ctx, 200, 'Connection closed');
  });
}
