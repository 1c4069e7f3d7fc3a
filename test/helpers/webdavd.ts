/**
 * Harness for the webdavd integration tests: a real in-process `sftpgo serve` (test/helpers/
 * server.ts startServer) with a WebDAV binding on a free loopback port, users created through
 * the REST API, and small HTTP helpers (fetch with Basic auth, curl, rclone, litmus, cadaver).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiUser } from '../../src/api/index.js';
import type { ConnectionStatus } from '../../src/common/types.js';
import { basicAuth, freePort, restUsers, startServer, type ConfigOverrides, type TestServer } from './server.js';
import { testHostKeys } from './sftpd.js';
import { requireTool } from './ssh.js';

export interface DavTestEnv {
  srv: TestServer;
  port: number;
  /** e.g. http://127.0.0.1:1234 (+ prefix), no trailing slash */
  url: string;
  /** scratch dir of this env (homes, local files), removed by stop() */
  dir: string;
  createUser(u?: Partial<ApiUser>): Promise<DavUser>;
  updateUser(username: string, u: Partial<ApiUser>): Promise<void>;
  getUser(username: string): Promise<ApiUser>;
  connections(): ConnectionStatus[];
  stop(): Promise<void>;
}

export interface DavUser {
  username: string;
  password: string;
  home: string;
  /** the Authorization header value */
  auth: string;
}

export interface StartDavOptions {
  config?: ConfigOverrides;
  /** the binding's prefix ("" = none) */
  prefix?: string;
  /** extra binding fields (enable_https, client_auth_type ...) */
  binding?: Record<string, unknown>;
  /** the scheme of `url` (https when the binding has enable_https) */
  https?: boolean;
}

export async function startDavTestServer(o: StartDavOptions = {}): Promise<DavTestEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-webdavd-'));
  const port = await freePort();
  const keys = await testHostKeys();
  const config = mergeDeep(
    {
      sftpd: { host_keys: keys.files },
      webdavd: { bindings: [{ port, address: '127.0.0.1', prefix: o.prefix ?? '', ...o.binding }] },
      data_provider: { track_quota: 2 },
    },
    o.config ?? {},
  ) as ConfigOverrides;
  const srv = await startServer({ config });
  const dav = srv.service.servers.find((s) => s.name === 'webdavd');
  const bound = dav?.addresses()[0]?.port;
  if (bound === undefined) {
    await srv.stop();
    throw new Error('the webdavd service is not running');
  }
  const users = restUsers(srv, dir, 'dav');
  return {
    srv,
    port: bound,
    url: `${o.https ? 'https' : 'http'}://127.0.0.1:${bound}${o.prefix ?? ''}`,
    dir,
    async createUser(u: Partial<ApiUser> = {}): Promise<DavUser> {
      const { username, password, home } = await users.createUser(u);
      return { username, password, home, auth: basicAuth(username, password) };
    },
    updateUser: users.updateUser,
    getUser: users.getUser,
    connections: () => srv.service.connections.list(),
    async stop(): Promise<void> {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function mergeDeep(a: unknown, b: unknown): unknown {
  if (isObj(a) && isObj(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeDeep(out[k], v) : v;
    return out;
  }
  return b === undefined ? a : b;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** fetch with the user's Basic credentials */
export function dav(
  env: DavTestEnv,
  user: DavUser | undefined,
  method: string,
  path: string,
  o: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...(user ? { authorization: user.auth } : {}), ...o.headers };
  return fetch(`${env.url}${path}`, {
    method,
    headers,
    ...(o.body !== undefined ? { body: o.body } : {}),
  });
}

export function sha256(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** runs a program to completion (never rejects on a non-zero exit) */
export function run(
  cmd: string,
  args: string[],
  o: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        timeout: o.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    // the program may exit before reading its input: its exit code tells the test, no EPIPE crash
    child.stdin?.on('error', () => undefined);
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

export function requireDavTools(): void {
  requireTool('curl', 'curl');
  requireTool('rclone', 'rclone');
  requireTool('litmus', 'litmus');
  requireTool('cadaver', 'cadaver');
}

/**
 * One cadaver session (the neon-based command-line WebDAV client, Debian package) for this user:
 * `commands` are fed on standard input, one per line; the credentials come from a .netrc in a
 * HOME of their own. Resolves to what cadaver printed.
 */
export async function cadaver(env: DavTestEnv, user: DavUser, commands: string[]): Promise<RunResult> {
  const home = await mkdtemp(join(env.dir, 'cadaver-home-'));
  await writeFile(join(home, '.netrc'), `machine 127.0.0.1\nlogin ${user.username}\npassword ${user.password}\n`, {
    mode: 0o600,
  });
  return run('cadaver', [`${env.url}/`], { input: `${[...commands, 'quit'].join('\n')}\n`, env: { HOME: home } });
}

/** `rclone obscure` of a password (for --webdav-pass) */
export async function rcloneObscure(password: string): Promise<string> {
  const r = await run('rclone', ['obscure', password]);
  if (r.code !== 0) throw new Error(`rclone obscure failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** rclone with a webdav remote named "dav:" for this user */
export async function rclone(env: DavTestEnv, user: DavUser, args: string[]): Promise<RunResult> {
  const pass = await rcloneObscure(user.password);
  return run('rclone', [
    '--config',
    '/dev/null',
    '--webdav-url',
    env.url,
    '--webdav-user',
    user.username,
    '--webdav-pass',
    pass,
    '--webdav-vendor',
    'other',
    '--low-level-retries',
    '1',
    '--retries',
    '1',
    ...args,
  ]);
}

export interface LitmusResult {
  output: string;
  /** suite -> { passed, total } */
  suites: Map<string, { passed: number; total: number }>;
}

/**
 * Runs litmus against `url` (a collection URL ending with /) with these credentials; `suites`
 * picks the suites (litmus' TESTS variable; it stops at the first suite with a failure, so run
 * them one at a time to count each). litmus writes debug.log/child.log in `cwd`.
 */
export function runLitmus(
  url: string,
  username: string,
  password: string,
  o: { suites?: string; cwd?: string } = {},
): Promise<LitmusResult> {
  return new Promise((resolve) => {
    const child = spawn('litmus', [url, username, password], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(o.suites ? { TESTS: o.suites } : {}) },
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', () => {
      clearTimeout(timer);
      const suites = new Map<string, { passed: number; total: number }>();
      let current = '';
      for (const line of output.split('\n')) {
        const start = /^-> running `([^']+)':/.exec(line);
        if (start?.[1]) current = start[1];
        // "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%"
        const sum = /summary for `([^']+)': of (\d+) tests run: (\d+) passed/.exec(line);
        if (sum?.[1]) suites.set(sum[1], { total: Number(sum[2]), passed: Number(sum[3]) });
      }
      void current;
      resolve({ output, suites });
    });
  });
}
