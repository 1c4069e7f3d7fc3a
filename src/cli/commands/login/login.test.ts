import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { readProfile } from '../../../client/index.js';
import { logoutCommand } from '../logout/logout.js';
import { ADMIN_PASSWORD, execute, harness } from '../testing.js';
import { usersListCommand } from '../users/list.js';
import { loginCommand } from './login.js';

void describe('login / logout', () => {
  void it('login stores url, username and token (0600), never the password; later commands use the token', async () => {
    const routes = { 'GET /users': () => ({ body: [] }), 'GET /logout': () => ({ body: { message: 'OK' } }) };
    const h = harness({ routes });
    assert.equal(await execute(loginCommand(h.f), []), 0, h.io.err());
    assert.match(h.io.out(), /^Logged in to http:\/\/127\.0\.0\.1:9 as admin; the token is valid until /);
    const path = h.f.profilePath();
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const text = await readFile(path, 'utf8');
    assert.doesNotMatch(text, new RegExp(ADMIN_PASSWORD));
    assert.equal((await readProfile(path))?.token, 'tok');

    // without any password the stored token is used
    const later = harness({ routes, env: { XDG_CONFIG_HOME: h.configHome, SFTPGO_ADMIN_PASSWORD: undefined } });
    assert.equal(await execute(usersListCommand(later.f), []), 0, later.io.err());
    assert.equal(later.calls[0]?.auth, 'Bearer tok');

    assert.equal(await execute(logoutCommand(later.f), []), 0, later.io.err());
    assert.equal(later.calls[1]?.path, '/logout');
    assert.equal(later.calls[1]?.auth, 'Bearer tok');
    assert.deepEqual(await readProfile(path), { url: 'http://127.0.0.1:9', username: 'admin' });
    assert.equal(await execute(logoutCommand(later.f), []), 0);
    assert.match(later.io.out(), /Not logged in\n$/);
  });

  void it('login with a wrong password fails with exit 1 and writes nothing', async () => {
    const h = harness({ env: { SFTPGO_ADMIN_PASSWORD: 'nope' } });
    assert.equal(await execute(loginCommand(h.f), []), 1);
    assert.match(h.io.err(), /invalid credentials/);
    assert.equal(await readProfile(h.f.profilePath()), undefined);
  });

  void it('without a password source nor a terminal, the error says what to do', async () => {
    const h = harness({ env: { SFTPGO_ADMIN_PASSWORD: undefined } });
    assert.equal(await execute(usersListCommand(h.f), []), 1);
    assert.match(h.io.err(), /set SFTPGO_ADMIN_PASSWORD, pass --password-file, or run 'sftpgo login'/);
  });

  void it('prompts for the password (hidden) on a terminal', async () => {
    const h = harness({ tty: true, answers: [ADMIN_PASSWORD], routes: { 'GET /users': () => ({ body: [] }) }, env: { SFTPGO_ADMIN_PASSWORD: undefined } });
    assert.equal(await execute(usersListCommand(h.f), []), 0, h.io.err());
    assert.deepEqual(h.io.questions, ['Password for admin at http://127.0.0.1:9: ']);
  });
});
