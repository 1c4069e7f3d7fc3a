/**
 * Harness for the ftpd integration tests: a real in-process `sftpgo serve` (startServer: REST
 * API, SQLite provider, connection registry, defender/rate-limiter gate) plus the FTP server
 * built with createFtpd() on those same dependencies, listening on free 127.0.0.1 ports.
 * Users are created through the REST API. TLS material (a CA, a server certificate for
 * 127.0.0.1 and client certificates) is generated with openssl once per test process.
 *
 * Real clients are spawned asynchronously (the server runs in this process: a synchronous
 * spawn would block it).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import tls from 'node:tls';
import type { ApiUser } from '../../src/api/index.js';
import type { FtpdBinding, FtpdConfig } from '../../src/config/index.js';
import { createFtpd, type FtpServer } from '../../src/ftpd/index.js';
import { freePort, restUsers, startServer, type ConfigOverrides, type TestServer } from './server.js';
import { requireTool } from './ssh.js';

export const PYTHON = '/usr/bin/python3';

export function requireFtpTools(): void {
  requireTool('curl', 'curl');
  requireTool('lftp', 'lftp');
  requireTool('openssl', 'openssl');
  requireTool(PYTHON, 'python3');
}

// ------------------------------------------------------------------ processes

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** runs a program asynchronously; never rejects (the exit code is in the result) */
export function run(cmd: string, args: readonly string[], o: { input?: string | Buffer; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${o.timeoutMs ?? 60_000} ms]`;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      stderr += String(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // the program may exit before reading its input (a refused TLS handshake): the exit code
    // and stderr tell the test; an EPIPE here must not crash the test process
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}

function execOk(cmd: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd }, (err, _out, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve()));
  });
}

// ------------------------------------------------------------------ certificates

export interface TestCerts {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** a client certificate + key signed by the CA, for the given CommonName */
  client(cn: string): Promise<{ cert: string; key: string }>;
  /** a client certificate signed by another CA (untrusted) */
  untrustedClient(cn: string): Promise<{ cert: string; key: string }>;
  /** a client certificate (CN "revoked") listed in `crl` */
  revoked: { cert: string; key: string };
  /** a CRL of the CA revoking `revoked` */
  crl: string;
}

let sharedCerts: Promise<TestCerts> | undefined;

export function testCerts(): Promise<TestCerts> {
  sharedCerts ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-ftpcerts-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await execOk('openssl', ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=sftpgo test CA'], dir);
    await execOk('openssl', ['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '30', '-subj', '/CN=other CA'], dir);
    await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await execOk('openssl', ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    await execOk('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'server.ext'], dir);
    let n = 0;
    const issue = async (cn: string, ca: string): Promise<{ cert: string; key: string }> => {
      const base = `client${++n}`;
      await execOk('openssl', ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], dir);
      await execOk('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${base}.crt`, '-days', '30'], dir);
      return { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
    };
    const revoked = await issue('revoked', 'ca');
    await writeFile(
      join(dir, 'ca.cnf'),
      '[ca]\ndefault_ca = CA_default\n[CA_default]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n',
    );
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'crlnumber'), '01\n');
    await execOk('openssl', ['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-revoke', revoked.cert], dir);
    await execOk('openssl', ['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-gencrl', '-out', 'ca.crl'], dir);
    return {
      dir,
      revoked,
      crl: join(dir, 'ca.crl'),
      caCert: join(dir, 'ca.crt'),
      caKey: join(dir, 'ca.key'),
      serverCert: join(dir, 'server.crt'),
      serverKey: join(dir, 'server.key'),
      client: (cn) => issue(cn, 'ca'),
      untrustedClient: (cn) => issue(cn, 'other-ca'),
    };
  })();
  return sharedCerts;
}

// ------------------------------------------------------------------ server

export interface FtpTestUser {
  username: string;
  password: string;
  home: string;
}

export interface FtpTestEnv {
  srv: TestServer;
  ftpd: FtpServer;
  /** the port of each binding, in order */
  ports: number[];
  dir: string;
  certs: TestCerts;
  createUser(u?: Partial<ApiUser>): Promise<FtpTestUser>;
  updateUser(username: string, u: Partial<ApiUser>): Promise<void>;
  stop(): Promise<void>;
}

export interface StartFtpOptions {
  /** one binding per entry (port and address are filled in); default one plain binding */
  bindings?: Partial<FtpdBinding>[];
  ftpd?: Partial<FtpdConfig>;
  /** the rest of the service configuration (common, data_provider ...) */
  config?: ConfigOverrides;
  dataTimeoutMs?: number;
}

export async function startFtpTestServer(o: StartFtpOptions = {}): Promise<FtpTestEnv> {
  requireFtpTools();
  const certs = await testCerts();
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-ftpd-'));
  const srv = await startServer({ config: { data_provider: { track_quota: 2 }, ...o.config } as ConfigOverrides });
  const base = srv.service.config.ftpd;
  const bindings: FtpdBinding[] = [];
  for (const b of o.bindings ?? [{}]) {
    bindings.push({ ...base.bindings[0], ...b, address: '127.0.0.1', port: await freePort() } as FtpdBinding);
  }
  const cfg: FtpdConfig = {
    ...base,
    certificate_file: certs.serverCert,
    certificate_key_file: certs.serverKey,
    ca_certificates: [certs.caCert],
    ...o.ftpd,
    bindings,
  } as FtpdConfig;
  const svc = srv.service;
  const ftpd = createFtpd(cfg, {
    config: svc.config,
    configDir: svc.configDir,
    logger: svc.logger,
    provider: svc.provider,
    connections: svc.connections,
    gate: svc.gate,
    ...(svc.actions ? { actions: svc.actions } : {}),
    ...(o.dataTimeoutMs ? { dataTimeoutMs: o.dataTimeoutMs } : {}),
  });
  try {
    await ftpd.start();
  } catch (e) {
    await srv.stop();
    throw e;
  }
  const users = restUsers(srv, dir, 'ftpuser');
  return {
    srv,
    ftpd,
    ports: ftpd.addresses().map((a) => a.port),
    dir,
    certs,
    async createUser(u: Partial<ApiUser> = {}): Promise<FtpTestUser> {
      const { username, password, home } = await users.createUser(u);
      return { username, password, home };
    },
    updateUser: users.updateUser,
    async stop(): Promise<void> {
      await ftpd.stop();
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ a raw control connection

export interface FtpReply {
  code: number;
  /** every line of the reply, without CRLF */
  lines: string[];
  /** the text of the last line (after "NNN ") */
  text: string;
}

/**
 * A minimal FTP control connection for protocol-level tests: send lines, read replies
 * (multi-line aware), upgrade to TLS.
 */
export class RawFtp {
  private buf = '';
  private waiters: (() => void)[] = [];
  private ended = false;
  socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(s: Socket): void {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    s.on('close', () => {
      this.ended = true;
      this.wake();
    });
    s.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(
    port: number,
    o: { implicitTls?: boolean; localAddress?: string; cert?: string; key?: string } = {},
  ): Promise<RawFtp> {
    const clientCert = o.cert && o.key ? { cert: await readFile(o.cert), key: await readFile(o.key) } : {};
    const s: Socket = o.implicitTls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...clientCert })
      : connect({ host: '127.0.0.1', port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      s.once(o.implicitTls ? 'secureConnect' : 'connect', () => resolve());
      s.once('error', reject);
    });
    return new RawFtp(s);
  }

  get closed(): boolean {
    return this.ended;
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** the next complete reply; rejects on timeout or when the connection closes first */
  async read(timeoutMs = 10_000): Promise<FtpReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.parse();
      if (r) return r;
      if (this.ended) throw new Error(`connection closed; pending data: ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; pending: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private parse(): FtpReply | undefined {
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf('\r\n', pos);
      if (nl < 0) return undefined;
      const line = this.buf.slice(pos, nl);
      pos = nl + 2;
      lines.push(line);
      const first = lines[0] as string;
      const m = /^(\d{3})([ -])/.exec(first);
      if (!m) {
        this.buf = this.buf.slice(pos);
        return { code: 0, lines, text: line };
      }
      if (m[2] === ' ' || (lines.length > 1 && line.startsWith(`${m[1]} `))) {
        this.buf = this.buf.slice(pos);
        return { code: Number(m[1]), lines, text: line.slice(4) };
      }
    }
  }

  async cmd(line: string, timeoutMs?: number): Promise<FtpReply> {
    this.send(line);
    return this.read(timeoutMs);
  }

  /** AUTH TLS already answered 234: wrap the socket */
  async startTls(): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    const s = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', () => resolve());
      s.once('error', reject);
    });
    this.socket = s;
    this.attach(s);
  }

  async login(user: string, password: string): Promise<void> {
    const u = await this.cmd(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.lines.join('|')}`);
    const p = await this.cmd(`PASS ${password}`);
    if (p.code !== 230) throw new Error(`PASS: ${p.lines.join('|')}`);
  }

  /** PASV + connect: the data socket */
  async pasv(o: { localAddress?: string } = {}): Promise<{ port: number; connect: () => Promise<Socket> }> {
    const r = await this.cmd('PASV');
    const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(r.text);
    if (r.code !== 227 || !m) throw new Error(`PASV: ${r.lines.join('|')}`);
    const port = Number(m[5]) * 256 + Number(m[6]);
    return {
      port,
      connect: () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** reads a data socket to its end */
export function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

/** curl arguments for the common options: user, insecure TLS, no progress, fail on error */
export function curlBase(user: FtpTestUser): string[] {
  return ['-sS', '--user', `${user.username}:${user.password}`, '-k', '--max-time', '30'];
}

/** lftp -c script with the settings the tests use (cert not verified, protected data) */
export function lftpArgs(script: string): string[] {
  const settings = [
    'set ssl:verify-certificate no',
    'set ftp:ssl-protect-data yes',
    'set net:max-retries 1',
    'set net:timeout 15',
    'set net:reconnect-interval-base 1',
    'set cmd:fail-exit yes',
  ].join('; ');
  return ['-c', `${settings}; ${script}`];
}

/** the SHA-256 fingerprint of the certificate an implicit-TLS FTP listener presents */
export async function peerFingerprint(port: number): Promise<string> {
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', () => resolve());
      s.once('error', reject);
    });
    return s.getPeerCertificate().fingerprint256;
  } finally {
    s.destroy();
  }
}

// ------------------------------------------------------------------ a tree of files for clients that copy trees

/** what tree-copying clients (rclone, wget) get: nested directories, spaces, non-ASCII, an empty file */
export function clientTree(): Record<string, Buffer> {
  return {
    'a.bin': randomBytes(120_001),
    'empty.txt': Buffer.alloc(0),
    'dir/name with spaces.txt': Buffer.from('spaces\n'),
    'dir/ümlaut-é.txt': Buffer.from('non-ASCII\n'),
    'dir/deeper/b.bin': randomBytes(9_000),
  };
}

/** writes `tree` under `root`, every file with the modification time `mtime` when given */
export async function writeTree(root: string, tree: Record<string, Buffer>, mtime?: Date): Promise<void> {
  for (const [name, data] of Object.entries(tree)) {
    const p = join(root, name);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, data);
    if (mtime) await utimes(p, mtime, mtime);
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** the sha256 of each file of `tree` (relative path -> hex) */
export function treeDigests(tree: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).map(([name, data]) => [name, sha256(data)]));
}

/** every file under `root` (relative path -> sha256 hex), except those named in `skip` */
export async function hashTree(root: string, skip: readonly string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!skip.includes(e.name)) out[relative(root, p)] = sha256(await readFile(p));
    }
  };
  await walk(root);
  return out;
}
