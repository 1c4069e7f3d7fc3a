/**
 * What the notification-hook tests share: one in-process `sftpgo serve` with every protocol on
 * free 127.0.0.1 ports (SFTP, FTP, WebDAV, the REST API), and small real clients that can connect
 * from another loopback address (127.0.0.2) so a hook can tell two clients apart by IP.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiUser } from '../../../src/api/index.js';
import {
  basicAuth,
  freePort,
  mergeConfig,
  restUsers,
  startServer,
  type ConfigOverrides,
  type TestServer,
} from '../../helpers/server.js';
import { testHostKeys } from '../../helpers/sftpd.js';

export const OTHER_IP = '127.0.0.2';

export interface HookEnv {
  srv: TestServer;
  sshPort: number;
  ftpPort: number;
  davPort: number;
  httpPort: number;
  dir: string;
  createUser(u?: Partial<ApiUser>): Promise<{ username: string; password: string; home: string }>;
  stop(): Promise<void>;
}

export async function startHookServer(config: ConfigOverrides = {}): Promise<HookEnv> {
  const keys = await testHostKeys();
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-hooks-env-'));
  const base: ConfigOverrides = {
    sftpd: { host_keys: keys.files },
    ftpd: { bindings: [{ port: await freePort(), address: '127.0.0.1' }] },
    webdavd: { bindings: [{ port: await freePort(), address: '127.0.0.1' }] },
  };
  const srv = await startServer({ config: mergeConfig(base, config) as ConfigOverrides });
  const portOf = (name: string): number => {
    const p = srv.service.servers.find((s) => s.name === name)?.addresses()[0]?.port;
    if (p === undefined) throw new Error(`${name} is not running`);
    return p;
  };
  const users = restUsers(srv, dir, 'hk');
  return {
    srv,
    sshPort: portOf('sftpd'),
    ftpPort: portOf('ftpd'),
    davPort: portOf('webdavd'),
    httpPort: Number(new URL(srv.httpUrl).port),
    dir,
    createUser: (u) => users.createUser(u),
    async stop() {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** a TCP connection to 127.0.0.1:port from `localAddress` */
function tcp(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

export type SshOutcome = { ok: true } | { ok: false; error: string; level?: string };

/** an SSH password login with ssh2's client from `localAddress`; resolves how it ended */
export async function sshLogin(
  port: number,
  username: string,
  password: string,
  localAddress = '127.0.0.1',
): Promise<SshOutcome> {
  const { default: ssh2 } = await import('ssh2');
  const sock = await tcp(port, localAddress);
  const client = new ssh2.Client();
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: SshOutcome): void => {
      if (done) return;
      done = true;
      // after an error or close the transport is gone: nothing more to write
      if (o.ok) client.end();
      sock.destroy();
      resolve(o);
    };
    client.once('ready', () => finish({ ok: true }));
    client.once('error', (e: Error & { level?: string }) =>
      finish({ ok: false, error: e.message, ...(e.level ? { level: e.level } : {}) }),
    );
    client.once('close', () => finish({ ok: false, error: 'closed' }));
    client.connect({ sock, username, password, readyTimeout: 20_000 });
  });
}

/** reads CRLF-terminated reply lines from an FTP control connection */
class FtpLines {
  #buf = '';
  #waiters: (() => void)[] = [];
  #ended = false;
  constructor(readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      this.#wake();
    });
    sock.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    sock.on('error', () => undefined);
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  /** the next reply line, or undefined once the server closed the connection */
  async line(): Promise<string | undefined> {
    for (;;) {
      const i = this.#buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 2);
        return l;
      }
      if (this.#ended) return undefined;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
  /** the last line of the next (possibly multi-line) reply */
  async reply(): Promise<string | undefined> {
    for (;;) {
      const l = await this.line();
      if (l === undefined || /^\d{3} /.test(l)) return l;
    }
  }
  send(cmd: string): void {
    this.sock.write(`${cmd}\r\n`);
  }
  /** resolves once the server closed the connection */
  async closed(): Promise<void> {
    while ((await this.line()) !== undefined);
  }
}

/** the FTP greeting seen from `localAddress`, and whether the server then closed the connection */
export async function ftpGreeting(
  port: number,
  localAddress = '127.0.0.1',
): Promise<{ greeting: string | undefined; closed: boolean }> {
  const c = new FtpLines(await tcp(port, localAddress));
  const greeting = await c.reply();
  if (greeting?.startsWith('220')) {
    c.sock.destroy();
    return { greeting, closed: false };
  }
  await c.closed();
  return { greeting, closed: true };
}

/** an FTP USER/PASS login from 127.0.0.1: the reply to PASS; QUIT afterwards */
export async function ftpLogin(
  port: number,
  username: string,
  password: string,
): Promise<string | undefined> {
  const c = new FtpLines(await tcp(port, '127.0.0.1'));
  try {
    const greeting = await c.reply();
    if (!greeting?.startsWith('220')) return greeting;
    c.send(`USER ${username}`);
    await c.reply();
    c.send(`PASS ${password}`);
    const r = await c.reply();
    c.send('QUIT');
    await c.closed();
    return r;
  } finally {
    c.sock.destroy();
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** one HTTP request from `localAddress` (fetch cannot choose its source address) */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  o: { auth?: { username: string; password: string }; localAddress?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        localAddress: o.localAddress ?? '127.0.0.1',
        headers: o.auth ? { authorization: basicAuth(o.auth.username, o.auth.password) } : {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
