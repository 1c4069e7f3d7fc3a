import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { cli, cliEnv, runCli } from './helpers.js';

void describe('sftpgo login / logout / health / version / status (real server)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  void it('login stores a 0600 profile without the password; later commands use its token; logout revokes it', async () => {
    const env = await cliEnv(server, { SFTPGO_ADMIN_PASSWORD: undefined });
    const run = cli(env);
    const pwFile = join(env.HOME ?? '', 'pw');
    await writeFile(pwFile, `${server.admin.password}\n`, { mode: 0o600 });
    const login = await run(['login', '--password-file', pwFile]);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, new RegExp(`^Logged in to ${server.httpUrl} as admin; the token is valid until `));
    const profile = join(env.XDG_CONFIG_HOME ?? '', 'sftpgo', 'profile.json');
    assert.equal((await stat(profile)).mode & 0o777, 0o600);
    assert.equal((await stat(join(env.XDG_CONFIG_HOME ?? '', 'sftpgo'))).mode & 0o777, 0o700);
    const text = await readFile(profile, 'utf8');
    assert.ok(!text.includes(server.admin.password), 'the password is never stored');
    const p = JSON.parse(text) as { url: string; username: string; token: string; expires_at: string };
    assert.deepEqual(Object.keys(p).sort(), ['expires_at', 'token', 'url', 'username']);
    assert.equal(p.url, server.httpUrl);

    // no password anywhere: the stored token is used (even with SFTPGO_URL unset: the profile's URL)
    const list = await run(['users', 'list', '--json'], { env: { SFTPGO_URL: undefined } });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);

    const logout = await run(['logout']);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(logout.stdout, `Logged out of ${server.httpUrl}\n`);
    assert.deepEqual(JSON.parse(await readFile(profile, 'utf8')), { url: server.httpUrl, username: 'admin' });
    const revoked = await server.api('GET', '/users', undefined, p.token);
    assert.equal(revoked.status, 401, 'the token was invalidated on the server');
    const after = await run(['users', 'list']);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /a password is needed for admin "admin"/);
  });

  void it('a wrong password is exit 1 with the server message and a hint', async () => {
    const r = await runCli(['status'], { env: await cliEnv(server, { SFTPGO_ADMIN_PASSWORD: 'wrong' }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: .+\nhint: check the admin username and password/);
  });

  void it('health, version and status, with --json', async () => {
    const run = cli(await cliEnv(server));
    const h = await run(['health']);
    assert.deepEqual([h.code, h.stdout], [0, 'ok\n']);
    const v = await run(['version', '--json']);
    assert.equal(v.code, 0, v.stderr);
    assert.deepEqual(JSON.parse(v.stdout), (await server.api('GET', '/version')).body);
    const s = await run(['status']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^data provider\tactive\tsqlite$/m);
    const sj = await run(['status', '--json']);
    assert.deepEqual(JSON.parse(sj.stdout), (await server.api('GET', '/status')).body);
  });

  void it('server down: exit 1 with one clear line', async () => {
    const port = await freePort(); // nothing listens there
    const r = await runCli(['users', 'list'], { env: { SFTPGO_URL: `http://127.0.0.1:${port}`, SFTPGO_ADMIN_PASSWORD: 'x', HOME: '/nonexistent' } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: cannot reach the SFTPGo server at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    assert.equal(r.stdout, '');
    const h = await runCli(['health', '--url', `127.0.0.1:${port}`], { env: { HOME: '/nonexistent' } });
    assert.equal(h.code, 1);
    assert.match(h.stderr, /cannot reach the SFTPGo server at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});
