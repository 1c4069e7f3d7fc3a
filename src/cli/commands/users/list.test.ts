import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capture, execute, harness } from '../testing.js';
import { usersGetCommand } from './get.js';
import { usersListCommand, type UsersListOptions } from './list.js';

const users = [
  { username: 'alice', status: 1, home_dir: '/srv/alice', quota_size: 1048576, used_quota_size: 512, used_quota_files: 3, filesystem: { provider: 0 } },
  { username: 'bob', status: 0, home_dir: '/srv/bob', filesystem: { provider: 1 } },
];

void describe('users list / get', () => {
  void it('parses --limit --offset --order', async () => {
    const h = harness();
    const c = capture<UsersListOptions>();
    assert.equal(await execute(usersListCommand(h.f, c.run), ['--limit', '5', '--offset', '10', '--order', 'desc']), 0);
    assert.deepEqual([c.calls[0]?.limit, c.calls[0]?.offset, c.calls[0]?.order], [5, 10, 'DESC']);
    assert.equal(await execute(usersListCommand(h.f, c.run), ['--limit', '501']), 2);
    assert.equal(await execute(usersListCommand(h.f, c.run), ['--order', 'up']), 2);
  });

  void it('prints a table on a terminal, tab-separated rows otherwise, raw objects with --json', async () => {
    const routes = { 'GET /users': () => ({ body: users }) };
    const tty = harness({ tty: true, routes });
    assert.equal(await execute(usersListCommand(tty.f), ['--limit', '2']), 0);
    assert.equal(tty.calls[0]?.query.limit, '2');
    const lines = tty.io.out().trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^USERNAME\s+STATUS\s+STORAGE\s+QUOTA\s+FILES\s+LAST LOGIN\s+HOME$/);
    assert.match(lines[1] ?? '', /^alice\s+enabled\s+local\s+512 B \/ 1\.0 MiB\s+3 \/ unlimited\s+-\s+\/srv\/alice$/);
    const pipe = harness({ routes });
    await execute(usersListCommand(pipe.f), []);
    assert.equal(pipe.io.out().split('\n')[1], 'bob\tdisabled\ts3\t0 B / unlimited\t0 / unlimited\t-\t/srv/bob');
    const json = harness({ routes });
    await execute(usersListCommand(json.f), ['--json']);
    assert.deepEqual(JSON.parse(json.io.out()), users);
    const quiet = harness({ routes });
    await execute(usersListCommand(quiet.f), ['--quiet']);
    assert.equal(quiet.io.out(), '');
  });

  void it('--all pages through every user, 500 at a time, until a short page', async () => {
    const many = Array.from({ length: 1203 }, (_, i) => ({ username: `u${String(i).padStart(4, '0')}`, status: 1 }));
    const routes = {
      'GET /users': (r: { query: Record<string, string> }) => {
        const offset = Number(r.query.offset ?? 0);
        return { body: many.slice(offset, offset + Number(r.query.limit ?? 100)) };
      },
    };
    const h = harness({ routes });
    assert.equal(await execute(usersListCommand(h.f), ['--all', '--order', 'ASC', '--json']), 0);
    assert.deepEqual(JSON.parse(h.io.out()), many);
    assert.deepEqual(
      h.calls.map((c) => [c.query.limit, c.query.offset, c.query.order]),
      [
        ['500', '0', 'ASC'],
        ['500', '500', 'ASC'],
        ['500', '1000', 'ASC'],
      ],
    );
    const exact = harness({ routes: { 'GET /users': (r: { query: Record<string, string> }) => ({ body: many.slice(0, 1000).slice(Number(r.query.offset), Number(r.query.offset) + 500) }) } });
    await execute(usersListCommand(exact.f), ['--all', '--quiet']);
    assert.equal(exact.calls.length, 3, 'a full last page is followed by an empty one');
    const c = capture<UsersListOptions>();
    assert.equal(await execute(usersListCommand(harness().f, c.run), ['--all', '--limit', '5']), 2);
    assert.equal(await execute(usersListCommand(harness().f, c.run), ['--all', '--offset', '5']), 2);
    assert.equal(c.calls.length, 0);
  });

  void it('shows one user as fields, or its JSON', async () => {
    const h = harness({ routes: { 'GET /users/alice': () => ({ body: { ...users[0], permissions: { '/': ['*'] } } }) } });
    assert.equal(await execute(usersGetCommand(h.f), ['alice']), 0);
    assert.match(h.io.out(), /^username: +alice$/m);
    assert.match(h.io.out(), /^permissions\.\/: +\*$/m);
    const j = harness({ routes: { 'GET /users/alice': () => ({ body: users[0] }) } });
    await execute(usersGetCommand(j.f), ['alice', '--json']);
    assert.deepEqual(JSON.parse(j.io.out()), users[0]);
  });
});
