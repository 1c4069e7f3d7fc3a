import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { cli, cliEnv } from './helpers.js';

void describe('sftpgo folders / admins (real server)', () => {
  let server: TestServer;
  let run: ReturnType<typeof cli>;
  let dir: string;
  before(async () => {
    server = await startServer();
    run = cli(await cliEnv(server));
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-cli-folders-'));
  });
  after(() => server.stop());

  void it('folders add, list, get, update, delete', async () => {
    const add = await run(['folders', 'add', 'shared', '--mapped-path', join(dir, 'shared'), '--description', 'team files']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'Folder "shared" added\n');
    const list = await run(['folders', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), (await server.api('GET', '/folders')).body);
    const get = await run(['folders', 'get', 'shared']);
    assert.match(get.stdout, /^description: +team files$/m);
    const upd = await run(['folders', 'update', 'shared', '--description', 'renamed']);
    assert.equal(upd.code, 0, upd.stderr);
    assert.equal((await server.api<{ description: string }>('GET', '/folders/shared')).body.description, 'renamed');
    const missing = await run(['folders', 'get', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: /);
    const del = await run(['folders', 'delete', 'shared', '-y']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await server.api('GET', '/folders/shared')).status, 404);
  });

  void it('admins add, list, get, update, delete, and passwd for oneself', async () => {
    const add = await run(['admins', 'add', 'ops', '--password', 'Ops-pass-1', '--permission', 'view_users,view_conns', '--email', 'ops@example.com']);
    assert.equal(add.code, 0, add.stderr);
    const list = await run(['admins', 'list']);
    assert.match(list.stdout, /^ops\tenabled\tops@example\.com\tview_users,view_conns$/m);
    const get = await run(['admins', 'get', 'ops', '--json']);
    const ops = JSON.parse(get.stdout) as { username: string; password?: string };
    assert.equal(ops.username, 'ops');
    assert.equal(ops.password, undefined);
    const upd = await run(['admins', 'update', 'ops', '--permission', '*']);
    assert.equal(upd.code, 0, upd.stderr);
    assert.deepEqual((await server.api<{ permissions: string[] }>('GET', '/admins/ops')).body.permissions, ['*']);

    // ops changes its own password; the new one works, the old one no longer does
    const opsRun = cli(await cliEnv(server, { SFTPGO_ADMIN_USERNAME: 'ops', SFTPGO_ADMIN_PASSWORD: 'Ops-pass-1' }));
    const pwFile = join(dir, 'new-pw');
    await writeFile(pwFile, 'Ops-pass-2\n');
    const pw = await opsRun(['admins', 'passwd', '--new-password-file', pwFile]);
    assert.equal(pw.code, 0, pw.stderr);
    assert.equal(pw.stdout, 'Password changed\n');
    assert.equal((await opsRun(['users', 'list'], { env: { SFTPGO_ADMIN_PASSWORD: 'Ops-pass-2' } })).code, 0);
    const old = await opsRun(['users', 'list']);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /hint: check the admin username and password/);

    const del = await run(['admins', 'delete', 'ops', '--yes']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await server.api('GET', '/admins/ops')).status, 404);
  });
});
