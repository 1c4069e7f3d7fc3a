/**
 * Web client sign-in: the login form runs the same login as GET /api/v2/user/token
 * (user-login.ts: post-connect hook, login hooks, defender, denied protocols, IP filters,
 * max_sessions, filesystem root check) and opens a session with the WebClient audience.
 */
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { HttpError } from '../../errors.js';
import { loginHttpUser } from '../../user-login.js';
import { errorText, type WebCtx, type WebKit } from '../kit.js';
import { userSubject } from '../session.js';

/** where a signed-in user lands */
export const CLIENT_HOME = '/files';

export function registerClientAuthPages(router: Router<HttpdState>, kit: WebKit): void {
  const loginPage = (ctx: WebCtx, error?: string, username = '', status = 200): void =>
    kit.loginPage(ctx, 'client', { ...(error === undefined ? {} : { error }), username, status });

  router.get('/', (ctx) => kit.redirect(ctx, 'client', CLIENT_HOME));

  router.get('/login', (ctx) => loginPage(ctx));

  router.post('/login', async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    const username = (form.get('username') ?? '').trim();
    try {
      const user = await loginHttpUser(kit.deps, {
        username,
        password: form.get('password') ?? '',
        ip: ctx.state.remoteIp,
      });
      kit.startSession(ctx, 'client', userSubject(user));
    } catch (e) {
      if (!HttpError.is(e) || e.status >= 500) throw e;
      const text = e.status === 401 ? 'Invalid credentials' : errorText(e);
      return loginPage(ctx, text, username, e.status);
    }
    kit.redirect(ctx, 'client', CLIENT_HOME);
  });

  router.get('/logout', (ctx) => {
    kit.endSession(ctx, 'client');
    kit.redirect(ctx, 'client', '/login');
  });
}
