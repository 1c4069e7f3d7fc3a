/**
 * Tag "folders": /folders CRUD, guarded by the user permissions as upstream
 * (httpd/api_folder.go of SFTPGo 2.1.2). PUT semantics (body decoded over the stored folder,
 * filesystem configs replaced) are the data provider's updateFolder.
 */
import type Router from '@koa/router';
import { redactFolder } from '../../dataprovider/index.js';
import type { Folder } from '../../dataprovider/provider.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeFolder } from '../decode.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import { parseListOptions } from '../query.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

/** POST /folders from a JSON body (the web admin's folder form builds the same body) */
export async function addFolderFromBody(deps: ApiDeps, body: unknown): Promise<Folder> {
  return deps.provider.addFolder(decodeFolder(body));
}

/** PUT /folders/{name} with the JSON body `body()` gives: 404 before reading it, as upstream */
export async function updateFolderFromBody(
  deps: ApiDeps,
  name: string,
  body: () => Promise<unknown>,
): Promise<void> {
  await deps.provider.getFolder(name);
  await deps.provider.updateFolder(name, decodeFolder(await body()));
}

export function registerFolderRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const { provider } = deps;

  router.get('/folders', auth, requirePermission('view_users'), async (ctx) => {
    const opts = parseListOptions(ctx.query);
    // already redacted by the provider
    sendJson(ctx, 200, await provider.getFolders(opts));
  });

  router.post('/folders', auth, requirePermission('add_users'), async (ctx) => {
    const added = await addFolderFromBody(deps, await readJsonBody(ctx.req));
    sendJson(ctx, 201, redactFolder(added));
  });

  router.get('/folders/:name', auth, requirePermission('view_users'), async (ctx) => {
    sendJson(ctx, 200, redactFolder(await provider.getFolder(pathParam(ctx, 'name'))));
  });

  router.put('/folders/:name', auth, requirePermission('edit_users'), async (ctx) => {
    await updateFolderFromBody(deps, pathParam(ctx, 'name'), () => readJsonBody(ctx.req));
    sendMessage(ctx, 200, 'Folder updated');
  });

  router.delete('/folders/:name', auth, requirePermission('del_users'), async (ctx) => {
    await provider.deleteFolder(pathParam(ctx, 'name'));
    sendMessage(ctx, 200, 'Folder deleted');
  });
}
