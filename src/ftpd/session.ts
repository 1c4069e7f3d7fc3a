/**
 * One FTP control connection (RFC 959, 2228, 2389, 2428, 3659, 4217): reads command lines,
 * answers them, runs transfers on data connections. A thin translator: every file operation is
 * a common.Connection call (permissions, file patterns, quota, throttling, atomic uploads live
 * there), every failure is mapped by reply-map.ts.
 *
 * Command processing is sequential, in arrival order. RETR/STOR/APPE/STOU/LIST/NLST/MLSD run in
 * the background; the next command waits for the running transfer, except ABOR (handled as soon
 * as its line arrives), QUIT and STAT without argument.
 *
 * Before login the session is listed in the connection registry with an empty username (so the
 * idle checker drops clients that never log in after 2 minutes, and DELETE
 * /api/v2/connections/{id} works); the login replaces that entry by the common.Connection with
 * the same id (`FTP_<binding index>_<n>`), which enforces max_sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { Readable, Transform, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { TLSSocket } from 'node:tls';
import { crc32 } from 'node:zlib';
import { OPEN_FLAGS } from '../common/actions.js';
import type { ConnectionGate } from '../common/connection-gate.js';
import { NO_AUTH_TRIED, reportLogin, type PostLoginNotifier } from '../common/post-login.js';
import { Connection } from '../common/connection.js';
import { checkLogin, isLoginMethodAllowed } from '../common/login.js';
import type { ActiveConnection, ConnectionRegistry } from '../common/registry.js';
import type { ConnectionConfig, TransferStatus } from '../common/types.js';
import type { FtpdBinding, FtpdConfig } from '../config/index.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import { logConnectionFailed, type Logger } from '../logger/index.js';
import type { PeerCertificate } from '../util/tls-peer.js';
import { VERSION } from '../util/version.js';
import { normalizeVirtualPath, virtualBase, type FileInfo, type MountTable } from '../vfs/index.js';
import {
  ActiveChannel,
  parseEprtArg,
  parsePortArg,
  PassiveChannel,
  plainIp,
  receiveUpload,
  type DataChannel,
  type DataConnection,
} from './data.js';
import { ftpTime, listLine, mlsdLine, mlsxFacts, parseFtpTime } from './listing.js';
import { REPLY_TLS_REQUIRED_CONTROL, REPLY_TLS_REQUIRED_DATA, toFtpReply } from './reply-map.js';
import { verifiedClientCertificate, type TlsWrapper } from './tls.js';

/** longest command line accepted (bytes, without CRLF); longer closes the connection */
export const MAX_LINE = 4096;
/** command lines received but not processed yet; more closes the connection */
const MAX_PENDING = 64;
/** how long a finished data connection may take to close before it is destroyed */
const DATA_LINGER_MS = 10_000;
/** the open flags the pre-upload custom action reports for STOR, APPE (and COMB), REST + STOR */
const FTP_STORE_FLAGS = OPEN_FLAGS.O_WRONLY | OPEN_FLAGS.O_CREAT | OPEN_FLAGS.O_TRUNC;
const FTP_APPEND_FLAGS = OPEN_FLAGS.O_WRONLY | OPEN_FLAGS.O_APPEND;
const FTP_RESUME_FLAGS = OPEN_FLAGS.O_WRONLY | OPEN_FLAGS.O_CREAT;

/** what every session of a binding shares */
export interface SessionContext {
  cfg: Readonly<FtpdConfig>;
  binding: Readonly<FtpdBinding>;
  tls: TlsWrapper | undefined;
  banner: string;
  provider: DataProvider;
  registry: ConnectionRegistry;
  gate: ConnectionGate | undefined;
  /** the post-login hook; absent when none is configured */
  postLogin: PostLoginNotifier | undefined;
  connConfig: ConnectionConfig;
  rootLogger: Logger;
  log: Logger;
  dataTimeoutMs: number;
  buildUserFs(user: User): Promise<MountTable>;
  /** "address:port" of the listener, for STAT */
  listenAddress: string;
  onClosed(s: FtpSession): void;
}

type Handler = (this: FtpSession, arg: string, verb: string) => Promise<void> | void;

interface CommandDef {
  run: Handler;
  /** allowed before login */
  open?: boolean;
  /** runs even while a transfer is in progress */
  immediate?: boolean;
  /** not activity for the idle timeout (keepalives) */
  keepalive?: boolean;
}

interface TransferCtx {
  verb: string;
  channel: DataChannel;
  dc: DataConnection | undefined;
  aborted: boolean;
}

interface Reply {
  code: number;
  text: string;
}

const HASH_ALGOS = ['SHA-256', 'SHA-512', 'SHA-1', 'MD5', 'CRC32'] as const;
type HashAlgo = (typeof HASH_ALGOS)[number];
const HASH_VERBS: Record<string, HashAlgo> = {
  XCRC: 'CRC32',
  MD5: 'MD5',
  XMD5: 'MD5',
  XSHA: 'SHA-1',
  XSHA1: 'SHA-1',
  XSHA256: 'SHA-256',
  XSHA512: 'SHA-512',
};

/** the reply to an error, "<context>: <message>" */
function errorReply(e: unknown, context: string): Reply {
  const m = toFtpReply(e);
  return { code: m.code, text: `${context}: ${m.message}` };
}

/** splits `a "b c" d` into words (COMB) */
function splitQuoted(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(m[1] ?? m[2] ?? '');
  return out;
}

/** LF -> CRLF (TYPE A downloads) */
function toCrlf(): Transform {
  let lastCr = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: number[] = [];
      for (const b of chunk) {
        if (b === 0x0a && !lastCr) out.push(0x0d);
        out.push(b);
        lastCr = b === 0x0d;
      }
      cb(null, Buffer.from(out));
    },
  });
}

/** CRLF -> LF (TYPE A uploads) */
function fromCrlf(): Transform {
  let pendingCr = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out: number[] = [];
      for (const b of chunk) {
        if (pendingCr) {
          pendingCr = false;
          if (b !== 0x0a) out.push(0x0d);
        }
        if (b === 0x0d) pendingCr = true;
        else out.push(b);
      }
      cb(null, Buffer.from(out));
    },
    flush(cb) {
      cb(null, pendingCr ? Buffer.from([0x0d]) : Buffer.alloc(0));
    },
  });
}

/** a data socket failure (client went away, reset, TLS error), not a storage/policy error */
function isDataError(e: unknown): boolean {
  return !SftpgoError.is(e) || (e.code === 'ABORTED' && !e.message.startsWith('transfer aborted'));
}

/** the registry entry of a session before login */
class PreLoginEntry implements ActiveConnection {
  readonly protocol = 'FTP' as const;
  readonly username = '';
  readonly maxSessions = 0;
  readonly connectionTime = Date.now();
  readonly lastActivity = this.connectionTime;
  readonly command = '';
  constructor(
    readonly id: string,
    readonly remoteAddress: string,
    private readonly session: FtpSession,
  ) {}
  activeTransfers(): TransferStatus[] {
    return [];
  }
  close(o?: { idle?: boolean }): Promise<void> {
    // as upstream's idle checker: a client idle without logging in is a "no_auth_tryed" login
    if (o?.idle === true) this.session.idleWithoutLogin();
    this.session.destroy();
    return Promise.resolve();
  }
}

export class FtpSession {
  readonly id: string;
  readonly remoteIp: string;
  /** the control socket's peer: the client, or the proxy in front of it */
  private readonly peerIp: string;
  readonly remoteAddress: string;
  private readonly raw: Socket;
  private ctrl: Socket;
  private readonly ctx: SessionContext;
  private readonly log: Logger;
  private readonly startTime = Date.now();
  private readonly preLogin: PreLoginEntry;
  private conn: Connection | undefined;
  private tlsControl = false;
  private protP = false;
  private clientCert: PeerCertificate | undefined;
  private certUserVerified = false;
  private pendingUser: string | undefined;
  private cwd = '/';
  private binary = true;
  private restOffset = 0;
  private renameFrom: string | undefined;
  private hashAlgo: HashAlgo = 'SHA-256';
  private data: DataChannel | undefined;
  private dataChannelTls = false;
  private current: { ctx: TransferCtx; done: Promise<void> } | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: string[] = [];
  private processing = false;
  private readerAttached = false;
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  /**
   * `client`: the client's address when it differs from the socket's peer (PROXY protocol); the
   * peer itself (the proxy then) is who passive data connections must come from
   */
  constructor(ctx: SessionContext, raw: Socket, id: string, client?: { ip: string; port: number }) {
    this.ctx = ctx;
    this.raw = raw;
    this.ctrl = raw;
    this.id = id;
    this.peerIp = plainIp(raw.remoteAddress);
    this.remoteIp = client?.ip ?? this.peerIp;
    this.remoteAddress = `${this.remoteIp}:${client?.port ?? raw.remotePort ?? 0}`;
    this.log = ctx.log.child({ connection_id: id, remote_addr: this.remoteAddress });
    this.preLogin = new PreLoginEntry(id, this.remoteAddress, this);
  }

  /** registers the session and greets (throws CONNECTION_DENIED when max connections is reached) */
  start(): void {
    this.raw.on('close', () => this.onSocketClose());
    this.ctx.registry.add(this.preLogin);
    if (this.ctx.binding.tls_mode === 2) {
      this.startTls(() => this.greet());
      return;
    }
    this.greet();
  }

  private greet(): void {
    this.reply(220, this.ctx.banner);
    this.attachReader();
  }

  // ------------------------------------------------------------------ socket plumbing

  private attachReader(): void {
    if (this.readerAttached || this.closed) return;
    this.readerAttached = true;
    this.ctrl.on('data', this.onData);
    this.ctrl.resume();
  }

  /** stops reading: what follows the current line is left in the socket (TLS bytes after AUTH) */
  private suspendReader(): void {
    if (!this.readerAttached) return;
    this.readerAttached = false;
    this.ctrl.off('data', this.onData);
    this.ctrl.pause();
    if (this.buf.length > 0) {
      this.ctrl.unshift(this.buf);
      this.buf = Buffer.alloc(0);
    }
  }

  private receive(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.readerAttached && !this.closed) {
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0 || nl > MAX_LINE + 1) {
        if (nl > MAX_LINE + 1 || this.buf.length > MAX_LINE + 1) {
          this.log.info({ bytes: this.buf.length }, 'command line too long, closing the connection');
          this.reply(500, 'Command line too long');
          this.endControl();
          return;
        }
        break;
      }
      let line = this.buf.subarray(0, nl).toString('utf8');
      this.buf = this.buf.subarray(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const verb = parseVerb(line);
      if (verb === 'ABOR' && this.current) {
        // out of band: the queue may be waiting for the very transfer ABOR ends
        void this.run(() => this.abor());
        continue;
      }
      if (this.pending.length >= MAX_PENDING) {
        this.reply(421, 'Too many commands in flight, closing the connection');
        this.endControl();
        return;
      }
      this.pending.push(line);
      // AUTH: nothing after this line may be read as text (it is the TLS ClientHello)
      if (verb === 'AUTH' && !this.tlsControl) this.suspendReader();
    }
    if (!this.processing) void this.processQueue();
  }

  private async processQueue(): Promise<void> {
    this.processing = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        const line = this.pending.shift() as string;
        await this.handleLine(line);
      }
    } finally {
      this.processing = false;
    }
  }

  /** runs a handler, answering any unexpected error once */
  private async run(fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (!SftpgoError.is(e)) this.log.error({ err: e }, 'unexpected error');
      const r = toFtpReply(e);
      this.reply(r.code, r.message);
    }
  }

  reply(code: number, text: string): void {
    if (this.closed || this.ctrl.destroyed || this.ctrl.writableEnded) return;
    const lines = text.replace(/\r/g, '').split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    let out = '';
    lines.forEach((l, i) => {
      out += i === lines.length - 1 ? `${code} ${l}\r\n` : `${code}-${l}\r\n`;
    });
    this.ctrl.write(out);
  }

  /** a multi-line reply whose middle lines start with a space (FEAT, STAT, MLST) */
  private replyLines(code: number, first: string, lines: readonly string[], last: string): void {
    if (this.closed || this.ctrl.destroyed || this.ctrl.writableEnded) return;
    let out = `${code}-${first}\r\n`;
    for (const l of lines) out += ` ${l}\r\n`;
    out += `${code} ${last}\r\n`;
    this.ctrl.write(out);
  }

  /** ends the control connection after the pending replies */
  private endControl(): void {
    this.suspendReader();
    this.pending.length = 0;
    if (!this.ctrl.destroyed) this.ctrl.end();
    const t = setTimeout(() => this.destroy(), 2000);
    t.unref();
  }

  /** closes everything now; idempotent */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.length = 0;
    if (this.current) {
      this.current.ctx.aborted = true;
      this.current.ctx.channel.close();
    }
    this.data?.close();
    this.data = undefined;
    this.ctrl.destroy();
    this.raw.destroy();
  }

  private onSocketClose(): void {
    this.destroy();
    this.ctx.registry.remove(this.preLogin);
    // a client that leaves without logging in is no defender event (as upstream: only the idle
    // checker scores it, see idleWithoutLogin), so TCP health checks of a load balancer are
    // not banned
    if (this.conn) void this.conn.close();
    this.ctx.onClosed(this);
  }

  /** wraps the control connection in TLS (implicit TLS, AUTH TLS after the 234 was written) */
  private startTls(onSecure: () => void): void {
    const tls = this.ctx.tls;
    if (!tls) {
      this.destroy();
      return;
    }
    tls.wrap(this.raw, {
      secure: (ts: TLSSocket) => {
        if (this.closed) {
          ts.destroy();
          return;
        }
        ts.on('error', (e) => this.log.debug({ error: e.message }, 'control connection TLS error'));
        this.ctrl = ts;
        this.tlsControl = true;
        if (this.ctx.binding.client_auth_type > 0) this.clientCert = verifiedClientCertificate(ts);
        onSecure();
      },
      failed: (e) => {
        this.log.debug({ error: e.message }, 'TLS handshake failed');
        this.destroy();
      },
    });
  }

  // ------------------------------------------------------------------ dispatch

  private async handleLine(line: string): Promise<void> {
    const sp = line.indexOf(' ');
    const verb = parseVerb(line);
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    if (verb === '') {
      this.reply(500, 'Empty command');
      return;
    }
    const def = COMMANDS[verb];
    if (!def) {
      this.reply(502, `Command "${verb.slice(0, 32)}" not implemented`);
      return;
    }
    if (!def.open && !this.conn) {
      this.reply(530, 'Please login with USER and PASS');
      return;
    }
    if (this.current && !(def.immediate && (verb !== 'STAT' || arg === ''))) await this.current.done;
    if (this.closed) return;
    if (this.conn) {
      this.conn.command = verb === 'PASS' ? 'PASS' : line.slice(0, 512);
      if (!def.keepalive) this.conn.touch();
    }
    await this.run(() => def.run.call(this, arg, verb));
  }

  private resolve(p: string): string {
    return normalizeVirtualPath(p === '' ? '.' : p, this.cwd);
  }

  private get connection(): Connection {
    if (!this.conn) throw new SftpgoError('AUTH_FAILED', 'not logged in');
    return this.conn;
  }

  private dataTls(): boolean {
    return this.ctx.binding.tls_mode === 2 || (this.tlsControl && this.protP);
  }

  // ------------------------------------------------------------------ login

  async cmdUser(arg: string): Promise<void> {
    if (this.conn) {
      this.reply(503, 'Already logged in');
      return;
    }
    if (this.ctx.binding.tls_mode === 1 && !this.tlsControl) {
      this.reply(REPLY_TLS_REQUIRED_CONTROL, 'TLS is required: use AUTH TLS before USER');
      return;
    }
    if (this.ctx.binding.client_auth_type === 1 && !this.tlsControl) {
      // a required client certificate can only be checked on a TLS control connection
      this.reply(REPLY_TLS_REQUIRED_CONTROL, 'A client certificate is required: use AUTH TLS before USER');
      return;
    }
    if (arg === '') {
      this.reply(501, 'Missing username');
      return;
    }
    this.pendingUser = arg;
    this.certUserVerified = false;
    if (this.clientCert !== undefined) {
      await this.certificateLogin(arg, this.clientCert);
      return;
    }
    this.reply(331, `User ${arg} OK. Password required`);
  }

  private async certificateLogin(username: string, cert: PeerCertificate): Promise<void> {
    let user: User;
    try {
      user = await this.ctx.provider.authenticateUser({ username, method: 'TLSCertificate', tlsCert: cert, ip: this.remoteIp, protocol: 'FTP' });
    } catch (e) {
      if (SftpgoError.is(e, 'METHOD_DISABLED')) {
        // the certificate does not identify this user: plain password login
        this.reply(331, `User ${username} OK. Password required`);
        return;
      }
      this.loginFailed('TLSCertificate', username, e, `TLS verification failed: ${exposedMessage(e)}`);
      return;
    }
    this.certUserVerified = true;
    if (isLoginMethodAllowed(user, 'TLSCertificate')) {
      await this.completeLogin(user, 'TLSCertificate', 'TLS certificate ok, continue');
      return;
    }
    this.reply(331, `User ${username} OK. Password required`);
  }

  async cmdPass(arg: string): Promise<void> {
    if (this.conn) {
      this.reply(503, 'Already logged in');
      return;
    }
    const username = this.pendingUser;
    if (username === undefined) {
      this.reply(503, 'Login with USER first');
      return;
    }
    const method = this.certUserVerified ? 'TLSCertificate+password' : 'password';
    let user: User;
    try {
      user = await this.ctx.provider.authenticateUser({ username, method: 'password', password: arg, ip: this.remoteIp, protocol: 'FTP' });
    } catch (e) {
      this.loginFailed(method, username, e);
      return;
    }
    await this.completeLogin(user, method, 'Password ok, continue');
  }

  private async completeLogin(user: User, method: string, okText: string): Promise<void> {
    const username = user.username ?? '';
    let mounts: MountTable;
    try {
      if (!user.home_dir || !user.home_dir.startsWith('/')) {
        throw new SftpgoError('PERMISSION_DENIED', `cannot login user with invalid home dir: ${JSON.stringify(user.home_dir ?? '')}`);
      }
      checkLogin(user, { protocol: 'FTP', loginMethod: method, remoteIp: this.remoteIp, registry: this.ctx.registry });
      mounts = await this.ctx.buildUserFs(user);
    } catch (e) {
      this.loginFailed(method, username, e);
      return;
    }
    if (this.closed) {
      await mounts.close().catch((e: unknown) => this.log.debug({ err: e }, 'closing the user filesystem'));
      return;
    }
    const conn = new Connection({
      id: this.id,
      protocol: 'FTP',
      user,
      mounts,
      remoteAddress: this.remoteAddress,
      localAddress: `${plainIp(this.raw.localAddress)}:${this.raw.localPort ?? 0}`,
      logger: this.ctx.rootLogger.child({ sender: 'FTP', connection_id: this.id, protocol: 'FTP', username, remote_addr: this.remoteAddress }),
      provider: this.ctx.provider,
      config: this.ctx.connConfig,
      registry: this.ctx.registry,
      closeMounts: true,
      onClose: () => this.destroy(),
    });
    this.ctx.registry.remove(this.preLogin);
    try {
      conn.register();
    } catch (e) {
      await mounts.close().catch((ce: unknown) => this.log.debug({ err: ce }, 'closing the user filesystem'));
      this.loginFailed(method, username, e);
      return;
    }
    this.conn = conn;
    this.log.info({ username, login_method: method }, `User ${JSON.stringify(username)} logged in with ${JSON.stringify(method)}, from ip ${JSON.stringify(this.remoteIp)}`);
    this.ctx.provider.updateLastLogin(username).catch((e: unknown) => this.log.warn({ err: e, username }, 'unable to update the last login'));
    reportLogin(this.ctx.postLogin, { protocol: 'FTP', ip: this.remoteIp, method, username, user });
    this.reply(230, okText);
  }

  /**
   * Closed by the idle checker before any login (upstream checkIdles): logged as
   * connection_failed, a defender event and sftpgo_no_auth_total, and a post-login notification.
   */
  idleWithoutLogin(): void {
    if (this.conn || this.closed) return;
    logConnectionFailed(this.ctx.rootLogger, {
      client_ip: this.remoteIp,
      username: '',
      login_type: NO_AUTH_TRIED,
      protocol: 'FTP',
      error: 'client idle',
    });
    this.ctx.gate?.reportNoLoginTried(this.remoteIp);
    this.ctx.postLogin?.notify({
      protocol: 'FTP',
      ip: this.remoteIp,
      method: NO_AUTH_TRIED,
      username: '',
      error: new SftpgoError('AUTH_FAILED', 'client idle'),
      noLookup: true,
    });
  }

  /** one login attempt per connection, as upstream: 530 and close */
  private loginFailed(method: string, username: string, err: unknown, text?: string): void {
    logConnectionFailed(this.ctx.rootLogger, {
      client_ip: this.remoteIp,
      username,
      login_type: method,
      protocol: 'FTP',
      error: err instanceof Error ? err.message : String(err),
    });
    this.ctx.gate?.reportLoginFailure(this.remoteIp, err);
    reportLogin(this.ctx.postLogin, { protocol: 'FTP', ip: this.remoteIp, method, username, error: err });
    this.reply(530, text ?? `Authentication problem: ${exposedMessage(err)}`);
    this.endControl();
  }

  // ------------------------------------------------------------------ TLS commands

  cmdAuth(arg: string): void {
    const mech = arg.trim().toUpperCase();
    if (this.tlsControl) {
      this.reply(503, 'Already using TLS');
      return;
    }
    if (!this.ctx.tls || !['TLS', 'SSL', 'TLS-C', 'TLS-P'].includes(mech)) {
      this.reply(504, this.ctx.tls ? `AUTH ${arg} is not supported` : 'AUTH TLS is not configured on this server');
      this.attachReader();
      return;
    }
    // the reader stopped at the AUTH line: the bytes after it wait in the socket for TLS
    this.reply(234, 'AUTH command ok. Expecting TLS Negotiation.');
    this.startTls(() => this.attachReader());
  }

  cmdPbsz(): void {
    this.reply(200, 'PBSZ=0');
  }

  cmdProt(arg: string): void {
    const level = arg.trim().toUpperCase();
    if (!this.tlsControl) {
      this.reply(503, 'PROT requires a TLS control connection (AUTH TLS)');
      return;
    }
    if (level === 'P') {
      this.protP = true;
      this.reply(200, 'PROT P OK, data connections are protected');
    } else if (level === 'C') {
      if (this.ctx.binding.tls_mode > 0) {
        this.reply(REPLY_TLS_REQUIRED_CONTROL, 'Data connections must be protected on this server');
        return;
      }
      this.protP = false;
      this.reply(200, 'PROT C OK, data connections are clear');
    } else {
      this.reply(536, `PROT ${arg} is not supported`);
    }
  }

  cmdCcc(): void {
    // RFC 4217 §6: the server may refuse to clear the command channel
    this.reply(533, 'Clearing the command channel is not allowed');
  }

  // ------------------------------------------------------------------ session commands

  cmdFeat(): void {
    const f = ['UTF8', 'SIZE', 'MDTM', 'REST STREAM', 'EPRT', 'EPSV', 'MLST Type*;Size*;Modify*;UNIX.mode*;', 'MFMT', 'TVFS'];
    if (this.ctx.tls) f.push('AUTH TLS', 'PBSZ', 'PROT');
    if (this.ctx.cfg.hash_support > 0) {
      f.push(`HASH ${HASH_ALGOS.map((a) => (a === this.hashAlgo ? `${a}*` : a)).join(';')}`);
      f.push('XCRC', 'MD5', 'XMD5', 'XSHA', 'XSHA1', 'XSHA256', 'XSHA512');
    }
    if (this.ctx.cfg.combine_support > 0) f.push('COMB');
    if (this.ctx.cfg.enable_site) f.push('SITE CHMOD', 'SITE SYMLINK');
    if (this.conn) f.push('AVBL');
    this.replyLines(211, 'Features supported:', f, 'End');
  }

  cmdOpts(arg: string): void {
    const [name = '', ...rest] = arg.trim().split(/\s+/);
    const value = rest.join(' ');
    switch (name.toUpperCase()) {
      case 'UTF8':
      case 'UTF-8':
        this.reply(200, 'UTF8 mode is always on');
        return;
      case 'MLST':
        this.reply(200, 'MLST OPTS Type;Size;Modify;UNIX.mode;');
        return;
      case 'HASH': {
        if (this.ctx.cfg.hash_support <= 0) break;
        if (value === '') {
          this.reply(200, this.hashAlgo);
          return;
        }
        const algo = HASH_ALGOS.find((a) => a === value.toUpperCase());
        if (!algo) {
          this.reply(501, 'Unknown algorithm, current selection not changed');
          return;
        }
        this.hashAlgo = algo;
        this.reply(200, algo);
        return;
      }
      default:
        break;
    }
    this.reply(501, `Option ${JSON.stringify(name)} not understood`);
  }

  cmdSyst(): void {
    this.reply(215, 'UNIX Type: L8');
  }

  cmdNoop(): void {
    this.reply(200, 'OK');
  }

  cmdClnt(): void {
    this.reply(200, 'Good to know');
  }

  cmdHelp(): void {
    const verbs = Object.keys(COMMANDS).sort();
    const lines: string[] = [];
    for (let i = 0; i < verbs.length; i += 10) lines.push(verbs.slice(i, i + 10).join(' '));
    this.replyLines(214, 'The following commands are recognized:', lines, 'Help OK');
  }

  cmdQuit(): void {
    this.reply(221, 'Goodbye');
    this.endControl();
  }

  cmdType(arg: string): void {
    const t = arg.trim().toUpperCase().replace(/\s+/g, ' ');
    if (t === 'I' || t === 'L 8' || t === 'L8') {
      this.binary = true;
      this.reply(200, 'Type set to binary');
    } else if (t === 'A' || t === 'A N') {
      this.binary = false;
      this.reply(200, 'Type set to ASCII');
    } else {
      this.reply(504, 'Unsupported transfer type');
    }
  }

  cmdMode(arg: string): void {
    if (arg.trim().toUpperCase() === 'S') this.reply(200, 'Mode set to S');
    else this.reply(504, 'Only stream mode (S) is supported');
  }

  cmdStru(arg: string): void {
    if (arg.trim().toUpperCase() === 'F') this.reply(200, 'Structure set to F');
    else this.reply(504, 'Only file structure (F) is supported');
  }

  cmdAllo(): void {
    this.reply(202, 'ALLO is not needed');
  }

  // ------------------------------------------------------------------ paths

  cmdPwd(): void {
    this.reply(257, `"${this.cwd.replace(/"/g, '""')}" is the current directory`);
  }

  async cmdCwd(arg: string): Promise<void> {
    const p = this.resolve(arg === '' ? '/' : arg);
    let st: FileInfo;
    try {
      st = await this.connection.stat(p);
    } catch (e) {
      const r = errorReply(e, `Can't change directory to ${p}`);
      this.reply(r.code, r.text);
      return;
    }
    if (!st.isDirectory) {
      this.reply(550, `Can't change directory to ${p}: Not a Directory`);
      return;
    }
    this.cwd = p;
    this.reply(250, `CD worked on ${p}`);
  }

  async cmdCdup(): Promise<void> {
    await this.cmdCwd('..');
  }

  async cmdMkd(arg: string): Promise<void> {
    const p = this.resolve(arg);
    try {
      await this.connection.mkdir(p);
    } catch (e) {
      const r = errorReply(e, `Could not create "${p}"`);
      this.reply(r.code, r.text);
      return;
    }
    this.reply(257, `"${p.replace(/"/g, '""')}" created`);
  }

  async cmdRmd(arg: string): Promise<void> {
    const p = this.resolve(arg);
    try {
      await this.connection.rmdir(p);
    } catch (e) {
      const r = errorReply(e, `Could not delete dir ${p}`);
      this.reply(r.code, r.text);
      return;
    }
    this.reply(250, `Deleted dir ${p}`);
  }

  async cmdDele(arg: string): Promise<void> {
    const p = this.resolve(arg);
    try {
      await this.connection.remove(p);
    } catch (e) {
      const r = errorReply(e, `Couldn't delete ${p}`);
      this.reply(r.code, r.text);
      return;
    }
    this.reply(250, `Removed file ${p}`);
  }

  async cmdRnfr(arg: string): Promise<void> {
    const p = this.resolve(arg);
    this.renameFrom = undefined;
    try {
      await this.connection.lstat(p);
    } catch (e) {
      const r = errorReply(e, `Couldn't access ${p}`);
      this.reply(r.code, r.text);
      return;
    }
    this.renameFrom = p;
    this.reply(350, 'Sure, give me a target');
  }

  async cmdRnto(arg: string): Promise<void> {
    const from = this.renameFrom;
    this.renameFrom = undefined;
    if (from === undefined) {
      this.reply(503, 'RNFR is expected before RNTO');
      return;
    }
    const to = this.resolve(arg);
    try {
      await this.connection.rename(from, to);
    } catch (e) {
      const r = errorReply(e, `Couldn't rename ${from} to ${to}`);
      this.reply(r.code, r.text);
      return;
    }
    this.reply(250, 'Rename successful');
  }

  async cmdSize(arg: string): Promise<void> {
    const p = this.resolve(arg);
    if (!this.binary) {
      this.reply(550, 'SIZE not allowed in ASCII mode');
      return;
    }
    try {
      const st = await this.connection.stat(p);
      if (st.isDirectory) {
        this.reply(550, `${p}: not a regular file`);
        return;
      }
      this.reply(213, String(st.size));
    } catch (e) {
      const r = errorReply(e, `Couldn't access ${p}`);
      this.reply(r.code, r.text);
    }
  }

  async cmdMdtm(arg: string): Promise<void> {
    const p = this.resolve(arg);
    try {
      const st = await this.connection.stat(p);
      this.reply(213, ftpTime(st.mtime));
    } catch (e) {
      const r = errorReply(e, `Couldn't access ${p}`);
      this.reply(r.code, r.text);
    }
  }

  async cmdMfmt(arg: string): Promise<void> {
    const sp = arg.indexOf(' ');
    if (sp < 0) {
      this.reply(501, `Couldn't set mtime, not enough params, given: ${arg}`);
      return;
    }
    const t = parseFtpTime(arg.slice(0, sp));
    const name = arg.slice(sp + 1);
    if (!t) {
      this.reply(501, `Couldn't parse mtime, given: ${arg.slice(0, sp)}`);
      return;
    }
    const p = this.resolve(name);
    try {
      await this.connection.setStat(p, { mtime: t, atime: t });
    } catch (e) {
      const r = errorReply(e, `Couldn't set mtime of ${p}`);
      this.reply(r.code, r.text);
      return;
    }
    this.reply(213, `Modify=${ftpTime(t)}; ${name}`);
  }

  cmdRest(arg: string): void {
    if (!this.binary) {
      this.reply(501, 'Resuming transfers not allowed in ASCII mode');
      return;
    }
    const t = arg.trim();
    const n = /^\d{1,15}$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n)) {
      this.reply(501, `Couldn't parse size: ${JSON.stringify(t)}`);
      return;
    }
    this.restOffset = n;
    this.reply(350, `Restarting at ${n}. Send STOR or RETR`);
  }

  /** AVBL [dir] (draft-peterson-streamlined-ftp-command-extensions): bytes that may be uploaded */
  async cmdAvbl(arg: string): Promise<void> {
    const p = this.resolve(arg === '' ? '.' : arg);
    try {
      const st = await this.connection.stat(p);
      if (!st.isDirectory) {
        this.reply(550, `${p}: is not a directory`);
        return;
      }
      const v = await this.connection.statVfs(p);
      let avail = v.bavail * v.frsize;
      const max = this.connection.user.filters?.max_upload_file_size ?? 0;
      if (max > 0) avail = Math.min(avail, max);
      this.reply(213, String(avail));
    } catch (e) {
      const r = errorReply(e, `Couldn't get space for path ${p}`);
      this.reply(r.code, r.text);
    }
  }

  async cmdMlst(arg: string): Promise<void> {
    const p = this.resolve(arg);
    try {
      const st = await this.connection.stat(p);
      this.replyLines(250, `Listing ${p}`, [`${mlsxFacts(st)} ${p}`], 'End');
    } catch (e) {
      const r = errorReply(e, 'Could not list');
      this.reply(r.code, r.text);
    }
  }

  async cmdStat(arg: string): Promise<void> {
    if (arg === '') {
      const lines = [
        `Connected to ${this.ctx.listenAddress} from ${this.remoteAddress} for ${Math.round((Date.now() - this.startTime) / 1000)}s`,
        this.conn ? `Logged in as ${this.conn.username}` : 'Not logged in yet',
        `TYPE: ${this.binary ? 'BINARY' : 'ASCII'}, control TLS: ${this.tlsControl ? 'yes' : 'no'}, data TLS: ${this.dataTls() ? 'yes' : 'no'}`,
      ];
      if (this.current) lines.push(`Transfer in progress: ${this.current.ctx.verb}`);
      lines.push(`SFTPGo ${VERSION} FTP Server`);
      this.replyLines(211, 'Server status', lines, 'End of status');
      return;
    }
    if (!this.conn) {
      this.reply(530, 'Please login with USER and PASS');
      return;
    }
    const p = this.resolve(arg);
    try {
      const st = await this.conn.stat(p);
      const now = Date.now();
      if (!st.isDirectory) {
        this.replyLines(213, `Status of ${arg}:`, [listLine(st, now)], 'End of status');
        return;
      }
      const lines: string[] = [];
      for await (const e of await this.conn.list(p)) lines.push(listLine(e, now));
      this.replyLines(212, `Status of ${arg}:`, lines, 'End of status');
    } catch (e) {
      const r = errorReply(e, 'Could not STAT');
      this.reply(r.code, r.text);
    }
  }

  // ------------------------------------------------------------------ data channel setup

  /** the data connection is wrapped in TLS as decided when PASV/PORT is received */
  private channelOptions(): { peerIp: string; timeoutMs: number; tls: TlsWrapper | undefined; log: Logger } {
    this.dataChannelTls = this.dataTls();
    return {
      peerIp: this.peerIp,
      timeoutMs: this.ctx.dataTimeoutMs,
      tls: this.dataChannelTls ? this.ctx.tls : undefined,
      log: this.log,
    };
  }

  private resetData(): void {
    this.data?.close();
    this.data = undefined;
  }

  async cmdPasv(arg: string, verb: string): Promise<void> {
    const extended = verb === 'EPSV';
    if (extended && arg.trim().toUpperCase() === 'ALL') {
      this.reply(200, 'EPSV ALL ok');
      return;
    }
    this.resetData();
    const local = plainIp(this.raw.localAddress);
    const announced = this.ctx.binding.force_passive_ip || local;
    if (!extended && !isIPv4(announced)) {
      this.reply(425, `Can't open passive connection: invalid passive IP ${JSON.stringify(announced)}, use EPSV`);
      return;
    }
    let ch: PassiveChannel;
    try {
      ch = await PassiveChannel.open(local, this.ctx.cfg.passive_port_range, this.channelOptions());
    } catch (e) {
      this.reply(425, `Can't open passive connection: ${exposedMessage(e)}`);
      return;
    }
    if (this.closed) {
      ch.close();
      return;
    }
    this.data = ch;
    if (extended) {
      this.reply(229, `Entering Extended Passive Mode (|||${ch.port}|)`);
    } else {
      this.reply(227, `Entering Passive Mode (${announced.replace(/\./g, ',')},${ch.port >> 8},${ch.port & 255})`);
    }
  }

  cmdPort(arg: string, verb: string): void {
    if (this.ctx.cfg.disable_active_mode) {
      this.reply(502, `${verb} command is disabled`);
      return;
    }
    const target = verb === 'EPRT' ? parseEprtArg(arg) : parsePortArg(arg);
    if (!target || (!isIPv4(target.host) && !isIPv6(target.host))) {
      this.reply(501, `Problem parsing ${arg}`);
      return;
    }
    if (plainIp(target.host) !== this.remoteIp) {
      this.log.warn({ target: target.host }, 'active data connection to a foreign address refused');
      this.reply(501, 'Your request does not meet the configured security requirements: the data connection must go to the client address');
      return;
    }
    if (target.port < 1024) {
      this.reply(501, 'Your request does not meet the configured security requirements: privileged ports are not allowed');
      return;
    }
    this.resetData();
    const local = plainIp(this.raw.localAddress);
    this.data = new ActiveChannel(
      target.host,
      target.port,
      { address: local, ...(this.ctx.cfg.active_transfers_port_non_20 ? {} : { port: 20 }) },
      this.channelOptions(),
    );
    this.reply(200, `${verb} command successful`);
  }

  // ------------------------------------------------------------------ transfers

  /**
   * Starts a transfer in the background: takes the data channel and the REST offset, waits for
   * the data connection, runs `body` (which opens the file, sends 150 and streams) and sends
   * its final reply unless ABOR or a close got there first.
   */
  private startTransfer(verb: string, body: (t: TransferCtx, rest: number) => Promise<Reply>): void {
    const channel = this.data;
    this.data = undefined;
    const rest = this.restOffset;
    this.restOffset = 0;
    if (!channel) {
      this.reply(425, 'Use PORT or PASV first');
      return;
    }
    if (this.ctx.binding.tls_mode === 1 && !this.dataChannelTls) {
      channel.close();
      this.reply(REPLY_TLS_REQUIRED_DATA, 'Data connections must be protected: use PROT P');
      return;
    }
    const t: TransferCtx = { verb, channel, dc: undefined, aborted: false };
    const done = (async (): Promise<void> => {
      let r: Reply = { code: 451, text: 'internal error' };
      try {
        try {
          t.dc = await channel.connect();
        } catch (e) {
          r = { code: 425, text: `Can't open data connection: ${exposedMessage(e)}` };
          return;
        }
        r = await body(t, rest);
      } catch (e) {
        // a client closing or resetting its data connection is routine: not an error of ours
        this.log.info({ command: verb, error: e instanceof Error ? e.message : String(e) }, 'transfer failed');
        r = isDataError(e) ? { code: 426, text: 'Connection closed; transfer aborted' } : errorReply(e, 'Transfer failed');
      } finally {
        this.current = undefined;
        if (!t.aborted && !this.closed) {
          // a successful data connection closes gracefully: the client reads it to the end
          if (r.code === 226 && t.dc) lingerClose(t.dc);
          else channel.close();
          this.reply(r.code, r.text);
        } else channel.close();
      }
    })();
    this.current = { ctx: t, done };
  }

  /** the socket to stream on: 150 is sent before waiting for the data TLS handshake */
  private async openStream(t: TransferCtx, text: string): Promise<Socket> {
    const dc = t.dc as DataConnection;
    this.reply(150, text);
    return dc.ready();
  }

  async cmdRetr(arg: string): Promise<void> {
    const p = this.resolve(arg);
    const conn = this.connection;
    this.startTransfer('RETR', async (t, rest) => {
      let dl;
      try {
        dl = await conn.openDownload(p, { offset: rest });
      } catch (e) {
        return errorReply(e, 'Could not access file');
      }
      try {
        const sock = await this.openStream(t, `Opening ${this.binary ? 'BINARY' : 'ASCII'} mode data connection for ${virtualBase(p)}`);
        if (this.binary) await dl.sendTo(sock);
        else await pipeline(dl.stream(), toCrlf(), sock);
      } catch (e) {
        await dl.abort(e);
        throw e;
      }
      await dl.close();
      return { code: 226, text: 'Transfer complete' };
    });
  }

  async cmdStor(arg: string, verb: string): Promise<void> {
    const conn = this.connection;
    let p: string;
    if (verb === 'STOU') {
      const base = arg.trim() === '' ? 'ftp' : virtualBase(this.resolve(arg));
      p = this.resolve(`${base}.${randomBytes(6).toString('hex')}`);
    } else {
      p = this.resolve(arg);
    }
    this.startTransfer(verb, async (t, rest) => {
      let up;
      try {
        // open_flags of the pre-upload action: what ftpserverlib passes upstream
        up =
          verb === 'APPE'
            ? await conn.openUpload(p, {
                mode: 'append',
                openFlags: { existing: FTP_APPEND_FLAGS },
              })
            : rest > 0
              ? await conn.openUpload(p, {
                  mode: 'resume',
                  offset: rest,
                  openFlags: { existing: FTP_RESUME_FLAGS },
                })
              : await conn.openUpload(p, {
                  mode: 'truncate',
                  openFlags: { existing: FTP_STORE_FLAGS },
                });
      } catch (e) {
        return errorReply(e, 'Could not access file');
      }
      try {
        const text = verb === 'STOU' ? `FILE: ${virtualBase(p)}` : `Opening ${this.binary ? 'BINARY' : 'ASCII'} mode data connection for ${virtualBase(p)}`;
        const sock = await this.openStream(t, text);
        // receiveUpload closes the upload
        if (!(this.binary && (await receiveUpload(t.dc as DataConnection, up)))) {
          const w: Writable = up.writable();
          if (this.binary) await pipeline(sock, w);
          else await pipeline(sock, fromCrlf(), w);
        }
      } catch (e) {
        await up.abort(e);
        if (SftpgoError.is(e) && !isDataError(e)) return errorReply(e, 'Issue during transfer');
        throw e;
      }
      // the writable's final() closed the upload (data durable, quota updated)
      return { code: 226, text: verb === 'STOU' ? `Transfer complete: ${virtualBase(p)}` : 'Transfer complete' };
    });
  }

  async cmdList(arg: string, verb: string): Promise<void> {
    const conn = this.connection;
    let target = arg;
    if (verb === 'LIST' && /^-[a-zA-Z]+(\s|$)/.test(arg)) {
      // "LIST -la [path]": options, unless the raw argument names something
      const raw = this.resolve(arg);
      const exists = await conn.lstat(raw).then(
        () => true,
        () => false,
      );
      if (!exists) target = arg.replace(/^(-[a-zA-Z]+\s*)+/, '');
    }
    const p = this.resolve(target);
    this.startTransfer(verb, async (t) => {
      const now = this.startTime;
      let lines: AsyncIterable<string> | Iterable<string>;
      try {
        const st = await conn.stat(p);
        if (!st.isDirectory) {
          if (verb === 'MLSD') return { code: 501, text: `${p} is not a directory` };
          const one = verb === 'LIST' ? listLine(st, now) : virtualBase(p);
          lines = [one];
        } else {
          const it = await conn.list(p);
          lines = (async function* (): AsyncGenerator<string> {
            for await (const e of it) {
              yield verb === 'LIST' ? listLine(e, now) : verb === 'MLSD' ? mlsdLine(e) : e.name;
            }
          })();
        }
      } catch (e) {
        return errorReply(e, 'Could not list');
      }
      const sock = await this.openStream(t, 'Here comes the directory listing');
      await pipeline(Readable.from(batchLines(lines)), sock);
      return { code: 226, text: 'Directory send OK' };
    });
  }

  // ------------------------------------------------------------------ ABOR

  private async abor(): Promise<void> {
    const cur = this.current;
    if (!cur) {
      this.resetData();
      this.reply(226, 'ABOR successful; no transfer in progress');
      return;
    }
    cur.ctx.aborted = true;
    cur.ctx.channel.close();
    await cur.done;
    this.reply(426, 'Connection closed; transfer aborted');
    this.reply(226, 'ABOR successful; closing transfer connection');
  }

  // ------------------------------------------------------------------ SITE, HASH, COMB

  async cmdSite(arg: string): Promise<void> {
    if (!this.ctx.cfg.enable_site) {
      this.reply(502, 'SITE support is disabled');
      return;
    }
    const words = arg.trim().split(/\s+/);
    const sub = (words[0] ?? '').toUpperCase();
    const conn = this.connection;
    if (sub === 'CHMOD') {
      const mode = words[1] ?? '';
      const name = arg.trim().split(/\s+/).slice(2).join(' ');
      if (!/^[0-7]{1,4}$/.test(mode) || name === '') {
        this.reply(501, 'Usage: SITE CHMOD <octal mode> <path>');
        return;
      }
      try {
        await conn.setStat(this.resolve(name), { mode: parseInt(mode, 8) });
      } catch (e) {
        const r = errorReply(e, "Couldn't chmod");
        this.reply(r.code, r.text);
        return;
      }
      this.reply(200, 'SITE CHMOD command successful');
      return;
    }
    if (sub === 'SYMLINK') {
      if (words.length !== 3) {
        this.reply(501, 'Usage: SITE SYMLINK <target> <link>');
        return;
      }
      try {
        await conn.symlink(this.resolve(words[1] as string), this.resolve(words[2] as string));
      } catch (e) {
        const r = errorReply(e, "Couldn't symlink");
        this.reply(r.code, r.text);
        return;
      }
      this.reply(200, 'SITE SYMLINK command successful');
      return;
    }
    this.reply(504, `Unknown SITE subcommand: ${sub.slice(0, 32)}`);
  }

  async cmdHash(arg: string, verb: string): Promise<void> {
    if (this.ctx.cfg.hash_support <= 0) {
      this.reply(502, 'File hash support is disabled');
      return;
    }
    const conn = this.connection;
    let name = arg;
    let start = 0;
    let end: number | undefined;
    const algo = verb === 'HASH' ? this.hashAlgo : (HASH_VERBS[verb] as HashAlgo);
    if (verb !== 'HASH') {
      // <file> [start [end]]: trailing integers are offsets
      const m = /^(.*?)(?:\s+(\d+))?(?:\s+(\d+))?$/.exec(arg.trim());
      name = m?.[1] ?? arg;
      if (m?.[2] !== undefined) start = Number(m[2]);
      if (m?.[3] !== undefined) end = Number(m[3]);
    }
    const p = this.resolve(name);
    let st: FileInfo;
    try {
      st = await conn.stat(p);
    } catch (e) {
      const r = errorReply(e, name);
      this.reply(r.code, r.text);
      return;
    }
    if (!st.isFile) {
      this.reply(550, `${name} is not a regular file`);
      return;
    }
    const stop = end ?? st.size;
    if (start > st.size) {
      this.reply(501, `invalid start offset ${start}, file size ${st.size}`);
      return;
    }
    if (stop < start || stop > st.size) {
      this.reply(501, `invalid end offset ${stop}, file size ${st.size}`);
      return;
    }
    let digest: string;
    try {
      digest = await hashRange(conn, p, algo, start, stop);
    } catch (e) {
      const r = errorReply(e, name);
      this.reply(r.code, r.text);
      return;
    }
    if (verb === 'HASH') this.reply(213, `${algo} ${start}-${stop} ${digest} ${name}`);
    else this.reply(250, digest);
  }

  async cmdComb(arg: string): Promise<void> {
    if (this.ctx.cfg.combine_support <= 0) {
      this.reply(502, 'COMB support is disabled');
      return;
    }
    const names = splitQuoted(arg.trim());
    if (names.length < 2) {
      this.reply(501, `invalid COMB parameters: ${arg}`);
      return;
    }
    const conn = this.connection;
    const target = this.resolve(names[0] as string);
    const parts = names.slice(1).map((n) => this.resolve(n));
    let up;
    try {
      up = await conn.openUpload(target, {
        mode: 'append',
        openFlags: { existing: FTP_APPEND_FLAGS },
      });
    } catch (e) {
      const r = errorReply(e, `Could not access file "${target}"`);
      this.reply(r.code, r.text);
      return;
    }
    const w = up.writable();
    for (const part of parts) {
      try {
        const dl = await conn.openDownload(part);
        try {
          await pipeline(dl.stream(), w, { end: false });
        } finally {
          await dl.close();
        }
      } catch (e) {
        await up.abort(e);
        const r = errorReply(e, `Could not combine file "${part}"`);
        this.reply(r.code, r.text);
        return;
      }
    }
    try {
      w.end();
      await finished(w);
    } catch (e) {
      const r = errorReply(e, `Could not access file "${target}"`);
      this.reply(r.code, r.text);
      return;
    }
    for (const part of parts) {
      try {
        await conn.remove(part);
      } catch (e) {
        const r = errorReply(e, `Could not delete file "${part}" after combine`);
        this.reply(r.code, r.text);
        return;
      }
    }
    this.reply(250, 'COMB succeeded!');
  }
}

/** the verb of a command line: upper case; Telnet IP/Synch garbage before ABOR/STAT/QUIT dropped */
export function parseVerb(line: string): string {
  const sp = line.indexOf(' ');
  let verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  if (!/^[A-Z0-9]*$/.test(verb)) {
    const m = /(ABOR|STAT|QUIT)$/.exec(verb);
    verb = m ? (m[1] as string) : verb.replace(/[^A-Z0-9]/g, '?');
  }
  return verb;
}

/** joins listing lines into chunks of ~64 KiB (one write per chunk, not per entry) */
async function* batchLines(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<Buffer> {
  let acc = '';
  for await (const l of lines) {
    acc += `${l}\r\n`;
    if (acc.length >= 65536) {
      yield Buffer.from(acc, 'utf8');
      acc = '';
    }
  }
  if (acc !== '') yield Buffer.from(acc, 'utf8');
}

/** closes a data connection whose transfer succeeded: wait for the peer to close, then destroy */
function lingerClose(dc: DataConnection): void {
  const s = dc.raw;
  if (s.destroyed) return;
  const t = setTimeout(() => dc.destroy(), DATA_LINGER_MS);
  t.unref();
  s.once('close', () => clearTimeout(t));
}

async function hashRange(conn: Connection, p: string, algo: HashAlgo, start: number, end: number): Promise<string> {
  const dl = await conn.openDownload(p, { offset: start });
  try {
    let crc = 0;
    const h = algo === 'CRC32' ? undefined : createHash(algo.replace('-', '').toLowerCase());
    let pos = start;
    while (pos < end) {
      const chunk = await dl.read(pos, Math.min(256 * 1024, end - pos));
      if (!chunk || chunk.length === 0) break;
      if (h) h.update(chunk);
      else crc = crc32(chunk, crc);
      pos += chunk.length;
    }
    return h ? h.digest('hex') : (crc >>> 0).toString(16).padStart(8, '0');
  } finally {
    await dl.close();
  }
}

const COMMANDS: Record<string, CommandDef> = {
  USER: { run: FtpSession.prototype.cmdUser, open: true },
  PASS: { run: FtpSession.prototype.cmdPass, open: true },
  AUTH: { run: FtpSession.prototype.cmdAuth, open: true },
  PBSZ: { run: FtpSession.prototype.cmdPbsz, open: true, keepalive: true },
  PROT: { run: FtpSession.prototype.cmdProt, open: true, keepalive: true },
  CCC: { run: FtpSession.prototype.cmdCcc, open: true },
  FEAT: { run: FtpSession.prototype.cmdFeat, open: true, keepalive: true },
  OPTS: { run: FtpSession.prototype.cmdOpts, open: true, keepalive: true },
  SYST: { run: FtpSession.prototype.cmdSyst, open: true, keepalive: true },
  NOOP: { run: FtpSession.prototype.cmdNoop, open: true, keepalive: true },
  CLNT: { run: FtpSession.prototype.cmdClnt, open: true, keepalive: true },
  HELP: { run: FtpSession.prototype.cmdHelp, open: true, keepalive: true },
  QUIT: { run: FtpSession.prototype.cmdQuit, open: true, immediate: false },
  STAT: { run: FtpSession.prototype.cmdStat, open: true, immediate: true },
  TYPE: { run: FtpSession.prototype.cmdType, keepalive: true },
  MODE: { run: FtpSession.prototype.cmdMode, keepalive: true },
  STRU: { run: FtpSession.prototype.cmdStru, keepalive: true },
  ALLO: { run: FtpSession.prototype.cmdAllo, keepalive: true },
  PWD: { run: FtpSession.prototype.cmdPwd, keepalive: true },
  XPWD: { run: FtpSession.prototype.cmdPwd, keepalive: true },
  CWD: { run: FtpSession.prototype.cmdCwd },
  XCWD: { run: FtpSession.prototype.cmdCwd },
  CDUP: { run: FtpSession.prototype.cmdCdup },
  XCUP: { run: FtpSession.prototype.cmdCdup },
  MKD: { run: FtpSession.prototype.cmdMkd },
  XMKD: { run: FtpSession.prototype.cmdMkd },
  RMD: { run: FtpSession.prototype.cmdRmd },
  XRMD: { run: FtpSession.prototype.cmdRmd },
  DELE: { run: FtpSession.prototype.cmdDele },
  RNFR: { run: FtpSession.prototype.cmdRnfr },
  RNTO: { run: FtpSession.prototype.cmdRnto },
  SIZE: { run: FtpSession.prototype.cmdSize },
  MDTM: { run: FtpSession.prototype.cmdMdtm },
  MFMT: { run: FtpSession.prototype.cmdMfmt },
  REST: { run: FtpSession.prototype.cmdRest },
  MLST: { run: FtpSession.prototype.cmdMlst },
  AVBL: { run: FtpSession.prototype.cmdAvbl },
  PASV: { run: FtpSession.prototype.cmdPasv, keepalive: true },
  EPSV: { run: FtpSession.prototype.cmdPasv, keepalive: true },
  PORT: { run: FtpSession.prototype.cmdPort, keepalive: true },
  EPRT: { run: FtpSession.prototype.cmdPort, keepalive: true },
  RETR: { run: FtpSession.prototype.cmdRetr },
  STOR: { run: FtpSession.prototype.cmdStor },
  APPE: { run: FtpSession.prototype.cmdStor },
  STOU: { run: FtpSession.prototype.cmdStor },
  LIST: { run: FtpSession.prototype.cmdList },
  NLST: { run: FtpSession.prototype.cmdList },
  MLSD: { run: FtpSession.prototype.cmdList },
  SITE: { run: FtpSession.prototype.cmdSite },
  HASH: { run: FtpSession.prototype.cmdHash },
  XCRC: { run: FtpSession.prototype.cmdHash },
  MD5: { run: FtpSession.prototype.cmdHash },
  XMD5: { run: FtpSession.prototype.cmdHash },
  XSHA: { run: FtpSession.prototype.cmdHash },
  XSHA1: { run: FtpSession.prototype.cmdHash },
  XSHA256: { run: FtpSession.prototype.cmdHash },
  XSHA512: { run: FtpSession.prototype.cmdHash },
  COMB: { run: FtpSession.prototype.cmdComb },
};
