import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execute, harness } from '../testing.js';
import { usersDeleteCommand } from './delete.js';
import { usersDisableCommand } from './disable.js';
import { usersEnableCommand } from './enable.js';

const routes = { 'DELETE /users/alice': () => ({ body: { message: 'User deleted' } }) };

void describe('users delete', () => {
  void it('needs --yes when nobody can be asked (exit 2, nothing deleted)', async () => {
    const h = harness({ routes });
    assert.equal(await execute(usersDeleteCommand(h.f), ['alice']), 2);
    assert.match(h.io.err(), /refusing without --yes/);
    assert.equal(h.calls.length, 0);
  });

  void it('deletes with --yes', async () => {
    const h = harness({ routes });
    assert.equal(await execute(usersDeleteCommand(h.f), ['alice', '--yes']), 0);
    assert.equal(h.calls[0]?.method, 'DELETE');
    assert.equal(h.io.out(), 'User "alice" deleted\n');
  });

  void it('asks on a terminal: yes deletes, no cancels with 130', async () => {
    const yes = harness({ tty: true, answers: ['y'], routes });
    assert.equal(await execute(usersDeleteCommand(yes.f), ['alice']), 0);
    assert.deepEqual(yes.io.questions, ['Delete user "alice"? [y/N] ']);
    assert.equal(yes.calls.length, 1);
    const no = harness({ tty: true, answers: ['n'], routes });
    assert.equal(await execute(usersDeleteCommand(no.f), ['alice']), 130);
    assert.equal(no.calls.length, 0);
    assert.equal(no.io.err(), 'Cancelled.\n');
  });

  void it('--json prints the API answer, --quiet nothing', async () => {
    const j = harness({ routes });
    await execute(usersDeleteCommand(j.f), ['alice', '-y', '--json']);
    assert.deepEqual(JSON.parse(j.io.out()), { message: 'User deleted' });
    const q = harness({ routes });
    await execute(usersDeleteCommand(q.f), ['alice', '-y', '-q']);
    assert.equal(q.io.out(), '');
  });
});

void describe('users disable / enable', () => {
  void it('GETs the user, flips status, PUTs it back', async () => {
    for (const [cmd, status] of [[usersDisableCommand, 0], [usersEnableCommand, 1]] as const) {
      const h = harness({
        routes: {
          'GET /users/alice': () => ({ body: { username: 'alice', status: 1 - status, home_dir: '/a' } }),
          'PUT /users/alice': () => ({ body: { message: 'User updated' } }),
        },
      });
      assert.equal(await execute(cmd(h.f), ['alice']), 0, h.io.err());
      assert.deepEqual(h.calls[1]?.body, { username: 'alice', status, home_dir: '/a' });
      assert.equal(h.calls[1]?.query.disconnect, undefined);
    }
  });
});
