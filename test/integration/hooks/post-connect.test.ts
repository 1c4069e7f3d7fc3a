/**
 * The post-connect hook (common.post_connect_hook) through a real server: it is asked about every
 * new client before any authentication (SSH per TCP connection, FTP on connect, WebDAV per
 * request, HTTP on GET /api/v2/user/token only) and its rejection closes SSH before the
 * handshake, answers FTP with upstream's reply text, and WebDAV/HTTP with 403. A rejection adds
 * no defender event and no post-login notification. A hook that hangs rejects (HTTP timeout) and
 * blocks nobody else; a program hook gets exactly SFTPGO_CONNECTION_IP/PROTOCOL and no argument,
 * and one that crashes rejects.
 */
import assert from 'node:assert/strict';
import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostId } from '../../../src/common/defender.js';
import { HookReceiver, ScriptHooks, type ReceivedRequest } from '../../helpers/hooks.js';
import { requireSshTools } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';
import {
  ftpGreeting,
  ftpLogin,
  httpRequest,
  OTHER_IP,
  sshLogin,
  startHookServer,
  type HookEnv,
} from './helpers.js';

const connectRequests = (r: HookReceiver, ip: string, protocol: string): ReceivedRequest[] =>
  r.requests.filter((q) => q.query.ip === ip && q.query.protocol === protocol);

void describe('post-connect hook over HTTP: one IP refused on every protocol', () => {
  const receiver = new HookReceiver();
  const scripts = new ScriptHooks();
  let env: HookEnv;
  let user: { username: string; password: string };
  let postLogin: string;

  before(async () => {
    requireSshTools();
    await scripts.init();
    postLogin = await scripts.script('post-login');
    await receiver.start((q) => ({ status: q.query.ip === OTHER_IP ? 403 : 200 }));
    env = await startHookServer({
      common: {
        post_connect_hook: `${receiver.url}/connect`,
        defender: { enabled: true },
      },
      data_provider: { post_login_hook: postLogin },
      http: { retry_max: 0 },
    });
    user = await env.createUser();
  });
  after(async () => {
    await env?.stop();
    await receiver.stop();
    await scripts.cleanup();
  });

  void it('SSH: the refused IP is disconnected before the handshake (ssh2 and OpenSSH); the other logs in', async () => {
    const refused = await sshLogin(env.sshPort, user.username, user.password, OTHER_IP);
    assert.equal(refused.ok, false);
    assert.notEqual(
      (refused as { level?: string }).level,
      'client-authentication',
      'refused before authentication',
    );
    const sftp = await sftpBatch(
      { port: env.sshPort },
      { user: user.username, password: user.password },
      ['pwd'],
      {
        extraArgs: ['-o', `BindAddress=${OTHER_IP}`],
      },
    );
    assert.equal(sftp.code, 255, sftp.stderr);
    assert.match(sftp.stderr, /Connection closed|Connection reset/);
    assert.doesNotMatch(sftp.stderr, /Permission denied/);

    assert.deepEqual(await sshLogin(env.sshPort, user.username, user.password), { ok: true });
    const ok = await sftpBatch(
      { port: env.sshPort },
      { user: user.username, password: user.password },
      ['pwd'],
    );
    assert.equal(ok.code, 0, ok.stderr);

    const asked = connectRequests(receiver, OTHER_IP, 'SSH');
    assert.equal(asked.length, 2);
    for (const q of asked) {
      assert.equal(q.method, 'GET');
      assert.equal(q.url, `/connect?ip=${OTHER_IP}&protocol=SSH`);
      assert.equal(q.body, '');
    }
    assert.equal(connectRequests(receiver, '127.0.0.1', 'SSH').length, 2);
  });

  void it('FTP: the refused IP reads "Access denied by post connect hook" and is disconnected; the other logs in', async () => {
    assert.deepEqual(await ftpGreeting(env.ftpPort, OTHER_IP), {
      greeting: '421 Access denied by post connect hook',
      closed: true,
    });
    assert.match((await ftpLogin(env.ftpPort, user.username, user.password)) ?? '', /^230 /);
    assert.deepEqual(
      connectRequests(receiver, OTHER_IP, 'FTP').map((q) => q.url),
      [`/connect?ip=${OTHER_IP}&protocol=FTP`],
    );
  });

  void it('WebDAV: every request asks the hook; the refused IP gets 403 even with good credentials', async () => {
    const auth = { username: user.username, password: user.password };
    const refused = await httpRequest(env.davPort, 'PROPFIND', '/', {
      auth,
      localAddress: OTHER_IP,
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'you are not allowed to connect\n');
    for (let i = 0; i < 2; i++)
      assert.equal((await httpRequest(env.davPort, 'OPTIONS', '/', { auth })).status, 200);
    assert.equal(connectRequests(receiver, OTHER_IP, 'DAV').length, 1);
    assert.equal(connectRequests(receiver, '127.0.0.1', 'DAV').length, 2);
  });

  void it('HTTP: only GET /api/v2/user/token asks the hook, once credentials are present; 403 for the refused IP', async () => {
    const auth = { username: user.username, password: user.password };
    // without credentials: 401 before the hook (from 127.0.0.1: a failed login is a defender event)
    const noCreds = await httpRequest(env.httpPort, 'GET', '/api/v2/user/token');
    assert.equal(noCreds.status, 401);
    const refused = await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', {
      auth,
      localAddress: OTHER_IP,
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.body), {
      error: 'access denied by post connect hook',
      message: 'Forbidden',
    });
    const ok = await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', { auth });
    assert.equal(ok.status, 200, ok.body);
    // other requests (the admin API used by this test, /healthz) never ask it
    assert.equal(
      (await httpRequest(env.httpPort, 'GET', '/healthz', { localAddress: OTHER_IP })).status,
      200,
    );
    const http = receiver.requests.filter((q) => q.query.protocol === 'HTTP');
    assert.deepEqual(
      http.map((q) => q.query.ip),
      [OTHER_IP, '127.0.0.1'],
    );
  });

  void it('a rejection adds no defender event and sends no post-login notification', async () => {
    const hosts = await env.srv.api<{ id: string }[]>('GET', '/defender/hosts');
    assert.equal(hosts.status, 200);
    assert.ok(!hosts.body.some((h) => h.id === hostId(OTHER_IP)), JSON.stringify(hosts.body));
    // the accepted logins above were notified (SSH x2, FTP, WebDAV x2, HTTP); the refused IP never
    const calls = await scripts.waitForCalls(postLogin, 6);
    assert.deepEqual(
      calls.filter((c) => c.env.SFTPGO_LOGIND_IP === OTHER_IP),
      [],
    );
  });
});

void describe('post-connect hook over HTTP: a hanging hook rejects and blocks nobody', () => {
  const receiver = new HookReceiver();
  let env: HookEnv;
  let user: { username: string; password: string };
  let release: () => void = () => undefined;
  let answered = false;

  before(async () => {
    const held = new Promise<void>((r) => (release = r));
    await receiver.start(async (q) => {
      if (q.query.ip !== OTHER_IP) return { status: 200 };
      await held;
      answered = true;
      return { status: 200 };
    });
    env = await startHookServer({
      common: { post_connect_hook: `${receiver.url}/connect` },
      http: { timeout: 1, retry_max: 0 },
    });
    user = await env.createUser();
  });
  after(async () => {
    release();
    await env?.stop();
    await receiver.stop();
  });

  void it('while the hook hangs for one client, another logs in; the hanging one is refused at the HTTP timeout', async () => {
    const hanging = sshLogin(env.sshPort, user.username, user.password, OTHER_IP);
    await receiver.waitFor(1, (q) => q.query.ip === OTHER_IP);
    assert.deepEqual(await sshLogin(env.sshPort, user.username, user.password), { ok: true });
    assert.match((await ftpLogin(env.ftpPort, user.username, user.password)) ?? '', /^230 /);
    assert.equal(answered, false, 'the hook still had not answered the first client');
    const r = await hanging;
    assert.equal(r.ok, false);
    assert.equal(answered, false);
  });
});

void describe('post-connect hook as a program', () => {
  const scripts = new ScriptHooks();
  let env: HookEnv;
  let user: { username: string; password: string };
  let hook: string;
  let accept: string;
  let reject: string;

  /** points the configured hook path at `script` */
  const use = async (script: string): Promise<void> => {
    await rm(hook, { force: true });
    await symlink(script, hook);
  };

  before(async () => {
    await scripts.init();
    accept = await scripts.script('accept');
    reject = await scripts.script('reject', { exitCode: 1, stdout: 'no\n' });
    hook = join(scripts.dir, 'post-connect');
    await use(accept);
    env = await startHookServer({ common: { post_connect_hook: hook } });
    user = await env.createUser();
  });
  after(async () => {
    await env?.stop();
    await scripts.cleanup();
  });

  void it('exit 0 accepts; the program gets no argument and exactly the two variables', async () => {
    assert.deepEqual(await sshLogin(env.sshPort, user.username, user.password), { ok: true });
    assert.match((await ftpGreeting(env.ftpPort)).greeting ?? '', /^220 /);
    const auth = { username: user.username, password: user.password };
    assert.equal((await httpRequest(env.davPort, 'OPTIONS', '/', { auth })).status, 200);
    assert.equal(
      (await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', { auth })).status,
      200,
    );
    const calls = await scripts.calls(accept);
    assert.deepEqual(
      calls.map((c) => [c.args, c.env.SFTPGO_CONNECTION_IP, c.env.SFTPGO_CONNECTION_PROTOCOL]),
      [
        [[], '127.0.0.1', 'SSH'],
        [[], '127.0.0.1', 'FTP'],
        [[], '127.0.0.1', 'DAV'],
        [[], '127.0.0.1', 'HTTP'],
      ],
    );
    const added = Object.keys(calls[0]?.env ?? {}).filter(
      (k) => k.startsWith('SFTPGO_') && !(k in process.env),
    );
    assert.deepEqual(added.sort(), ['SFTPGO_CONNECTION_IP', 'SFTPGO_CONNECTION_PROTOCOL']);
  });

  void it('a failing program rejects on every protocol', async () => {
    await use(reject);
    const ssh = await sshLogin(env.sshPort, user.username, user.password);
    assert.equal(ssh.ok, false);
    assert.equal(
      (await ftpGreeting(env.ftpPort)).greeting,
      '421 Access denied by post connect hook',
    );
    const auth = { username: user.username, password: user.password };
    assert.equal((await httpRequest(env.davPort, 'OPTIONS', '/', { auth })).status, 403);
    assert.equal(
      (await httpRequest(env.httpPort, 'GET', '/api/v2/user/token', { auth })).status,
      403,
    );
    assert.equal((await scripts.calls(reject)).length, 4);
  });

  void it('a hook that cannot be run (missing program) rejects', async () => {
    await rm(hook, { force: true });
    assert.equal(
      (await ftpGreeting(env.ftpPort)).greeting,
      '421 Access denied by post connect hook',
    );
    const auth = { username: user.username, password: user.password };
    assert.equal((await httpRequest(env.davPort, 'OPTIONS', '/', { auth })).status, 403);
  });
});
