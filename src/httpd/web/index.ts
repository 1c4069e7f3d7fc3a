/**
 * The web admin (`<web_root>/web/admin`) and web client (`<web_root>/web/client`) of one HTTP
 * binding, plus their static files (`<web_root>/static`) and the redirect of `<web_root>/`.
 * Pages are server-rendered (eta templates, Pico CSS, one small script for progressive
 * enhancement) and every rule is the data provider's or src/common's, as for the REST API.
 */
import Router from '@koa/router';
import type Koa from 'koa';
import type { ApiDeps, HttpdState } from '../context.js';
import { registerAdminPages } from './webadmin/index.js';
import { registerClientPages } from './webclient/index.js';
import { createCsrfTokens, type CsrfTokens } from './csrf.js';
import { createWebKit, type WebOptions } from './kit.js';
import { createRenderer, type WebRenderer } from './render.js';
import { serveStatic } from './static.js';

export { normalizeWebRoot, type WebOptions } from './kit.js';
export { createCsrfTokens, type CsrfTokens } from './csrf.js';
export { createRenderer, type WebRenderer } from './render.js';

/** what the bindings of one server share: templates compiled once, one CSRF key */
export interface WebShared {
  renderer: WebRenderer;
  csrf: CsrfTokens;
}

export function createWebShared(o: {
  templatesPath?: string | undefined;
  signingPassphrase?: string | undefined;
}): WebShared {
  return {
    renderer: createRenderer({ overrideDir: o.templatesPath }),
    csrf: createCsrfTokens({ passphrase: o.signingPassphrase }),
  };
}

export function mountWeb(
  app: Koa<HttpdState>,
  deps: ApiDeps,
  o: WebOptions & { shared: WebShared; isAllowedProxy: (ip: string) => boolean },
): void {
  if (!o.enableAdmin && !o.enableClient) return;
  const kit = createWebKit(deps, { ...o, ...o.shared });
  app.use(serveStatic({ prefix: `${o.webRoot}/static`, overrideDir: o.staticFilesPath }));

  const root = new Router<HttpdState>();
  const home = kit.url(o.enableAdmin ? 'admin' : 'client', '/login');
  for (const p of new Set([
    o.webRoot === '' ? '/' : o.webRoot,
    `${o.webRoot}/`,
    `${o.webRoot}/web`,
    `${o.webRoot}/web/`,
  ])) {
    root.get(p, (ctx) => ctx.redirect(home));
  }
  app.use(root.routes());

  if (o.enableAdmin) {
    const admin = new Router<HttpdState>({ prefix: kit.url('admin') });
    admin.use(kit.errors('admin'));
    registerAdminPages(admin, kit);
    // anything else under the prefix: the HTML 404 page (kit.errors), not the API's JSON
    admin.all('/{*rest}', () => undefined);
    app.use(admin.routes());
    app.use(admin.allowedMethods());
  }
  if (o.enableClient) {
    const client = new Router<HttpdState>({ prefix: kit.url('client') });
    client.use(kit.errors('client'));
    registerClientPages(client, kit);
    client.all('/{*rest}', () => undefined);
    app.use(client.routes());
    app.use(client.allowedMethods());
  }
}
