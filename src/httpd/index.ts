/**
 * The HTTP server: REST API v2 under /api/v2 and /healthz, on every `httpd.bindings[]` entry
 * with a port > 0 (0 = disabled, as upstream). Public surface of src/httpd.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { isAbsolute, join } from 'node:path';
import { defaultConfig } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';
import type { DataProvider } from '../dataprovider/provider.js';
import { ConnectionGate } from '../common/connection-gate.js';
import { Defender } from '../common/defender.js';
import { QuotaScanRegistry } from '../common/quota-scan-registry.js';
import { ConnectionRegistry } from '../common/registry.js';
import type { ListeningAddress, ProtocolServer } from '../common/server.js';
import { cipherOptions } from '../util/tls-ciphers.js';
import { BUILD_DATE, COMMIT_HASH, VERSION } from '../util/version.js';
import { createApp, type AppOptions } from './app.js';
import type { ApiDeps, HttpdLogger, ServicesStatus, VersionInfo } from './context.js';
import { createTokenManager, type TokenManager } from './jwt.js';
import { ipMatcher } from './remote-ip.js';
import type { ServiceDeps } from './service-deps.js';
import { errorSummary } from './middleware/errors.js';
import { answerClientErrors } from './client-error.js';
import { createWebShared, normalizeWebRoot, type WebShared } from './web/index.js';

export { createApp, API_PREFIX } from './app.js';
export { createTokenManager, deriveSigningKey, TOKEN_DURATION_MS } from './jwt.js';
export type { TokenManager, TokenClaims, IssuedToken, TokenAudience } from './jwt.js';
export type { ApiDeps, HttpdLogger, ServicesStatus, VersionInfo } from './context.js';
export type { ServiceDeps } from './service-deps.js';
export { HTTP_STATUS } from './http-map.js';
export { errorSummary } from './middleware/errors.js';

export interface HttpdBindingConfig {
  port: number;
  /** empty = all interfaces; an absolute path = unix socket (enabled whatever the port) */
  address: string;
  enable_web_admin?: boolean;
  enable_web_client?: boolean;
  enable_https?: boolean;
  client_auth_type?: number;
  tls_cipher_suites?: readonly string[];
  proxy_allowed?: readonly string[];
}

/** the slice of sftpgo.json `httpd` this server reads */
export interface HttpdConfig {
  bindings: readonly HttpdBindingConfig[];
  /** our addition: JWT key derived from it when non-empty, random per start otherwise */
  signing_passphrase?: string;
  certificate_file?: string;
  certificate_key_file?: string;
  /** CAs that sign the client certificates of bindings with client_auth_type 1 */
  ca_certificates?: readonly string[];
  /** CRLs checked against those client certificates (re-read on SIGHUP) */
  ca_revocation_lists?: readonly string[];
  /** where dumpdata writes and relative loaddata input files are read (absolute; default <configDir>/backups) */
  backups_path?: string;
  /** our addition: limit on a request line plus headers, 431 past it (default 64 KiB) */
  max_header_bytes?: number;
  /** files here override the web UIs' built-in templates; with static_files_path both "" = no web UI */
  templates_path?: string;
  /** files here override the web UIs' built-in static files */
  static_files_path?: string;
  /** URL prefix of the web UIs and their static files */
  web_root?: string;
}

export interface HttpdDeps {
  provider: DataProvider;
  logger: HttpdLogger;
  /** base for relative certificate paths */
  configDir?: string;
  /** ssh/ftp/webdav/defender status for GET /status (service fills it from what runs) */
  servicesStatus?: () => Promise<Omit<ServicesStatus, 'data_provider'>>;
  disconnectUser?: (username: string) => unknown;
  /** build features reported by GET /version, e.g. "+sqlite", "-bolt" */
  features?: readonly string[];
  /** injectable clock (ms) for tokens */
  now?: () => number;
  /** use this token manager instead of building one (shares revocations between servers) */
  tokens?: TokenManager;
  /**
   * The service-wide objects (defender, rate limiters, connections, quota scans) and config
   * slices the routes use; src/service passes the ones every protocol shares. Without it the
   * server runs alone: defender off, no rate limits, its own registry.
   */
  services?: Partial<ServiceDeps>;
}

/** the ServiceDeps of a server running alone (no defender, no rate limiter, own registry) */
function standaloneServices(cfg: HttpdConfig, deps: HttpdDeps): ServiceDeps {
  const given = deps.services ?? {};
  const defender =
    given.defender ??
    // no defender given (tests, embedding): the configured default, which is disabled
    new Defender(defaultConfig().common.defender);
  const trackQuota = given.trackQuota ?? 2;
  return {
    defender,
    gate: given.gate ?? new ConnectionGate({ defender }),
    connections: given.connections ?? new ConnectionRegistry(),
    quotaScans: given.quotaScans ?? new QuotaScanRegistry({ provider: deps.provider }),
    trackQuota,
    backupsPath:
      given.backupsPath ?? cfg.backups_path ?? join(deps.configDir ?? process.cwd(), 'backups'),
    connectionConfig: given.connectionConfig ?? {
      upload_mode: 0,
      setstat_mode: 0,
      track_quota: trackQuota,
    },
    userFs: given.userFs ?? {},
    ...(given.hookHttp ? { hookHttp: given.hookHttp } : {}),
    ...(given.postLogin ? { postLogin: given.postLogin } : {}),
  };
}

export interface HttpdListener extends ListeningAddress {
  https: boolean;
  /** true for a unix socket (address is its path) */
  unix: boolean;
  /** the web UIs this binding serves, under `webRoot` ("" or "/prefix") */
  web?: { admin: boolean; client: boolean; webRoot: string };
}

export interface HttpdServer extends ProtocolServer {
  readonly name: 'httpd';
  readonly tokens: TokenManager;
  /** the bound listeners with their scheme, in binding order */
  listeners(): HttpdListener[];
}

export const DEFAULT_FEATURES: readonly string[] = [
  '-bolt',
  '+metrics',
  '+mysql',
  '+pgsql',
  '-portable',
  '+sqlite',
];

export function inactiveServicesStatus(): Omit<ServicesStatus, 'data_provider'> {
  return {
    ssh: { is_active: false, bindings: null, host_keys: null, ssh_commands: [] },
    ftp: { is_active: false, bindings: null, passive_port_range: { start: 0, end: 0 } },
    webdav: { is_active: false, bindings: null },
    defender: { is_active: false },
  };
}

const GRACE_MS = 5000;

/** httpd.max_header_bytes when not configured (the config default too) */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

/** as upstream Binding.IsValid: a port > 0, or an absolute unix socket path as address */
export function isBindingEnabled(b: HttpdBindingConfig): boolean {
  return b.port > 0 || b.address.startsWith('/');
}

export function createHttpd(cfg: HttpdConfig, deps: HttpdDeps): HttpdServer {
  const logger = deps.logger.child({ sender: 'httpd' });
  const tokens =
    deps.tokens ??
    createTokenManager({
      passphrase: cfg.signing_passphrase,
      ...(deps.now ? { now: deps.now } : {}),
    });
  const version: VersionInfo = {
    version: VERSION,
    build_date: BUILD_DATE,
    commit_hash: COMMIT_HASH,
    features: [...(deps.features ?? DEFAULT_FEATURES)],
  };
  const apiDeps: ApiDeps = {
    ...standaloneServices(cfg, deps),
    provider: deps.provider,
    tokens,
    logger,
    rootLogger: deps.logger,
    version,
    servicesStatus: deps.servicesStatus ?? (() => Promise.resolve(inactiveServicesStatus())),
    disconnectUser: deps.disconnectUser,
  };
  const bindings = cfg.bindings.filter(isBindingEnabled);
  const servers: { server: http.Server; binding: HttpdBindingConfig }[] = [];

  const resolve = (p: string): string =>
    isAbsolute(p) || !deps.configDir ? p : join(deps.configDir, p);

  const maxHeaderSize = cfg.max_header_bytes ?? DEFAULT_MAX_HEADER_BYTES;

  // as upstream: templates_path and static_files_path both empty turn the web UIs off
  const templatesPath = cfg.templates_path ? resolve(cfg.templates_path) : undefined;
  const staticFilesPath = cfg.static_files_path ? resolve(cfg.static_files_path) : undefined;
  const webEnabled = templatesPath !== undefined || staticFilesPath !== undefined;
  let webShared: WebShared | undefined;
  const web = (b: HttpdBindingConfig): AppOptions['web'] => {
    const enableAdmin = webEnabled && (b.enable_web_admin ?? true);
    const enableClient = webEnabled && (b.enable_web_client ?? true);
    if (!enableAdmin && !enableClient) return undefined;
    webShared ??= createWebShared({ templatesPath, signingPassphrase: cfg.signing_passphrase });
    return { webRoot: normalizeWebRoot(cfg.web_root ?? ''), templatesPath, staticFilesPath, enableAdmin, enableClient, shared: webShared };
  };

  /**
   * The TLS options of an HTTPS binding, files read now: certificate and key, and with
   * client_auth_type 1 (as upstream: a verified client certificate is required in addition to
   * the JWT or Basic credentials) the CAs and CRLs. Material that does not parse throws.
   */
  async function tlsOptions(b: HttpdBindingConfig): Promise<https.ServerOptions> {
    const where = `httpd: binding ${b.address}:${b.port}`;
    const read = async (key: string, f: string): Promise<Buffer> => {
      try {
        return await readFile(resolve(f));
      } catch (e) {
        throw new SftpgoError('INVALID_INPUT', `httpd.${key}: unable to read ${JSON.stringify(f)}`, { cause: e });
      }
    };
    const opts: https.ServerOptions = {
      cert: await read('certificate_file', cfg.certificate_file ?? ''),
      key: await read('certificate_key_file', cfg.certificate_key_file ?? ''),
      minVersion: 'TLSv1.2',
      ...cipherOptions(b.tls_cipher_suites ?? [], (name) => logger.warn({}, `${where}: tls_cipher_suites: unsupported cipher suite ${JSON.stringify(name)} ignored`)),
    };
    if ((b.client_auth_type ?? 0) > 0) {
      const cas = cfg.ca_certificates ?? [];
      if (cas.length === 0) throw new SftpgoError('INVALID_INPUT', `${where}: client_auth_type needs httpd.ca_certificates`);
      opts.ca = await Promise.all(cas.map((f) => read('ca_certificates', f)));
      const crls = cfg.ca_revocation_lists ?? [];
      if (crls.length > 0) opts.crl = await Promise.all(crls.map((f) => read('ca_revocation_lists', f)));
      opts.requestCert = true;
      opts.rejectUnauthorized = true;
    }
    try {
      createSecureContext(opts);
    } catch (e) {
      throw new SftpgoError('INVALID_INPUT', `httpd: invalid TLS certificate, key, CA or CRL: ${(e as Error).message}`, { cause: e });
    }
    return opts;
  }

  async function listen(b: HttpdBindingConfig): Promise<http.Server> {
    const proxies = b.proxy_allowed ?? [];
    const webOptions = web(b);
    const app = createApp(apiDeps, { isAllowedProxy: ipMatcher(proxies), ...(webOptions ? { web: webOptions } : {}) });
    let server: http.Server;
    if (b.enable_https) {
      if (!cfg.certificate_file || !cfg.certificate_key_file) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `httpd: binding ${b.address}:${b.port} has enable_https but httpd.certificate_file/certificate_key_file are not set`,
        );
      }
      server = https.createServer({ ...(await tlsOptions(b)), maxHeaderSize }, app.callback());
    } else {
      if ((b.client_auth_type ?? 0) > 0) {
        throw new SftpgoError('INVALID_INPUT', `httpd: binding ${b.address}:${b.port}: client_auth_type needs enable_https`);
      }
      server = http.createServer({ maxHeaderSize }, app.callback());
    }
    // Node's default (false) ends the socket as soon as the client half-closes it
    // (shutdown(SHUT_WR): `nc -N`, proxies, health checkers), so a response produced after
    // that (any handler awaiting a password hash, the database, the disk) was lost and the
    // client got 0 bytes. With true the request in progress is answered and the connection
    // closes after that response, as HTTP/1.1 intends and Go's server (upstream) does.
    // (a public property of http.Server since Node 0.x that @types/node does not declare)
    (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    server.headersTimeout = 30_000;
    server.requestTimeout = 60_000;
    answerClientErrors(server, { logger, maxHeaderBytes: maxHeaderSize });
    await new Promise<void>((res, rej) => {
      const onError = (e: Error): void => {
        rej(
          new SftpgoError(
            'INTERNAL',
            `httpd: cannot listen on ${b.address || '*'}:${b.port}: ${e.message}`,
            {
              cause: e,
              expose: true,
            },
          ),
        );
      };
      server.once('error', onError);
      const done = (): void => {
        server.off('error', onError);
        server.on('error', (e) => logger.error({ error: errorSummary(e) }, 'HTTP server error'));
        res();
      };
      if (b.address.startsWith('/')) server.listen(b.address, done);
      else if (b.address === '') server.listen(b.port, done);
      else server.listen(b.port, b.address, done);
    });
    return server;
  }

  async function closeServer(server: http.Server): Promise<void> {
    await new Promise<void>((res) => {
      const timer = setTimeout(() => server.closeAllConnections(), GRACE_MS);
      server.close(() => {
        clearTimeout(timer);
        res();
      });
      server.closeIdleConnections();
    });
  }

  function listeners(): HttpdListener[] {
    return servers.map(({ server, binding }) => {
      const a = server.address();
      const https = Boolean(binding.enable_https);
      const w = web(binding);
      const ui = w ? { web: { admin: w.enableAdmin, client: w.enableClient, webRoot: w.webRoot } } : {};
      if (a === null || typeof a === 'string') {
        return { address: a ?? binding.address, port: 0, https, unix: true, ...ui };
      }
      return {
        address: (a as AddressInfo).address,
        port: (a as AddressInfo).port,
        https,
        unix: false,
        ...ui,
      };
    });
  }

  return {
    name: 'httpd',
    tokens,
    async start() {
      try {
        for (const b of bindings) {
          const server = await listen(b);
          servers.push({ server, binding: b });
          const a = server.address();
          logger.info(
            {
              address: typeof a === 'string' ? a : `${a?.address ?? ''}:${a?.port ?? ''}`,
              https: Boolean(b.enable_https),
            },
            'HTTP server listening',
          );
        }
      } catch (e) {
        await Promise.all(servers.splice(0).map((s) => closeServer(s.server)));
        throw e;
      }
    },
    async stop() {
      await Promise.all(servers.splice(0).map((s) => closeServer(s.server)));
    },
    /**
     * SIGHUP: re-reads the certificate, key, CAs and CRLs for new handshakes; open connections
     * keep theirs. A file that cannot be read or parsed keeps the current material and rejects.
     */
    async reloadCertificates() {
      const next: { server: https.Server; opts: https.ServerOptions }[] = [];
      for (const s of servers) {
        if (s.binding.enable_https) next.push({ server: s.server as https.Server, opts: await tlsOptions(s.binding) });
      }
      if (next.length === 0) return;
      for (const n of next) n.server.setSecureContext(n.opts);
      logger.info({}, 'TLS certificates reloaded');
    },
    addresses(): ListeningAddress[] {
      return listeners().map(({ address, port }) => ({ address, port }));
    },
    listeners,
  };
}
