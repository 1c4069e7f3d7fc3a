import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { cli, cliEnv } from './helpers.js';

void describe('sftpgo users (real server)', () => {
  let server: TestServer;
  let run: ReturnType<typeof cli>;
  let dir: string;
  before(async () => {
    server = await startServer();
    run = cli(await cliEnv(server));
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-cli-users-'));
  });
  after(() => server.stop());

  void it('add, list, get, update, disable, enable, delete', async () => {
    const add = await run(['users', 'add', 'alice', '--password', 'S3cret!pw', '--home-dir', join(dir, 'alice'), '--perm', '/=*', '--perm', '/ro=list,download', '--quota-size', '1M', '--max-sessions', '2', '--description', 'first user']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'User "alice" added\n');
    assert.doesNotMatch(add.stdout + add.stderr, /S3cret/);

    const list = await run(['users', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^alice\\tenabled\\tlocal\\t0 B / 1\\.0 MiB\\t0 / unlimited\\t-\\t${join(dir, 'alice').replace(/[/.]/g, '\\$&')}\\n$`));

    const json = await run(['users', 'list', '--json', '--limit', '10', '--order', 'DESC']);
    assert.equal(json.code, 0, json.stderr);
    const users = JSON.parse(json.stdout) as { username: string; password?: string; permissions: unknown; quota_size: number }[];
    assert.equal(users.length, 1);
    assert.equal(users[0]?.username, 'alice');
    assert.equal(users[0]?.password, undefined);
    assert.deepEqual(users[0]?.permissions, { '/': ['*'], '/ro': ['list', 'download'] });
    const viaApi = await server.api<unknown[]>('GET', '/users');
    assert.deepEqual(users, viaApi.body, '--json prints the raw API objects');

    const get = await run(['users', 'get', 'alice']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^description: +first user$/m);
    assert.match(get.stdout, /^max sessions: +2$/m);

    const upd = await run(['users', 'update', 'alice', '--max-sessions', '5', '--perm', '/ro=', '--allowed-ip', '127.0.0.0/8', '--disconnect']);
    assert.equal(upd.code, 0, upd.stderr);
    assert.equal(upd.stdout, 'User "alice" updated (disconnected)\n');
    const after1 = (await server.api<{ max_sessions: number; permissions: unknown; filters: { allowed_ip?: string[] }; description: string }>('GET', '/users/alice')).body;
    assert.equal(after1.max_sessions, 5);
    assert.deepEqual(after1.permissions, { '/': ['*'] });
    assert.deepEqual(after1.filters.allowed_ip, ['127.0.0.0/8']);
    assert.equal(after1.description, 'first user', 'fields not given are kept');

    assert.equal((await run(['users', 'disable', 'alice'])).code, 0);
    assert.equal((await server.api<{ status: number }>('GET', '/users/alice')).body.status, 0);
    const en = await run(['users', 'enable', 'alice', '--json']);
    assert.equal(en.code, 0, en.stderr);
    assert.equal(typeof (JSON.parse(en.stdout) as { message?: unknown }).message, 'string');
    assert.equal((await server.api<{ status: number }>('GET', '/users/alice')).body.status, 1);

    const noYes = await run(['users', 'delete', 'alice']);
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /refusing without --yes/);
    assert.equal((await server.api('GET', '/users/alice')).status, 200, 'not deleted without --yes');
    const del = await run(['users', 'delete', 'alice', '--yes']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, 'User "alice" deleted\n');
    assert.equal((await server.api('GET', '/users/alice')).status, 404);
  });

  void it('--from-file (and stdin) with flags on top, --quiet', async () => {
    const file = join(dir, 'bob.json');
    await writeFile(file, JSON.stringify({ username: 'bob', password: 'pw-bob-1', home_dir: join(dir, 'bob'), permissions: { '/': ['list'] }, status: 1 }));
    const r = await run(['users', 'add', '--from-file', file, '--description', 'from file', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const bob = (await server.api<{ description: string; permissions: unknown }>('GET', '/users/bob')).body;
    assert.equal(bob.description, 'from file');
    assert.deepEqual(bob.permissions, { '/': ['list'] });
    const viaStdin = await run(['users', 'add', '--from-file', '-', '--json'], {
      input: JSON.stringify({ username: 'carol', password: 'pw-carol-1', home_dir: join(dir, 'carol') }),
    });
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.equal((JSON.parse(viaStdin.stdout) as { username: string }).username, 'carol');
  });

  void it('unknown user: exit 1 with the server message; bad flag: exit 2', async () => {
    const r = await run(['users', 'get', 'nobody']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Error: .*nobody.*\n$/);
    const bad = await run(['users', 'list', '--limit', 'ten']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit/);
    const unknown = await run(['users', 'add', 'x', '--no-such-flag']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/);
    const invalid = await run(['users', 'add', 'dave', '--password', 'x']);
    assert.equal(invalid.code, 1, 'server-side validation error');
    assert.match(invalid.stderr, /^Error: /);
  });
});
