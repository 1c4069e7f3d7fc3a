/** /api/v2/users CRUD, update semantics, ?disconnect, pagination and ordering. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError, userBody } from './util.js';

interface User {
  id?: number;
  username: string;
  status: number;
  home_dir: string;
  password?: string;
  description?: string;
  permissions: Record<string, string[]>;
  quota_size?: number;
  filters?: { allowed_ip?: string[]; denied_ip?: string[] };
  public_keys?: string[];
  filesystem?: { provider: number; s3config?: { bucket?: string; access_secret?: { status?: string; payload?: string; key?: string } } };
}

void describe('httpd: users', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.stop();
  });

  void it('creates a user and returns it redacted', async () => {
    const r = await s.api<User>('POST', '/users', userBody(s, 'u-create', { description: 'hello', quota_size: 1024 }));
    assert.equal(r.status, 201);
    assert.equal(r.body.username, 'u-create');
    assert.equal(r.body.description, 'hello');
    assert.equal(r.body.quota_size, 1024);
    assert.equal(r.body.password, undefined);
    assert.ok(!r.text.includes('pw-u-create-secret'));
    assert.ok(!r.text.includes('$2a$'));
    assert.ok(typeof r.body.id === 'number' && r.body.id > 0);
    const got = await s.api<User>('GET', '/users/u-create');
    assert.equal(got.status, 200);
    assert.equal(got.body.password, undefined);
    assert.deepEqual(got.body.permissions, { '/': ['*'] });
    // the password was stored hashed and works
    const user = await s.provider.checkUserPassword('u-create', 'pw-u-create-secret');
    assert.equal(user.username, 'u-create');
  });

  void it('rejects invalid users with the provider message', async () => {
    assertApiError(await s.api('POST', '/users', userBody(s, 'a b')), 400, /a b/);
    assertApiError(await s.api('POST', '/users', userBody(s, 'relhome', { home_dir: 'relative/path' })), 400, /home/);
    assertApiError(await s.api('POST', '/users', userBody(s, 'noperm', { permissions: { '/sub': ['*'] } })), 400, /permission/i);
    assertApiError(await s.api('POST', '/users', userBody(s, 'badperm', { permissions: { '/': ['fly'] } })), 400, /fly/);
    const noCreds = userBody(s, 'nocreds');
    delete noCreds.password;
    assertApiError(await s.api('POST', '/users', noCreds), 400, /password|public key/i);
    await s.api('POST', '/users', userBody(s, 'twice'));
    const dup = await s.api('POST', '/users', userBody(s, 'twice'));
    assert.ok(dup.status === 409 || dup.status === 400, `${dup.status} ${dup.text}`);
  });

  void it('updates with upstream semantics and keeps the password and permissions when omitted', async () => {
    await s.api('POST', '/users', userBody(s, 'u-upd', {
      permissions: { '/': ['*'], '/sub': ['list'] },
      filters: { allowed_ip: ['10.0.0.0/8'], denied_ip: ['10.1.0.0/16'] },
    }));
    const r = await s.api('PUT', '/users/u-upd', { description: 'changed', filters: { allowed_ip: ['192.0.2.0/24'] } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { message: 'User updated' });
    const got = await s.api<User>('GET', '/users/u-upd');
    assert.equal(got.body.description, 'changed');
    assert.deepEqual(got.body.permissions, { '/': ['*'], '/sub': ['list'] });
    assert.deepEqual(got.body.filters?.allowed_ip, ['192.0.2.0/24']);
    assert.deepEqual(got.body.filters?.denied_ip, ['10.1.0.0/16']);
    await s.provider.checkUserPassword('u-upd', 'pw-u-upd-secret');
    // new permissions replace the old ones; a new password is hashed
    assert.equal((await s.api('PUT', '/users/u-upd', { permissions: { '/': ['list'] }, password: 'new-secret' })).status, 200);
    const again = await s.api<User>('GET', '/users/u-upd');
    assert.deepEqual(again.body.permissions, { '/': ['list'] });
    await s.provider.checkUserPassword('u-upd', 'new-secret');
    // username and id come from the path, not the body
    assert.equal((await s.api('PUT', '/users/u-upd', { username: 'hijack', id: 999 })).status, 200);
    assert.equal((await s.api<User>('GET', '/users/u-upd')).body.username, 'u-upd');
    assertApiError(await s.api('GET', '/users/hijack'), 404, /hijack/);
  });

  void it('keeps secrets redacted on output and preserves them on a round trip', async () => {
    const body = userBody(s, 'u-s3', {
      filesystem: {
        provider: 1,
        s3config: { bucket: 'b', region: 'us-east-1', access_key: 'ak', access_secret: { status: 'Plain', payload: 'TOPSECRET' } },
      },
    });
    const created = await s.api<User>('POST', '/users', body);
    assert.equal(created.status, 201, created.text);
    assert.ok(!created.text.includes('TOPSECRET'));
    const secret = created.body.filesystem?.s3config?.access_secret;
    assert.ok(secret?.status && secret.status !== 'Plain', created.text);
    assert.equal(secret.key ?? '', '');
    // sending back what GET returned keeps the stored secret
    const got = await s.api<User>('GET', '/users/u-s3');
    assert.equal((await s.api('PUT', '/users/u-s3', { filesystem: got.body.filesystem })).status, 200);
    const again = await s.api<User>('GET', '/users/u-s3');
    assert.equal(again.body.filesystem?.s3config?.access_secret?.payload, secret.payload);
    assert.ok(!again.text.includes('TOPSECRET'));
  });

  void it('accepts ?disconnect=0|1 and rejects a non-integer', async () => {
    await s.api('POST', '/users', userBody(s, 'u-disc'));
    assert.equal((await s.api('PUT', '/users/u-disc?disconnect=1', { description: 'a' })).status, 200);
    assert.equal((await s.api('PUT', '/users/u-disc?disconnect=0', { description: 'b' })).status, 200);
    assertApiError(await s.api('PUT', '/users/u-disc?disconnect=yes', { description: 'c' }), 400, 'invalid disconnect parameter');
    assertApiError(await s.api('PUT', '/users/nobody?disconnect=1', { description: 'c' }), 404, /nobody/);
    assert.equal((await s.api<User>('GET', '/users/u-disc')).body.description, 'b');
  });

  void it('deletes users', async () => {
    await s.api('POST', '/users', userBody(s, 'u-del'));
    const r = await s.api('DELETE', '/users/u-del');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { message: 'User deleted' });
    assertApiError(await s.api('GET', '/users/u-del'), 404, /u-del/);
    assertApiError(await s.api('DELETE', '/users/u-del'), 404, /u-del/);
  });
});

void describe('httpd: user listing', () => {
  let s: TestServer;
  const names = Array.from({ length: 12 }, (_, i) => `list-${String(i).padStart(2, '0')}`);
  before(async () => {
    s = await startServer();
    // created out of order: listing sorts by username
    for (const n of [...names].reverse()) {
      const r = await s.api('POST', '/users', userBody(s, n));
      assert.equal(r.status, 201, r.text);
    }
  });
  after(async () => {
    await s.stop();
  });

  const list = async (q: string): Promise<string[]> => {
    const r = await s.api<User[]>('GET', `/users${q}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.every((u) => u.password === undefined));
    return r.body.map((u) => u.username);
  };

  void it('lists in ascending order by default', async () => {
    assert.deepEqual(await list(''), names);
    assert.deepEqual(await list('?order=ASC'), names);
  });

  void it('orders descending', async () => {
    assert.deepEqual(await list('?order=DESC'), [...names].reverse());
  });

  void it('pages with limit and offset', async () => {
    assert.deepEqual(await list('?limit=5'), names.slice(0, 5));
    assert.deepEqual(await list('?limit=5&offset=5'), names.slice(5, 10));
    assert.deepEqual(await list('?limit=5&offset=10'), names.slice(10));
    assert.deepEqual(await list('?offset=12'), []);
    assert.deepEqual(await list('?limit=3&offset=2&order=DESC'), [...names].reverse().slice(2, 5));
  });

  void it('clamps limit to 500 and rejects bad values', async () => {
    assert.deepEqual(await list('?limit=100000'), names);
    assertApiError(await s.api('GET', '/users?limit=abc'), 400, 'invalid limit');
    assertApiError(await s.api('GET', '/users?limit=0'), 400, 'invalid limit');
    assertApiError(await s.api('GET', '/users?offset=-3'), 400, 'invalid offset');
    assertApiError(await s.api('GET', '/users?order=up'), 400, 'invalid order');
  });
});
