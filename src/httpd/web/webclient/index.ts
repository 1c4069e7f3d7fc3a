/**
 * The web client's pages (upstream templates/webclient). Everything after the sign-in pages
 * needs a session (requireWebClient); file access goes through a src/common Connection with
 * protocol HTTP, as the REST user API's.
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import type { WebKit } from '../kit.js';
import { registerClientAccountPages } from './account.js';
import { registerClientAuthPages } from './auth.js';
import { registerClientFilePages } from './files.js';

export function registerClientPages(router: Router<HttpdState>, kit: WebKit): void {
  registerClientAuthPages(router, kit);
  registerClientFilePages(router, kit);
  registerClientAccountPages(router, kit);
}
