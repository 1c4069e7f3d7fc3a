/**
 * Web admin sign-in: login form (the admin's credentials and IP allow-list, as GET /api/v2/token),
 * logout (the token is revoked), and the first-admin setup page offered while no admin exists
 * (upstream 2.1.2 /web/admin/setup: the new admin gets every permission).
 */
import type Router from '@koa/router';
import { SftpgoError } from '../../../errors/index.js';
import type { HttpdState } from '../../context.js';
import { errorText, type WebCtx, type WebKit } from '../kit.js';
import { adminSubject, needsSetup } from '../session.js';

/** where a signed-in admin lands */
export const ADMIN_HOME = '/users';

export function registerAdminAuthPages(router: Router<HttpdState>, kit: WebKit): void {
  const { provider, logger } = kit.deps;

  const loginPage = (ctx: WebCtx, error?: string, username = '', status = 200): void =>
    kit.loginPage(ctx, 'admin', { ...(error === undefined ? {} : { error }), username, status });

  router.get('/', (ctx) => kit.redirect(ctx, 'admin', ADMIN_HOME));

  router.get('/login', async (ctx) => {
    if (await needsSetup(kit)) return kit.redirect(ctx, 'admin', '/setup');
    loginPage(ctx);
  });

  router.post('/login', async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    if (username === '' || password === '')
      return loginPage(ctx, 'Please enter your username and password', username, 401);
    try {
      const admin = await provider.checkAdminPassword(username, password, ctx.state.remoteIp);
      kit.startSession(ctx, 'admin', adminSubject(admin));
    } catch (e) {
      if (!SftpgoError.is(e, 'AUTH_FAILED') && !SftpgoError.is(e, 'NOT_FOUND')) throw e;
      logger.debug(
        { username, remote_addr: ctx.state.remoteIp, reason: e.message },
        'web admin login failed',
      );
      return loginPage(ctx, 'Invalid credentials', username, 401);
    }
    kit.redirect(ctx, 'admin', ADMIN_HOME);
  });

  router.get('/logout', (ctx) => {
    kit.endSession(ctx, 'admin');
    kit.redirect(ctx, 'admin', '/login');
  });

  const setupPage = (ctx: WebCtx, error?: string, username = '', status = 200): void =>
    kit.page(
      ctx,
      'admin',
      'webadmin/setup',
      { title: 'Create the first admin', username, error },
      status,
    );

  /** the setup page once an admin exists: 400, as upstream */
  const alreadySetUp = (ctx: WebCtx): void =>
    kit.page(
      ctx,
      'admin',
      'common/error',
      { title: 'Setup', message: 'an admin user already exists' },
      400,
    );

  router.get('/setup', async (ctx) => {
    if (!(await needsSetup(kit))) return alreadySetUp(ctx);
    setupPage(ctx);
  });

  router.post('/setup', async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'admin', form);
    if (!(await needsSetup(kit))) return alreadySetUp(ctx);
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    if (password !== (form.get('confirm_password') ?? ''))
      return setupPage(ctx, 'the two passwords do not match', username, 400);
    try {
      const admin = await provider.addAdmin({ username, password, status: 1, permissions: ['*'] });
      logger.info({ username }, 'first admin created from the web setup page');
      kit.startSession(ctx, 'admin', adminSubject(admin));
    } catch (e) {
      if (!SftpgoError.is(e, 'INVALID_INPUT') && !SftpgoError.is(e, 'ALREADY_EXISTS')) throw e;
      return setupPage(ctx, errorText(e), username, 400);
    }
    kit.redirect(ctx, 'admin', ADMIN_HOME);
  });
}
