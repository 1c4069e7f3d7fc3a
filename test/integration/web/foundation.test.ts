/**
 * What both web UIs stand on, over real HTTP: sign-in with CSRF tokens, session cookies and
 * their flags, audiences kept apart from the REST API's, sessions ended by logout and password
 * changes, security headers, static files, web_root, template and static overrides, the
 * first-admin setup, and a real Chromium signing in without a CSP violation.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, snap, startWebServer } from '../../helpers/browser.js';
import { restUsers, type TestServer } from '../../helpers/server.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function csrfOf(html: string): string {
  const m = /name="_form_token" value="([^"]+)"/.exec(html);
  assert.ok(m?.[1], 'the page has a CSRF field');
  return m[1];
}

function cookieOf(r: Response): string | undefined {
  const c = r.headers.getSetCookie().find((h) => h.startsWith('jwt='));
  return c;
}

function jwtOf(setCookie: string | undefined): string {
  const v = /^jwt=([^;]*)/.exec(setCookie ?? '')?.[1];
  assert.ok(v, `a jwt cookie in ${setCookie}`);
  return v;
}

/** GET the login page, POST the form; returns the POST's response */
async function login(
  base: string,
  area: 'admin' | 'client',
  username: string,
  password: string,
  token?: string,
): Promise<Response> {
  const page = await fetch(`${base}/web/${area}/login`);
  const csrf = token ?? csrfOf(await page.text());
  return fetch(`${base}/web/${area}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: FORM,
    body: new URLSearchParams({ _form_token: csrf, username, password }),
  });
}

void describe('web UIs: sessions, CSRF, headers', () => {
  let srv: TestServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-web-'));
    srv = await startWebServer();
  });
  after(async () => {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('the login page carries the security headers and a CSRF field', async () => {
    const r = await fetch(`${srv.httpUrl}/web/admin/login`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const html = await r.text();
    csrfOf(html);
    assert.doesNotMatch(html, /<script>|style="/, 'no inline script or style');
  });

  void it('a login without the CSRF token, or with a forged one, is refused', async () => {
    const none = await fetch(`${srv.httpUrl}/web/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: FORM,
      body: new URLSearchParams({ username: srv.admin.username, password: srv.admin.password }),
    });
    assert.equal(none.status, 403);
    assert.equal(cookieOf(none), undefined);
    const forged = await login(
      srv.httpUrl,
      'admin',
      srv.admin.username,
      srv.admin.password,
      'zz.abc.def',
    );
    assert.equal(forged.status, 403);
    // a token of the web client's login form is not one of the admin's
    const clientToken = csrfOf(await (await fetch(`${srv.httpUrl}/web/client/login`)).text());
    const crossed = await login(
      srv.httpUrl,
      'admin',
      srv.admin.username,
      srv.admin.password,
      clientToken,
    );
    assert.equal(crossed.status, 403);
  });

  void it('admin login sets an HttpOnly SameSite=Strict cookie scoped to /web/admin', async () => {
    const bad = await login(srv.httpUrl, 'admin', srv.admin.username, 'wrong');
    assert.equal(bad.status, 401);
    assert.equal(cookieOf(bad), undefined);
    assert.match(await bad.text(), /Invalid credentials/);

    const r = await login(srv.httpUrl, 'admin', srv.admin.username, srv.admin.password);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/web/admin/users');
    const c = cookieOf(r) ?? '';
    assert.match(c, /path=\/web\/admin(;|$)/);
    assert.match(c, /httponly/i);
    assert.match(c, /samesite=strict/i);
    assert.doesNotMatch(c, /secure/i, 'no Secure flag over plain HTTP');
    const status = await fetch(`${srv.httpUrl}/web/admin/status`, {
      headers: { cookie: `jwt=${jwtOf(c)}` },
    });
    assert.equal(status.status, 200);
    assert.match(await status.text(), /data-testid="status-provider">Active \(sqlite\)/);
  });

  void it('a web cookie is not an API token, an API token is not a web session', async () => {
    const jwt = jwtOf(
      cookieOf(await login(srv.httpUrl, 'admin', srv.admin.username, srv.admin.password)),
    );
    const api = await srv.api<{ message: string }>('GET', '/version', undefined, jwt, {
      validate: false,
    });
    assert.equal(api.status, 401);
    assert.match(api.body.message, /audience/);

    const apiToken = await srv.adminToken();
    const page = await fetch(`${srv.httpUrl}/web/admin/status`, {
      redirect: 'manual',
      headers: { cookie: `jwt=${apiToken}` },
    });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/web/admin/login');
  });

  void it('logout and a password change end the session', async () => {
    const jwt = jwtOf(
      cookieOf(await login(srv.httpUrl, 'admin', srv.admin.username, srv.admin.password)),
    );
    const out = await fetch(`${srv.httpUrl}/web/admin/logout`, {
      redirect: 'manual',
      headers: { cookie: `jwt=${jwt}` },
    });
    assert.equal(out.status, 302);
    assert.match(cookieOf(out) ?? '', /^jwt=;/);
    const after = await fetch(`${srv.httpUrl}/web/admin/status`, {
      redirect: 'manual',
      headers: { cookie: `jwt=${jwt}` },
    });
    assert.equal(after.headers.get('location'), '/web/admin/login');

    // a second admin whose password changes while its session is open
    const created = await srv.api('POST', '/admins', {
      username: 'web-pwd',
      password: 'first-pass',
      status: 1,
      permissions: ['*'],
    });
    assert.equal(created.status, 201);
    const session = jwtOf(cookieOf(await login(srv.httpUrl, 'admin', 'web-pwd', 'first-pass')));
    const upd = await srv.api('PUT', '/admins/web-pwd', {
      username: 'web-pwd',
      password: 'second-pass',
      status: 1,
      permissions: ['*'],
    });
    assert.equal(upd.status, 200);
    // the admin cache keeps the old record up to a second
    let location: string | null = null;
    for (let i = 0; i < 40 && location !== '/web/admin/login'; i++) {
      const r = await fetch(`${srv.httpUrl}/web/admin/status`, {
        redirect: 'manual',
        headers: { cookie: `jwt=${session}` },
      });
      location = r.headers.get('location');
      if (location !== '/web/admin/login') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(location, '/web/admin/login');
  });

  void it('web client login: session for the user, protocol filters apply', async () => {
    const users = restUsers(srv, dir, 'webc');
    const u = await users.createUser();
    const r = await login(srv.httpUrl, 'client', u.username, u.password);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/web/client/files');
    assert.match(cookieOf(r) ?? '', /path=\/web\/client(;|$)/);
    // the client cookie opens no admin page
    const jwt = jwtOf(cookieOf(r));
    const adminPage = await fetch(`${srv.httpUrl}/web/admin/status`, {
      redirect: 'manual',
      headers: { cookie: `jwt=${jwt}` },
    });
    assert.equal(adminPage.headers.get('location'), '/web/admin/login');

    const denied = await users.createUser({ filters: { denied_protocols: ['HTTP'] } } as never);
    const d = await login(srv.httpUrl, 'client', denied.username, denied.password);
    assert.equal(d.status, 403);
    assert.equal(cookieOf(d), undefined);
    assert.match(await d.text(), /HTTP/);

    const wrong = await login(srv.httpUrl, 'client', u.username, 'nope');
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Invalid credentials/);
  });

  void it('static files: ours and Pico served; traversal and dot-files are not', async () => {
    const css = await fetch(`${srv.httpUrl}/static/vendor/pico.min.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    assert.ok((await css.text()).length > 10_000);
    const js = await fetch(`${srv.httpUrl}/static/js/sftpgo.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const again = await fetch(`${srv.httpUrl}/static/js/sftpgo.js`, {
      // max-age=0: fetch() adds `Cache-Control: no-cache` to a conditional request otherwise
      headers: {
        'if-modified-since': js.headers.get('last-modified') ?? '',
        'cache-control': 'max-age=0',
      },
    });
    assert.equal(again.status, 304);
    for (const p of [
      '/static/../package.json',
      '/static/%2e%2e/package.json',
      '/static/css/..%2f..%2fpackage.json',
      '/static/.hidden',
      '/static/css',
    ]) {
      const r = await fetch(`${srv.httpUrl}${p}`);
      assert.equal(r.status, 404, p);
      await r.arrayBuffer();
    }
  });

  void it('unknown web pages get the HTML 404 page, / goes to the admin login', async () => {
    const r = await fetch(`${srv.httpUrl}/web/admin/no-such-page`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    await r.text();
    const root = await fetch(`${srv.httpUrl}/`, { redirect: 'manual' });
    assert.equal(root.headers.get('location'), '/web/admin/login');
  });
});

void describe('web UIs: configuration', () => {
  void it('web_root prefixes pages and static files; template and static overrides win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-web-cfg-'));
    await mkdir(join(dir, 'tpl', 'common'), { recursive: true });
    await mkdir(join(dir, 'st', 'css'), { recursive: true });
    await writeFile(
      join(dir, 'tpl', 'common', 'login.eta'),
      '<% layout(\'common/base\') %><h1 id="custom">Our company <%= it.heading %></h1>',
    );
    await writeFile(join(dir, 'st', 'css', 'sftpgo.css'), '/* site override */');
    const srv = await startWebServer({
      config: {
        httpd: {
          web_root: '/files-ui/',
          templates_path: join(dir, 'tpl'),
          static_files_path: join(dir, 'st'),
        },
      },
    });
    try {
      const page = await fetch(`${srv.httpUrl}/files-ui/web/admin/login`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<h1 id="custom">Our company SFTPGo admin<\/h1>/);
      assert.match(html, /href="\/files-ui\/static\/css\/sftpgo.css"/);
      assert.equal(
        await (await fetch(`${srv.httpUrl}/files-ui/static/css/sftpgo.css`)).text(),
        '/* site override */',
      );
      // files not overridden come from the package
      assert.equal((await fetch(`${srv.httpUrl}/files-ui/static/js/sftpgo.js`)).status, 200);
      const unprefixed = await fetch(`${srv.httpUrl}/web/admin/login`);
      assert.equal(unprefixed.status, 404);
      await unprefixed.text();
      const root = await fetch(`${srv.httpUrl}/files-ui`, { redirect: 'manual' });
      assert.equal(root.headers.get('location'), '/files-ui/web/admin/login');
    } finally {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('templates_path and static_files_path both empty turn the web UIs off (as upstream)', async () => {
    const srv = await startWebServer({
      config: { httpd: { templates_path: '', static_files_path: '' } },
    });
    try {
      const r = await fetch(`${srv.httpUrl}/web/admin/login`);
      assert.equal(r.status, 404);
      assert.match(r.headers.get('content-type') ?? '', /json/);
      await r.text();
    } finally {
      await srv.stop();
    }
  });

  void it('keyboard only: the skip link comes first, the login form is filled and sent without a mouse', async () => {
    const srv = await startWebServer();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${srv.httpUrl}/web/admin/login`);
      // autofocus puts the caret in the username field; typing and Tab move through the form
      await page.keyboard.type(srv.admin.username);
      await page.keyboard.press('Tab');
      assert.equal(
        await page.evaluate<string | undefined>('document.activeElement?.id'),
        'password',
      );
      await page.keyboard.type(srv.admin.password);
      await Promise.all([page.waitForURL(/\/web\/admin\/users$/), page.keyboard.press('Enter')]);
      // on a signed-in page the first Tab stop is the skip link, and it leads to the content
      await page.goto(`${srv.httpUrl}/web/admin/status`);
      await page.evaluate('document.activeElement?.blur()');
      await page.keyboard.press('Tab');
      assert.equal(
        await page.evaluate<string | null | undefined>(
          "document.activeElement?.getAttribute('href')",
        ),
        '#main',
      );
      await page.keyboard.press('Enter');
      assert.match(page.url(), /#main$/);
    } finally {
      await browser.close();
      await srv.stop();
    }
  });

  void it('first admin: setup page in Chromium while no admin exists, refused after', async () => {
    const srv = await startWebServer({ createAdmin: false });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const cspErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') cspErrors.push(m.text());
      });
      await page.goto(`${srv.httpUrl}/web/admin/login`);
      assert.match(page.url(), /\/web\/admin\/setup$/);
      await snap(page, 'admin-setup');
      await page.fill('#username', 'first');
      await page.fill('#password', 'first-password');
      await page.fill('#confirm_password', 'other');
      await page.click('button[type="submit"]');
      assert.match((await page.textContent('[role="alert"]')) ?? '', /do not match/);
      await page.fill('#password', 'first-password');
      await page.fill('#confirm_password', 'first-password');
      await Promise.all([
        page.waitForURL(/\/web\/admin\/users$/),
        page.click('button[type="submit"]'),
      ]);
      const cookies = await page.context().cookies();
      const jwt = cookies.find((c) => c.name === 'jwt');
      assert.ok(jwt?.httpOnly);
      assert.equal(jwt.sameSite, 'Strict');
      assert.deepEqual(
        cspErrors.filter((e) => /Content Security Policy/i.test(e)),
        [],
      );
      // the admin exists with every permission, and the page is now refused
      assert.equal((await srv.token('first', 'first-password')).length > 0, true);
      const again = await fetch(`${srv.httpUrl}/web/admin/setup`);
      assert.equal(again.status, 400);
      await again.text();
      // the login page is served now that an admin exists
      await page.goto(`${srv.httpUrl}/web/admin/logout`);
      assert.match(page.url(), /\/web\/admin\/login$/);
      await page.setViewportSize({ width: 360, height: 740 });
      await snap(page, 'admin-login-360');
    } finally {
      await browser.close();
      await srv.stop();
    }
  });
});
