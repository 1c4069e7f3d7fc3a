/**
 * The web client's forms over real HTTP: CSRF and sessions on every state-changing route,
 * audiences kept apart from the REST user API, clear refusals (hostile paths, quota,
 * max_upload_file_size, interrupted uploads, key changes disabled) that leave no file behind
 * and the quota counters right. The permission / pattern / hostile-path table runs in
 * client-cases.test.ts.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startWebServer } from '../../helpers/browser.js';
import { restUsers, type RestUser, type TestServer } from '../../helpers/server.js';
import { alertOf, csrfOf, multipartBody, webClientLogin } from '../../cases/drivers/webclient.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

void describe('web client forms', () => {
  let srv: TestServer;
  let dir: string;
  let users: ReturnType<typeof restUsers>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-webc-forms-'));
    srv = await startWebServer({ config: { data_provider: { track_quota: 2 } } });
    users = restUsers(srv, dir, 'wcf');
  });
  after(async () => {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (p: string): string => `${srv.httpUrl}/web/client${p}`;

  async function session(u: RestUser): Promise<{ cookie: string; csrf: string }> {
    return webClientLogin(srv.httpUrl, u);
  }

  function upload(
    s: { cookie: string; csrf: string },
    path: string,
    files: { name: string; data: Buffer }[],
    token: string | null = s.csrf,
  ): Promise<Response> {
    const { body, contentType } = multipartBody(
      { ...(token !== null ? { _form_token: token } : {}), path },
      files.map((f) => ({ field: 'files', filename: f.name, data: f.data })),
    );
    return fetch(url('/upload'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: s.cookie, 'content-type': contentType },
      body,
    });
  }

  function post(
    s: { cookie: string; csrf: string } | undefined,
    path: string,
    fields: Record<string, string>,
    withToken = true,
  ): Promise<Response> {
    const body = new URLSearchParams(fields);
    if (s && withToken) body.set('_form_token', s.csrf);
    return fetch(url(path), {
      method: 'POST',
      redirect: 'manual',
      headers: { ...FORM, ...(s ? { cookie: s.cookie } : {}) },
      body,
    });
  }

  async function quotaOf(u: RestUser): Promise<{ size?: number; files?: number }> {
    const r = await users.getUser(u.username);
    return { size: r.used_quota_size, files: r.used_quota_files };
  }

  void it('every state-changing route needs the CSRF token (403) and a session (302)', async () => {
    const u = await users.createUser();
    const s = await session(u);
    await writeFile(join(u.home, 'a.txt'), 'a');
    const forms: [string, Record<string, string>][] = [
      ['/mkdir', { path: '/', name: 'd' }],
      ['/rename', { path: '/a.txt', to: 'b.txt' }],
      ['/delete', { path: '/', files: 'a.txt' }],
      ['/downloadzip', { path: '/', files: 'a.txt' }],
      ['/changepwd', { current_password: u.password, new_password: 'x1', confirm_password: 'x1' }],
      ['/publickeys', { public_keys: '' }],
    ];
    for (const [p, fields] of forms) {
      const noToken = await post(s, p, fields, false);
      assert.equal(noToken.status, 403, `${p} without token`);
      assert.match(await noToken.text(), /Invalid CSRF token/);
      const forged = await post(s, p, { ...fields, _form_token: 'zz.abc.def' }, false);
      assert.equal(forged.status, 403, `${p} with a forged token`);
      await forged.arrayBuffer();
      const noSession = await post(undefined, p, { ...fields, _form_token: s.csrf });
      assert.equal(noSession.status, 302, `${p} without a session`);
      assert.equal(noSession.headers.get('location'), '/web/client/login');
    }
    const up = await upload(s, '/', [{ name: 'x.txt', data: Buffer.from('x') }], null);
    assert.equal(up.status, 403);
    await up.arrayBuffer();
    const upNoSession = await upload({ cookie: '', csrf: s.csrf }, '/', [
      { name: 'x.txt', data: Buffer.from('x') },
    ]);
    assert.equal(upNoSession.status, 302);
    // nothing changed: same files, same password
    assert.deepEqual((await readdir(u.home)).sort(), ['a.txt']);
    assert.ok((await srv.userToken(u.username, u.password)).length > 0);
  });

  void it('a web client cookie is no API token, an API token no web session', async () => {
    const u = await users.createUser();
    const s = await session(u);
    const jwt = s.cookie.slice('jwt='.length);
    const api = await fetch(`${srv.httpUrl}/api/v2/user/folder?path=/`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    assert.equal(api.status, 401);
    await api.arrayBuffer();
    const apiToken = await srv.userToken(u.username, u.password);
    const page = await fetch(url('/files'), {
      redirect: 'manual',
      headers: { cookie: `jwt=${apiToken}` },
    });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/web/client/login');
  });

  void it('hostile paths get a clear message and never reach outside the home', async () => {
    const outside = await mkdtemp(join(dir, 'outside-'));
    await writeFile(join(outside, 'secret.txt'), 'secret');
    const u = await users.createUser();
    await symlink(outside, join(u.home, 'out'));
    const s = await session(u);
    const get = (p: string): Promise<Response> =>
      fetch(url(`/files?path=${encodeURIComponent(p)}`), { headers: { cookie: s.cookie } });

    const up = await get('/../../../../etc/passwd');
    assert.equal(up.status, 404);
    assert.match(alertOf(await up.text()), /passwd/);
    const through = await get('/out/secret.txt');
    assert.equal(through.status, 403);
    assert.match(alertOf(await through.text()), /permission denied|outside/i);
    const nul = await get('/a\0b');
    assert.equal(nul.status, 400);
    assert.match(alertOf(await nul.text()), /NUL/);

    const badName = await post(s, '/mkdir', { path: '/', name: '../x' });
    assert.equal(badName.status, 400);
    assert.match(alertOf(await badName.text()), /one name, no "\/"/);
    const mk = await post(s, '/mkdir', { path: '/out', name: 'evil' });
    assert.equal(mk.status, 403);
    await mk.arrayBuffer();
    const upl = await upload(s, '/out', [{ name: 'evil.txt', data: Buffer.from('evil') }]);
    assert.equal(upl.status, 403);
    assert.match(alertOf(await upl.text()), /^evil\.txt: /);
    await writeFile(join(u.home, 'mine.txt'), 'mine');
    const mv = await post(s, '/rename', { path: '/mine.txt', to: '/out/mine.txt' });
    assert.equal(mv.status, 403);
    await mv.arrayBuffer();
    assert.deepEqual(await readdir(outside), ['secret.txt']);
    assert.deepEqual((await readdir(u.home)).sort(), ['mine.txt', 'out']);
  });

  void it('an upload over the quota is refused with its message; no file, counters unchanged', async () => {
    const u = await users.createUser({ quota_size: 1000 });
    const s = await session(u);
    const ok = await upload(s, '/', [{ name: 'small.bin', data: Buffer.alloc(400) }]);
    assert.equal(ok.status, 302);
    assert.equal(ok.headers.get('location'), '/web/client/files?path=%2F&done=upload');
    assert.deepEqual(await quotaOf(u), { size: 400, files: 1 });
    const big = await upload(s, '/', [{ name: 'big.bin', data: Buffer.alloc(4000) }]);
    assert.equal(big.status, 413);
    assert.match(alertOf(await big.text()), /big\.bin: denying write due to space limit/);
    assert.deepEqual(await readdir(u.home), ['small.bin']);
    assert.deepEqual(await quotaOf(u), { size: 400, files: 1 });
  });

  void it('an upload over max_upload_file_size is refused and leaves no partial file', async () => {
    // a quota, so that track_quota 2 counts this user's files
    const u = await users.createUser({
      quota_size: 10 * 1024 * 1024,
      filters: { max_upload_file_size: 1024 },
    } as never);
    const s = await session(u);
    const r = await upload(s, '/', [
      { name: 'a.bin', data: Buffer.alloc(100) },
      { name: 'b.bin', data: Buffer.alloc(64 * 1024) },
    ]);
    assert.equal(r.status, 413);
    assert.match(alertOf(await r.text()), /b\.bin: .*\(1 file uploaded before\)/);
    assert.deepEqual(await readdir(u.home), ['a.bin']);
    assert.deepEqual(await quotaOf(u), { size: 100, files: 1 });
  });

  void it('an upload cut short by the client is not committed', async () => {
    const u = await users.createUser({ quota_size: 10 * 1024 * 1024 });
    await mkdir(join(u.home, 'd'));
    const s = await session(u);
    const { body, contentType } = multipartBody({ _form_token: s.csrf, path: '/d' }, [
      { field: 'files', filename: 'cut.bin', data: Buffer.alloc(256 * 1024, 1) },
    ]);
    await new Promise<void>((resolve) => {
      const req = request(url('/upload'), {
        method: 'POST',
        headers: {
          cookie: s.cookie,
          'content-type': contentType,
          'content-length': String(body.length),
        },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        resolve();
      });
      // half the body, then the connection goes away
      req.write(body.subarray(0, 128 * 1024), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
    });
    // the server notices the end of the request, aborts the transfer and closes the connection
    let open = -1;
    for (let i = 0; i < 100 && open !== 0; i++) {
      // (not validated: the 2.1.2 spec's ConnectionStatus.protocol enum lacks HTTP)
      const conns = await srv.api<unknown[]>('GET', '/connections', undefined, undefined, {
        validate: false,
      });
      open = conns.body.length;
      if (open !== 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(open, 0, 'the upload connection was closed');
    assert.deepEqual(await readdir(join(u.home, 'd')), []);
    assert.deepEqual(await quotaOf(u), { size: 0, files: 0 });
  });

  void it('publickey-change-disabled: the form is not offered and a POST is refused', async () => {
    const u = await users.createUser({
      filters: { web_client: ['publickey-change-disabled'] },
    } as never);
    const s = await session(u);
    const page = await fetch(url('/credentials'), { headers: { cookie: s.cookie } });
    const html = await page.text();
    assert.match(html, /data-testid="keys-disabled"/);
    assert.doesNotMatch(html, /name="public_keys"/);
    const r = await post(s, '/publickeys', { public_keys: 'ssh-ed25519 AAAA' });
    assert.equal(r.status, 403);
    assert.match(alertOf(await r.text()), /public key changes are disabled/);
  });

  void it('account forms show the API rules as messages', async () => {
    const u = await users.createUser();
    const s = await session(u);
    const wrong = await post(s, '/changepwd', {
      current_password: 'nope',
      new_password: 'n1',
      confirm_password: 'n1',
    });
    assert.equal(wrong.status, 400);
    assert.match(alertOf(await wrong.text()), /current password does not match/);
    const mismatch = await post(s, '/changepwd', {
      current_password: u.password,
      new_password: 'n1',
      confirm_password: 'n2',
    });
    assert.equal(mismatch.status, 400);
    assert.match(alertOf(await mismatch.text()), /do not match/);
    const badKey = await post(s, '/publickeys', { public_keys: 'not a key' });
    assert.equal(badKey.status, 400);
    assert.match(alertOf(await badKey.text()), /parse|key/i);
  });

  void it('denied_protocols HTTP: no web client login', async () => {
    const u = await users.createUser({ filters: { denied_protocols: ['HTTP'] } } as never);
    await assert.rejects(webClientLogin(srv.httpUrl, u), /login failed: 403/);
    const page = await fetch(url('/login'));
    const r = await fetch(url('/login'), {
      method: 'POST',
      redirect: 'manual',
      headers: FORM,
      body: new URLSearchParams({
        _form_token: csrfOf(await page.text()),
        username: u.username,
        password: u.password,
      }),
    });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /HTTP/);
  });
});
