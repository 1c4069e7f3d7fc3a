/**
 * The login hooks at the data provider's login entry (authenticateUser), on a real provider
 * (SQLite in memory), with real shell-script hooks and a real local HTTP receiver: what each
 * hook receives (environment, JSON body, query), what its answer does to the stored user, and
 * that every failure refuses the login with a log line naming the hook.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpClientSchema } from '../../../src/config/schema.js';
import {
  createProvider,
  type DataProvider,
  type DataProviderConfigInput,
  type KeyboardInteractiveChallenge,
  type LoginAttempt,
  type User,
} from '../../../src/dataprovider/index.js';
import { SftpgoError } from '../../../src/errors/index.js';
import { HookHttpClient } from '../../../src/util/hooks/http-client.js';
import { HookReceiver, ScriptHooks } from '../../helpers/hooks.js';

const FAST = { bcrypt_options: { cost: 4 } };
const IP = '10.1.2.3';
const PLACEHOLDER = (name: string): string =>
  `{"id":0,"status":0,"username":${JSON.stringify(name)},"expiration_date":0,"home_dir":"","uid":0,"gid":0,` +
  '"max_sessions":0,"quota_size":0,"quota_files":0,"permissions":null,"used_quota_size":0,' +
  '"used_quota_files":0,"last_quota_update":0,"upload_bandwidth":0,"download_bandwidth":0,' +
  '"last_login":0,"filters":{"hooks":{"external_auth_disabled":false,"pre_login_disabled":false,' +
  '"check_password_disabled":false}},"filesystem":{"provider":0,"s3config":{},"azblobconfig":{},' +
  '"gcsconfig":{},"cryptconfig":{},"sftpconfig":{}}}';

interface LogLine {
  level: string;
  sender: unknown;
  msg: string;
}

interface Env {
  p: DataProvider;
  logs: LogLine[];
  /** log lines whose message matches */
  logged(re: RegExp): LogLine[];
}

let scripts: ScriptHooks;
let receiver: HookReceiver;
let http: HookHttpClient;
let dir: string;
const open: DataProvider[] = [];

before(async () => {
  scripts = await new ScriptHooks().init();
  receiver = await new HookReceiver().start();
  dir = await mkdtemp(join(tmpdir(), 'sftpgo-login-hooks-'));
  http = new HookHttpClient(httpClientSchema.parse({ timeout: 2 }), dir);
});
after(async () => {
  for (const p of open) await p.close();
  http.close();
  await receiver.stop();
  await scripts.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function provider(
  cfg: DataProviderConfigInput,
  o: { loginMs?: number; keyboardInteractiveMs?: number } = {},
): Promise<Env> {
  const logs: LogLine[] = [];
  const rec =
    (level: string) =>
    (obj: object, msg?: string): void => {
      logs.push({ level, sender: (obj as { sender?: unknown }).sender, msg: msg ?? '' });
    };
  const p = await createProvider(
    { driver: 'memory', password_hashing: FAST, ...cfg },
    {
      configDir: dir,
      logger: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') },
      hookHttp: http,
      hookTimeouts: o,
    },
  );
  open.push(p);
  return { p, logs, logged: (re) => logs.filter((l) => re.test(l.msg)) };
}

function pw(
  username: string,
  password: string,
  protocol: LoginAttempt['protocol'] = 'SSH',
): LoginAttempt {
  return { username, method: 'password', password, ip: IP, protocol };
}

/** a fresh ed25519 public key as an authorized_keys line */
function ed25519Line(): string {
  const x = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x ?? '';
  const wire = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([wire(Buffer.from('ssh-ed25519')), wire(Buffer.from(x, 'base64url'))]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
}

function userJson(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    username: name,
    status: 1,
    home_dir: join(dir, name),
    permissions: { '/': ['*'] },
    ...extra,
  });
}

async function addUser(p: DataProvider, name: string, extra: Partial<User> = {}): Promise<User> {
  return p.addUser({
    username: name,
    password: 'stored-pw',
    status: 1,
    home_dir: join(dir, name),
    permissions: { '/': ['*'] },
    ...extra,
  } as User);
}

/** the refusal of a login: AUTH_FAILED matching `message` */
function refused(message: RegExp, cause?: 'NOT_FOUND') {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e, 'AUTH_FAILED'), `expected AUTH_FAILED, got ${String(e)}`);
    assert.match(e.message, message);
    if (cause) assert.ok(SftpgoError.is(e.cause, cause), `cause ${String(e.cause)}`);
    return true;
  };
}

const AUTHD_KEYS = [
  'SFTPGO_AUTHD_IP',
  'SFTPGO_AUTHD_KEYBOARD_INTERACTIVE',
  'SFTPGO_AUTHD_PASSWORD',
  'SFTPGO_AUTHD_PROTOCOL',
  'SFTPGO_AUTHD_PUBLIC_KEY',
  'SFTPGO_AUTHD_TLS_CERT',
  'SFTPGO_AUTHD_USER',
  'SFTPGO_AUTHD_USERNAME',
];

function hookVars(env: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith(prefix)));
}

// ------------------------------------------------------------------------------- external auth

void describe('external auth hook', () => {
  void test('program: an unknown user is created from the answer, with the typed password', async () => {
    const hook = await scripts.script('ext-new', { stdout: userJson('alice') });
    const env = await provider({ external_auth_hook: hook });
    const u = await env.p.authenticateUser(pw('alice', 's3cret', 'FTP'));
    assert.equal(u.username, 'alice');
    assert.ok(u.id !== undefined && u.id > 0);
    const [call] = await scripts.calls(hook);
    assert.ok(call);
    assert.deepEqual(hookVars(call.env, 'SFTPGO_AUTHD_'), {
      SFTPGO_AUTHD_USERNAME: 'alice',
      SFTPGO_AUTHD_USER: PLACEHOLDER('alice'),
      SFTPGO_AUTHD_IP: IP,
      SFTPGO_AUTHD_PASSWORD: 's3cret',
      SFTPGO_AUTHD_PUBLIC_KEY: '',
      SFTPGO_AUTHD_PROTOCOL: 'FTP',
      SFTPGO_AUTHD_TLS_CERT: '',
      SFTPGO_AUTHD_KEYBOARD_INTERACTIVE: '',
    });
    assert.deepEqual(Object.keys(hookVars(call.env, 'SFTPGO_AUTHD_')).sort(), AUTHD_KEYS);
    // stored with the typed password (hashed), through the normal store
    const stored = await env.p.getUser('alice');
    assert.match(stored.password ?? '', /^\$2a\$04\$/);
    assert.equal((await env.p.checkUserPassword('alice', 's3cret')).username, 'alice');
    // the hook is the authority: what it accepts becomes the stored password
    const second = await env.p.authenticateUser(pw('alice', 'other'));
    assert.equal(second.username, 'alice');
    assert.equal((await env.p.checkUserPassword('alice', 'other')).username, 'alice');
    await assert.rejects(
      env.p.checkUserPassword('alice', 's3cret'),
      refused(/^invalid credentials$/),
    );
    const calls = await scripts.calls(hook);
    assert.equal(calls.length, 2);
    const seen = JSON.parse(calls[1]?.env['SFTPGO_AUTHD_USER'] ?? '{}') as Record<string, unknown>;
    assert.equal(seen['id'], u.id);
    assert.match(String(seen['password']), /^\$2a\$04\$/, 'the raw form carries the hash');
    assert.ok(env.logged(/^external auth completed/).length >= 2);
    assert.equal(env.logged(/^external auth completed/)[0]?.sender, 'dataprovider_memory');
  });

  void test('an answer replaces the stored user, keeping id, quota usage and last login', async () => {
    const hook = await scripts.script('ext-replace', {
      stdout: userJson('bob', { max_sessions: 3, description: 'from ldap' }),
    });
    const env = await provider({ external_auth_hook: hook, track_quota: 1 });
    const before = await addUser(env.p, 'bob', {
      quota_files: 100,
      upload_bandwidth: 50,
      public_keys: [],
    });
    await env.p.updateUserQuota('bob', 1234, 5, true);
    const u = await env.p.authenticateUser(pw('bob', 'typed'));
    assert.equal(u.id, before.id);
    assert.equal(u.max_sessions, 3);
    assert.equal(u.description, 'from ldap');
    assert.equal(u.quota_files, 0, 'a field absent from the answer is emptied');
    assert.equal(u.upload_bandwidth, 0);
    assert.equal(u.used_quota_size, 1234);
    assert.equal(u.used_quota_files, 5);
  });

  void test('an empty answer keeps the stored user (its own password decides) or refuses an unknown one', async () => {
    for (const out of ['', '\n', '\r\n']) {
      const hook = await scripts.script('ext-empty', { stdout: out });
      const env = await provider({ external_auth_hook: hook });
      await addUser(env.p, 'carol');
      assert.equal((await env.p.authenticateUser(pw('carol', 'stored-pw'))).username, 'carol');
      await assert.rejects(
        env.p.authenticateUser(pw('carol', 'typed')),
        refused(/^invalid credentials$/),
      );
      await assert.rejects(
        env.p.authenticateUser(pw('nobody', 'x')),
        refused(/^invalid credentials$/, 'NOT_FOUND'),
      );
      assert.equal(
        env.logged(
          /^empty response from external hook, no modification requested for user "carol" id: \d+$/,
        ).length,
        2,
      );
    }
  });

  void test('refusal, garbage, no username, invalid user, hang: the login fails, naming the hook', async () => {
    const cases = [
      {
        o: { exitCode: 1 },
        re: /^external auth error: hook ".*ext-fail.*" failed: exit status 1, elapsed: \d+ ms$/,
      },
      {
        o: { stdout: 'not json' },
        re: /^external auth error: invalid external auth response: .*JSON/,
      },
      {
        o: { stdout: '[1]' },
        re: /^external auth error: invalid external auth response: not a JSON object/,
      },
      { o: { stdout: '{"username":""}' }, re: /^invalid credentials$/ },
      { o: { stdout: '{"status":1}' }, re: /^invalid credentials$/ },
      { o: { stdout: '{"username":"dave","status":1}' }, re: /^external auth error: .*home_dir/ },
    ];
    for (const c of cases) {
      const hook = await scripts.script('ext-fail', c.o);
      const env = await provider({ external_auth_hook: hook });
      await assert.rejects(env.p.authenticateUser(pw('dave', 'x')), refused(c.re));
      await assert.rejects(env.p.getUser('dave'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
    }
    const hang = await scripts.script('ext-hang', { sleepSeconds: 5 });
    const env = await provider({ external_auth_hook: hang }, { loginMs: 300 });
    await assert.rejects(
      env.p.authenticateUser(pw('dave', 'x')),
      refused(/^external auth error: hook ".*ext-hang.*" timed out after 300 ms, killed/),
    );
    assert.equal(
      env.logged(/^error getting external auth hook response: hook ".*ext-hang.*" timed out/)
        .length,
      1,
    );
  });

  void test('a hook that hangs does not hold other logins; an HTTP hook times out', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    receiver.respond = async (r) => {
      const body = JSON.parse(r.body) as { username: string };
      if (body.username === 'slow') {
        await held;
        return { status: 200, body: 'garbage' };
      }
      return { status: 200, body: userJson(body.username) };
    };
    const env = await provider({ external_auth_hook: `${receiver.url}/ext` });
    try {
      const slow = env.p.authenticateUser(pw('slow', 'x')).then(
        () => 'logged in',
        (e: unknown) => (e as Error).message,
      );
      await receiver.waitFor(1, (r) => r.body.includes('"slow"'));
      assert.equal((await env.p.authenticateUser(pw('fast', 'x'))).username, 'fast');
      assert.equal(await Promise.race([slow, Promise.resolve('pending')]), 'pending');
      release();
      assert.match(await slow, /^external auth error: invalid external auth response/);
    } finally {
      release();
    }
    // the http section's timeout bounds a hook that never answers
    receiver.respond = () => new Promise(() => undefined);
    const quick = new HookHttpClient(httpClientSchema.parse({ timeout: 0.3 }), dir);
    const p = await createProvider(
      { driver: 'memory', password_hashing: FAST, external_auth_hook: `${receiver.url}/ext` },
      { configDir: dir, hookHttp: quick },
    );
    try {
      await assert.rejects(
        p.authenticateUser(pw('slow', 'x')),
        refused(/^external auth error: timeout after 0.3 s/),
      );
    } finally {
      await p.close();
      quick.close();
      receiver.respond = () => ({ status: 200 });
    }
  });

  void test('HTTP: the body is a sorted map of strings, the user double-encoded; non-200 refuses', async () => {
    receiver.requests.length = 0;
    receiver.respond = () => ({ status: 200, body: userJson('erin') });
    const env = await provider({ external_auth_hook: `${receiver.url}/auth?x=1` });
    const u = await env.p.authenticateUser({ ...pw('erin', 'pw1', 'DAV') });
    assert.equal(u.username, 'erin');
    const [r] = receiver.requests;
    assert.ok(r);
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/auth?x=1');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(
      r.body,
      JSON.stringify({
        ip: IP,
        keyboard_interactive: '',
        password: 'pw1',
        protocol: 'DAV',
        public_key: '',
        tls_cert: '',
        user: PLACEHOLDER('erin'),
        username: 'erin',
      }),
    );
    receiver.respond = () => ({ status: 403, body: userJson('erin') });
    await assert.rejects(
      env.p.authenticateUser(pw('erin', 'pw1')),
      refused(/^external auth error: wrong external auth http status code: 403, expected 200/),
    );
    // an answer over 1 MiB is cut, so it is not JSON
    receiver.respond = () => ({
      status: 200,
      body: userJson('erin', { description: 'x'.repeat(1024 * 1024) }),
    });
    await assert.rejects(
      env.p.authenticateUser(pw('erin', 'pw1')),
      refused(/invalid external auth response/),
    );
    receiver.respond = () => ({ status: 200 });
  });

  void test('public key and TLS certificate logins: what the hook gets, the key kept', async () => {
    const line = ed25519Line();
    const hook = await scripts.script('ext-key', {
      // a user needs a password or a key: a certificate login alone gives neither
      stdout: userJson('frank', { password: 'hook-pw', filters: { tls_username: 'CommonName' } }),
    });
    const env = await provider({ external_auth_hook: hook });
    const u = await env.p.authenticateUser({
      username: 'frank',
      method: 'publickey',
      publicKey: line,
      ip: IP,
      protocol: 'SSH',
    });
    assert.deepEqual(u.public_keys, [line]);
    const again = await env.p.authenticateUser({
      username: 'frank',
      method: 'publickey',
      publicKey: line,
      ip: IP,
      protocol: 'SSH',
    });
    assert.deepEqual(again.public_keys, [line], 'the key is not listed twice');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    await env.p.authenticateUser({
      username: 'frank',
      method: 'TLSCertificate',
      tlsCert: { pem, commonName: 'frank' },
      ip: IP,
      protocol: 'FTP',
    });
    const calls = await scripts.calls(hook);
    assert.equal(calls[0]?.env['SFTPGO_AUTHD_PUBLIC_KEY'], `${line}\n`);
    assert.equal(calls[0]?.env['SFTPGO_AUTHD_PASSWORD'], '');
    assert.equal(calls[2]?.env['SFTPGO_AUTHD_TLS_CERT'], pem.replace(/\n/g, '\\n'));
    assert.equal(calls[2]?.env['SFTPGO_AUTHD_PROTOCOL'], 'FTP');
  });

  void test('scope, the per-user opt-out, and one account for several login names', async () => {
    const hook = await scripts.script('ext-scope', { stdout: userJson('shared') });
    const env = await provider({ external_auth_hook: hook, external_auth_scope: 2 });
    await addUser(env.p, 'gina');
    // scope 2 (public keys): a password login does not call the hook
    await env.p.authenticateUser(pw('gina', 'stored-pw'));
    assert.equal((await scripts.calls(hook)).length, 0);

    const all = await provider({ external_auth_hook: hook });
    await addUser(all.p, 'optout', { filters: { hooks: { external_auth_disabled: true } } });
    assert.equal((await all.p.authenticateUser(pw('optout', 'stored-pw'))).username, 'optout');
    await assert.rejects(
      all.p.authenticateUser(pw('optout', 'typed')),
      refused(/^invalid credentials$/),
    );
    assert.equal((await scripts.calls(hook)).length, 0, 'opted out: never called');

    const a = await all.p.authenticateUser(pw('login-a', 'pa'));
    const b = await all.p.authenticateUser(pw('login-b', 'pb'));
    assert.equal(a.username, 'shared');
    assert.equal(b.id, a.id);
    await assert.rejects(all.p.getUser('login-a'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
  });
});

// ------------------------------------------------------------------------------- pre-login

void describe('pre-login hook', () => {
  void test('program: what it gets; a partial answer merges onto the user; restored fields', async () => {
    const hook = await scripts.script('pre-merge', {
      stdout: JSON.stringify({
        id: 999,
        used_quota_size: 1,
        max_sessions: 2,
        permissions: { '/ro': ['list'] },
        filters: { denied_protocols: ['FTP'] },
      }),
    });
    const env = await provider({ pre_login_hook: hook, track_quota: 1 });
    const stored = await addUser(env.p, 'hank', {
      permissions: { '/': ['*'], '/in': ['upload'] },
      quota_files: 10,
      filters: { denied_ip: ['10.9.0.0/16'] },
    } as unknown as Partial<User>);
    await env.p.updateUserQuota('hank', 77, 3, true);
    const u = await env.p.authenticateUser(pw('hank', 'stored-pw', 'DAV'));
    assert.equal(u.id, stored.id);
    assert.equal(u.used_quota_size, 77, 'restored from the loaded user');
    assert.equal(u.max_sessions, 2);
    assert.equal(u.quota_files, 10, 'absent keys keep their value');
    assert.deepEqual(u.permissions, { '/': ['*'], '/in': ['upload'], '/ro': ['list'] });
    assert.deepEqual(u.filters?.denied_ip, ['10.9.0.0/16']);
    assert.deepEqual(u.filters?.denied_protocols, ['FTP']);
    const [call] = await scripts.calls(hook);
    assert.ok(call);
    const vars = hookVars(call.env, 'SFTPGO_LOGIND_');
    assert.deepEqual(Object.keys(vars).sort(), [
      'SFTPGO_LOGIND_IP',
      'SFTPGO_LOGIND_METHOD',
      'SFTPGO_LOGIND_PROTOCOL',
      'SFTPGO_LOGIND_USER',
    ]);
    assert.equal(vars['SFTPGO_LOGIND_METHOD'], 'password');
    assert.equal(vars['SFTPGO_LOGIND_IP'], IP);
    assert.equal(vars['SFTPGO_LOGIND_PROTOCOL'], 'DAV');
    const seen = JSON.parse(vars['SFTPGO_LOGIND_USER'] ?? '') as Record<string, unknown>;
    assert.equal(seen['id'], stored.id);
    assert.equal(seen['username'], 'hank');
    assert.match(String(seen['password']), /^\$2a\$04\$/);
    assert.equal(hookVars(call.env, 'SFTPGO_AUTHD_')['SFTPGO_AUTHD_USER'], undefined);
    // the credentials are still checked against the result
    await assert.rejects(
      env.p.authenticateUser(pw('hank', 'wrong')),
      refused(/^invalid credentials$/),
    );
    assert.equal(
      env.logged(/^user "hank" updated from pre-login hook response, id: \d+$/).length,
      2,
    );
  });

  void test('denies (a disabled user), creates a user, an empty answer changes nothing', async () => {
    const deny = await scripts.script('pre-deny', { stdout: '{"status":0}' });
    const env = await provider({ pre_login_hook: deny });
    await addUser(env.p, 'ivy');
    await assert.rejects(
      env.p.authenticateUser(pw('ivy', 'stored-pw')),
      refused(/"ivy" is disabled/),
    );
    assert.equal((await env.p.getUser('ivy')).status, 0, 'saved');

    const create = await scripts.script('pre-create', {
      stdout: userJson('jack', { password: 'from-hook' }),
    });
    const c = await provider({ pre_login_hook: create });
    const u = await c.p.authenticateUser(pw('jack', 'from-hook', 'FTP'));
    assert.equal(u.username, 'jack');
    const [call] = await scripts.calls(create);
    assert.equal(call?.env['SFTPGO_LOGIND_USER'], PLACEHOLDER('jack'));
    assert.equal(c.logged(/^user "jack" added from pre-login hook response, id: 0$/).length, 1);
    // created under another name: the login name is still unknown, the login fails
    const other = await provider({ pre_login_hook: create });
    await assert.rejects(
      other.p.authenticateUser(pw('kim', 'from-hook')),
      refused(/^invalid credentials$/, 'NOT_FOUND'),
    );
    assert.equal((await other.p.getUser('jack')).username, 'jack');

    const empty = await scripts.script('pre-empty', { stdout: '\n' });
    const e = await provider({ pre_login_hook: empty });
    await addUser(e.p, 'lea');
    assert.equal((await e.p.authenticateUser(pw('lea', 'stored-pw'))).username, 'lea');
    await assert.rejects(
      e.p.authenticateUser(pw('nobody', 'x')),
      refused(/^invalid credentials$/, 'NOT_FOUND'),
    );
  });

  void test('the method is named; external auth takes the methods in its scope, pre-login the rest', async () => {
    const pre = await scripts.script('pre-method', { stdout: '' });
    const ext = await scripts.script('ext-pwonly', { stdout: '' });
    const env = await provider({
      pre_login_hook: pre,
      external_auth_hook: ext,
      external_auth_scope: 1,
    });
    const line = ed25519Line();
    await addUser(env.p, 'max', { public_keys: [line] });
    await env.p.authenticateUser({
      username: 'max',
      method: 'publickey',
      publicKey: line,
      ip: IP,
      protocol: 'SSH',
    });
    await env.p.authenticateUser(pw('max', 'stored-pw'));
    assert.equal((await scripts.calls(pre)).length, 1);
    assert.equal((await scripts.calls(pre))[0]?.env['SFTPGO_LOGIND_METHOD'], 'publickey');
    assert.equal((await scripts.calls(ext)).length, 1);
    assert.equal((await scripts.calls(ext))[0]?.env['SFTPGO_AUTHD_PASSWORD'], 'stored-pw');
  });

  void test('opt-out, failures, and the HTTP variant (query, 204, 200 empty, 200 JSON, other)', async () => {
    const fail = await scripts.script('pre-fail', { exitCode: 2 });
    const env = await provider({ pre_login_hook: fail });
    await addUser(env.p, 'ned');
    await addUser(env.p, 'optout', { filters: { hooks: { pre_login_disabled: true } } });
    await assert.rejects(
      env.p.authenticateUser(pw('ned', 'stored-pw')),
      refused(/^pre-login hook error: hook ".*pre-fail.*" failed: exit status 2, elapsed: \d+ ms$/),
    );
    assert.equal(env.logged(/^error getting pre-login hook response: hook ".*pre-fail/).length, 1);
    assert.equal((await env.p.authenticateUser(pw('optout', 'stored-pw'))).username, 'optout');
    assert.equal((await scripts.calls(fail)).length, 1, 'not called for the opted-out user');

    const garbage = await scripts.script('pre-garbage', { stdout: 'oops' });
    const g = await provider({ pre_login_hook: garbage });
    await addUser(g.p, 'ned');
    await assert.rejects(
      g.p.authenticateUser(pw('ned', 'stored-pw')),
      refused(/^pre-login hook error: invalid pre-login hook response "oops", error: /),
    );

    receiver.requests.length = 0;
    const h = await provider({ pre_login_hook: `${receiver.url}/pre?a=b` });
    const stored = await addUser(h.p, 'olga');
    receiver.respond = () => ({ status: 204 });
    assert.equal((await h.p.authenticateUser(pw('olga', 'stored-pw', 'HTTP'))).max_sessions, 0);
    const [r] = receiver.requests;
    assert.ok(r);
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/pre?a=b&ip=10.1.2.3&login_method=password&protocol=HTTP');
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(body['id'], stored.id);
    assert.equal(body['username'], 'olga');
    receiver.respond = () => ({ status: 200, body: '' });
    assert.equal((await h.p.authenticateUser(pw('olga', 'stored-pw'))).max_sessions, 0);
    receiver.respond = () => ({ status: 200, body: '{"max_sessions":4}' });
    assert.equal((await h.p.authenticateUser(pw('olga', 'stored-pw'))).max_sessions, 4);
    receiver.respond = () => ({ status: 500, body: '{}' });
    await assert.rejects(
      h.p.authenticateUser(pw('olga', 'stored-pw')),
      refused(/wrong pre-login hook http status code: 500, expected 200/),
    );
    assert.equal(receiver.requests.length, 4, 'plain client: no retry of the 500');
    receiver.respond = () => ({ status: 200 });
  });
});

// ------------------------------------------------------------------------------- check password

void describe('check password hook', () => {
  void test('statuses 0, 1, 2 and -1; what the program gets', async () => {
    const env0 = await provider({
      check_password_hook: await scripts.script('chk0', { stdout: '{"status":0}' }),
    });
    await addUser(env0.p, 'pat');
    await assert.rejects(
      env0.p.authenticateUser(pw('pat', 'stored-pw')),
      refused(/^invalid credentials$/),
    );
    assert.equal(env0.logged(/^password rejected by check password hook, status: 0$/).length, 1);

    const hook1 = await scripts.script('chk1', { stdout: '{"status":1,"extra":true}' });
    const env1 = await provider({ check_password_hook: hook1 });
    await addUser(env1.p, 'pat');
    assert.equal((await env1.p.authenticateUser(pw('pat', 'anything', 'FTP'))).username, 'pat');
    const [call] = await scripts.calls(hook1);
    assert.ok(call);
    assert.deepEqual(hookVars(call.env, 'SFTPGO_AUTHD_'), {
      SFTPGO_AUTHD_USERNAME: 'pat',
      SFTPGO_AUTHD_PASSWORD: 'anything',
      SFTPGO_AUTHD_IP: IP,
      SFTPGO_AUTHD_PROTOCOL: 'FTP',
    });

    const env2 = await provider({
      check_password_hook: await scripts.script('chk2', {
        stdout: '{"status":2,"to_verify":"stored-pw"}',
      }),
    });
    await addUser(env2.p, 'pat');
    assert.equal((await env2.p.authenticateUser(pw('pat', 'stored-pw123456'))).username, 'pat');
    const envBad2 = await provider({
      check_password_hook: await scripts.script('chk2b', {
        stdout: '{"status":2,"to_verify":"nope"}',
      }),
    });
    await addUser(envBad2.p, 'pat');
    await assert.rejects(
      envBad2.p.authenticateUser(pw('pat', 'stored-pw')),
      refused(/^invalid credentials$/),
    );

    const envM1 = await provider({
      check_password_hook: await scripts.script('chkm1', { stdout: '{"status":-1}' }),
    });
    await addUser(envM1.p, 'pat');
    assert.equal((await envM1.p.authenticateUser(pw('pat', 'stored-pw'))).username, 'pat');
    await assert.rejects(
      envM1.p.authenticateUser(pw('pat', 'x')),
      refused(/^invalid credentials$/),
    );
  });

  void test('scope by protocol, opt-out, no stored password, failures fail closed', async () => {
    const hook = await scripts.script('chk-scope', { stdout: '{"status":1}' });
    const env = await provider({ check_password_hook: hook, check_password_scope: 2 });
    await addUser(env.p, 'quinn');
    await assert.rejects(
      env.p.authenticateUser(pw('quinn', 'x', 'SSH')),
      refused(/^invalid credentials$/),
    );
    await assert.rejects(
      env.p.authenticateUser(pw('quinn', 'x', 'HTTP')),
      refused(/^invalid credentials$/),
    );
    assert.equal((await env.p.authenticateUser(pw('quinn', 'x', 'FTP'))).username, 'quinn');
    assert.equal((await scripts.calls(hook)).length, 1);

    const all = await provider({ check_password_hook: hook });
    await addUser(all.p, 'quinn');
    assert.equal(
      (await all.p.authenticateUser(pw('quinn', 'x', 'HTTP'))).username,
      'quinn',
      'scope 0 covers HTTP',
    );
    await addUser(all.p, 'optout', { filters: { hooks: { check_password_disabled: true } } });
    await assert.rejects(
      all.p.authenticateUser(pw('optout', 'x')),
      refused(/^invalid credentials$/),
    );
    // a user without a stored password fails before the hook
    const line = ed25519Line();
    await all.p.addUser({
      username: 'keysonly',
      status: 1,
      home_dir: join(dir, 'k'),
      public_keys: [line],
      permissions: { '/': ['*'] },
    } as unknown as User);
    await assert.rejects(
      all.p.authenticateUser(pw('keysonly', 'x')),
      refused(/^credentials cannot be null or empty$/),
    );
    assert.equal((await scripts.calls(hook)).length, 2);

    for (const [name, o, re] of [
      ['chk-exit', { exitCode: 1 }, /exit status 1/],
      ['chk-garbage', { stdout: 'garbage' }, /invalid check password hook response/],
      ['chk-empty', { stdout: '' }, /invalid check password hook response/],
      ['chk-types', { stdout: '{"status":"1"}' }, /wrong field types/],
    ] as const) {
      const e = await provider({ check_password_hook: await scripts.script(name, o) });
      await addUser(e.p, 'rob');
      await assert.rejects(
        e.p.authenticateUser(pw('rob', 'stored-pw')),
        refused(
          new RegExp(`^unable to check credentials, check password hook error: .*${re.source}`),
        ),
      );
      assert.equal(e.logged(/^error executing check password hook: /).length, 1);
    }
  });

  void test('HTTP: the body, 200 only', async () => {
    receiver.requests.length = 0;
    receiver.respond = () => ({ status: 200, body: '{"status":1}' });
    const env = await provider({ check_password_hook: `${receiver.url}/chk` });
    await addUser(env.p, 'sam');
    assert.equal((await env.p.authenticateUser(pw('sam', 'typed', 'DAV'))).username, 'sam');
    assert.equal(
      receiver.requests[0]?.body,
      JSON.stringify({ username: 'sam', ip: IP, password: 'typed', protocol: 'DAV' }),
    );
    receiver.respond = () => ({ status: 201, body: '{"status":1}' });
    await assert.rejects(
      env.p.authenticateUser(pw('sam', 'stored-pw')),
      refused(/wrong http status code from chek password hook: 201, expected 200/),
    );
    receiver.respond = () => ({ status: 200 });
  });

  void test('runs after external auth and pre-login', async () => {
    const chk = await scripts.script('chk-after', { stdout: '{"status":0}' });
    const ext = await scripts.script('ext-before', { stdout: userJson('tom') });
    const env = await provider({ external_auth_hook: ext, check_password_hook: chk });
    await assert.rejects(env.p.authenticateUser(pw('tom', 'x')), refused(/^invalid credentials$/));
    assert.equal((await scripts.calls(ext)).length, 1);
    assert.equal((await scripts.calls(chk)).length, 1);
  });
});

// ------------------------------------------------------------------------------- keyboard-interactive

/** a keyboard-interactive program: the password (checked by SFTPGo), then an OTP */
async function otpProgram(name: string, otp: string): Promise<string> {
  const path = join(scripts.dir, `${name}.sh`);
  const record = `${path}.record`;
  await writeFile(
    path,
    [
      '#!/bin/sh',
      `printf '%s|%s|%s\\n' "$SFTPGO_AUTHD_USERNAME" "$SFTPGO_AUTHD_IP" "$SFTPGO_AUTHD_PASSWORD" > ${record}`,
      `echo '{"questions":["Password: "],"echos":[false],"check_password":1}'`,
      'read a1',
      `echo '{"instruction":"Second factor","questions":["OTP: ","Device: "],"echos":[true,true]}'`,
      'read a2',
      'read a3',
      `printf '%s|%s|%s\\n' "$a1" "$a2" "$a3" >> ${record}`,
      `if [ "$a1" = OK ] && [ "$a2" = ${otp} ]; then echo '{"auth_result":1}'; else echo '{"auth_result":-1}'; fi`,
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

async function program(name: string, body: string): Promise<string> {
  const path = join(scripts.dir, `${name}.sh`);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

interface Asked {
  instruction: string;
  questions: string[];
  echos: boolean[];
}

/** a client that answers each round from `rounds`, recording what it was asked */
function client(rounds: string[][]): { asked: Asked[]; challenge: KeyboardInteractiveChallenge } {
  const asked: Asked[] = [];
  return {
    asked,
    challenge: (instruction, questions, echos) => {
      asked.push({ instruction, questions, echos });
      return Promise.resolve(rounds[asked.length - 1] ?? []);
    },
  };
}

function kbd(
  username: string,
  authHook: string,
  challenge: KeyboardInteractiveChallenge,
): LoginAttempt {
  return {
    username,
    method: 'keyboard-interactive',
    ip: IP,
    protocol: 'SSH',
    keyboardInteractive: { authHook, challenge },
  };
}

void describe('keyboard-interactive hook', () => {
  void test('program: two rounds, the password checked by SFTPGo then the OTP', async () => {
    const hook = await otpProgram('otp-ok', '123456');
    const env = await provider({});
    const stored = await addUser(env.p, 'uma');
    const c = client([['stored-pw'], ['123456', 'phone']]);
    assert.equal((await env.p.authenticateUser(kbd('uma', hook, c.challenge))).username, 'uma');
    assert.deepEqual(c.asked, [
      { instruction: '', questions: ['Password: '], echos: [false] },
      { instruction: 'Second factor', questions: ['OTP: ', 'Device: '], echos: [true, true] },
    ]);
    const rec = (await readFile(`${hook}.record`, 'utf8')).split('\n');
    assert.equal(rec[0], `uma|${IP}|${(await env.p.getUser('uma')).password ?? ''}`);
    assert.match(rec[0] ?? '', /\|\$2a\$04\$/, 'the stored hash, not a password');
    assert.equal(rec[1], 'OK|123456|phone', 'a checked password is sent on as OK');
    assert.ok(stored.id);

    const wrongOtp = client([['stored-pw'], ['000000', 'phone']]);
    await assert.rejects(
      env.p.authenticateUser(kbd('uma', hook, wrongOtp.challenge)),
      refused(/^keyboard interactive auth failed, result: -1$/),
    );
    const wrongPw = client([['bad'], ['123456', 'phone']]);
    await assert.rejects(
      env.p.authenticateUser(kbd('uma', hook, wrongPw.challenge)),
      refused(
        /interactive auth hook requested password validation for user "uma", validation error: invalid credentials/,
      ),
    );
    assert.equal(wrongPw.asked.length, 1, 'no second round after a wrong password');
    await assert.rejects(
      env.p.authenticateUser(kbd('ghost', hook, c.challenge)),
      refused(/^invalid credentials$/, 'NOT_FOUND'),
    );
    await assert.rejects(env.p.authenticateUser(kbd('uma', '', c.challenge)), (e: unknown) =>
      SftpgoError.is(e, 'METHOD_DISABLED'),
    );
  });

  void test('program: a bare result, garbage, bad rounds, missing answers, no result, a hang', async () => {
    const env = await provider({}, { keyboardInteractiveMs: 400 });
    await addUser(env.p, 'vic');
    const ok = await program('kbd-bare', `echo '{"auth_result":1}'`);
    assert.equal(
      (await env.p.authenticateUser(kbd('vic', ok, client([]).challenge))).username,
      'vic',
    );
    const cases: [string, string, RegExp, string[][]?][] = [
      ['kbd-garbage', 'echo nope', /interactive auth error parsing response/],
      ['kbd-noq', `echo '{"questions":[],"echos":[]}'`, /does not contain questions/],
      [
        'kbd-mismatch',
        `echo '{"questions":["a","b"],"echos":[true]}'`,
        /questions don't match echos: 2 1/,
      ],
      [
        'kbd-answers',
        `echo '{"questions":["a","b"],"echos":[true,true]}'; read x`,
        /1 answers for 2 questions/,
        [['only one']],
      ],
      [
        'kbd-eof',
        `echo '{"questions":["a"],"echos":[true]}'; read x`,
        /^keyboard interactive auth failed, result: 0$/,
        [['x']],
      ],
      [
        'kbd-long',
        `head -c 70000 /dev/zero | tr '\\0' a; sleep 5`,
        /^keyboard interactive auth failed, result: 0$/,
      ],
      ['kbd-hang', 'exec sleep 30', /keyboard interactive program timed out after 400 ms, killed/],
      ['kbd-failed', `echo '{"auth_result":-3}'`, /^keyboard interactive auth failed, result: -3$/],
    ];
    for (const [name, body, re, answers] of cases) {
      const hook = await program(name, body);
      await assert.rejects(
        env.p.authenticateUser(kbd('vic', hook, client(answers ?? []).challenge)),
        refused(re),
        name,
      );
    }
  });

  void test('HTTP: one POST per round, one request_id, ip only in the first', async () => {
    receiver.requests.length = 0;
    receiver.respond = (_r, n) =>
      n === 1
        ? {
            status: 200,
            body: '{"instruction":"hi","questions":["Code: "],"echos":[true]} trailing',
          }
        : { status: 200, body: '{"auth_result":1}' };
    const env = await provider({});
    const stored = await addUser(env.p, 'walt');
    const c = client([['4242']]);
    assert.equal(
      (await env.p.authenticateUser(kbd('walt', `${receiver.url}/kbd`, c.challenge))).username,
      'walt',
    );
    assert.deepEqual(c.asked, [{ instruction: 'hi', questions: ['Code: '], echos: [true] }]);
    const [r1, r2] = receiver.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    assert.ok(r1 && r2);
    assert.match(String(r1['request_id']), /^[0-9a-f]{20}$/);
    assert.deepEqual(r1, {
      request_id: r1['request_id'],
      username: 'walt',
      ip: IP,
      password: (await env.p.getUser('walt')).password,
    });
    assert.deepEqual(r2, {
      request_id: r1['request_id'],
      username: 'walt',
      password: r1['password'],
      answers: ['4242'],
      questions: ['Code: '],
    });
    assert.ok(stored.id);
    receiver.respond = () => ({ status: 500, body: '{"auth_result":1}' });
    await assert.rejects(
      env.p.authenticateUser(kbd('walt', `${receiver.url}/kbd`, c.challenge)),
      refused(/wrong keyboard interactive auth http status code: 500/),
    );
    receiver.respond = () => ({ status: 200 });
  });

  void test('external auth in scope 4 runs first, with KEYBOARD_INTERACTIVE=1; else pre-login', async () => {
    const ext = await scripts.script('ext-kbd', { stdout: userJson('xena', { password: 'p' }) });
    const bare = await program('kbd-bare2', `echo '{"auth_result":1}'`);
    const env = await provider({ external_auth_hook: ext, external_auth_scope: 4 });
    await env.p.authenticateUser(kbd('xena', bare, client([]).challenge));
    const [call] = await scripts.calls(ext);
    assert.equal(call?.env['SFTPGO_AUTHD_KEYBOARD_INTERACTIVE'], '1');
    assert.equal(call?.env['SFTPGO_AUTHD_PASSWORD'], '');
    const pre = await scripts.script('pre-kbd', { stdout: '' });
    const p2 = await provider({ pre_login_hook: pre });
    await addUser(p2.p, 'yan');
    await p2.p.authenticateUser(kbd('yan', bare, client([]).challenge));
    assert.equal(
      (await scripts.calls(pre))[0]?.env['SFTPGO_LOGIND_METHOD'],
      'keyboard-interactive',
    );
  });
});
