/**
 * The post-login hook (data_provider.post_login_hook, post_login_scope) through a real server:
 * every protocol tells it about successful and failed logins (SSH per attempt and for a client
 * that never tried, FTP, WebDAV per request, HTTP on GET /api/v2/user/token), with the exact
 * environment (program) or query and JSON body (HTTP) of 2.1.2; scope 1 sends failures only,
 * 2 successes only. The user JSON never carries the password hash.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HookReceiver, ScriptHooks, type ScriptCall } from '../../helpers/hooks.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { ftpLogin, httpRequest, sshLogin, startHookServer, type HookEnv } from './helpers.js';

interface Notified {
  protocol: string;
  method: string;
  status: string;
  ip: string;
  user: Record<string, unknown>;
}

const fromEnv = (c: ScriptCall): Notified => ({
  protocol: c.env.SFTPGO_LOGIND_PROTOCOL ?? '',
  method: c.env.SFTPGO_LOGIND_METHOD ?? '',
  status: c.env.SFTPGO_LOGIND_STATUS ?? '',
  ip: c.env.SFTPGO_LOGIND_IP ?? '',
  user: JSON.parse(c.env.SFTPGO_LOGIND_USER ?? 'null') as Record<string, unknown>,
});

void describe('post-login hook as a program (scope 0: both outcomes)', () => {
  const scripts = new ScriptHooks();
  let env: HookEnv;
  let hook: string;
  let user: { username: string; password: string };
  let seen = 0;

  /** the notifications that arrive after the previous call, once `count` of them did */
  const next = async (count: number): Promise<Notified[]> => {
    const calls = await scripts.waitForCalls(hook, seen + count);
    const out = calls.slice(seen).map(fromEnv);
    seen = calls.length;
    return out;
  };
  const key = (n: Notified): string =>
    `${n.protocol} ${n.method} ${n.status} ${String(n.user.username)}`;

  before(async () => {
    await scripts.init();
    hook = await scripts.script('post-login');
    env = await startHookServer({ data_provider: { post_login_hook: hook } });
    user = await env.createUser({ description: 'hooked' });
  });
  after(async () => {
    await env?.stop();
    await scripts.cleanup();
  });

  void it('SSH: a success, a wrong password, an unknown user; no argument and the five variables', async () => {
    assert.deepEqual(await sshLogin(env.sshPort, user.username, user.password), { ok: true });
    const [ok] = await next(1);
    assert.ok(ok);
    assert.equal(key(ok), `SSH password 1 ${user.username}`);
    assert.equal(ok.ip, '127.0.0.1');
    assert.equal(ok.user.description, 'hooked');
    assert.ok(Number(ok.user.id) > 0);
    assert.ok(!('password' in ok.user), 'no password hash');
    assert.deepEqual((ok.user.filters as Record<string, unknown>).hooks, {
      external_auth_disabled: false,
      pre_login_disabled: false,
      check_password_disabled: false,
    });
    const calls = await scripts.calls(hook);
    assert.deepEqual(calls[0]?.args, []);
    assert.deepEqual(
      Object.keys(calls[0]?.env ?? {})
        .filter((k) => k.startsWith('SFTPGO_') && !(k in process.env))
        .sort(),
      [
        'SFTPGO_LOGIND_IP',
        'SFTPGO_LOGIND_METHOD',
        'SFTPGO_LOGIND_PROTOCOL',
        'SFTPGO_LOGIND_STATUS',
        'SFTPGO_LOGIND_USER',
      ],
    );

    const bad = await sshLogin(env.sshPort, user.username, 'wrong');
    assert.equal(bad.ok, false);
    const unknown = await sshLogin(env.sshPort, 'nobody-here', 'x');
    assert.equal(unknown.ok, false);
    const failed = await next(2);
    const wrong = failed.find((n) => n.user.username === user.username);
    assert.ok(wrong, JSON.stringify(failed));
    assert.equal(key(wrong), `SSH password 0 ${user.username}`);
    // the stored user its failed check had loaded
    assert.ok(Number(wrong.user.id) > 0);
    assert.ok(!('password' in wrong.user));
    const none = failed.find((n) => n.user.username === 'nobody-here');
    assert.ok(none, JSON.stringify(failed));
    assert.equal(key(none), 'SSH password 0 nobody-here');
    assert.equal(none.user.id, 0);
    assert.equal(none.user.permissions, null);
  });

  void it('SSH: a client gone without trying to authenticate is "no_auth_tryed" with an empty user', async () => {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: env.sshPort }, () => s.destroy());
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    const [n] = await next(1);
    assert.ok(n);
    assert.equal(key(n), 'SSH no_auth_tryed 0 ');
    assert.equal(n.user.id, 0);
  });

  void it('FTP: a success and a failure', async () => {
    assert.match((await ftpLogin(env.ftpPort, user.username, user.password)) ?? '', /^230 /);
    assert.deepEqual((await next(1)).map(key), [`FTP password 1 ${user.username}`]);
    assert.match((await ftpLogin(env.ftpPort, user.username, 'wrong')) ?? '', /^530 /);
    assert.deepEqual((await next(1)).map(key), [`FTP password 0 ${user.username}`]);
  });

  void it('WebDAV: every request is a login (cached user included); bad and missing credentials fail', async () => {
    const auth = { username: user.username, password: user.password };
    for (let i = 0; i < 2; i++)
      assert.equal((await httpRequest(env.davPort, 'OPTIONS', '/', { auth })).status, 200);
    assert.deepEqual((await next(2)).map(key), [
      `DAV password 1 ${user.username}`,
      `DAV password 1 ${user.username}`,
    ]);
    const bad = await httpRequest(env.davPort, 'PROPFIND', '/', {
      auth: { ...auth, password: 'wrong' },
    });
    assert.equal(bad.status, 401);
    assert.deepEqual((await next(1)).map(key), [`DAV password 0 ${user.username}`]);
    assert.equal((await httpRequest(env.davPort, 'PROPFIND', '/')).status, 401);
    const [anon] = await next(1);
    assert.ok(anon);
    assert.equal(key(anon), 'DAV password 0 ');
    assert.equal(anon.user.id, 0);
  });

  void it('HTTP: GET /api/v2/user/token, success and failure; the admin API logs in without it', async () => {
    const auth = { username: user.username, password: user.password };
    assert.equal(
      (await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', { auth })).status,
      200,
    );
    assert.deepEqual((await next(1)).map(key), [`HTTP password 1 ${user.username}`]);
    const bad = await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', {
      auth: { ...auth, password: 'nope' },
    });
    assert.equal(bad.status, 401);
    assert.deepEqual((await next(1)).map(key), [`HTTP password 0 ${user.username}`]);
    // an admin login is never a post-login event: the next notification is the user's
    assert.equal(
      (await httpRequest(env.httpPort, 'GET', '/api/v2/token', { auth: env.srv.admin })).status,
      200,
    );
    assert.equal(
      (await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', { auth })).status,
      200,
    );
    assert.deepEqual((await next(1)).map(key), [`HTTP password 1 ${user.username}`]);
  });
});

void describe('post-login hook over HTTP, by scope', () => {
  const receiver = new HookReceiver();
  const servers: TestServer[] = [];

  const startWithScope = async (scope: number): Promise<{ srv: TestServer; port: number }> => {
    const srv = await startServer({
      config: {
        data_provider: {
          post_login_hook: `${receiver.url}/login/${scope}`,
          post_login_scope: scope,
        },
      },
    });
    servers.push(srv);
    return { srv, port: Number(new URL(srv.httpUrl).port) };
  };
  const createUser = async (srv: TestServer, username: string): Promise<void> => {
    const r = await srv.api('POST', '/users', {
      username,
      password: 'secret-pass',
      status: 1,
      home_dir: `/tmp/${username}`,
      permissions: { '/': ['*'] },
    });
    assert.equal(r.status, 201, r.text);
  };

  before(async () => {
    await receiver.start();
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await receiver.stop();
  });

  void it('scope 1: failures only; POST with the query of 2.1.2 and the user JSON', async () => {
    const { srv, port } = await startWithScope(1);
    await createUser(srv, 'scope1');
    assert.equal(
      (
        await httpRequest(port, 'GET', '/api/v2/user/token', {
          auth: { username: 'scope1', password: 'secret-pass' },
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await httpRequest(port, 'GET', '/api/v2/user/token', {
          auth: { username: 'scope1', password: 'bad' },
        })
      ).status,
      401,
    );
    const [r, ...rest] = await receiver.waitFor(1, (q) => q.url.startsWith('/login/1'));
    assert.ok(r);
    assert.deepEqual(rest, []);
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/login/1?ip=127.0.0.1&login_method=password&protocol=HTTP&status=0');
    assert.equal(r.headers['content-type'], 'application/json');
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(body.username, 'scope1');
    assert.equal(body.home_dir, '/tmp/scope1');
    assert.ok(!('password' in body));
  });

  void it('scope 2: successes only', async () => {
    const { srv, port } = await startWithScope(2);
    await createUser(srv, 'scope2');
    assert.equal(
      (
        await httpRequest(port, 'GET', '/api/v2/user/token', {
          auth: { username: 'scope2', password: 'bad' },
        })
      ).status,
      401,
    );
    assert.equal(
      (
        await httpRequest(port, 'GET', '/api/v2/user/token', {
          auth: { username: 'scope2', password: 'secret-pass' },
        })
      ).status,
      200,
    );
    const got = await receiver.waitFor(1, (q) => q.url.startsWith('/login/2'));
    assert.deepEqual(
      got.map((q) => q.url),
      ['/login/2?ip=127.0.0.1&login_method=password&protocol=HTTP&status=1'],
    );
  });
});
