/**
 * Harness for the sftpd integration tests: a real in-process `sftpgo serve` (test/helpers/server.ts
 * startServer) with host keys prepared once per test process (RSA 4096 generation is slow; one
 * test covers the auto-generation), users created through the REST API, and small helpers to
 * compare files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client as Ssh2Client, SFTPWrapper } from 'ssh2';
import type { ApiUser } from '../../src/api/index.js';
import type { ConnectionStatus } from '../../src/common/types.js';
import { generateHostKeyPem } from '../../src/sftpd/host-keys.js';
import { restUsers, startServer, type ConfigOverrides, type TestServer } from './server.js';
import { requireTool, type Credentials, type KeyPair, type Target } from './ssh.js';

export interface SftpTestEnv {
  srv: TestServer;
  port: number;
  target: Target;
  /** scratch dir of this env (homes, local files), removed by stop() */
  dir: string;
  /** creates a user through the REST API; password "pass-<username>" unless given */
  createUser(u?: Partial<ApiUser>): Promise<TestUser>;
  updateUser(username: string, u: Partial<ApiUser>): Promise<void>;
  getUser(username: string): Promise<ApiUser>;
  /** the active connections, from the service's registry (as GET /api/v2/connections) */
  connections(): ConnectionStatus[];
  stop(): Promise<void>;
}

export interface TestUser {
  username: string;
  password: string;
  home: string;
  creds: Credentials;
}

interface HostKeyFiles {
  dir: string;
  files: string[];
}

/** ed25519 + ecdsa host keys written once per test process */
let sharedHostKeys: Promise<HostKeyFiles> | undefined;

export function testHostKeys(): Promise<HostKeyFiles> {
  sharedHostKeys ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-hostkeys-'));
    const files: string[] = [];
    for (const name of ['id_ed25519', 'id_ecdsa'] as const) {
      const f = join(dir, name);
      await writeFile(f, await generateHostKeyPem(name), { mode: 0o600 });
      files.push(f);
    }
    return { dir, files };
  })();
  return sharedHostKeys;
}

export function requireSshTools(): void {
  requireTool('sftp', 'openssh-client');
  requireTool('scp', 'openssh-client');
  requireTool('ssh', 'openssh-client');
  requireTool('ssh-keygen', 'openssh-client');
  requireTool('sshpass', 'sshpass');
}

export interface StartSftpOptions {
  config?: ConfigOverrides;
  /** keep the default host_keys config (auto-generation) instead of the shared test keys */
  autoHostKeys?: boolean;
  /** shorter hook program limits (startServer's hookTimeouts) */
  hookTimeouts?: { actions?: number };
}

export async function startSftpTestServer(o: StartSftpOptions = {}): Promise<SftpTestEnv> {
  requireSshTools();
  const keys = await testHostKeys();
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-sftpd-'));
  const base: ConfigOverrides = {
    sftpd: o.autoHostKeys ? {} : { host_keys: keys.files },
    data_provider: { track_quota: 2 },
  };
  const config = deepMerge(base, o.config ?? {}) as ConfigOverrides;
  const srv = await startServer({
    config,
    ...(o.hookTimeouts ? { hookTimeouts: o.hookTimeouts } : {}),
  });
  const port = srv.sftpPort;
  if (port === undefined) {
    await srv.stop();
    throw new Error('the sftpd service is not running');
  }
  const users = restUsers(srv, dir, 'user');
  return {
    srv,
    port,
    target: { port },
    dir,
    async createUser(u: Partial<ApiUser> = {}): Promise<TestUser> {
      const { username, password, home } = await users.createUser(u);
      return { username, password, home, creds: { user: username, password } };
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

function deepMerge(a: unknown, b: unknown): unknown {
  if (typeof a === 'object' && a !== null && !Array.isArray(a) && typeof b === 'object' && b !== null && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
    return out;
  }
  return b === undefined ? a : b;
}

export function sha256(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** writes `size` random bytes to `path`, returns their sha256 */
export async function randomFile(path: string, size: number): Promise<string> {
  const data = randomBytes(size);
  await writeFile(path, data);
  return sha256(data);
}

/** the key credentials of a user for a generated key pair */
export function keyCreds(user: string, key: KeyPair, password?: string): Credentials {
  return { user, identity: key.privatePath, ...(password !== undefined ? { password } : {}) };
}

/** polls `cond` every 50 ms up to `timeoutMs` (default 10 s) */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------------ ssh2 Client (edge cases)

export interface Ssh2Session {
  client: Ssh2Client;
  sftp: SFTPWrapper;
  /** promisified SFTP call: `call('stat', '/x')`; rejects with the SFTP status error (`code`) */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  end(): Promise<void>;
}

export interface Ssh2ConnectOptions {
  password?: string;
  privateKey?: Buffer | string;
  /** open the SFTP subsystem (default true) */
  sftp?: boolean;
}

/** connects with ssh2's Client and opens the SFTP subsystem */
export async function ssh2Connect(port: number, username: string, o: Ssh2ConnectOptions): Promise<Ssh2Session> {
  const { default: ssh2 } = await import('ssh2');
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port,
      username,
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.privateKey !== undefined ? { privateKey: o.privateKey } : {}),
      readyTimeout: 20_000,
    });
  });
  client.on('error', () => {
    // errors after the handshake surface on the pending calls
  });
  let sftp: SFTPWrapper | undefined;
  if (o.sftp !== false) {
    sftp = await new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  }
  const s = sftp as SFTPWrapper;
  return {
    client,
    sftp: s,
    call<T>(method: string, ...args: unknown[]): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const fn = (s as unknown as Record<string, (...a: unknown[]) => void>)[method];
        if (typeof fn !== 'function') {
          reject(new Error(`no SFTP method ${method}`));
          return;
        }
        fn.call(s, ...args, (err: Error | undefined | null, v: T) => (err ? reject(err) : resolve(v)));
      });
    },
    end(): Promise<void> {
      return new Promise((resolve) => {
        client.once('close', () => resolve());
        client.end();
      });
    },
  };
}

/** the SFTP status code of an ssh2 client error */
export function sftpCode(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

/** asserts that `p` rejects with SFTP status `code` (2 no such file, 3 permission denied, 4 failure, 8 unsupported) */
export async function expectStatus(p: Promise<unknown>, code: number, what = ''): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (sftpCode(e) === code) return;
    throw new Error(`${what}: expected SFTP status ${code}, got ${String(sftpCode(e))} (${(e as Error).message})`, { cause: e });
  }
  throw new Error(`${what}: expected SFTP status ${code}, but the request succeeded`);
}
