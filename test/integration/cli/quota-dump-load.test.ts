import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { cli, cliEnv } from './helpers.js';

interface QuotaCounters {
  used_quota_size: number;
  used_quota_files: number;
}

void describe('sftpgo quota / dump / load (real server)', () => {
  let server: TestServer;
  let run: ReturnType<typeof cli>;
  let dir: string;
  before(async () => {
    server = await startServer({ config: { data_provider: { track_quota: 1 } } });
    run = cli(await cliEnv(server));
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-cli-quota-'));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const getUser = async (name: string): Promise<QuotaCounters & Record<string, unknown>> => {
    const r = await run(['users', 'get', name, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as QuotaCounters & Record<string, unknown>;
  };

  void it('quota scan user --wait recounts the files in the home dir; users get --json shows the counters', async () => {
    const home = join(dir, 'carol');
    const add = await run(['users', 'add', 'carol', '--password', 'pw-carol-1', '--home-dir', home, '--perm', '/=*']);
    assert.equal(add.code, 0, add.stderr);
    await mkdir(join(home, 'sub'), { recursive: true });
    await writeFile(join(home, 'a.bin'), Buffer.alloc(1000, 1));
    await writeFile(join(home, 'b.bin'), Buffer.alloc(2345, 2));
    await writeFile(join(home, 'sub', 'c.bin'), Buffer.alloc(4096, 3));
    const before0 = await getUser('carol');
    assert.deepEqual([before0.used_quota_files, before0.used_quota_size], [0, 0]);

    const scan = await run(['quota', 'scan', 'user', 'carol', '--wait', '--interval', '50']);
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stdout, /^Quota scan done in .+\. Quota usage of user "carol": 3 files, /);
    const u = await getUser('carol');
    assert.deepEqual([u.used_quota_files, u.used_quota_size], [3, 1000 + 2345 + 4096]);

    const scanJson = await run(['quota', 'scan', 'users', 'carol', '--wait', '--json']);
    assert.equal(scanJson.code, 0, scanJson.stderr);
    const sj = JSON.parse(scanJson.stdout) as QuotaCounters & { username: string };
    assert.deepEqual([sj.username, sj.used_quota_files, sj.used_quota_size], ['carol', 3, 7441]);

    // no scan runs now: both lists are empty
    const scans = await run(['quota', 'scans', '--json']);
    assert.equal(scans.code, 0, scans.stderr);
    assert.deepEqual(JSON.parse(scans.stdout), { users: [], folders: [] });
    const userScans = await run(['quota', 'scans', 'user', '--json']);
    assert.equal(userScans.code, 0, userScans.stderr);
    assert.deepEqual(JSON.parse(userScans.stdout), []);
    const plain = await run(['quota', 'scans']);
    assert.equal(plain.code, 0, plain.stderr);

    const missing = await run(['quota', 'scan', 'user', 'nobody-here', '--wait']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: /);
  });

  void it('quota set and add for a user and a folder', async () => {
    const add = await run(['users', 'add', 'dave', '--password', 'pw-dave-1', '--home-dir', join(dir, 'dave'), '--perm', '/=*']);
    assert.equal(add.code, 0, add.stderr);

    const set = await run(['quota', 'set', 'user', 'dave', '--size', '10K', '--files', '4']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'Quota usage of user "dave": 4 files, 10 KiB\n');
    let u = await getUser('dave');
    assert.deepEqual([u.used_quota_files, u.used_quota_size], [4, 10240]);

    // a counter not given keeps its value
    const setFiles = await run(['quota', 'set', 'user', 'dave', '--files', '7', '--json']);
    assert.equal(setFiles.code, 0, setFiles.stderr);
    assert.equal(typeof (JSON.parse(setFiles.stdout) as { message?: unknown }).message, 'string');
    u = await getUser('dave');
    assert.deepEqual([u.used_quota_files, u.used_quota_size], [7, 10240]);

    const addU = await run(['quota', 'add', 'user', 'dave', '--size', '1K', '--files', '2']);
    assert.equal(addU.code, 0, addU.stderr);
    assert.equal(addU.stdout, 'Quota usage of user "dave": 9 files, 11 KiB\n');
    u = await getUser('dave');
    assert.deepEqual([u.used_quota_files, u.used_quota_size], [9, 11264]);

    const neg = await run(['quota', 'set', 'user', 'dave', '--files', '-1']);
    assert.equal(neg.code, 2);
    const none = await run(['quota', 'add', 'user', 'dave']);
    assert.equal(none.code, 2);

    const fadd = await run(['folders', 'add', 'fq', '--mapped-path', join(dir, 'fq')]);
    assert.equal(fadd.code, 0, fadd.stderr);
    const fset = await run(['quota', 'set', 'folder', 'fq', '--size', '1M', '--files', '10']);
    assert.equal(fset.code, 0, fset.stderr);
    assert.equal(fset.stdout, 'Quota usage of folder "fq": 10 files, 1.0 MiB\n');
    const fadd2 = await run(['quota', 'add', 'folders', 'fq', '--files', '3', '--size', '512K', '--json']);
    assert.equal(fadd2.code, 0, fadd2.stderr);
    const folder = (await server.api<QuotaCounters>('GET', '/folders/fq')).body;
    assert.deepEqual([folder.used_quota_files, folder.used_quota_size], [13, 1024 * 1024 + 512 * 1024]);

    // a folder scan recounts its mapped path
    await mkdir(join(dir, 'fq'), { recursive: true });
    await writeFile(join(dir, 'fq', 'one'), Buffer.alloc(300));
    const fscan = await run(['quota', 'scan', 'folder', 'fq', '--wait', '--json']);
    assert.equal(fscan.code, 0, fscan.stderr);
    const fs = JSON.parse(fscan.stdout) as QuotaCounters;
    assert.deepEqual([fs.used_quota_files, fs.used_quota_size], [1, 300]);
  });

  void it('dump to stdout and to a server file; load restores a deleted user; load without --yes refuses', async () => {
    const add = await run(['users', 'add', 'erin', '--password', 'pw-erin-1', '--home-dir', join(dir, 'erin'), '--perm', '/=list,download', '--description', 'to restore']);
    assert.equal(add.code, 0, add.stderr);

    const dump = await run(['dump']);
    assert.equal(dump.code, 0, dump.stderr);
    const backup = JSON.parse(dump.stdout) as { version: number; users: { username: string; description?: string }[]; admins: { username: string }[] };
    assert.equal(backup.version, 8);
    assert.ok(backup.users.some((x) => x.username === 'erin' && x.description === 'to restore'), dump.stdout.slice(0, 500));
    assert.ok(backup.admins.some((x) => x.username === server.admin.username));

    const indented = await run(['dump', '--indent']);
    assert.equal(indented.code, 0, indented.stderr);
    assert.match(indented.stdout, /^\{\n\s+"/);
    assert.equal((JSON.parse(indented.stdout) as { version: number }).version, 8);

    const toFile = await run(['dump', '--output-file', 'cli-backup.json']);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(toFile.stdout, 'Backup written on the server to cli-backup.json\n');
    const onServer = join(server.configDir, 'backups', 'cli-backup.json');
    assert.equal((await stat(onServer)).mode & 0o777, 0o600);
    const serverBackup = JSON.parse(await readFile(onServer, 'utf8')) as { version: number; users: { username: string }[] };
    assert.equal(serverBackup.version, 8);
    assert.ok(serverBackup.users.some((x) => x.username === 'erin'));

    const local = join(dir, 'backup.json');
    await writeFile(local, dump.stdout);
    const del = await run(['users', 'delete', 'erin', '--yes']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await server.api('GET', '/users/erin')).status, 404);

    // not a TTY and no --yes: refused before anything is sent
    const refused = await run(['load', local, '--mode', '0']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /refusing without --yes/);
    assert.equal((await server.api('GET', '/users/erin')).status, 404, 'nothing restored without --yes');

    const load = await run(['load', local, '--mode', '0', '--yes']);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout, `Backup restored from ${local}\n`);
    const erin = await getUser('erin');
    assert.equal(erin.description, 'to restore');
    assert.deepEqual(erin.permissions, { '/': ['list', 'download'] });

    // the server-side file restores too (mode 1 needs no confirmation)
    assert.equal((await run(['users', 'delete', 'erin', '--yes'])).code, 0);
    const fromServer = await run(['load', '--server-path', 'cli-backup.json', '--mode', 'add-only']);
    assert.equal(fromServer.code, 0, fromServer.stderr);
    assert.equal((await server.api('GET', '/users/erin')).status, 200);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, 'not json');
    const badLoad = await run(['load', bad, '--yes']);
    assert.equal(badLoad.code, 2);
    assert.match(badLoad.stderr, /not valid JSON/);
  });
});
