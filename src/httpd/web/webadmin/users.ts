/**
 * Users (upstream templates/webadmin/users.html and user.html): the list with search and
 * paging, add, edit, clone, delete and quota scan. Saving goes through the REST route's own
 * functions (decodeUser and the provider's addUser/updateUser) with the JSON body the form maps
 * to (forms.ts), so the pages enforce exactly what the API does.
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { requirePermission } from '../../middleware/auth.js';
import { startUserQuotaScan } from '../../routes/quota.js';
import { pathParam } from '../../routes/respond.js';
import {
  addUserFromBody,
  deleteUserAndDisconnect,
  updateUserFromBody,
} from '../../routes/users.js';
import type { WebCtx, WebKit } from '../kit.js';
import { requireWebAdmin } from '../session.js';
import { flashFromQuery, formFailure, pageParam, searchPage, type FormState } from './form-page.js';
import { formView, userFormToJson, userToForm } from './forms.js';
import { FS_OPTIONS, folderNames } from './folders.js';
import {
  VALID_LOGIN_METHODS,
  VALID_PERMISSIONS,
  VALID_PROTOCOLS,
  VALID_WEB_CLIENT_OPTIONS,
} from '../../../dataprovider/validation/user.js';

export function registerUserPages(router: Router<HttpdState>, kit: WebKit): void {
  const { deps } = kit;
  const session = requireWebAdmin(kit);

  router.get('/users', session, requirePermission('view_users'), async (ctx) => {
    const search = typeof ctx.query['q'] === 'string' ? ctx.query['q'].trim() : '';
    const page = pageParam(ctx);
    const { items, hasNext } = await searchPage(
      (o) => deps.provider.getUsers(o),
      (u) => u.username ?? '',
      search,
      page,
    );
    kit.page(ctx, 'admin', 'webadmin/users', {
      title: 'Users',
      active: '/users',
      users: items,
      search,
      page,
      hasNext,
      flash: flashFromQuery(ctx),
    });
  });

  const userForm = async (ctx: WebCtx, o: FormState & { username?: string }): Promise<void> => {
    kit.page(
      ctx,
      'admin',
      'webadmin/user',
      {
        title: o.mode === 'add' ? 'Add user' : `Edit user ${o.username ?? ''}`,
        active: '/users',
        mode: o.mode,
        username: o.username,
        action: kit.url(
          'admin',
          o.mode === 'add' ? '/user' : `/user/${encodeURIComponent(o.username ?? '')}`,
        ),
        f: formView(o.values, o.errors),
        summary: o.summary,
        folderNames: await folderNames(kit),
        permissions: VALID_PERMISSIONS,
        loginMethods: VALID_LOGIN_METHODS,
        protocols: VALID_PROTOCOLS,
        webClientOptions: VALID_WEB_CLIENT_OPTIONS,
        fsOptions: FS_OPTIONS,
      },
      o.status ?? 200,
    );
  };

  router.get('/user', session, requirePermission('add_users'), async (ctx) => {
    const from = typeof ctx.query['clone-from'] === 'string' ? ctx.query['clone-from'] : '';
    let values: URLSearchParams;
    if (from !== '') {
      values = userToForm(await deps.provider.getUser(from), { clone: true });
    } else {
      values = new URLSearchParams({ status: '1', permissions: '/: *' });
    }
    await userForm(ctx, { mode: 'add', values });
  });

  router.post('/user', session, requirePermission('add_users'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    const { body, vfRows } = userFormToJson(form);
    try {
      await addUserFromBody(deps, body);
    } catch (e) {
      const fail = formFailure(e, vfRows);
      if (!fail) throw e;
      return userForm(ctx, { mode: 'add', values: form, ...fail });
    }
    kit.redirect(ctx, 'admin', '/users?ok=user-added');
  });

  router.get('/user/:username', session, requirePermission('edit_users'), async (ctx) => {
    const username = pathParam(ctx, 'username');
    const user = await deps.provider.getUser(username);
    await userForm(ctx, { mode: 'edit', username, values: userToForm(user) });
  });

  router.post('/user/:username', session, requirePermission('edit_users'), async (ctx) => {
    const username = pathParam(ctx, 'username');
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    const { body, vfRows } = userFormToJson(form);
    try {
      await updateUserFromBody(deps, username, () => Promise.resolve(body));
    } catch (e) {
      const fail = formFailure(e, vfRows);
      if (!fail || fail.status === 404) throw e;
      return userForm(ctx, { mode: 'edit', username, values: form, ...fail });
    }
    kit.redirect(ctx, 'admin', '/users?ok=user-updated');
  });

  router.post('/user/:username/delete', session, requirePermission('del_users'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    await deleteUserAndDisconnect(deps, pathParam(ctx, 'username'));
    kit.redirect(ctx, 'admin', '/users?ok=user-deleted');
  });

  router.post('/user/:username/scan', session, requirePermission('quota_scans'), async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    await startUserQuotaScan(deps, pathParam(ctx, 'username'));
    kit.redirect(ctx, 'admin', '/users?ok=scan-started');
  });
}
