/** /api/v2/admins CRUD, admin permissions per operation, self-protection, allow_list, changepwd. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { addAdmin, assertApiError, folderBody, userBody } from './util.js';

interface Admin {
  id?: number;
  username: string;
  status: number;
  permissions: string[];
  email?: string;
  description?: string;
  password?: string;
  filters?: { allow_list?: string[] };
  additional_info?: string;
}

void describe('httpd: admins', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.stop();
  });

  void it('creates, reads, updates, lists and deletes an admin', async () => {
    const created = await s.api<Admin>('POST', '/admins', {
      username: 'alice',
      password: 'alice-password',
      status: 1,
      email: 'alice@example.com',
      description: 'first',
      permissions: ['view_users', 'add_users'],
      filters: { allow_list: ['192.0.2.0/24', '127.0.0.0/8'] },
      additional_info: 'info',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.username, 'alice');
    assert.equal(created.body.password, undefined, 'the password never comes back');
    assert.deepEqual(created.body.permissions.sort(), ['add_users', 'view_users']);
    assert.deepEqual(created.body.filters?.allow_list, ['192.0.2.0/24', '127.0.0.0/8']);
    assert.ok(!created.text.includes('alice-password'));
    assert.ok(!created.text.includes('$2a$'));

    const got = await s.api<Admin>('GET', '/admins/alice');
    assert.equal(got.status, 200);
    assert.equal(got.body.email, 'alice@example.com');
    assert.equal(got.body.password, undefined);

    const upd = await s.api('PUT', '/admins/alice', { description: 'second', permissions: ['view_users'] });
    assert.equal(upd.status, 200);
    assert.deepEqual(upd.body, { message: 'Admin updated' });
    const after1 = await s.api<Admin>('GET', '/admins/alice');
    assert.equal(after1.body.description, 'second');
    assert.deepEqual(after1.body.permissions, ['view_users']);
    assert.equal(after1.body.email, 'alice@example.com', 'omitted fields keep their value');
    // the password was kept: alice can still log in with it
    assert.equal(typeof (await s.token('alice', 'alice-password')), 'string');

    const list = await s.api<Admin[]>('GET', '/admins');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((a) => a.username),
      [s.admin.username, 'alice'].sort(),
    );
    assert.ok(list.body.every((a) => a.password === undefined));

    const del = await s.api('DELETE', '/admins/alice');
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { message: 'Admin deleted' });
    assertApiError(await s.api('GET', '/admins/alice'), 404, /alice/);
    assertApiError(await s.api('DELETE', '/admins/alice'), 404, /alice/);
    assertApiError(await s.api('PUT', '/admins/alice', { description: 'x' }), 404, /alice/);
  });

  void it('rejects duplicates and invalid admins', async () => {
    await addAdmin(s, 'bob', ['view_users']);
    const dup = await s.api('POST', '/admins', { username: 'bob', password: 'x', status: 1, permissions: ['*'] });
    assert.ok(dup.status === 409 || dup.status === 400, dup.text);
    assertApiError(
      await s.api('POST', '/admins', { username: 'carol', password: 'x', status: 1, permissions: ['fly'] }),
      400,
      /fly/,
    );
    assertApiError(
      await s.api('POST', '/admins', { username: 'carol', password: 'x', status: 1, permissions: ['*'], filters: { allow_list: ['not-a-cidr'] } }),
      400,
      /not-a-cidr/,
    );
    assertApiError(await s.api('POST', '/admins', { username: 'carol', status: 1, permissions: ['*'] }), 400, /password/);
  });

  void it('enforces manage_admins for the admin endpoints', async () => {
    const viewer = await addAdmin(s, 'viewer', ['view_users', 'view_status']);
    const t = await viewer.token();
    for (const [m, p, b] of [
      ['GET', '/admins'],
      ['GET', `/admins/${s.admin.username}`],
      ['POST', '/admins', { username: 'x', password: 'y', status: 1, permissions: ['*'] }],
      ['PUT', `/admins/${s.admin.username}`, { description: 'x' }],
      ['DELETE', `/admins/${s.admin.username}`],
    ] as [string, string, unknown?][]) {
      assertApiError(await s.api(m, p, b, t), 403, 'Forbidden');
    }
    // an admin with manage_admins can manage admins but not users
    const manager = await addAdmin(s, 'manager', ['manage_admins']);
    const mt = await manager.token();
    assert.equal((await s.api('GET', '/admins', undefined, mt)).status, 200);
    assertApiError(await s.api('GET', '/users', undefined, mt), 403, 'Forbidden');
  });

  void it('checks each user and folder permission separately', async () => {
    const perms = ['view_users', 'add_users', 'edit_users', 'del_users'] as const;
    const tokens: Record<string, string> = {};
    for (const p of perms) tokens[p] = await (await addAdmin(s, `only-${p.replace('_', '-')}`, [p])).token();
    const u = userBody(s, 'perm-user');
    const f = folderBody(s, 'perm-folder');
    const ops: [string, string, unknown, (typeof perms)[number]][] = [
      ['POST', '/users', u, 'add_users'],
      ['GET', '/users', undefined, 'view_users'],
      ['GET', '/users/perm-user', undefined, 'view_users'],
      ['PUT', '/users/perm-user', { description: 'd' }, 'edit_users'],
      ['POST', '/folders', f, 'add_users'],
      ['GET', '/folders', undefined, 'view_users'],
      ['GET', '/folders/perm-folder', undefined, 'view_users'],
      ['PUT', '/folders/perm-folder', { description: 'd' }, 'edit_users'],
      ['DELETE', '/folders/perm-folder', undefined, 'del_users'],
      ['DELETE', '/users/perm-user', undefined, 'del_users'],
    ];
    for (const [m, p, b, needed] of ops) {
      for (const other of perms.filter((x) => x !== needed)) {
        assertApiError(await s.api(m, p, b, tokens[other]), 403, 'Forbidden');
      }
      const ok = await s.api(m, p, b, tokens[needed]);
      assert.ok(ok.status === 200 || ok.status === 201, `${m} ${p} with ${needed}: ${ok.status} ${ok.text}`);
    }
    // view_status guards /status, any admin may read /version
    assertApiError(await s.api('GET', '/status', undefined, tokens.view_users), 403, 'Forbidden');
    assert.equal((await s.api('GET', '/version', undefined, tokens.view_users)).status, 200);
  });

  void it('protects an admin from locking itself out', async () => {
    const self = await addAdmin(s, 'selfish', ['manage_admins', 'view_users']);
    const t = await self.token();
    assertApiError(await s.api('DELETE', '/admins/selfish', undefined, t), 400, 'you cannot delete yourself');
    assertApiError(await s.api('PUT', '/admins/selfish', { status: 0 }, t), 400, 'you cannot disable yourself');
    assertApiError(
      await s.api('PUT', '/admins/selfish', { permissions: ['view_users'] }, t),
      400,
      'you cannot remove these permissions to yourself',
    );
    // harmless self updates are fine, and `*` counts as manage_admins
    assert.equal((await s.api('PUT', '/admins/selfish', { description: 'me' }, t)).status, 200);
    assert.equal((await s.api('PUT', '/admins/selfish', { permissions: ['*'] }, t)).status, 200);
    const root = await s.api<Admin>('GET', `/admins/${s.admin.username}`);
    assert.deepEqual(root.body.permissions, ['*']);
    assertApiError(await s.api('DELETE', `/admins/${s.admin.username}`), 400, 'you cannot delete yourself');
    assertApiError(await s.api('PUT', `/admins/${s.admin.username}`, { permissions: ['view_users'] }), 400, /yourself/);
    // other admins may do it
    assert.equal((await s.api('PUT', '/admins/selfish', { status: 0 })).status, 200);
    assert.equal((await s.api('DELETE', '/admins/selfish')).status, 200);
  });

  void it('applies filters.allow_list to the token endpoint', async () => {
    await addAdmin(s, 'remote-only', ['view_users'], { filters: { allow_list: ['192.0.2.0/24'] } });
    const r = await s.api('GET', '/token', undefined, null, {
      headers: { authorization: basicAuth('remote-only', 'pw-remote-only-secret') },
    });
    assertApiError(r, 401, 'Unauthorized');
    assert.match((r.body as { error: string }).error, /login from IP 127\.0\.0\.1 not allowed/);
    const upd = await s.api('PUT', '/admins/remote-only', { filters: { allow_list: ['127.0.0.1/32'] } });
    assert.equal(upd.status, 200);
    assert.equal(typeof (await s.token('remote-only', 'pw-remote-only-secret')), 'string');
  });

  void it('changes the own password on both paths', async () => {
    const a = await addAdmin(s, 'changer', ['view_users']);
    const t = await a.token();
    assertApiError(
      await s.api('PUT', '/admin/changepwd', { current_password: 'wrong', new_password: 'n1-password' }, t),
      400,
      'current password does not match',
    );
    assertApiError(await s.api('PUT', '/admin/changepwd', { current_password: a.password }, t), 400, /new one/);
    assertApiError(
      await s.api('PUT', '/admin/changepwd', { current_password: a.password, new_password: a.password }, t),
      400,
      /must be different/,
    );
    const ok = await s.api('PUT', '/admin/changepwd', { current_password: a.password, new_password: 'n1-password' }, t);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { message: 'Password updated' });
    await assert.rejects(s.token('changer', a.password));
    assert.equal(typeof (await s.token('changer', 'n1-password')), 'string');
    const old = await s.api(
      'PUT',
      '/changepwd/admin',
      { current_password: 'n1-password', new_password: 'n2-password' },
      t,
    );
    assert.equal(old.status, 200);
    assert.equal(typeof (await s.token('changer', 'n2-password')), 'string');
    assertApiError(await s.api('PUT', '/admin/changepwd', { current_password: 'a', new_password: 'b' }, null), 401, 'Unauthorized');
  });
});
