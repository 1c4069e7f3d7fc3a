/**
 * The koa application of the REST API. Built per binding-set with its dependencies; no
 * module-level state, so several servers can run in one process (tests, multi-instance).
 * Routes live in routes/<openapi tag>.ts.
 */
import Koa from 'koa';
import Router from '@koa/router';
import type { ApiDeps, HttpdState } from './context.js';
import { connectionCheck } from './middleware/connection-check.js';
import { errorMiddleware, errorSummary } from './middleware/errors.js';
import { requestLog } from './middleware/request-log.js';
import { resolveRemoteIp } from './remote-ip.js';
import { registerAdminRoutes } from './routes/admins.js';
import { registerBackupRoutes } from './routes/backup.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerDefenderRoutes } from './routes/defender.js';
import { registerFolderRoutes } from './routes/folders.js';
import { registerHealthcheckRoutes } from './routes/healthcheck.js';
import { registerMaintenanceRoutes } from './routes/maintenance.js';
import { registerQuotaRoutes } from './routes/quota.js';
import { registerTokenRoutes } from './routes/token.js';
import { registerUserApiRoutes } from './routes/user-api.js';
import { registerUserRoutes } from './routes/users.js';
import { mountWeb, type WebOptions, type WebShared } from './web/index.js';

export const API_PREFIX = '/api/v2';

export interface AppOptions {
  /** peers whose X-Forwarded-For & co. are trusted (binding proxy_allowed) */
  isAllowedProxy?: (ip: string) => boolean;
  /** the web admin and web client of this binding; absent = REST API only */
  web?: WebOptions & { shared: WebShared };
}

export function createApp(deps: ApiDeps, o: AppOptions = {}): Koa<HttpdState> {
  const app = new Koa<HttpdState>({ proxy: false });
  const isAllowedProxy = o.isAllowedProxy ?? (() => false);
  // koa would print errors that escape the middleware chain to stderr; route them to our log
  app.silent = true;
  app.on('error', (err: unknown) => {
    deps.logger.error({ error: errorSummary(err) }, 'unhandled HTTP error');
  });

  app.use(async function remoteAddress(ctx, next) {
    ctx.state.remoteIp = resolveRemoteIp(ctx.req.socket.remoteAddress, ctx.headers, isAllowedProxy);
    await next();
  });
  app.use(requestLog(deps.logger));
  app.use(errorMiddleware(deps.logger));
  // per-host limits, banned hosts (defender), rate limiters: before any route, /healthz included
  app.use(connectionCheck(deps));
  if (o.web) mountWeb(app, deps, { ...o.web, isAllowedProxy });

  const root = new Router<HttpdState>();
  registerHealthcheckRoutes(root);

  const api = new Router<HttpdState>({ prefix: API_PREFIX });
  registerTokenRoutes(api, deps);
  registerMaintenanceRoutes(api, deps);
  registerAdminRoutes(api, deps);
  registerUserRoutes(api, deps);
  registerFolderRoutes(api, deps);
  registerBackupRoutes(api, deps);
  registerQuotaRoutes(api, deps);
  registerDefenderRoutes(api, deps);
  registerConnectionRoutes(api, deps);
  registerUserApiRoutes(api, deps);

  app.use(root.routes());
  app.use(root.allowedMethods());
  app.use(api.routes());
  app.use(api.allowedMethods());
  return app;
}
