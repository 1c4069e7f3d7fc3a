/** The server status page (view_status): the same data as GET /api/v2/status. */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { requirePermission } from '../../middleware/auth.js';
import { servicesStatus } from '../../routes/maintenance.js';
import type { WebKit } from '../kit.js';
import { requireWebAdmin } from '../session.js';

export function registerStatusPage(router: Router<HttpdState>, kit: WebKit): void {
  router.get('/status', requireWebAdmin(kit), requirePermission('view_status'), async (ctx) => {
    kit.page(ctx, 'admin', 'webadmin/status', {
      title: 'Status',
      active: '/status',
      status: await servicesStatus(kit.deps),
    });
  });
}
