import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ADMIN_PASSWORD, execute, harness } from '../testing.js';
import { adminsAddCommand } from './add.js';
import { adminsDeleteCommand } from './delete.js';
import { adminsGetCommand } from './get.js';
import { adminsListCommand } from './list.js';
import { adminsPasswdCommand } from './passwd.js';
import { adminsUpdateCommand } from './update.js';

const a2 = { id: 2, username: 'a2', status: 1, email: 'a2@example.com', permissions: ['view_users', 'view_conns'] };

void describe('admins', () => {
  void it('list and get', async () => {
    const h = harness({ routes: { 'GET /admins': () => ({ body: [a2] }), 'GET /admins/a2': () => ({ body: a2 }) } });
    assert.equal(await execute(adminsListCommand(h.f), []), 0);
    assert.equal(h.io.out(), 'a2\tenabled\ta2@example.com\tview_users,view_conns\n');
    assert.equal(await execute(adminsGetCommand(h.f), ['a2', '--json']), 0);
    assert.deepEqual(JSON.parse(h.io.out().split('\n').slice(1).join('\n')), a2);
  });

  void it('add validates permissions and posts the admin', async () => {
    const h = harness({ routes: { 'POST /admins': (r) => ({ status: 201, body: { ...(r.body as object), password: undefined } }) } });
    assert.equal(await execute(adminsAddCommand(h.f), ['a3', '--password', 'x', '--permission', 'fly']), 2);
    assert.match(h.io.err(), /unknown value fly/);
    assert.equal(await execute(adminsAddCommand(h.f), ['a3', '--password', 'x', '--permission', 'view_users,view_conns', '--allow-list', '10.0.0.0/8']), 0);
    assert.deepEqual(h.calls[0]?.body, { username: 'a3', password: 'x', permissions: ['view_users', 'view_conns'], filters: { allow_list: ['10.0.0.0/8'] }, status: 1 });
  });

  void it('update merges, delete confirms', async () => {
    const h = harness({
      routes: {
        'GET /admins/a2': () => ({ body: a2 }),
        'PUT /admins/a2': () => ({ body: { message: 'Admin updated' } }),
        'DELETE /admins/a2': () => ({ body: { message: 'Admin deleted' } }),
      },
    });
    assert.equal(await execute(adminsUpdateCommand(h.f), ['a2', '--status', 'disabled']), 0);
    assert.deepEqual(h.calls[1]?.body, { ...a2, status: 0 });
    assert.equal(await execute(adminsDeleteCommand(h.f), ['a2']), 2);
    assert.equal(await execute(adminsDeleteCommand(h.f), ['a2', '-y']), 0);
  });

  void it('passwd sends the current and the new password, asking twice on a terminal', async () => {
    const routes = { 'PUT /admin/changepwd': () => ({ body: { message: 'Password updated' } }) };
    const tty = harness({ tty: true, answers: ['n3w', 'n3w'], routes });
    assert.equal(await execute(adminsPasswdCommand(tty.f), []), 0, tty.io.err());
    assert.deepEqual(tty.calls[0]?.body, { current_password: ADMIN_PASSWORD, new_password: 'n3w' });
    assert.equal(tty.io.out(), 'Password changed\n');
    const differ = harness({ tty: true, answers: ['a', 'b'], routes });
    assert.equal(await execute(adminsPasswdCommand(differ.f), []), 2);
    assert.match(differ.io.err(), /differ/);
    const script = harness({ routes });
    assert.equal(await execute(adminsPasswdCommand(script.f), []), 2);
    assert.match(script.io.err(), /--new-password-file is required/);
    const file = join(script.configHome, 'new');
    await writeFile(file, 'fromfile\n');
    assert.equal(await execute(adminsPasswdCommand(script.f), ['--new-password-file', file]), 0);
    assert.deepEqual(script.calls[0]?.body, { current_password: ADMIN_PASSWORD, new_password: 'fromfile' });
  });
});
