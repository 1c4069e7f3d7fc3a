/**
 * Virtual folders (upstream templates/webadmin/folders.html and folder.html): list with search
 * and paging, add, edit, delete and quota scan, under the user permissions as the REST routes.
 * The filesystem part of the form is the user form's (templates/webadmin/partials/fs.eta,
 * forms.ts filesystemFormToJson).
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { requirePermission } from '../../middleware/auth.js';
import { addFolderFromBody, updateFolderFromBody } from '../../routes/folders.js';
import { startFolderQuotaScan } from '../../routes/quota.js';
import { pathParam } from '../../routes/respond.js';
import type { WebCtx, WebKit } from '../kit.js';
import { requireWebAdmin } from '../session.js';
import { flashFromQuery, formFailure, pageParam, searchPage, type FormState } from './form-page.js';
import { folderFormToJson, folderToForm, formView } from './forms.js';

/** the storage choices of the filesystem select: [provider, label] */
export const FS_OPTIONS: readonly (readonly [number, string])[] = [
  [0, 'Local disk'],
  [4, 'Local disk, encrypted'],
  [1, 'Amazon S3 (or compatible)'],
  [2, 'Google Cloud Storage'],
  [3, 'Azure Blob Storage'],
  [5, 'SFTP'],
];

/** the folder names a user's virtual folder rows offer (the first 500) */
export async function folderNames(kit: WebKit): Promise<string[]> {
  const folders = await kit.deps.provider.getFolders({ limit: 500 });
  return folders.map((f) => f.name ?? '');
}

export function registerFolderPages(router: Router<HttpdState>, kit: WebKit): void {
  const { deps } = kit;
  const session = requireWebAdmin(kit);

  router.get('/folders', session, requirePermission('view_users'), async (ctx) => {
    const search = typeof ctx.query['q'] === 'string' ? ctx.query['q'].trim() : '';
    const page = pageParam(ctx);
    const { items, hasNext } = await searchPage(
      (o) => deps.provider.getFolders(o),
      (f) => f.name ?? '',
      search,
      page,
    );
    kit.page(ctx, 'admin', 'webadmin/folders', {
      title: 'Folders',
      active: '/folders',
      folders: items,
      search,
      page,
      hasNext,
      flash: flashFromQuery(ctx),
    });
  });

  const folderForm = (ctx: WebCtx, o: FormState & { name?: string }): void => {
    kit.page(
      ctx,
      'admin',
      'webadmin/folder',
      {
        title: o.mode === 'add' ? 'Add folder' : `Edit folder ${o.name ?? ''}`,
        active: '/folders',
        mode: o.mode,
        name: o.name,
        action: kit.url(
          'admin',
          o.mode === 'add' ? '/folder' : `/folder/${encodeURIComponent(o.name ?? '')}`,
        ),
        f: formView(o.values, o.errors),
        summary: o.summary,
        fsOptions: FS_OPTIONS,
      },
      o.status ?? 200,
    );
  };

  router.get('/folder', session, requirePermission('add_users'), (ctx) => {
    folderForm(ctx, { mode: 'add', values: new URLSearchParams({ fs_provider: '0' }) });
  });

  router.post('/folder', session, requirePermission('add_users'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    try {
      await addFolderFromBody(deps, folderFormToJson(form));
    } catch (e) {
      const fail = formFailure(e);
      if (!fail) throw e;
      if (fail.status === 409) fail.errors = { name: fail.summary };
      return folderForm(ctx, { mode: 'add', values: form, ...fail });
    }
    kit.redirect(ctx, 'admin', '/folders?ok=folder-added');
  });

  router.get('/folder/:name', session, requirePermission('edit_users'), async (ctx) => {
    const name = pathParam(ctx, 'name');
    folderForm(ctx, {
      mode: 'edit',
      name,
      values: folderToForm(await deps.provider.getFolder(name)),
    });
  });

  router.post('/folder/:name', session, requirePermission('edit_users'), async (ctx) => {
    const name = pathParam(ctx, 'name');
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    const body = folderFormToJson(form);
    try {
      await updateFolderFromBody(deps, name, () => Promise.resolve(body));
    } catch (e) {
      const fail = formFailure(e);
      if (!fail || fail.status === 404) throw e;
      return folderForm(ctx, { mode: 'edit', name, values: form, ...fail });
    }
    kit.redirect(ctx, 'admin', '/folders?ok=folder-updated');
  });

  router.post('/folder/:name/delete', session, requirePermission('del_users'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    await deps.provider.deleteFolder(pathParam(ctx, 'name'));
    kit.redirect(ctx, 'admin', '/folders?ok=folder-deleted');
  });

  router.post('/folder/:name/scan', session, requirePermission('quota_scans'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    await startFolderQuotaScan(deps, pathParam(ctx, 'name'));
    kit.redirect(ctx, 'admin', '/folders?ok=scan-started');
  });
}
