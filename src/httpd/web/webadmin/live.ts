/**
 * The live state of the server: active connections (view_conns; Close with close_conns, the
 * registry call of DELETE /api/v2/connections/{id}) and the defender's hosts (view_defender;
 * Unban with manage_defender, as DELETE /api/v2/defender/hosts/{id}). Upstream 2.1.2 has the
 * connections page; the defender page is ours (later upstream versions added one).
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { requirePermission } from '../../middleware/auth.js';
import { closeConnection } from '../../routes/connections.js';
import { deleteDefenderHost } from '../../routes/defender.js';
import { pathParam } from '../../routes/respond.js';
import type { WebKit } from '../kit.js';
import { requireWebAdmin } from '../session.js';
import { flashFromQuery } from './form-page.js';

export function registerLivePages(router: Router<HttpdState>, kit: WebKit): void {
  const { deps } = kit;
  const session = requireWebAdmin(kit);

  router.get('/connections', session, requirePermission('view_conns'), (ctx) => {
    kit.page(ctx, 'admin', 'webadmin/connections', {
      title: 'Connections',
      active: '/connections',
      connections: deps.connections.list(),
      now: Date.now(),
      flash: flashFromQuery(ctx),
    });
  });

  router.post('/connections/:id/close', session, requirePermission('close_conns'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    closeConnection(deps, pathParam(ctx, 'id'));
    kit.redirect(ctx, 'admin', '/connections?ok=conn-closed');
  });

  router.get('/defender', session, requirePermission('view_defender'), (ctx) => {
    kit.page(ctx, 'admin', 'webadmin/defender', {
      title: 'Defender',
      active: '/defender',
      hosts: deps.defender.getHosts(),
      flash: flashFromQuery(ctx),
    });
  });

  router.post('/defender/:id/unban', session, requirePermission('manage_defender'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    deleteDefenderHost(deps, pathParam(ctx, 'id'));
    kit.redirect(ctx, 'admin', '/defender?ok=host-unbanned');
  });
}
