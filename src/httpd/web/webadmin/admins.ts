/**
 * Admins (manage_admins; upstream templates/webadmin/admins.html and admin.html) and the
 * signed-in admin's own password (changepwd.html). The rules are the REST routes': an admin
 * cannot delete or disable itself nor drop its own critical permissions.
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { currentAdmin, requirePermission } from '../../middleware/auth.js';
import {
  addAdminFromBody,
  changeAdminPassword,
  deleteAdminAs,
  updateAdminFromBody,
} from '../../routes/admins.js';
import { pathParam } from '../../routes/respond.js';
import { VALID_ADMIN_PERMISSIONS } from '../../../dataprovider/validation/admin.js';
import type { WebCtx, WebKit } from '../kit.js';
import { adminSubject, requireWebAdmin } from '../session.js';
import { flashFromQuery, formFailure, pageParam, searchPage, type FormState } from './form-page.js';
import { adminFormToJson, adminToForm, formView } from './forms.js';

export function registerAdminUserPages(router: Router<HttpdState>, kit: WebKit): void {
  const { deps } = kit;
  const session = requireWebAdmin(kit);
  const manage = requirePermission('manage_admins');

  router.get('/admins', session, manage, async (ctx) => {
    const page = pageParam(ctx);
    const { items, hasNext } = await searchPage(
      (o) => deps.provider.getAdmins(o),
      (a) => a.username ?? '',
      '',
      page,
    );
    kit.page(ctx, 'admin', 'webadmin/admins', {
      title: 'Admins',
      active: '/admins',
      admins: items,
      self: currentAdmin(ctx.state),
      page,
      hasNext,
      flash: flashFromQuery(ctx),
    });
  });

  const adminForm = (ctx: WebCtx, o: FormState & { username?: string }): void => {
    kit.page(
      ctx,
      'admin',
      'webadmin/admin',
      {
        title: o.mode === 'add' ? 'Add admin' : `Edit admin ${o.username ?? ''}`,
        active: '/admins',
        mode: o.mode,
        username: o.username,
        action: kit.url(
          'admin',
          o.mode === 'add' ? '/admin' : `/admin/${encodeURIComponent(o.username ?? '')}`,
        ),
        f: formView(o.values, o.errors),
        summary: o.summary,
        adminPermissions: VALID_ADMIN_PERMISSIONS,
      },
      o.status ?? 200,
    );
  };

  router.get('/admin', session, manage, (ctx) => {
    adminForm(ctx, { mode: 'add', values: new URLSearchParams({ status: '1' }) });
  });

  router.post('/admin', session, manage, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    try {
      await addAdminFromBody(deps, adminFormToJson(form));
    } catch (e) {
      const fail = formFailure(e);
      if (!fail) throw e;
      return adminForm(ctx, { mode: 'add', values: form, ...fail });
    }
    kit.redirect(ctx, 'admin', '/admins?ok=admin-added');
  });

  router.get('/admin/:username', session, manage, async (ctx) => {
    const username = pathParam(ctx, 'username');
    const values = adminToForm(await deps.provider.getAdmin(username));
    adminForm(ctx, { mode: 'edit', username, values });
  });

  router.post('/admin/:username', session, manage, async (ctx) => {
    const username = pathParam(ctx, 'username');
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    const body = adminFormToJson(form);
    try {
      await updateAdminFromBody(deps, currentAdmin(ctx.state), username, () =>
        Promise.resolve(body),
      );
    } catch (e) {
      const fail = formFailure(e);
      if (!fail || fail.status === 404) throw e;
      return adminForm(ctx, { mode: 'edit', username, values: form, ...fail });
    }
    kit.redirect(ctx, 'admin', '/admins?ok=admin-updated');
  });

  router.post('/admin/:username/delete', session, manage, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    await deleteAdminAs(deps, currentAdmin(ctx.state), pathParam(ctx, 'username'));
    kit.redirect(ctx, 'admin', '/admins?ok=admin-deleted');
  });

  const pwdPage = (ctx: WebCtx, o: { summary?: string; status?: number; done?: boolean }): void =>
    kit.page(
      ctx,
      'admin',
      'webadmin/changepwd',
      {
        title: 'Change password',
        active: '/changepwd',
        summary: o.summary,
        flash: o.done ? [{ kind: 'success', text: 'Password changed' }] : [],
      },
      o.status ?? 200,
    );

  router.get('/changepwd', session, (ctx) => pwdPage(ctx, {}));

  router.post('/changepwd', session, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    const next = form.get('new_password') ?? '';
    if (next !== (form.get('confirm_password') ?? '')) {
      return pwdPage(ctx, { summary: 'the two new passwords do not match', status: 400 });
    }
    const username = currentAdmin(ctx.state);
    try {
      await changeAdminPassword(deps, username, form.get('current_password') ?? '', next);
    } catch (e) {
      const fail = formFailure(e);
      if (!fail) throw e;
      return pwdPage(ctx, { summary: fail.summary, status: fail.status });
    }
    // the session was bound to the old password: open a new one for the new password
    const admin = await deps.provider.getAdmin(username);
    kit.startSession(ctx, 'admin', adminSubject(admin));
    pwdPage(ctx, { done: true });
  });
}
