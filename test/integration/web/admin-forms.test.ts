/**
 * The web admin's forms over real HTTP: CSRF and session on every state-changing route, the
 * REST permissions, the REST API's malformed-input cases sent through the forms (clear 4xx
 * pages, never a 500), and secrets that never reach the rendered HTML.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebServer } from '../../helpers/browser.js';
import type { TestServer } from '../../helpers/server.js';
import { MALFORMED_CASES } from '../httpd/malformed-cases.js';
import { folderBody, userBody } from '../httpd/util.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function csrfOf(html: string): string {
  const m = /name="_form_token" value="([^"]+)"/.exec(html);
  assert.ok(m?.[1], 'the page has a CSRF field');
  return m[1];
}

interface Session {
  cookie: string;
  get(path: string): Promise<Response>;
  /** a CSRF token of this session, scraped from a page */
  token(): Promise<string>;
  post(
    path: string,
    body: URLSearchParams | string,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

async function login(base: string, username: string, password: string): Promise<Session> {
  const page = await (await fetch(`${base}/web/admin/login`)).text();
  const r = await fetch(`${base}/web/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: FORM,
    body: new URLSearchParams({ _form_token: csrfOf(page), username, password }),
  });
  assert.equal(r.status, 302);
  const jwt = /^jwt=([^;]*)/.exec(r.headers.getSetCookie()[0] ?? '')?.[1];
  assert.ok(jwt);
  const cookie = `jwt=${jwt}`;
  const s: Session = {
    cookie,
    get: (path) => fetch(`${base}/web/admin${path}`, { redirect: 'manual', headers: { cookie } }),
    token: async () => csrfOf(await (await s.get('/changepwd')).text()),
    post: (path, body, headers = FORM) =>
      fetch(`${base}/web/admin${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...headers, cookie },
        body,
      }),
  };
  return s;
}

/** a JSON body of the REST cases as the fields of the web forms (wrong types included, as text) */
function toForm(body: Record<string, unknown>): URLSearchParams {
  const out = new URLSearchParams();
  const text = (v: unknown): string =>
    Array.isArray(v)
      ? v.map((x) => text(x)).join('\n')
      : typeof v === 'object' && v !== null
        ? JSON.stringify(v)
        : String(v);
  const prefixes: Record<string, string> = {
    s3config: 's3',
    gcsconfig: 'gcs',
    azblobconfig: 'az',
    cryptconfig: 'crypt',
    sftpconfig: 'sftp',
  };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'permissions' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out.set(
        k,
        Object.entries(v)
          .map(([p, l]) => `${p}: ${Array.isArray(l) ? l.join(',') : text(l)}`)
          .join('\n'),
      );
    } else if (k === 'filters' && typeof v === 'object' && v !== null) {
      for (const [fk, fv] of Object.entries(v)) {
        if (fk === 'hooks' && typeof fv === 'object' && fv !== null) {
          for (const [hk, hv] of Object.entries(fv)) if (hv) out.set(hk, text(hv));
        } else out.set(fk, text(fv));
      }
    } else if (k === 'filesystem' && typeof v === 'object' && v !== null) {
      for (const [fk, fv] of Object.entries(v)) {
        if (fk === 'provider') out.set('fs_provider', text(fv));
        else if (typeof fv === 'object' && fv !== null && prefixes[fk]) {
          for (const [sk, sv] of Object.entries(fv)) out.set(`${prefixes[fk]}_${sk}`, text(sv));
        }
      }
    } else if (k === 'virtual_folders' && Array.isArray(v)) {
      for (const vf of v as Record<string, unknown>[]) {
        out.append('vf_name', text(vf['name'] ?? ''));
        out.append('vf_path', text(vf['virtual_path'] ?? ''));
        out.append('vf_quota_size', text(vf['quota_size'] ?? ''));
        out.append('vf_quota_files', text(vf['quota_files'] ?? ''));
      }
    } else out.set(k, text(v));
  }
  return out;
}

void describe('web admin forms over HTTP', () => {
  let srv: TestServer;
  let s: Session;
  before(async () => {
    srv = await startWebServer();
    s = await login(srv.httpUrl, srv.admin.username, srv.admin.password);
    assert.equal((await srv.api('POST', '/users', userBody(srv, 'victim'))).status, 201);
    assert.equal((await srv.api('POST', '/folders', folderBody(srv, 'fold'))).status, 201);
  });
  after(async () => {
    await srv.stop();
  });

  const STATE_CHANGING = [
    '/user',
    '/user/victim',
    '/user/victim/delete',
    '/user/victim/scan',
    '/folder',
    '/folder/fold',
    '/folder/fold/delete',
    '/folder/fold/scan',
    '/admin',
    '/admin/admin',
    '/admin/other/delete',
    '/connections/SFTP_x/close',
    '/defender/3132372e302e302e31/unban',
    '/changepwd',
  ];

  void it('every state-changing route refuses a request without the CSRF token (403)', async () => {
    for (const p of STATE_CHANGING) {
      const r = await s.post(p, new URLSearchParams({ username: 'x', name: 'x' }));
      assert.equal(r.status, 403, p);
      assert.match(await r.text(), /Invalid CSRF token/, p);
    }
    const restore = await s.post(
      '/restore',
      '--b\r\nContent-Disposition: form-data; name="mode"\r\n\r\n0\r\n--b--\r\n',
      {
        'content-type': 'multipart/form-data; boundary=b',
      },
    );
    assert.equal(restore.status, 403);
    await restore.text();
    // nothing changed
    assert.equal((await srv.api('GET', '/users/victim')).status, 200);
    assert.equal((await srv.api('GET', '/folders/fold')).status, 200);
  });

  void it('and without a session sends to the login page', async () => {
    const token = await s.token();
    for (const p of [...STATE_CHANGING, '/restore']) {
      const r = await fetch(`${srv.httpUrl}/web/admin${p}`, {
        method: 'POST',
        redirect: 'manual',
        headers: FORM,
        body: new URLSearchParams({ _form_token: token }),
      });
      assert.equal(r.status, 302, p);
      assert.equal(r.headers.get('location'), '/web/admin/login', p);
    }
    for (const p of [
      '/users',
      '/user',
      '/folders',
      '/admins',
      '/connections',
      '/defender',
      '/maintenance',
      '/backup',
    ]) {
      const r = await fetch(`${srv.httpUrl}/web/admin${p}`, { redirect: 'manual' });
      assert.equal(r.headers.get('location'), '/web/admin/login', p);
    }
  });

  void it('pages ask the permissions of the REST API', async () => {
    assert.equal(
      (
        await srv.api('POST', '/admins', {
          username: 'conns',
          password: 'conns-password',
          status: 1,
          permissions: ['view_conns'],
        })
      ).status,
      201,
    );
    const c = await login(srv.httpUrl, 'conns', 'conns-password');
    for (const p of [
      '/users',
      '/user',
      '/user/victim',
      '/folders',
      '/admins',
      '/defender',
      '/maintenance',
      '/backup',
      '/status',
    ]) {
      const r = await c.get(p);
      assert.equal(r.status, 403, p);
      await r.text();
    }
    const ok = await c.get('/connections');
    assert.equal(ok.status, 200);
    const html = await ok.text();
    assert.doesNotMatch(html, /href="\/web\/admin\/users"/, 'no link to a page it cannot see');
    const del = await c.post(
      '/user/victim/delete',
      new URLSearchParams({ _form_token: await c.token() }),
    );
    assert.equal(del.status, 403);
    await del.text();
    assert.equal((await srv.api('GET', '/users/victim')).status, 200);
  });

  void it("the REST API's malformed inputs sent through the forms: a clear 4xx, never a 500", async () => {
    const route: Record<string, string> = {
      'POST /users': '/user',
      'PUT /users/victim': '/user/victim',
      'POST /folders': '/folder',
      'PUT /folders/fold': '/folder/fold',
      'POST /admins': '/admin',
      'PUT /admins/admin': '/admin/admin',
    };
    let sent = 0;
    for (const c of MALFORMED_CASES) {
      const target = route[`${c.method} ${c.path.split('?')[0]}`];
      if (target === undefined || c.body === undefined) continue;
      const body =
        typeof c.body === 'function' ? (c.body as (s: TestServer) => unknown)(srv) : c.body;
      const token = await s.token();
      let r: Response;
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        // not a form at all: the raw bytes as the form body, with a valid token
        r = await s.post(
          target,
          Buffer.concat([
            Buffer.from(body),
            Buffer.from(`&_form_token=${encodeURIComponent(token)}`),
          ]).toString('latin1'),
        );
      } else {
        const form = toForm(body as Record<string, unknown>);
        form.set('_form_token', token);
        r = await s.post(target, form);
      }
      const html = await r.text();
      sent++;
      if (r.status === 302) {
        // a few cases are valid once they are form text (a status "1" is the form's status 1)
        continue;
      }
      assert.ok(r.status >= 400 && r.status < 500, `${c.name}: ${r.status}`);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/, c.name);
      assert.match(html, /role="alert"/, `${c.name}: an error is shown`);
    }
    assert.ok(sent >= 20, `${sent} cases sent`);
    assert.equal((await srv.api('GET', '/users/victim')).status, 200);
  });

  void it('a type error of the API is shown next to its field', async () => {
    const form = toForm(userBody(srv, 'typed', { quota_size: '12abc' }));
    form.set('_form_token', await s.token());
    const r = await s.post('/user', form);
    assert.equal(r.status, 400);
    const html = await r.text();
    assert.match(html, /id="quota_size"[^>]*aria-invalid="true"/);
    assert.match(
      html,
      /<small id="quota_size-error" class="field-error">invalid JSON body: field &quot;quota_size&quot; must be an integer/,
    );
    assert.match(html, /value="12abc"/, 'the typed value is kept');
  });

  void it('secrets of an S3 user never appear in the form; saving unchanged keeps them', async () => {
    const secret = 'S3-SECRET-PLAINTEXT-VALUE';
    const created = await srv.api(
      'POST',
      '/users',
      userBody(srv, 's3user', {
        filesystem: {
          provider: 1,
          s3config: {
            bucket: 'b',
            region: 'us-east-1',
            access_key: 'AK',
            access_secret: { status: 'Plain', payload: secret },
          },
        },
      }),
    );
    assert.equal(created.status, 201, created.text);
    const stored = await srv.provider.getUser('s3user');
    const envelope = stored.filesystem?.s3config?.access_secret;
    assert.ok(envelope?.payload && envelope.status !== 'Plain');
    const page = await s.get('/user/s3user');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(!html.includes(secret), 'no plaintext secret');
    assert.ok(!html.includes(envelope.payload), 'no encrypted payload');
    assert.match(html, /data-testid="s3_access_secret-state">A secret is set/);

    // the form as the page shows it, posted back unchanged
    const form = new URLSearchParams();
    for (const m of html.matchAll(
      /<input id="[^"]*" name="([^"]+)" type="(?:text|date|password)" value="([^"]*)"/g,
    )) {
      form.append(
        m[1] ?? '',
        (m[2] ?? '')
          .replace(/&#39;/g, "'")
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, '&'),
      );
    }
    form.set('fs_provider', '1');
    form.set('s3_access_secret_set', '1');
    form.set('permissions', '/: *');
    form.set('_form_token', csrfOf(html));
    const r = await s.post('/user/s3user', form);
    assert.equal(r.status, 302, await r.text());
    const after = await srv.provider.getUser('s3user');
    assert.deepEqual(after.filesystem?.s3config?.access_secret, envelope);
  });
});
