/**
 * Tag "maintenance" (the part owned by the REST core): GET /version and GET /status.
 * dumpdata/loaddata are added here by the maintenance work.
 */
import type Router from '@koa/router';
import type { ApiDeps, HttpdState, ServicesStatus } from '../context.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import { errorSummary } from '../middleware/errors.js';
import { sendJson } from './respond.js';

/** every service's status plus the data provider's availability (GET /status, web admin status page) */
export async function servicesStatus(deps: ApiDeps): Promise<ServicesStatus> {
  const services = await deps.servicesStatus();
  let dataProvider: ServicesStatus['data_provider'];
  try {
    await deps.provider.checkAvailability();
    dataProvider = { is_active: true, driver: deps.provider.driver, error: '' };
  } catch (e) {
    deps.logger.warn({ error: errorSummary(e) }, 'data provider availability check failed');
    dataProvider = {
      is_active: false,
      driver: deps.provider.driver,
      error: 'the data provider is not available',
    };
  }
  return {
    ssh: services.ssh,
    ftp: services.ftp,
    webdav: services.webdav,
    data_provider: dataProvider,
    defender: services.defender,
  };
}

export function registerMaintenanceRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);

  router.get('/version', auth, (ctx) => {
    sendJson(ctx, 200, deps.version);
  });

  router.get('/status', auth, requirePermission('view_status'), async (ctx) => {
    sendJson(ctx, 200, await servicesStatus(deps));
  });
}
