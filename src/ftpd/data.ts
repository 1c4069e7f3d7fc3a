/**
 * FTP data connections: passive (PASV/EPSV: we listen, the client connects) and active
 * (PORT/EPRT: we dial the client). One data connection serves one transfer.
 *
 * Security, as ftpserverlib at the revision SFTPGo 2.1.2 pins (PR #251): a passive connection
 * is accepted only from the control connection's IP (others are closed and logged, and the
 * listener keeps waiting for the right peer instead of failing the transfer), an active
 * connection is only dialled to the control connection's IP and never to a privileged port.
 *
 * TLS (PROT P): the accepted or dialled socket is handed to the TLS layer right away, as the
 * TLS *server*, but the transfer only waits for the handshake after it sent `150`: lftp starts
 * the handshake after reading 150, curl before — both work.
 */
import { once } from 'node:events';
import { connect, createServer, Socket, type Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SftpgoError } from '../errors/index.js';
import type { Logger } from '../common/types.js';
import { uploadBufferPool, type UploadBuffers } from '../common/upload-buffers.js';
import type { TlsWrapper } from './tls.js';

/** strips the IPv4-mapped IPv6 prefix */
export function plainIp(ip: string | undefined): string {
  const v = ip ?? '';
  return v.startsWith('::ffff:') && v.includes('.') ? v.slice(7) : v;
}

export interface DataChannelOptions {
  /** the control connection's peer IP: the only one allowed on the data connection */
  peerIp: string;
  timeoutMs: number;
  /** wrap the data socket as a TLS server (PROT P / implicit TLS) */
  tls: TlsWrapper | undefined;
  log: Logger;
}

/** what a transfer gets: the connected socket (TCP), then the stream to use (after TLS) */
export interface DataConnection {
  /** the TCP socket (for destroy) */
  readonly raw: Socket;
  /** resolves with the socket to read/write: the TLS socket once secure, or the TCP socket */
  ready(): Promise<Socket>;
  /**
   * A plain TCP connection nothing has read from yet, read instead into the fixed `buffer`:
   * each read calls `onRead` with its length (false pauses the socket until `resume()`), no
   * 'data' events. undefined with TLS or once reading started (see `userBufferSocket`).
   */
  readInto(buffer: Buffer, onRead: (n: number) => boolean): Socket | undefined;
  destroy(): void;
}

/**
 * `socket` re-created over its TCP handle with Node's `onread` option (the socket must not
 * have read yet: accepted with pauseOnConnect), so that its reads fill `buffer` instead of a
 * new ArrayBuffer each (bench/README.md, "Upload buffers and GC"). Node offers `onread` only to
 * sockets it creates from options (`net.connect`, `new Socket`), not to accepted ones; passing
 * the accepted socket's handle to `new Socket` is how Node builds accepted sockets itself.
 * The old socket lets go of the handle and is destroyed (it never read, so it loses nothing).
 * undefined when the handle is not a plain, unread one.
 */
export function userBufferSocket(
  socket: Socket,
  buffer: Buffer,
  onRead: (n: number) => boolean,
): Socket | undefined {
  const old = socket as Socket & { _handle?: { reading?: boolean } | null };
  const handle = old._handle;
  if (
    !handle ||
    handle.reading ||
    socket.bytesRead > 0 ||
    socket.destroyed ||
    socket.readableFlowing === true
  )
    return undefined;
  const s = new Socket({
    handle,
    onread: { buffer, callback: (n: number) => onRead(n) },
  } as ConstructorParameters<typeof Socket>[0]);
  old._handle = null;
  socket.destroy();
  return s;
}

export interface DataChannel {
  readonly kind: 'passive' | 'active';
  /** waits for / establishes the TCP connection (rejects with a message for a 425 reply) */
  connect(): Promise<DataConnection>;
  /** closes the listener / socket; idempotent */
  close(): void;
}

function timeoutError(what: string): SftpgoError {
  return new SftpgoError('ABORTED', `${what}: timeout`);
}

class Conn implements DataConnection {
  private secure: Promise<Socket> | undefined;
  private destroyed = false;

  constructor(
    public raw: Socket,
    private readonly o: DataChannelOptions,
  ) {
    raw.on('error', (e) => o.log.debug({ error: e.message }, 'data connection error'));
    if (o.tls) {
      const wrapper = o.tls;
      this.secure = new Promise<Socket>((resolve, reject) => {
        wrapper.wrap(raw, {
          secure: (ts: TLSSocket) => {
            ts.on('error', (e) => o.log.debug({ error: e.message }, 'data connection TLS error'));
            resolve(ts);
          },
          failed: (e) => reject(new SftpgoError('ABORTED', `TLS handshake on the data connection failed: ${e.message}`)),
        });
      });
      // a rejection nobody awaits yet (the transfer asks for ready() after 150)
      this.secure.catch(() => undefined);
    }
  }

  async ready(): Promise<Socket> {
    if (!this.secure) return this.raw;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.secure,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(timeoutError('TLS handshake on the data connection')), this.o.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  readInto(buffer: Buffer, onRead: (n: number) => boolean): Socket | undefined {
    if (this.o.tls || this.destroyed) return undefined;
    const s = userBufferSocket(this.raw, buffer, onRead);
    if (!s) return undefined;
    s.on('error', (e) => this.o.log.debug({ error: e.message }, 'data connection error'));
    this.raw = s;
    return s;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.raw.destroy();
  }
}

/** PASV/EPSV: a listener waiting for one connection from the control peer */
export class PassiveChannel implements DataChannel {
  readonly kind = 'passive' as const;
  private accepted: Conn | undefined;
  private waiter: ((c: Conn | Error) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly o: DataChannelOptions,
  ) {
    server.on('connection', (s) => this.onConnection(s));
    server.on('error', (e) => o.log.debug({ error: e.message }, 'passive listener error'));
  }

  /**
   * Listens on `host` at a random port of [start, end] (tries up to end-start times, min 10,
   * max 1000) or, without a usable range, an OS-assigned port.
   */
  static async open(host: string, range: { start: number; end: number }, o: DataChannelOptions): Promise<PassiveChannel> {
    const useRange = range.start > 0 && range.end > range.start;
    const attempts = useRange ? Math.min(1000, Math.max(10, range.end - range.start)) : 1;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      const port = useRange ? range.start + Math.floor(Math.random() * (range.end - range.start + 1)) : 0;
      const server = createServer({ noDelay: true, pauseOnConnect: true });
      try {
        server.listen({ host, port, exclusive: true });
        await once(server, 'listening');
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        return new PassiveChannel(server, bound, o);
      } catch (e) {
        lastErr = e;
        server.close();
      }
    }
    throw new SftpgoError('BACKEND_UNAVAILABLE', 'could not find any port to listen to', { cause: lastErr });
  }

  private onConnection(s: Socket): void {
    const ip = plainIp(s.remoteAddress);
    if (this.closed || this.accepted) {
      s.destroy();
      return;
    }
    if (ip !== this.o.peerIp) {
      // data connection stealing: refused, the legitimate client can still connect
      this.o.log.warn({ remote_addr: s.remoteAddress, expected: this.o.peerIp }, 'passive data connection from an unexpected IP refused');
      s.destroy();
      return;
    }
    s.setNoDelay(true);
    // one connection per PASV: stop listening (the socket stays open)
    this.server.close();
    // still paused (pauseOnConnect): the transfer's pipe (or the TLS layer) starts reading
    const c = new Conn(s, this.o);
    this.accepted = c;
    this.waiter?.(c);
  }

  connect(): Promise<DataConnection> {
    if (this.accepted) return Promise.resolve(this.accepted);
    if (this.closed) return Promise.reject(new SftpgoError('ABORTED', 'the data channel is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(timeoutError('no data connection'));
      }, this.o.timeoutMs);
      this.waiter = (c) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (c instanceof Error) reject(c);
        else resolve(c);
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    this.accepted?.destroy();
    this.waiter?.(new SftpgoError('ABORTED', 'the data channel is closed'));
  }
}

/** PORT/EPRT: we dial the client when the transfer starts */
export class ActiveChannel implements DataChannel {
  readonly kind = 'active' as const;
  private conn: Conn | undefined;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** local address to dial from, and local port 20 when active_transfers_port_non_20 is false */
    private readonly local: { address: string; port?: number },
    private readonly o: DataChannelOptions,
  ) {}

  async connect(): Promise<DataConnection> {
    if (this.closed) throw new SftpgoError('ABORTED', 'the data channel is closed');
    const s = connect({
      host: this.host,
      port: this.port,
      localAddress: this.local.address,
      ...(this.local.port !== undefined ? { localPort: this.local.port } : {}),
      noDelay: true,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        once(s, 'connect'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(timeoutError('active data connection')), this.o.timeoutMs);
        }),
      ]);
    } catch (e) {
      s.destroy();
      throw new SftpgoError('ABORTED', `could not establish active connection: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) {
      s.destroy();
      throw new SftpgoError('ABORTED', 'the data channel is closed');
    }
    this.conn = new Conn(s, this.o);
    return this.conn;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn?.destroy();
  }
}

/** parses `h1,h2,h3,h4,p1,p2` (PORT) */
export function parsePortArg(arg: string): { host: string; port: number } | undefined {
  const parts = arg.trim().split(',');
  if (parts.length !== 6) return undefined;
  const n = parts.map((p) => (/^\d{1,3}$/.test(p.trim()) ? Number(p.trim()) : -1));
  if (n.some((x) => x < 0 || x > 255)) return undefined;
  const [a, b, c, d, p1, p2] = n as [number, number, number, number, number, number];
  return { host: `${a}.${b}.${c}.${d}`, port: p1 * 256 + p2 };
}

/** parses `|1|ip|port|` / `|2|ipv6|port|` (EPRT, RFC 2428: any delimiter) */
export function parseEprtArg(arg: string): { host: string; port: number } | undefined {
  const t = arg.trim();
  if (t.length < 7) return undefined;
  const d = t[0] as string;
  const parts = t.split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return undefined;
  const [, proto, host, portS] = parts as [string, string, string, string, string];
  if (proto !== '1' && proto !== '2') return undefined;
  if (!/^\d{1,5}$/.test(portS)) return undefined;
  const port = Number(portS);
  if (port < 1 || port > 65535 || host === '') return undefined;
  return { host, port };
}

/** the largest socket read (Node reads up to 64 KiB at a time) */
const READ_BUFFER = 64 * 1024;

/**
 * Receives a binary upload from a plain passive data connection through reused buffers
 * (`UploadTransfer.buffers()`): the socket reads into one fixed buffer, copied into the
 * upload's buffers, each written whole. Resolves once the client ended the data connection and
 * every byte is written (the caller closes the transfer); rejects with the write error
 * (quota, storage) or the socket's (a reset, a close before the end). Returns false, doing
 * nothing, when the connection cannot be read this way (TLS, active mode) or the storage keeps
 * written chunks (object stores, encrypted files: `buffers()` is undefined): the caller then
 * pipes the socket into `writable()`. Once the upload is closed the buffers go back to the pool
 * (uploadBufferPool), the read buffer once the socket is closed.
 */
export async function receiveUpload(
  dc: DataConnection,
  up: { buffers(): UploadBuffers | undefined; close(): Promise<void> },
): Promise<boolean> {
  const ub = up.buffers();
  if (!ub) return false;
  const buffer = uploadBufferPool.take(READ_BUFFER);
  const s = dc.readInto(buffer, (n) => ub.push(buffer.subarray(0, n)));
  if (!s) {
    uploadBufferPool.give(buffer);
    return false;
  }
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const settle = (e?: unknown): void => {
      if (done) return;
      done = true;
      if (e === undefined) resolve();
      else {
        s.destroy();
        reject(e);
      }
    };
    ub.onDrain = () => s.resume();
    ub.onError = settle;
    s.once('end', () => settle());
    s.once('error', settle);
    // the error only when it is one (an Error is built with its stack: not for every upload)
    s.once('close', () => {
      if (!done)
        settle(new SftpgoError('ABORTED', 'the data connection closed before the end of the upload'));
    });
    s.resume();
  });
  await ub.finish();
  await up.close();
  ub.release();
  // no read after the end of the stream; closed, the socket reads nothing more
  if (s.destroyed) uploadBufferPool.give(buffer);
  else s.once('close', () => uploadBufferPool.give(buffer));
  return true;
}
