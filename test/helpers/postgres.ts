/**
 * A private PostgreSQL server for tests: initdb into a temp dir, pg_ctl start on a free loopback
 * port (socket dir inside the temp dir), createdb; stop() shuts down exactly that cluster (the
 * postmaster of our data dir) and removes the dir.
 *
 * Uses the Debian `postgresql` package (/usr/lib/postgresql/<version>/bin). initdb refuses to run
 * as root, so as root every command runs as the `postgres` OS user (runuser).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** creates another empty database on this server */
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The bin dir of the newest installed PostgreSQL, or undefined when none is installed. */
export function findPostgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter(
      (v) =>
        existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'pg_ctl')),
    )
    .sort((a, b) => Number(b) - Number(a));
  const v = versions[0];
  return v === undefined ? undefined : join(base, v, 'bin');
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailableReason(): string | undefined {
  if (findPostgresBinDir() === undefined) {
    return 'PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb not found; apt-get install postgresql)';
  }
  if (
    process.getuid?.() === 0 &&
    !existsSync('/usr/sbin/runuser') &&
    !existsSync('/sbin/runuser')
  ) {
    return 'running as root but runuser is not available to drop to the postgres user';
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

async function osUserIds(name: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', name])).stdout.trim());
  const gid = Number((await run('id', ['-g', name])).stdout.trim());
  return { uid, gid };
}

export async function startPostgres(database = 'sftpgo_test'): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  if (bin === undefined) throw new Error(postgresUnavailableReason());
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-pg-'));
  const data = join(dir, 'data');
  const exec = async (cmd: string, args: string[]): Promise<void> => {
    const full = join(bin, cmd);
    try {
      if (asRoot) await run('runuser', ['-u', 'postgres', '--', full, ...args], { cwd: dir });
      else await run(full, args, { cwd: dir });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${cmd} failed: ${err.stderr ?? ''} ${err.message}`, { cause: e });
    }
  };
  if (asRoot) {
    const { uid, gid } = await osUserIds('postgres');
    await chown(dir, uid, gid);
  }
  const user = 'postgres';
  let started = false;
  try {
    await exec('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      user,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    let port = 0;
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3 && !started; attempt++) {
      port = await freePort();
      try {
        await exec('pg_ctl', [
          '-D',
          data,
          '-l',
          join(dir, 'server.log'),
          '-w',
          '-t',
          '60',
          '-o',
          `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
          'start',
        ]);
        started = true;
      } catch (e) {
        lastErr = e; // the port may have been taken between probe and bind: try another one
      }
    }
    if (!started) throw lastErr;
    const createDatabase = (name: string): Promise<void> =>
      exec('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', user, name]);
    await createDatabase(database);
    return {
      host: '127.0.0.1',
      port,
      user,
      password: '',
      database,
      createDatabase,
      stop: async () => {
        try {
          await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    if (started) {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(
        (stopErr: unknown) => {
          // the start error matters more; report the stop failure next to it
          console.error('pg_ctl stop after a failed start:', stopErr);
        },
      );
    }
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
