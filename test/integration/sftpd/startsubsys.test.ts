/**
 * `sftpgo startsubsys` as the SFTP subsystem of a real OpenSSH sshd (started by the test as the
 * current user, key authentication), driven by OpenSSH's sftp:
 * - with the shipped sqlite provider, replaced by an in-memory one: the OS user is created on
 *   the fly with its home under --base-home-dir, and the usual operations land there;
 * - with a shared PostgreSQL provider: a user created beforehand keeps its home with
 *   --preserve-home and its rules (permissions, file patterns, quota accounting) hold.
 * The subsystem runs from the sources (tsx), as test/helpers/cli-process.ts runs the CLI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createProvider } from '../../../src/dataprovider/index.js';
import type { User } from '../../../src/dataprovider/provider.js';
import { ROOT, run } from '../../helpers/cli-process.js';
import { startOpenSshd, type OpenSshd } from '../../helpers/openssh-sshd.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { sftpBatch } from '../../helpers/ssh.js';

/** the subsystem line: `sftpgo startsubsys` from the sources, with absolute paths only */
function subsystemCommand(args: string[]): string {
  const tsx = import.meta.resolve('tsx');
  return [
    process.execPath,
    '--import',
    tsx,
    join(ROOT, 'src/cli/entry.ts'),
    'startsubsys',
    ...args,
  ].join(' ');
}

async function configDir(parent: string, config: object): Promise<string> {
  const dir = join(parent, 'config');
  await mkdir(dir);
  await writeFile(join(dir, 'sftpgo.json'), JSON.stringify(config));
  return dir;
}

void describe('startsubsys: SFTP subsystem of OpenSSH sshd', () => {
  void it('refuses --log-to-journald and a relative --base-home-dir as usage errors', async () => {
    const j = await run(['startsubsys', '-j']);
    assert.equal(j.code, 2);
    assert.match(j.stderr, /journald .* is not implemented in sftpgo-ts/);
    assert.equal(j.stdout, '', 'nothing on the SFTP stream');
    const d = await run(['startsubsys', '-d', 'homes']);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /--base-home-dir must be an absolute path/);
    assert.equal(d.stdout, '');
  });

  void describe('with the sqlite provider (replaced by an in-memory one)', () => {
    let dir: string;
    let cfg: string;
    let base: string;
    let sshd: OpenSshd;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sftpgo-subsys-'));
      base = join(dir, 'homes');
      cfg = await configDir(dir, { data_provider: { driver: 'sqlite', name: 'sftpgo.db' } });
      sshd = await startOpenSshd({
        sftpSubsystem: subsystemCommand(['-c', cfg, '-d', base, '-l', 'subsys.log']),
      });
    });
    after(async () => {
      await sshd?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    void it('creates the OS user under --base-home-dir and serves put, get, ls, mkdir, rename, rm there', async () => {
      const local = join(dir, 'local');
      await mkdir(local);
      const content = randomBytes(3 * 1024 * 1024 + 11);
      await writeFile(join(local, 'up.bin'), content);
      await writeFile(join(local, 'gone.txt'), 'bye');
      const r = await sftpBatch(
        { port: sshd.port },
        { user: sshd.user, identity: sshd.userKey.privatePath },
        [
          'pwd',
          `put ${join(local, 'up.bin')} up.bin`,
          `put ${join(local, 'gone.txt')} gone.txt`,
          'mkdir sub',
          'rename up.bin sub/moved.bin',
          `get sub/moved.bin ${join(local, 'down.bin')}`,
          'rm gone.txt',
          'ls -1 sub',
        ],
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Remote working directory: \/\n/);
      assert.match(r.stdout, /sftp> ls -1 sub\n\s*sub\/moved\.bin\n/);
      assert.ok(
        (await readFile(join(local, 'down.bin'))).equals(content),
        'downloaded byte for byte',
      );
      const home = join(base, sshd.user);
      assert.deepEqual(await readdir(home), ['sub']);
      assert.ok((await readFile(join(home, 'sub', 'moved.bin'))).equals(content));
      // the sqlite database of the config was not used: the provider was an in-memory one
      assert.equal(existsSync(join(cfg, 'sftpgo.db')), false);
      const log = await readFile(join(cfg, 'subsys.log'), 'utf8');
      // the remote address is the SSH client's, as sshd exports it; a connection id like serve's
      assert.match(
        log,
        /"sender":"Upload","connection_id":"SFTP_[0-9a-f]{20}","protocol":"SFTP","username":"[^"]+","file_path":"\/up\.bin"/,
      );
      assert.match(log, /"remote_addr":"127\.0\.0\.1:\d+"/);
      assert.match(log, /"message":"serving subsystem finished"/);
    });
  });

  void describe('with a shared PostgreSQL provider and a user created beforehand', () => {
    let dir: string;
    let cfg: string;
    let base: string;
    let ownHome: string;
    let pg: PostgresServer;
    let sshd: OpenSshd;
    let dataProvider: object;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sftpgo-subsys-pg-'));
      base = join(dir, 'homes');
      ownHome = join(dir, 'own-home');
      pg = await startPostgres();
      dataProvider = {
        driver: 'postgresql',
        host: pg.host,
        port: pg.port,
        username: pg.user,
        password: pg.password,
        name: pg.database,
      };
      cfg = await configDir(dir, { data_provider: dataProvider });
      sshd = await startOpenSshd({
        sftpSubsystem: subsystemCommand([
          '-c',
          cfg,
          '-d',
          base,
          '--preserve-home',
          '-v',
          'false',
          '-l',
          'subsys.log',
        ]),
      });
      const provider = await createProvider(dataProvider, { configDir: cfg });
      try {
        await provider.addUser({
          username: sshd.user,
          status: 1,
          home_dir: ownHome,
          password: 'unused-password',
          // a quota limit: with the shipped track_quota 2 only such users are tracked
          quota_files: 10,
          permissions: { '/': ['list', 'download', 'upload'] } as unknown as User['permissions'],
          filters: { file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }] },
        });
      } finally {
        await provider.close();
      }
    });
    after(async () => {
      await sshd?.stop();
      await pg?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    void it("keeps the user's home with --preserve-home and applies its rules", async () => {
      const local = join(dir, 'local');
      await mkdir(local);
      await writeFile(join(local, 'a.txt'), 'allowed');
      const r = await sftpBatch(
        { port: sshd.port },
        { user: sshd.user, identity: sshd.userKey.privatePath },
        [
          `put ${join(local, 'a.txt')} a.txt`,
          `-put ${join(local, 'a.txt')} bad.exe`,
          '-mkdir d',
          '-rm a.txt',
          'ls -1',
        ],
      );
      assert.equal(r.code, 0, r.stderr);
      // the three refusals reach the client
      assert.equal(r.stderr.match(/Permission denied/g)?.length, 3, r.stderr);
      assert.deepEqual(await readdir(ownHome), ['a.txt']);
      assert.equal(await readFile(join(ownHome, 'a.txt'), 'utf8'), 'allowed');
      assert.equal(existsSync(join(base, sshd.user)), false, 'not served from --base-home-dir');
      const provider = await createProvider(dataProvider, { configDir: cfg });
      try {
        const u = await provider.getUser(sshd.user);
        assert.equal(u.home_dir, ownHome);
        assert.equal(u.used_quota_files, 1);
        assert.equal(u.used_quota_size, 'allowed'.length);
        assert.ok((u.last_login ?? 0) > 0, 'last login recorded');
      } finally {
        await provider.close();
      }
    });
  });
});
