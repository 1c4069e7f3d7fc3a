/**
 * A private MariaDB server for tests: mariadb-install-db into a temp dir, mariadbd on a free
 * loopback port (socket inside the temp dir), a password-authenticated test user; stop() shuts
 * down exactly the server we spawned (by its PID) and removes the dir.
 *
 * Uses the Debian `mariadb-server` package. As root, mariadbd drops to the `mysql` OS user itself
 * (`--user=mysql`), so the PID we hold is the server's.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const CLIENT = '/usr/bin/mariadb';
const ADMIN = '/usr/bin/mariadb-admin';

export interface MysqlServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Why MySQL tests cannot run here, or undefined when they can. */
export function mysqlUnavailableReason(): string | undefined {
  for (const f of [MARIADBD, INSTALL_DB, CLIENT, ADMIN]) {
    if (!existsSync(f))
      return `MariaDB is not installed (${f} not found; apt-get install mariadb-server)`;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startMysql(database = 'sftpgo_test'): Promise<MysqlServer> {
  const reason = mysqlUnavailableReason();
  if (reason !== undefined) throw new Error(reason);
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-mysql-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const logFile = join(dir, 'server.log');
  const userArgs = asRoot ? ['--user=mysql'] : [];
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'mysql'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'mysql'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  let child: ChildProcess | undefined;
  const stopChild = async (): Promise<void> => {
    if (child === undefined) return;
    const c = child;
    const done = exited(c);
    try {
      await run(ADMIN, ['--no-defaults', '-S', socket, '-u', 'root', 'shutdown']);
    } catch {
      // the server may not be accepting connections yet: fall back to a signal to our PID
      c.kill('SIGTERM');
    }
    await Promise.race([done, sleep(30_000)]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await done;
  };
  try {
    await run(INSTALL_DB, [
      '--no-defaults',
      `--datadir=${data}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...userArgs,
    ]);
    const port = await freePort();
    const log = openSync(logFile, 'a');
    try {
      child = spawn(
        MARIADBD,
        [
          '--no-defaults',
          ...userArgs,
          `--datadir=${data}`,
          `--socket=${socket}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          '--skip-log-bin',
          '--innodb-flush-log-at-trx-commit=0',
          '--innodb-doublewrite=0',
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`mariadbd exited early: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      }
      try {
        await run(ADMIN, ['--no-defaults', '-S', socket, '-u', 'root', 'ping']);
        break;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error('mariadbd did not become ready in 60 s', { cause: e });
        await sleep(200);
      }
    }
    const sql = (q: string): Promise<unknown> =>
      run(CLIENT, ['--no-defaults', '-S', socket, '-u', 'root', '-e', q]);
    const user = 'sftpgo';
    const password = 'sftpgo-test-pw';
    await sql(
      `CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1'`,
    );
    const createDatabase = async (name: string): Promise<void> => {
      await sql(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    };
    await createDatabase(database);
    return {
      host: '127.0.0.1',
      port,
      user,
      password,
      database,
      createDatabase,
      stop: async () => {
        try {
          await stopChild();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await stopChild();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
