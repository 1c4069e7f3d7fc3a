/** GET /api/v2/token, bearer authentication, logout and revocation, audience checks. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { addAdmin, assertApiError } from './util.js';

void describe('httpd: admin tokens', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.stop();
  });

  void it('issues a JWT for valid Basic credentials', async () => {
    const r = await s.api<{ access_token: string; expires_at: string }>('GET', '/token', undefined, null, {
      headers: { authorization: basicAuth(s.admin.username, s.admin.password) },
    });
    assert.equal(r.status, 200);
    assert.match(r.body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(r.body.access_token.split('.')[1] ?? '', 'base64url').toString());
    assert.equal(claims.username, s.admin.username);
    assert.deepEqual(claims.permissions, ['*']);
    assert.equal(claims.aud, 'API');
    assert.equal(claims.exp - claims.iat, 15 * 60);
    assert.equal(typeof claims.jti, 'string');
    assert.match(r.body.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(new Date(r.body.expires_at).getTime() / 1000, claims.exp);
    const users = await s.api('GET', '/users', undefined, r.body.access_token);
    assert.equal(users.status, 200);
  });

  void it('answers 401 with a Basic challenge when credentials are missing or wrong', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /credentials cannot be null or empty/],
      [{ authorization: 'Bearer abc' }, /credentials cannot be null or empty/],
      [{ authorization: 'Basic !!!' }, /credentials cannot be null or empty/],
      [{ authorization: basicAuth(s.admin.username, 'wrong password') }, /invalid credentials/],
      [{ authorization: basicAuth('nobody', 'whatever') }, /invalid credentials/],
      [{ authorization: basicAuth(s.admin.username, '') }, /credentials cannot be null or empty/],
    ];
    for (const [headers, detail] of cases) {
      const r = await s.api('GET', '/token', undefined, null, { headers });
      assertApiError(r, 401, 'Unauthorized');
      assert.match((r.body as { error: string }).error, detail);
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="SFTPGo"');
    }
  });

  void it('refuses API calls without a valid bearer token', async () => {
    assertApiError(await s.api('GET', '/users', undefined, null), 401, 'Unauthorized');
    const noToken = await s.api('GET', '/users', undefined, null);
    assert.match((noToken.body as { error: string }).error, /no token found/);
    assertApiError(await s.api('GET', '/users', undefined, 'garbage'), 401, 'Unauthorized');
    const good = await s.adminToken();
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${'A'.repeat(43)}`;
    const r = await s.api('GET', '/users', undefined, forged);
    assertApiError(r, 401, 'Unauthorized');
    assert.match((r.body as { error: string }).error, /signature/);
    const basic = await s.api('GET', '/users', undefined, null, {
      headers: { authorization: basicAuth(s.admin.username, s.admin.password) },
    });
    assertApiError(basic, 401, 'Unauthorized');
  });

  void it('refuses a token issued for another audience', async () => {
    const t = s.service.httpd?.tokens.issue({ username: s.admin.username, permissions: ['*'] }, 'APIUser');
    assert.ok(t);
    assertApiError(await s.api('GET', '/users', undefined, t.access_token), 401, 'Your token audience is not valid');
  });

  void it('logout invalidates only the token used', async () => {
    const t1 = await s.token(s.admin.username, s.admin.password);
    const t2 = await s.token(s.admin.username, s.admin.password);
    assert.notEqual(t1, t2);
    const out = await s.api('GET', '/logout', undefined, t1);
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, { message: 'Your token has been invalidated' });
    assertApiError(await s.api('GET', '/users', undefined, t1), 401, 'Your token is no longer valid');
    assertApiError(await s.api('GET', '/logout', undefined, t1), 401, 'Your token is no longer valid');
    assert.equal((await s.api('GET', '/users', undefined, t2)).status, 200);
    assertApiError(await s.api('GET', '/logout', undefined, null), 401, 'Unauthorized');
  });

  void it('a disabled admin cannot get a token', async () => {
    const r = await s.api('POST', '/admins', {
      username: 'sleeper',
      password: 'sleeper-password',
      status: 0,
      permissions: ['view_users'],
    });
    assert.equal(r.status, 201, r.text);
    const t = await s.api('GET', '/token', undefined, null, {
      headers: { authorization: basicAuth('sleeper', 'sleeper-password') },
    });
    assertApiError(t, 401, 'Unauthorized');
    assert.match((t.body as { error: string }).error, /admin "sleeper" is disabled/);
  });

  void it('the admin behind a token is checked on every request: disabled, deleted, permissions', async () => {
    const viewer = await addAdmin(s, 'viewer', ['view_users']);
    const t = await viewer.token();
    assert.equal((await s.api('GET', '/users', undefined, t)).status, 200);
    assertApiError(await s.api('GET', '/status', undefined, t), 403, 'Forbidden');
    // a permission change applies to the token at once, both ways
    assert.equal((await s.api('PUT', '/admins/viewer', { permissions: ['view_status'] })).status, 200);
    assertApiError(await s.api('GET', '/users', undefined, t), 403, 'Forbidden');
    assert.equal((await s.api('GET', '/status', undefined, t)).status, 200);
    // disabled: refused on the next request, enabled again: accepted
    assert.equal((await s.api('PUT', '/admins/viewer', { status: 0 })).status, 200);
    const disabled = await s.api('GET', '/status', undefined, t);
    assertApiError(disabled, 401, 'Your token is no longer valid');
    assert.match((disabled.body as { error: string }).error, /admin "viewer" is disabled/);
    assert.equal((await s.api('PUT', '/admins/viewer', { status: 1 })).status, 200);
    assert.equal((await s.api('GET', '/status', undefined, t)).status, 200);
    // deleted: refused on the next request; an admin added again under that name has its own
    // permissions, not those in the token
    assert.equal((await s.api('DELETE', '/admins/viewer')).status, 200);
    const deleted = await s.api('GET', '/status', undefined, t);
    assertApiError(deleted, 401, 'Your token is no longer valid');
    assert.match((deleted.body as { error: string }).error, /admin "viewer" does not exist/);
    await addAdmin(s, 'viewer', ['view_conns']);
    assertApiError(await s.api('GET', '/status', undefined, t), 403, 'Forbidden');
    assert.equal((await s.api('GET', '/connections', undefined, t)).status, 200);
  });

  void it('a revoked token is refused at once, its admin being checked or not', async () => {
    const t = await s.token(s.admin.username, s.admin.password);
    for (let i = 0; i < 3; i++) assert.equal((await s.api('GET', '/version', undefined, t)).status, 200);
    assert.equal((await s.api('GET', '/logout', undefined, t)).status, 200);
    assertApiError(await s.api('GET', '/version', undefined, t), 401, 'Your token is no longer valid');
    assert.equal((await s.api('GET', '/version')).status, 200, 'the other tokens of the admin still work');
  });

  void it('never writes passwords, hashes or tokens to the log', async () => {
    const token = await s.adminToken();
    await s.api('GET', '/token', undefined, null, {
      headers: { authorization: basicAuth(s.admin.username, 'Wr0ng-Passw0rd-Marker') },
    });
    const r = await s.api('POST', '/users', {
      username: 'logged',
      password: 'User-Passw0rd-Marker',
      home_dir: join(s.configDir, 'logged'),
      permissions: { '/': ['*'] },
      status: 1,
    });
    assert.equal(r.status, 201);
    const stored = await s.provider.getUser('logged');
    const log = await readFile(join(s.configDir, 'sftpgo.log'), 'utf8');
    assert.match(log, /"uri":"\/api\/v2\/users"/);
    for (const secret of ['Wr0ng-Passw0rd-Marker', 'User-Passw0rd-Marker', s.admin.password, token, stored.password ?? '-']) {
      assert.ok(!log.includes(secret), `the log contains ${secret.slice(0, 12)}...`);
    }
  });
});
