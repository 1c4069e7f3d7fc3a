/**
 * The `sftpgo` executable run as a child process (from source: src/cli/entry.ts under tsx):
 * --version, serve on an empty directory, signals, initprovider, exit codes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, run, start, waitFor } from '../../helpers/cli-process.js';
import { freePort } from '../../helpers/server.js';

void describe('cli: sftpgo executable', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('--version and -v print the version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await run([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'SFTPGo 2.1.2\n');
    }
  });

  void it('usage errors exit with 2', async () => {
    const bogus = await run(['serve', '--bogus-flag']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown option '--bogus-flag'/);
    const badInt = await run(['serve', '--log-max-size', 'big']);
    assert.equal(badInt.code, 2);
    assert.match(badInt.stderr, /expected an integer, got "big"/);
    const badEnv = await run(['serve', '-c', dir], { SFTPGO_LOG_MAX_SIZE: 'huge' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /invalid value for SFTPGO_LOG_MAX_SIZE/);
    const noCommand = await run([]);
    assert.equal(noCommand.code, 2);
    const unknown = await run(['frobnicate']);
    assert.equal(unknown.code, 2);
  });

  void it('the executable runs serve with the V8 flags of its shebang line', async () => {
    const shebang = (await readFile(join(ROOT, 'bin/sftpgo.js'), 'utf8')).split('\n', 1)[0] ?? '';
    assert.match(shebang, /^#!\/usr\/bin\/env -S node --max-semi-space-size=4 --initial-old-space-size=64$/);
    const p = start(['serve', '-c', join(dir, 'built'), '--log-verbose=false'], {
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(await freePort()),
      SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
    }, true);
    try {
      await waitFor(p, /REST API listening on http:\/\/127\.0\.0\.1:\d+/);
      // env execs node in place: the server's own command line carries the flags
      const argv = (await readFile(`/proc/${p.child.pid}/cmdline`, 'utf8')).split('\0');
      assert.equal(argv[1], '--max-semi-space-size=4', argv.join(' '));
      assert.equal(argv[2], '--initial-old-space-size=64', argv.join(' '));
      assert.ok(argv.includes('serve'));
    } finally {
      p.child.kill('SIGTERM');
    }
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
  });

  void it('serve on an empty directory starts, answers /healthz and stops on SIGTERM', async () => {
    const data = join(dir, 'empty');
    await writeFile(join(dir, '.keep'), '');
    const httpPort = await freePort();
    const sftpPort = await freePort();
    const p = start(['serve', '-c', data, '--log-verbose=false'], {
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
      SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort),
      SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_DEFAULT_ADMIN_USERNAME: 'first',
      SFTPGO_DEFAULT_ADMIN_PASSWORD: 'first-password',
    });
    try {
      const m = await waitFor(p, /REST API listening on (http:\/\/127\.0\.0\.1:(\d+))\/api\/v2/);
      assert.equal(Number(m[2]), httpPort);
      assert.match(p.out.stderr, new RegExp(`SFTP: +listening on 127\\.0\\.0\\.1:${sftpPort}`));
      for (const key of ['id_rsa', 'id_ecdsa', 'id_ed25519']) {
        assert.ok(existsSync(join(data, key)), `host key ${key} generated in the empty config dir`);
      }
      const health = await fetch(`${m[1]}/healthz`);
      assert.equal(await health.text(), 'ok');
      const tok = await fetch(`${m[1]}/api/v2/token`, {
        headers: { authorization: `Basic ${Buffer.from('first:first-password').toString('base64')}` },
      });
      assert.equal(tok.status, 200);
      assert.ok(existsSync(join(data, 'sftpgo.db')), 'the SQLite database is created in the config dir');
      assert.ok(existsSync(join(data, 'sftpgo.log')), 'the log file defaults to sftpgo.log in the config dir');
      assert.equal(p.out.stdout, '', 'nothing but results on stdout');
    } finally {
      p.child.kill('SIGTERM');
    }
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
  });

  void it('SIGUSR1 opens a new log file after logrotate moved the old one, and rotates one still in place', async () => {
    const data = join(dir, 'usr1');
    const log = join(data, 'sftpgo.log');
    const p = start(['serve', '-c', data], {
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(await freePort()),
      SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
      SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
    });
    const logHas = async (file: string, text: string): Promise<boolean> => {
      try {
        return (await readFile(file, 'utf8')).includes(text);
      } catch {
        return false;
      }
    };
    const until = async (check: () => Promise<boolean>, what: string): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(p, /REST API listening on http:\/\/127\.0\.0\.1:\d+/);
      await until(() => logHas(log, '"message":"service started"'), 'the start line');
      // logrotate's default recipe: move, then signal (no copytruncate)
      await rename(log, `${log}.1`);
      p.child.kill('SIGUSR1');
      await until(() => logHas(log, '"message":"log file reopened"'), 'a new log file');
      assert.equal(await logHas(`${log}.1`, 'log file reopened'), false, 'nothing more in the moved file');
      assert.ok(await logHas(`${log}.1`, 'service started'));
      // the file is still in place: rotated to a backup, as upstream's SIGUSR1
      p.child.kill('SIGUSR1');
      await until(() => logHas(log, '"message":"log file rotated"'), 'the rotated line');
      const backups = (await readdir(data)).filter((f) => /^sftpgo-\d{4}-.*\.log$/.test(f));
      assert.equal(backups.length, 1, (await readdir(data)).join(','));
      assert.ok(await logHas(join(data, backups[0] ?? ''), 'log file reopened'));
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal((await p.done).code, 0);
  });

  void it('serve with only HTTP enabled starts (unlike upstream); with nothing enabled exits 1', async () => {
    const httpOnly = join(dir, 'http-only');
    const httpPort = await freePort();
    const p = start(['serve', '--config-dir', httpOnly, '-l', ''], {
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
      SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
    });
    try {
      await waitFor(p, /REST API listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(p.out.stderr, /no admin exists yet: .*SFTPGO_DEFAULT_ADMIN_USERNAME/);
    } finally {
      p.child.kill('SIGINT');
    }
    assert.equal((await p.done).code, 0);

    const none = await run(['serve', '-c', join(dir, 'nothing')], {
      SFTPGO_HTTPD__BINDINGS__0__PORT: '0',
      SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
    });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no service configured, nothing to do/);
  });

  void it('serve refuses a feature it does not implement, naming it (config found in $HOME/.config/sftpgo)', async () => {
    const home = join(dir, 'home-refuse');
    const found = join(home, '.config', 'sftpgo', 'sftpgo.json');
    await mkdir(join(home, '.config', 'sftpgo'), { recursive: true });
    await writeFile(
      found,
      JSON.stringify({ KMS: { Secrets: { URL: 'awskms://alias/sftpgo' } }, sftpd: { bindings: [{ port: 0 }] } }),
    );
    const r = await run(['serve', '-c', join(dir, 'refuse-empty'), '-l', ''], { HOME: home });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /kms\.secrets\.url: the AWS KMS \(awskms:\/\/\) is not supported by sftpgo-ts/);
    assert.ok(!existsSync(join(dir, 'refuse-empty', 'sftpgo.db')), 'nothing was started');
  });

  void it('serve with a port in use exits 1 naming the address', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const addr = blocker.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const r = await run(['serve', '-c', join(dir, 'busy'), '-l', ''], {
        SFTPGO_HTTPD__BINDINGS__0__PORT: String(port),
        SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });

  void it('initprovider creates the schema, then reports it up to date', async () => {
    const d = join(dir, 'init');
    const first = await run(['initprovider', '-c', d]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'Data provider successfully initialized/updated\n');
    assert.ok(existsSync(join(d, 'sftpgo.db')));
    const second = await run(['initprovider', '--config-dir', d]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'The data provider is up to date\n');
    const bad = join(dir, 'bad-config');
    const r0 = await run(['initprovider', '-c', bad]);
    assert.equal(r0.code, 0, r0.stderr);
    await writeFile(join(bad, 'sftpgo.json'), '{"data_provider": {"driver": "bolt"}}');
    const r = await run(['initprovider', '-c', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bolt/);
  });

  void it('reads SFTPGO_* equivalents of the flags, and flags win', async () => {
    const d = join(dir, 'env-flags');
    const dumpFile = join(dir, 'env-dump.json');
    await writeFile(
      dumpFile,
      JSON.stringify({
        users: [{ username: 'from-dump', password: 'from-dump-pw', status: 1, home_dir: join(d, 'h'), permissions: { '/': ['*'] } }],
        folders: [],
        admins: [{ username: 'dump-admin', password: 'dump-admin-pw', status: 1, permissions: ['*'] }],
        version: 8,
      }),
    );
    const httpPort = await freePort();
    const p = start(['serve', '--log-file-path', 'from-flag.log', '--loaddata-clean'], {
      SFTPGO_CONFIG_DIR: d,
      SFTPGO_LOG_FILE_PATH: 'from-env.log',
      SFTPGO_LOADDATA_FROM: dumpFile,
      SFTPGO_LOADDATA_CLEAN: 'false',
      SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
      SFTPGO_SFTPD__BINDINGS__0__PORT: '0',
    });
    try {
      const m = await waitFor(p, /REST API listening on (http:\/\/127\.0\.0\.1:\d+)/);
      assert.ok(existsSync(join(d, 'from-flag.log')));
      assert.ok(!existsSync(join(d, 'from-env.log')));
      assert.ok(!existsSync(dumpFile), '--loaddata-clean (flag) won over SFTPGO_LOADDATA_CLEAN=false');
      const tok = await fetch(`${m[1]}/api/v2/token`, {
        headers: { authorization: `Basic ${Buffer.from('dump-admin:dump-admin-pw').toString('base64')}` },
      });
      assert.equal(tok.status, 200);
      const { access_token } = (await tok.json()) as { access_token: string };
      const u = await fetch(`${m[1]}/api/v2/users/from-dump`, { headers: { authorization: `Bearer ${access_token}` } });
      assert.equal(u.status, 200);
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal((await p.done).code, 0);
  });
});
