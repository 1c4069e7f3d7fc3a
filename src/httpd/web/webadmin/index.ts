/**
 * The web admin's pages, one module per page group (upstream templates/webadmin). Everything
 * after the sign-in pages needs a session (requireWebAdmin) and the page's admin permission,
 * the same permission the REST API asks for the same data.
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import type { WebKit } from '../kit.js';
import { registerAdminUserPages } from './admins.js';
import { registerAdminAuthPages } from './auth.js';
import { registerFolderPages } from './folders.js';
import { registerLivePages } from './live.js';
import { registerMaintenancePages } from './maintenance.js';
import { registerStatusPage } from './status.js';
import { registerUserPages } from './users.js';

export function registerAdminPages(router: Router<HttpdState>, kit: WebKit): void {
  registerAdminAuthPages(router, kit);
  registerStatusPage(router, kit);
  registerUserPages(router, kit);
  registerFolderPages(router, kit);
  registerAdminUserPages(router, kit);
  registerLivePages(router, kit);
  registerMaintenancePages(router, kit);
}
