/**
 * Data-provider actions (data_provider.actions) through a real server: users added, updated and
 * deleted through the REST API, restored by POST /loaddata, or changing their own password
 * through the user API are notified, as a program (the eight arguments, SFTPGO_USER_ACTION and
 * SFTPGO_USER) or as an HTTP POST `?action=` with the user JSON; the password hash is never
 * sent; a login's last-login update is not an action; only the operations in execute_on fire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HookReceiver, ScriptHooks } from '../../helpers/hooks.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { httpRequest } from './helpers.js';

const EXPIRES = 4102444800000;

void describe('data-provider actions as a program', () => {
  const scripts = new ScriptHooks();
  let srv: TestServer;
  let hook: string;
  let seen = 0;

  /** the calls after the previous ones, once `count` of them arrived */
  const next = async (count: number) => {
    const calls = await scripts.waitForCalls(hook, seen + count);
    const out = calls.slice(seen);
    seen = calls.length;
    return out;
  };

  before(async () => {
    await scripts.init();
    hook = await scripts.script('user-action');
    srv = await startServer({
      config: { data_provider: { actions: { execute_on: ['add', 'update', 'delete'], hook } } },
    });
  });
  after(async () => {
    await srv?.stop();
    await scripts.cleanup();
  });

  void it('REST add: the eight arguments and the two variables, the user re-read without its password', async () => {
    const r = await srv.api<{ id: number }>('POST', '/users', {
      username: 'acted',
      password: 'first-pass',
      status: 1,
      expiration_date: EXPIRES,
      home_dir: '/srv/acted',
      uid: 1001,
      gid: 1002,
      permissions: { '/': ['*'] },
      description: 'v1',
    });
    assert.equal(r.status, 201, r.text);
    const [c] = await next(1);
    assert.ok(c);
    assert.deepEqual(c.args, [
      'add',
      'acted',
      String(r.body.id),
      '1',
      String(EXPIRES),
      '/srv/acted',
      '1001',
      '1002',
    ]);
    assert.equal(c.env.SFTPGO_USER_ACTION, 'add');
    const user = JSON.parse(c.env.SFTPGO_USER ?? '') as Record<string, unknown>;
    assert.equal(user.username, 'acted');
    assert.equal(user.id, r.body.id);
    assert.equal(user.description, 'v1');
    assert.ok(!('password' in user), 'no password hash');
    assert.deepEqual(
      Object.keys(c.env)
        .filter((k) => k.startsWith('SFTPGO_') && !(k in process.env))
        .sort(),
      ['SFTPGO_USER', 'SFTPGO_USER_ACTION'],
    );
  });

  void it('REST update and the user changing its password are updates; a login (last_login) is not an action', async () => {
    const cur = await srv.api<Record<string, unknown>>('GET', '/users/acted');
    assert.equal(
      (await srv.api('PUT', '/users/acted', { ...cur.body, description: 'v2' })).status,
      200,
    );
    const [u] = await next(1);
    assert.equal(u?.env.SFTPGO_USER_ACTION, 'update');
    assert.equal(
      (JSON.parse(u?.env.SFTPGO_USER ?? '') as { description?: string }).description,
      'v2',
    );

    // the login updates last_login: no action
    const auth = { username: 'acted', password: 'first-pass' };
    const tok = await httpRequest(Number(new URL(srv.httpUrl).port), 'GET', '/api/v2/user/token', {
      auth,
    });
    assert.equal(tok.status, 200, tok.body);
    const token = (JSON.parse(tok.body) as { access_token: string }).access_token;
    const pwd = await srv.api(
      'PUT',
      '/user/changepwd',
      { current_password: 'first-pass', new_password: 'second-pass' },
      token,
    );
    assert.equal(pwd.status, 200, pwd.text);
    const [p] = await next(1);
    assert.ok(p);
    assert.deepEqual(p.args.slice(0, 2), ['update', 'acted']);
    const after = JSON.parse(p.env.SFTPGO_USER ?? '') as { last_login?: number; password?: string };
    assert.ok((after.last_login ?? 0) > 0, 'the login was stored before the password change');
    assert.equal(after.password, undefined);
    assert.deepEqual(
      (await scripts.calls(hook)).map((c) => c.args[0]),
      ['add', 'update', 'update'],
    );
  });

  void it('REST delete sends the user as it was; loaddata restores are adds and updates', async () => {
    assert.equal((await srv.api('DELETE', '/users/acted')).status, 200);
    const [d] = await next(1);
    assert.ok(d);
    assert.deepEqual(d.args.slice(0, 2), ['delete', 'acted']);
    assert.equal(
      (JSON.parse(d.env.SFTPGO_USER ?? '') as { description?: string }).description,
      'v2',
    );

    const backup = {
      users: [
        {
          username: 'restored',
          password: 'p',
          status: 1,
          home_dir: '/srv/restored',
          permissions: { '/': ['*'] },
        },
      ],
      folders: [],
      admins: [],
      version: 8,
    };
    // the first restore adds the user, the second updates it; the actions run in the background,
    // so each one is awaited before the next restore (two programs may finish in either order)
    for (const op of ['add', 'update']) {
      const r = await srv.api('POST', '/loaddata', JSON.stringify(backup));
      assert.equal(r.status, 200, r.text);
      const [c] = await next(1);
      assert.deepEqual(c?.args.slice(0, 2), [op, 'restored']);
    }
  });
});

void describe('data-provider actions over HTTP', () => {
  const receiver = new HookReceiver();
  let srv: TestServer;

  before(async () => {
    await receiver.start();
    srv = await startServer({
      config: {
        data_provider: {
          actions: { execute_on: ['update', 'delete'], hook: `${receiver.url}/user-hook` },
        },
      },
    });
  });
  after(async () => {
    await srv?.stop();
    await receiver.stop();
  });

  void it('POST <hook>?action=<op> with the user JSON, only for the operations in execute_on', async () => {
    const body = {
      username: 'posted',
      password: 'secret',
      status: 1,
      home_dir: '/srv/posted',
      permissions: { '/': ['*'] },
    };
    assert.equal((await srv.api('POST', '/users', body)).status, 201);
    const cur = await srv.api<Record<string, unknown>>('GET', '/users/posted');
    assert.equal(
      (await srv.api('PUT', '/users/posted', { ...cur.body, description: 'changed' })).status,
      200,
    );
    assert.equal((await srv.api('DELETE', '/users/posted')).status, 200);
    const got = await receiver.waitFor(2);
    assert.deepEqual(
      got.map((q) => [q.method, q.url, q.headers['content-type']]),
      [
        ['POST', '/user-hook?action=update', 'application/json'],
        ['POST', '/user-hook?action=delete', 'application/json'],
      ],
    );
    for (const q of got) {
      const u = JSON.parse(q.body) as Record<string, unknown>;
      assert.equal(u.username, 'posted');
      assert.equal(u.description, 'changed');
      assert.ok(!('password' in u), 'no password hash');
    }
  });
});
