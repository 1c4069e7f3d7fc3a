/**
 * Login conditions over SSH: wrong credentials, disabled and expired users, IP filters,
 * denied protocols and login methods, max_sessions, password_authentication=false and
 * max_auth_tries; failed logins are logged as `connection_failed`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keyCreds, ssh2Connect, startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, sftpBatch, sshExec } from '../../helpers/ssh.js';

void describe('sftpd: login policy', () => {
  let env: SftpTestEnv;

  before(async () => {
    env = await startSftpTestServer({ config: { sftpd: { max_auth_tries: 2 } } });
  });
  after(async () => {
    await env.stop();
  });

  async function canLogin(creds: { user: string; password?: string; identity?: string }): Promise<boolean> {
    const r = await sshExec(env.target, creds, 'pwd');
    return r.code === 0 && r.stdout === '/\n';
  }

  void it('accepts the right password and refuses a wrong one, logging connection_failed', async () => {
    const u = await env.createUser();
    assert.equal(await canLogin(u.creds), true);
    assert.equal(await canLogin({ user: u.username, password: 'wrong' }), false);
    assert.equal(await canLogin({ user: 'nobody-here', password: 'x' }), false);
    const log = join(env.srv.configDir, 'sftpgo.log');
    await waitFor(async () => (await readFile(log, 'utf8')).includes('"sender":"connection_failed","client_ip":"127.0.0.1"'), 10_000, 'connection_failed log');
    const lines = (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('connection_failed'));
    const mine = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.username === u.username);
    assert.ok(mine, 'a connection_failed line for the user');
    assert.equal(mine.protocol, 'SSH');
    assert.match(String(mine.login_type), /password|keyboard-interactive/);
  });

  void it('refuses disabled and expired users', async () => {
    const disabled = await env.createUser({ status: 0 });
    assert.equal(await canLogin(disabled.creds), false);
    const expired = await env.createUser({ expiration_date: Date.now() - 60_000 });
    assert.equal(await canLogin(expired.creds), false);
    const future = await env.createUser({ expiration_date: Date.now() + 3_600_000 });
    assert.equal(await canLogin(future.creds), true);
  });

  void it('honours allowed_ip / denied_ip', async () => {
    const allowedOther = await env.createUser({ filters: { allowed_ip: ['10.0.0.0/8'] } });
    assert.equal(await canLogin(allowedOther.creds), false);
    const deniedLocal = await env.createUser({ filters: { denied_ip: ['127.0.0.0/8'] } });
    assert.equal(await canLogin(deniedLocal.creds), false);
    const allowedLocal = await env.createUser({ filters: { allowed_ip: ['127.0.0.1/32'] } });
    assert.equal(await canLogin(allowedLocal.creds), true);
  });

  void it('honours denied_protocols and denied_login_methods', async () => {
    const noSsh = await env.createUser({ filters: { denied_protocols: ['SSH'] } });
    assert.equal(await canLogin(noSsh.creds), false);
    const noPassword = await env.createUser({ filters: { denied_login_methods: ['password', 'keyboard-interactive'] } });
    assert.equal(await canLogin(noPassword.creds), false);
    const key = await generateKey(env.dir, 'policy-key');
    const noKey = await env.createUser({ public_keys: [key.publicKey], filters: { denied_login_methods: ['publickey'] } });
    assert.equal(await canLogin(keyCreds(noKey.username, key)), false);
    assert.equal(await canLogin(noKey.creds), true);
  });

  void it('enforces max_sessions', async () => {
    const u = await env.createUser({ max_sessions: 1 });
    const first = await ssh2Connect(env.port, u.username, { password: u.password });
    try {
      await waitFor(() => env.connections().some((c) => c.username === u.username));
      const r = await sftpBatch(env.target, u.creds, ['pwd']);
      assert.notEqual(r.code, 0, 'a second session is refused');
    } finally {
      await first.end();
    }
    await waitFor(() => !env.connections().some((c) => c.username === u.username));
    const again = await sftpBatch(env.target, u.creds, ['pwd']);
    assert.equal(again.code, 0, again.stderr);
  });

  void it('disconnects after max_auth_tries failures', async () => {
    const u = await env.createUser();
    // ssh2's client tries the password once per connection; count rejected attempts on the server side
    const { default: ssh2 } = await import('ssh2');
    const attempts: string[] = [];
    const err = await new Promise<Error>((resolve) => {
      const c = new ssh2.Client();
      c.on('error', (e) => resolve(e));
      c.on('close', () => resolve(new Error('closed by the server')));
      c.on('ready', () => {
        c.end();
        resolve(new Error('unexpected login'));
      });
      c.connect({
        host: '127.0.0.1',
        port: env.port,
        username: u.username,
        tryKeyboard: false,
        authHandler: (_methods, _partial, next) => {
          attempts.push('password');
          next({ type: 'password', username: u.username, password: `wrong-${attempts.length}` });
        },
      });
    });
    assert.notEqual(err.message, 'unexpected login');
    // the server logged exactly two failures before disconnecting (the client may try a third time)
    const log = join(env.srv.configDir, 'sftpgo.log');
    const failures = async (): Promise<number> =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((l) => l.includes('"connection_failed"') && l.includes(`"username":"${u.username}"`)).length;
    await waitFor(async () => (await failures()) >= 2, 10_000, 'two connection_failed lines');
    assert.equal(await failures(), 2, (await readFile(log, "utf8")).split("\n").filter((l) => l.includes(u.username)).join("\n"));
    assert.ok(attempts.length >= 2);
  });
});

void describe('sftpd: password_authentication = false', () => {
  let env: SftpTestEnv;

  before(async () => {
    env = await startSftpTestServer({ config: { sftpd: { password_authentication: false } } });
  });
  after(async () => {
    await env.stop();
  });

  void it('refuses passwords but accepts keys', async () => {
    const key = await generateKey(env.dir, 'nopass-key');
    const u = await env.createUser({ public_keys: [key.publicKey] });
    const pw = await sshExec(env.target, u.creds, 'pwd', {
      extraArgs: ['-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1'],
    });
    assert.notEqual(pw.code, 0);
    const k = await sshExec(env.target, keyCreds(u.username, key), 'pwd');
    assert.equal(k.code, 0, k.stderr);
  });
});
