import type Router from '@koa/router';
import type { HttpdState } from '../context.js';

/** GET /healthz: 200 text/plain `ok`, never authenticated (tag "healthcheck") */
export function registerHealthcheckRoutes(router: Router<HttpdState>): void {
  router.get('/healthz', (ctx) => {
    ctx.status = 200;
    ctx.type = 'text/plain';
    ctx.body = 'ok';
  });
}
