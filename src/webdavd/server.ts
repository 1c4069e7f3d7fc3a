/**
 * The WebDAV server (upstream webdavd/server.go at v2.1.2): one HTTP(S) listener per enabled
 * binding, our request pipeline in front of nephele:
 *   client IP (proxy_allowed) -> connection limits -> defender / rate limiters -> CORS ->
 *   prefix -> anonymous OPTIONS -> authentication (Basic, TLS certificate, user cache) ->
 *   login checks -> one common.Connection (`DAV_<xid>`) for the request -> nephele.
 * nephele (pinned, wrapped by adapter.ts/methods.ts) parses WebDAV; every file operation goes
 * through the Connection.
 */
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { Request } from 'express';
import type { Authenticator } from 'nephele';
import nephele, { UnauthorizedError } from 'nephele';
import type { ConnectionGate } from '../common/connection-gate.js';
import { isPostConnectDenial } from '../common/post-connect.js';
import { reportLogin, type PostLoginNotifier } from '../common/post-login.js';
import { Connection } from '../common/connection.js';
import { checkLogin } from '../common/login.js';
import { RateLimitError } from '../common/ratelimiter.js';
import type { ConnectionRegistry } from '../common/registry.js';
import { newConnectionId, newXid } from '../common/registry.js';
import { connectionConfigOf, userFsBuilder, type ListeningAddress, type ProtocolServer } from '../common/server.js';
import type { ActionNotifier } from '../common/actions.js';
import type { ConnectionConfig } from '../common/types.js';
import type { Config, WebdavdBinding, WebdavdConfig } from '../config/index.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import { logConnectionFailed, type Logger } from '../logger/index.js';
import { cipherOptions } from '../util/tls-ciphers.js';
import { ipMatcher, resolveRemoteIp } from '../util/remote-ip.js';
import { peerCertificate, type PeerCertificate } from '../util/tls-peer.js';
import type { MountTable, SecretDecrypter } from '../vfs/index.js';
import { DavAdapter, type DavRequestContext } from './adapter.js';
import { parseBasicAuth, UserCache, type CachedUser } from './auth.js';
import { corsHandler, type CorsHandler } from './cors.js';
import { fastFileRequest, fastPathCandidate, type FastPathDeps } from './fast.js';
import { directPropfind, directPropfindCandidate } from './propfind.js';
import { httpError } from './http-map.js';
import { davMethodsPlugin } from './methods.js';
import { MimeTypes } from './mime.js';
import { removeDotSegments } from './paths.js';
import { UserDavState } from './state.js';

const REALM = 'Basic realm="SFTPGo WebDAV"';
const LAST_LOGIN_INTERVAL_MS = 10 * 60 * 1000;
/** the largest XML body (PROPFIND, PROPPATCH, LOCK) nephele may buffer */
const MAX_XML_BODY = 1024 * 1024;
/**
 * nephele's response compression: off (upstream does not compress). propfind.ts's direct
 * PROPFIND sends its body as is, which is nephele's answer only without compression.
 */
const NEPHELE_COMPRESSION = false;
/** the message shape of sax (xml2js) parse errors */
const SAX_ERROR = /\nLine: \d+\nColumn: \d+\nChar:/;
const ALLOW_ALL = 'OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK';

export interface WebdavdDeps {
  config: Readonly<Config>;
  configDir: string;
  logger: Logger;
  provider: DataProvider;
  connections: ConnectionRegistry;
  gate?: ConnectionGate;
  /** the post-login hook, told about every request's login; absent when none is configured */
  postLogin?: PostLoginNotifier | undefined;
  /** builds a user's mount table (tests may replace it) */
  createUserFs?: (user: User) => Promise<MountTable>;
  /** decrypts the secrets of filesystem configs (the service's KMS) */
  decryptSecret?: SecretDecrypter;
  /** the custom actions of common.actions (absent: none configured) */
  actions?: ActionNotifier;
}

export interface WebdavServiceStatus {
  is_active: boolean;
  bindings: { address: string; port: number; enable_https: boolean; client_auth_type: number }[];
}

type NodeRequest = IncomingMessage & { baseUrl?: string; originalUrl?: string };

interface Listener {
  server: http.Server;
  binding: WebdavdBinding;
}

/** a binding with what each request needs precomputed */
interface BindingRuntime {
  binding: WebdavdBinding;
  isAllowedProxy: (ip: string) => boolean;
  /** the prefix without trailing slashes ("" = none) */
  prefix: string;
}

function tlsSocket(req: IncomingMessage): TLSSocket | undefined {
  const s = req.socket as Partial<TLSSocket>;
  return s.encrypted ? (req.socket as TLSSocket) : undefined;
}

export class WebdavServer implements ProtocolServer {
  readonly name = 'webdavd' as const;
  private readonly log: Logger;
  private readonly connConfig: ConnectionConfig;
  private readonly cache: UserCache;
  private readonly mime: MimeTypes;
  /** per user: locks and dead properties, with the requests using them */
  private readonly states = new Map<string, { state: UserDavState; requests: number }>();
  private readonly contexts = new WeakMap<IncomingMessage, DavRequestContext>();
  private readonly cors: CorsHandler | undefined;
  private readonly app: (req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => void;
  /** what the fast path (fast.ts) takes from nephele's set-up */
  private readonly contentTypes = new Map<string, string>();
  private listeners: Listener[] = [];
  private active = false;

  constructor(
    private readonly cfg: Readonly<WebdavdConfig>,
    private readonly deps: WebdavdDeps,
  ) {
    this.log = deps.logger.child({ sender: 'webdavd' });
    this.connConfig = connectionConfigOf(
      deps.config.common,
      deps.config.data_provider.track_quota,
      deps.actions,
    );
    this.cache = new UserCache(
      { expirationMinutes: cfg.cache.users.expiration_time, maxSize: cfg.cache.users.max_size },
      { provider: deps.provider, createMounts: (u) => this.buildUserFs(u), log: this.log },
    );
    this.mime = new MimeTypes({ enabled: cfg.cache.mime_types.enabled, maxSize: cfg.cache.mime_types.max_size });
    this.cors = cfg.cors.enabled ? corsHandler(cfg.cors) : undefined;
    this.app = this.buildApp();
  }

  // ------------------------------------------------------------------ lifecycle

  private resolvePath(p: string): string {
    return isAbsolute(p) ? p : join(this.deps.configDir, p);
  }

  private async tlsOptions(b: WebdavdBinding): Promise<https.ServerOptions> {
    const where = `webdavd.bindings ${b.address}:${b.port}`;
    if (!this.cfg.certificate_file || !this.cfg.certificate_key_file) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `${where}: enable_https needs webdavd.certificate_file and webdavd.certificate_key_file`,
      );
    }
    const read = async (key: string, f: string): Promise<Buffer> => {
      try {
        return await readFile(this.resolvePath(f));
      } catch (e) {
        throw new SftpgoError('INVALID_INPUT', `webdavd.${key}: unable to read ${JSON.stringify(f)}`, { cause: e });
      }
    };
    const opts: https.ServerOptions = {
      cert: await read('certificate_file', this.cfg.certificate_file),
      key: await read('certificate_key_file', this.cfg.certificate_key_file),
      minVersion: 'TLSv1.2',
      ...cipherOptions(b.tls_cipher_suites, (name) => this.log.warn({}, `${where}: tls_cipher_suites: unsupported cipher suite ${JSON.stringify(name)} ignored`)),
    };
    if (b.client_auth_type > 0) {
      if (this.cfg.ca_certificates.length === 0) {
        throw new SftpgoError('INVALID_INPUT', `${where}: client_auth_type needs webdavd.ca_certificates`);
      }
      opts.ca = await Promise.all(this.cfg.ca_certificates.map((f) => read('ca_certificates', f)));
      if (this.cfg.ca_revocation_lists.length > 0) {
        opts.crl = await Promise.all(this.cfg.ca_revocation_lists.map((f) => read('ca_revocation_lists', f)));
      }
      opts.requestCert = true;
      // 1: a verified certificate is required; 2: verified when given (checked per request)
      opts.rejectUnauthorized = b.client_auth_type === 1;
    }
    return opts;
  }

  async start(): Promise<void> {
    const bindings = this.cfg.bindings.filter((b) => b.port > 0);
    if (bindings.length === 0) throw new SftpgoError('INVALID_INPUT', 'webdavd: no binding configured');
    try {
      for (const b of bindings) {
        if (b.client_auth_type > 0 && !b.enable_https) {
          throw new SftpgoError('INVALID_INPUT', `webdavd.bindings ${b.address}:${b.port}: client_auth_type needs enable_https`);
        }
        const rt: BindingRuntime = {
          binding: b,
          isAllowedProxy: ipMatcher(b.proxy_allowed),
          prefix: b.prefix.replace(/\/+$/, ''),
        };
        const handler = (req: IncomingMessage, res: ServerResponse): void => {
          this.onRequest(req, res, rt).catch((e: unknown) => {
            this.log.error({ err: e }, 'unexpected request error');
            if (!res.headersSent) sendText(res, 500, 'internal error');
            else res.destroy();
          });
        };
        const server = b.enable_https
          ? https.createServer({ ...(await this.tlsOptions(b)), maxHeaderSize: 64 * 1024 }, handler)
          : http.createServer({ maxHeaderSize: 64 * 1024 }, handler);
        server.headersTimeout = 30_000;
        // as upstream: 30 s for the headers, then a socket idle (nothing read or written) for
        // 60 s is closed; a transfer moving data never hits it
        server.requestTimeout = 0;
        server.setTimeout(60_000);
        server.keepAliveTimeout = 60_000;
        server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
          // what node's HTTP parser refuses (unknown method, bad headers, timeouts)
          this.log.debug({ error: e.message }, 'client error');
          if (!socket.writable || e.code === 'ECONNRESET') {
            socket.destroy();
            return;
          }
          const status = e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
          socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          const onListen = (): void => {
            server.off('error', reject);
            resolve();
          };
          if (isAbsolute(b.address)) server.listen(b.address, onListen);
          else server.listen({ port: b.port, host: b.address || undefined }, onListen);
        });
        this.listeners.push({ server, binding: b });
        this.log.info({}, `server listener registered, address: ${JSON.stringify(server.address())}`);
      }
    } catch (e) {
      await this.stop();
      if (SftpgoError.is(e)) throw e;
      throw new SftpgoError('INVALID_INPUT', `webdavd: unable to listen: ${String(e)}`, { cause: e });
    }
    this.active = true;
  }

  /**
   * Re-reads the certificate, key, CA and CRL files (SIGHUP, as upstream): handshakes from now on
   * use them, open connections keep theirs. A file that cannot be read or parsed keeps the
   * current material and rejects.
   */
  async reloadCertificates(): Promise<void> {
    const https = this.listeners.filter((l) => l.binding.enable_https);
    if (https.length === 0) return;
    const next: { server: https.Server; opts: https.ServerOptions }[] = [];
    for (const l of https) {
      const opts = await this.tlsOptions(l.binding);
      try {
        createSecureContext(opts);
      } catch (e) {
        throw new SftpgoError('INVALID_INPUT', `webdavd: invalid TLS certificate, key, CA or CRL: ${(e as Error).message}`, { cause: e });
      }
      next.push({ server: l.server as https.Server, opts });
    }
    for (const n of next) n.server.setSecureContext(n.opts);
    this.log.info({}, 'TLS certificates reloaded');
  }

  async stop(): Promise<void> {
    this.active = false;
    const servers = this.listeners.map((l) => l.server);
    this.listeners = [];
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.cache.dispose();
  }

  addresses(): ListeningAddress[] {
    return this.listeners.map((l) => {
      const a = l.server.address();
      if (typeof a === 'string' || a === null) return { address: a ?? l.binding.address, port: 0 };
      return { address: (a as AddressInfo).address, port: (a as AddressInfo).port };
    });
  }

  status(): WebdavServiceStatus {
    return {
      is_active: this.active,
      bindings: this.listeners.map((l) => {
        const a = l.server.address();
        return {
          address: l.binding.address,
          port: a !== null && typeof a === 'object' ? a.port : l.binding.port,
          enable_https: l.binding.enable_https,
          client_auth_type: l.binding.client_auth_type,
        };
      }),
    };
  }

  private buildUserFs(user: User): Promise<MountTable> {
    return userFsBuilder(this.deps, this.connConfig, this.log)(user);
  }

  /** the user's state for one more request (pair with releaseState) */
  private acquireState(username: string): UserDavState {
    let s = this.states.get(username);
    if (!s) this.states.set(username, (s = { state: new UserDavState(), requests: 0 }));
    s.requests++;
    return s.state;
  }

  /** a request ended: a state holding nothing and used by no request is dropped */
  private releaseState(username: string): void {
    const s = this.states.get(username);
    if (!s) return;
    s.requests--;
    if (s.requests <= 0 && s.state.empty) this.states.delete(username);
  }

  // ------------------------------------------------------------------ nephele

  private buildApp(): WebdavServer['app'] {
    const ctxOf = (r: Request): DavRequestContext | undefined => this.contexts.get(r);
    const authenticator: Authenticator = {
      authenticate: (request: Request): Promise<{ username: string }> => {
        const ctx = ctxOf(request);
        if (!ctx) return Promise.reject(new UnauthorizedError('not authenticated'));
        return Promise.resolve(ctx.user);
      },
      cleanAuthentication: () => Promise.resolve(),
    };
    const app = nephele(
      {
        adapter: (request: Request) => {
          const ctx = ctxOf(request);
          if (!ctx) return Promise.reject(new UnauthorizedError('not authenticated'));
          return Promise.resolve(new DavAdapter(ctx));
        },
        authenticator,
        plugins: [davMethodsPlugin(ctxOf)],
      },
      {
        compression: NEPHELE_COMPRESSION,
        errorHandler: (code, message, request, response, error) =>
          this.nepheleError(code, message, request, response, error),
      },
    );
    // express' advertisement header says nothing useful to clients
    (app as unknown as { disable(setting: string): void }).disable('x-powered-by');
    return app as unknown as WebdavServer['app'];
  }

  /**
   * The Content-Type header nephele's responses carry for a media type: express' `res.set`
   * adds the charset its MIME table knows (text types, JSON …). Asked of express' own response
   * prototype once per type, so both paths write the same header.
   */
  private contentTypeHeader(mediaType: string): string {
    let header = this.contentTypes.get(mediaType);
    if (header !== undefined) return header;
    const proto = (this.app as unknown as { response: { set(field: string, value: string): unknown } }).response;
    const capture = {
      setHeader: (_name: string, value: string) => {
        header = value;
      },
    };
    proto.set.call(capture, 'Content-Type', mediaType);
    header ??= mediaType;
    this.contentTypes.set(mediaType, header);
    return header;
  }

  /** nephele's error handler, also the fast path's (node's request/response, express' or not) */
  private nepheleError(
    code: number,
    message: string,
    request: IncomingMessage,
    response: ServerResponse,
    error?: Error,
  ): Promise<void> {
    let status = code;
    let text = message;
    if (error && SftpgoError.is(error)) ({ status, message: text } = httpError(error));
    if (status === 500 && error && SAX_ERROR.test(error.message)) {
      // nephele lets the XML parser's errors through as 500s: a malformed body is a 400
      status = 400;
      text = 'malformed XML request body';
    }
    const ctx = this.contexts.get(request);
    const log = ctx?.conn.log ?? this.log;
    const url = (request as NodeRequest).originalUrl ?? request.url ?? '';
    if (status >= 500) log.warn({ err: error, status }, `${request.method ?? ''} ${url}: ${text}`);
    else log.debug({ error: error?.message, status }, `${request.method ?? ''} ${url}: ${text}`);
    if (response.headersSent || response.destroyed) {
      // the status line is gone: cut the response so the client sees the failure
      if (status >= 400) response.destroy();
      else response.end();
      return Promise.resolve();
    }
    if (status < 400) {
      response.statusCode = status;
      const e = error as { etag?: string; lastModified?: Date } | undefined;
      if (e?.etag) response.setHeader('ETag', e.etag);
      if (e?.lastModified) response.setHeader('Last-Modified', e.lastModified.toUTCString());
      response.end();
      return Promise.resolve();
    }
    sendText(response, status, text);
    return Promise.resolve();
  }

  // ------------------------------------------------------------------ the pipeline

  private async onRequest(req: IncomingMessage, res: ServerResponse, rt: BindingRuntime): Promise<void> {
    const b = rt.binding;
    const ip = resolveRemoteIp(req.socket.remoteAddress, req.headers, rt.isAllowedProxy);
    const remoteAddress = `${ip}:${req.socket.remotePort ?? 0}`;
    if (!this.active) return sendText(res, 503, 'the server is stopping');

    try {
      this.deps.connections.acceptClient(ip);
    } catch (e) {
      this.log.debug({ remote_addr: ip, error: exposedMessage(e) }, 'connection refused');
      return sendText(res, 503, 'you are not allowed to connect');
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.deps.connections.releaseClient(ip);
    };
    res.once('close', release);
    try {
      await this.deps.gate?.checkConnectionAllowed(ip, 'DAV');
    } catch (e) {
      if (e instanceof RateLimitError) {
        const secs = Math.max(1, Math.round(e.retryAfterMs / 1000));
        res.setHeader('Retry-After', String(secs));
        res.setHeader('X-Retry-In', `${Math.ceil(e.retryAfterMs)}ms`);
        return sendText(res, 429, e.message);
      }
      // upstream's ErrConnectionDenied text for a post-connect rejection
      return sendText(res, 403, isPostConnectDenial(e) ? 'you are not allowed to connect' : exposedMessage(e));
    }

    if (this.cors?.(req, res)) return;

    // the binding prefix: "/dav" serves "/dav" and "/dav/..." only
    const prefix = rt.prefix;
    const url = req.url ?? '/';
    const nreq = req as NodeRequest;
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q);
    if (!path.startsWith('/')) return sendText(res, 400, 'Bad Request');
    if (prefix) {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) return sendText(res, 404, 'Not Found');
      nreq.baseUrl = prefix;
      path = path.slice(prefix.length) || '/';
    }
    // `..` resolved below the prefix, inside the namespace (nephele would refuse it with 400)
    req.url = `${removeDotSegments(path)}${query}`;
    if (prefix) nreq.originalUrl = `${prefix}${req.url}`;
    req.headers.host ??= `${req.socket.localAddress ?? 'localhost'}:${req.socket.localPort ?? 0}`;

    const basic = parseBasicAuth(req.headers.authorization);
    const cert = this.clientCertificate(req, b);
    // [metrics, post-login] every request's login result, as upstream (cached users included)
    const notify = (loginMethod: string, username: string, o: { user?: User; error?: unknown; noLookup?: boolean }): void =>
      reportLogin(this.deps.postLogin, { protocol: 'DAV', ip, method: loginMethod, username, ...o });
    if (cert === null) {
      notify('TLSCertificate', basic?.username ?? '', { error: new SftpgoError('AUTH_FAILED', 'invalid TLS client certificate') });
      return sendText(res, 403, 'invalid TLS client certificate');
    }
    // Windows Explorer / macOS Finder ask OPTIONS before sending credentials (upstream #614)
    if (req.method === 'OPTIONS' && !basic && !cert) return this.anonymousOptions(res);
    if (!basic && !cert) {
      notify('password', '', { error: new SftpgoError('AUTH_FAILED', 'no credential provided'), noLookup: true });
      res.setHeader('WWW-Authenticate', REALM);
      return sendText(res, 401, 'Authentication error: no credential provided');
    }

    const method = cert ? (basic ? 'TLSCertificate+password' : 'TLSCertificate') : 'password';
    const username = basic?.username ?? cert?.commonName ?? '';
    let cached: CachedUser;
    let loginMethod: string;
    try {
      ({ cached, loginMethod } = await this.authenticate(basic, cert, ip));
    } catch (e) {
      logConnectionFailed(this.deps.logger, {
        client_ip: ip,
        username,
        login_type: method,
        protocol: 'DAV',
        error: e instanceof Error ? e.message : String(e),
      });
      this.deps.gate?.reportLoginFailure(ip, e);
      notify(method, username, { error: e });
      res.setHeader('WWW-Authenticate', REALM);
      return sendText(res, 401, 'Authentication error: invalid credentials');
    }
    const user = cached.user;
    try {
      if (!user.home_dir || !user.home_dir.startsWith('/')) {
        throw new SftpgoError('PERMISSION_DENIED', `cannot login user with invalid home dir: ${JSON.stringify(user.home_dir ?? '')}`);
      }
      checkLogin(user, { protocol: 'DAV', loginMethod, remoteIp: ip, registry: this.deps.connections });
    } catch (e) {
      this.cache.release(cached);
      this.cache.evict(user.username ?? '');
      logConnectionFailed(this.deps.logger, {
        client_ip: ip,
        username,
        login_type: loginMethod,
        protocol: 'DAV',
        error: exposedMessage(e),
      });
      notify(loginMethod, username, { user, error: e });
      if (SftpgoError.is(e, 'AUTH_FAILED')) {
        this.deps.gate?.reportLoginFailure(ip, e);
        res.setHeader('WWW-Authenticate', REALM);
        return sendText(res, 401, 'Authentication error: invalid credentials');
      }
      return sendText(res, 403, exposedMessage(e));
    }
    this.updateLastLogin(cached);
    notify(loginMethod, username, { user });
    this.serve(req, res, cached, remoteAddress);
  }

  /**
   * A verified client certificate; undefined without one (or when the binding does not ask for
   * one); null for a certificate that did not verify (client_auth_type 2) or has no CommonName.
   */
  private clientCertificate(req: IncomingMessage, b: WebdavdBinding): PeerCertificate | undefined | null {
    if (b.client_auth_type === 0) return undefined;
    const s = tlsSocket(req);
    if (!s) return undefined;
    const c = peerCertificate(s);
    if (!c) return undefined;
    if (!s.authorized || c.commonName === '') return null;
    return c;
  }

  /**
   * Basic credentials and/or the certificate, as upstream webdavd validateUser: a certificate
   * logs in alone only for users whose tls_username is CommonName; with Basic credentials the
   * password is checked too. Each part goes through the data provider's login (hooks included);
   * the password part through the user cache.
   */
  private async authenticate(
    basic: { username: string; password: string } | undefined,
    cert: PeerCertificate | undefined,
    ip: string,
  ): Promise<{ cached: CachedUser; loginMethod: string }> {
    const byPassword = async (loginMethod: string): Promise<{ cached: CachedUser; loginMethod: string }> => {
      if (!basic) throw new SftpgoError('AUTH_FAILED', 'no credential provided');
      return { cached: await this.cache.authenticate(basic.username, basic.password, ip), loginMethod };
    };
    if (cert === undefined) return byPassword('password');
    const username = basic?.username ?? cert.commonName;
    let user: User;
    try {
      user = await this.deps.provider.authenticateUser({ username, method: 'TLSCertificate', tlsCert: cert, ip, protocol: 'DAV' });
    } catch (e) {
      // no certificate login configured for this user: the password alone decides
      if (SftpgoError.is(e, 'METHOD_DISABLED') && basic) return byPassword('password');
      throw e;
    }
    if (!basic) return { cached: await this.cache.wrap(user), loginMethod: 'TLSCertificate' };
    return byPassword('TLSCertificate+password');
  }

  private updateLastLogin(c: CachedUser): void {
    const now = Date.now();
    if (now - c.lastLoginUpdate < LAST_LOGIN_INTERVAL_MS) return;
    c.lastLoginUpdate = now;
    const username = c.user.username ?? '';
    this.deps.provider.updateLastLogin(username).catch((e: unknown) => {
      this.log.warn({ err: e, username }, 'unable to update the last login');
    });
  }

  private anonymousOptions(res: ServerResponse): void {
    res.statusCode = 200;
    res.setHeader('DAV', '1, 2');
    res.setHeader('MS-Author-Via', 'DAV');
    res.setHeader('Allow', ALLOW_ALL);
    res.setHeader('Content-Length', '0');
    res.end();
  }

  /** one registered Connection for the request, then nephele */
  private serve(
    req: IncomingMessage,
    res: ServerResponse,
    cached: CachedUser,
    remoteAddress: string,
  ): void {
    const user = cached.user;
    const username = user.username ?? '';
    const id = newConnectionId('DAV', newXid());
    const conn = new Connection({
      id,
      protocol: 'DAV',
      user,
      mounts: cached.mounts,
      remoteAddress,
      localAddress: `${req.socket.localAddress ?? ''}:${req.socket.localPort ?? 0}`,
      ...(req.headers['user-agent'] ? { clientVersion: req.headers['user-agent'] } : {}),
      logger: this.deps.logger.child({
        sender: 'DAV',
        connection_id: id,
        protocol: 'DAV',
        username,
        remote_addr: remoteAddress,
      }),
      provider: this.deps.provider,
      config: this.connConfig,
      registry: this.deps.connections,
      onClose: () => {
        // closed by an admin or the idle checker while the request runs: cut it
        if (!res.writableFinished) req.socket.destroy();
      },
    });
    conn.command = `${req.method ?? ''} ${req.url ?? ''}`;
    conn.register();
    res.once('close', () => {
      void conn.close().finally(() => this.cache.release(cached));
      this.releaseState(username);
    });
    const ctx: DavRequestContext = {
      conn,
      state: this.acquireState(username),
      mime: this.mime,
      user: { username },
      method: req.method ?? '',
      dirStats: new Map(),
    };
    this.contexts.set(req, ctx);

    const len = Number(req.headers['content-length'] ?? 0);
    if (req.method !== 'PUT' && Number.isFinite(len) && len > MAX_XML_BODY) {
      return sendText(res, 413, 'request body too large');
    }
    // PROPFIND Depth 0/1 allprop without body: rendered without express and nephele (propfind.ts)
    if (!NEPHELE_COMPRESSION && directPropfindCandidate(req, ctx)) {
      return this.directOrNephele(directPropfind(req, res, ctx), req, res, 'direct PROPFIND');
    }
    // GET/HEAD/PUT/DELETE of a file: answered without express and nephele when fast.ts covers it
    if (fastPathCandidate(req, ctx)) {
      const deps: FastPathDeps = {
        contentType: (t) => this.contentTypeHeader(t),
        onError: (code, message, error) => this.nepheleError(code, message, req, res, error),
      };
      return this.directOrNephele(fastFileRequest(req, res, ctx, deps), req, res, 'fast path');
    }
    this.runNephele(req, res);
  }

  /** nephele answers when a path answering without it (`direct`) did not */
  private directOrNephele(
    direct: Promise<boolean>,
    req: IncomingMessage,
    res: ServerResponse,
    what: string,
  ): void {
    void direct.then(
      (handled) => {
        if (!handled) this.runNephele(req, res);
      },
      (e: unknown) => {
        this.log.warn({ err: e }, `unhandled ${what} error`);
        sendText(res, 500, 'internal error');
      },
    );
  }

  private runNephele(req: IncomingMessage, res: ServerResponse): void {
    // nephele announces itself and its version in a Server header: not ours to publish
    const setHeader = res.setHeader.bind(res);
    res.setHeader = ((name: string, value: number | string | readonly string[]) =>
      name.toLowerCase() === 'server' ? res : setHeader(name, value)) as ServerResponse['setHeader'];
    this.app(req, res, (e?: unknown) => {
      if (e) this.log.warn({ err: e }, 'unhandled nephele error');
      if (!res.headersSent) sendText(res, e ? 500 : 404, e ? 'internal error' : 'Not Found');
    });
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${text}\n`);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}
