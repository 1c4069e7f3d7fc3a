/**
 * The telemetry server (upstream telemetry/ at v2.1.2), one HTTP or HTTPS listener on
 * telemetry.bind_address:bind_port (a port > 0, or an absolute bind_address as a unix socket):
 * - GET /healthz: "ok", never authenticated (load balancers, systemd);
 * - GET /metrics: the Prometheus metrics of the process (src/util/metrics.ts, Node's process
 *   metrics included), gzipped when the scraper accepts it;
 * - /debug/pprof/...: a heap snapshot and a CPU profile, only with enable_profiler (profiler.ts).
 * /metrics and the profiler ask for HTTP basic credentials when auth_user_file is set (an
 * htpasswd file, htpasswd.ts). TLS when certificate_file and certificate_key_file are set; they
 * are re-read on SIGHUP (reloadCertificates) for new handshakes.
 *
 * The data provider's availability (sftpgo_dataprovider_availability) is probed every 30 s
 * while the server runs, and before each scrape of /metrics.
 *
 * Differences from upstream: setting only one of certificate_file/certificate_key_file is a
 * start error (upstream silently serves plain HTTP); SHA-crypt hashes are accepted in the
 * htpasswd file too.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { ListeningAddress, ProtocolServer } from '../common/server.js';
import type { TelemetryConfig } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { cipherOptions } from '../util/tls-ciphers.js';
import { metrics, metricsRegistry } from '../util/metrics.js';
import { HtpasswdFile } from './htpasswd.js';
import { PPROF_PREFIX, Profiler } from './profiler.js';

export { HtpasswdFile, parseHtpasswd } from './htpasswd.js';

const gzip = promisify(gzipCb);

export const REALM = 'Basic realm="SFTPGo telemetry"';
/** how often the data provider is probed while nobody scrapes */
export const PROVIDER_PROBE_INTERVAL_MS = 30_000;
/** a probe that takes longer counts as the provider being unavailable */
const PROVIDER_PROBE_TIMEOUT_MS = 10_000;
const GRACE_MS = 5000;

export interface TelemetryDeps {
  /** base of relative file paths (auth_user_file, certificates) */
  configDir: string;
  logger: Logger;
  /** the data provider's health check (DataProvider.checkAvailability); rejects when down */
  checkProvider?: () => Promise<void>;
}

export interface TelemetryListener extends ListeningAddress {
  https: boolean;
  /** true for a unix socket (address is its path) */
  unix: boolean;
}

export interface TelemetryServer extends ProtocolServer {
  readonly name: 'telemetry';
  /** the bound listener, once started */
  listener(): TelemetryListener | undefined;
}

/** as upstream Conf.ShouldBind: a port > 0, or an absolute bind_address (a unix socket) */
export function isTelemetryEnabled(
  c: Pick<TelemetryConfig, 'bind_port' | 'bind_address'>,
): boolean {
  return c.bind_port > 0 || c.bind_address.startsWith('/');
}

function parseBasicAuth(
  header: string | undefined,
): { username: string; password: string } | undefined {
  const m = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function createTelemetry(
  cfg: Readonly<TelemetryConfig>,
  deps: TelemetryDeps,
): TelemetryServer {
  const log = deps.logger.child({ sender: 'telemetry' });
  const resolve = (p: string): string => (p === '' || isAbsolute(p) ? p : join(deps.configDir, p));
  const certFile = resolve(cfg.certificate_file);
  const keyFile = resolve(cfg.certificate_key_file);
  const useTls = certFile !== '' && keyFile !== '';
  const profiler = cfg.enable_profiler ? new Profiler(log) : undefined;
  let auth: HtpasswdFile | undefined;
  let server: http.Server | undefined;
  let probeTimer: NodeJS.Timeout | undefined;

  async function tlsOptions(): Promise<https.ServerOptions> {
    const read = async (key: string, f: string): Promise<Buffer> => {
      try {
        return await readFile(f);
      } catch (e) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `telemetry.${key}: unable to read ${JSON.stringify(f)}`,
          { cause: e },
        );
      }
    };
    const opts: https.ServerOptions = {
      cert: await read('certificate_file', certFile),
      key: await read('certificate_key_file', keyFile),
      minVersion: 'TLSv1.2',
      ...cipherOptions(cfg.tls_cipher_suites, (name) => log.warn({}, `telemetry.tls_cipher_suites: unsupported cipher suite ${JSON.stringify(name)} ignored`)),
    };
    try {
      createSecureContext(opts);
    } catch (e) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `telemetry: invalid TLS certificate or key: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return opts;
  }

  /** probes the provider and sets the availability gauge; never rejects */
  async function probeProvider(): Promise<void> {
    if (!deps.checkProvider) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.checkProvider(),
        new Promise((_r, reject) => {
          timer = setTimeout(
            () => reject(new Error('the data provider did not answer in time')),
            PROVIDER_PROBE_TIMEOUT_MS,
          );
        }),
      ]);
      metrics.setDataProviderAvailable(true);
    } catch (e) {
      log.warn({ err: e }, 'the data provider is not available');
      metrics.setDataProviderAvailable(false);
    } finally {
      clearTimeout(timer);
    }
  }

  async function authorized(req: http.IncomingMessage): Promise<boolean> {
    if (!auth) return true;
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) return false;
    try {
      return await auth.verify(creds.username, creds.password);
    } catch (e) {
      log.warn({ err: e, file: auth.path }, 'unable to read the basic auth users file');
      return false;
    }
  }

  async function sendMetrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await probeProvider();
    const text = await metricsRegistry.metrics();
    const headers: http.OutgoingHttpHeaders = {
      'content-type': metricsRegistry.contentType,
      vary: 'Accept-Encoding',
    };
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
      res.end(await gzip(text));
      return;
    }
    res.writeHead(200, headers);
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://telemetry');
    const path = url.pathname;
    const known =
      path === '/healthz' ||
      path === '/metrics' ||
      (profiler !== undefined &&
        (path === PPROF_PREFIX.slice(0, -1) || path.startsWith(PPROF_PREFIX)));
    if (!known) {
      sendText(res, 404, '404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      sendText(res, 200, 'ok');
      return;
    }
    if (!(await authorized(req))) {
      sendText(res, 401, 'Unauthorized\n', { 'www-authenticate': REALM });
      return;
    }
    if (path === '/metrics') {
      await sendMetrics(req, res);
      return;
    }
    if (path === PPROF_PREFIX.slice(0, -1)) {
      res.writeHead(301, { location: PPROF_PREFIX });
      res.end();
      return;
    }
    await profiler?.handle(req, res, url);
  }

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e, uri: req.url }, 'telemetry request failed');
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  }

  async function listen(s: http.Server): Promise<void> {
    const where = cfg.bind_address.startsWith('/')
      ? cfg.bind_address
      : `${cfg.bind_address || '*'}:${cfg.bind_port}`;
    await new Promise<void>((res, rej) => {
      const onError = (e: Error): void => {
        rej(
          new SftpgoError('INTERNAL', `telemetry: cannot listen on ${where}: ${e.message}`, {
            cause: e,
            expose: true,
          }),
        );
      };
      s.once('error', onError);
      const done = (): void => {
        s.off('error', onError);
        s.on('error', (e) => log.error({ err: e }, 'telemetry server error'));
        res();
      };
      if (cfg.bind_address.startsWith('/')) s.listen(cfg.bind_address, done);
      else if (cfg.bind_address === '') s.listen(cfg.bind_port, done);
      else s.listen(cfg.bind_port, cfg.bind_address, done);
    });
  }

  function listener(): TelemetryListener | undefined {
    const a = server?.address();
    if (!server || a === undefined || a === null) return undefined;
    if (typeof a === 'string') return { address: a, port: 0, https: useTls, unix: true };
    return {
      address: (a as AddressInfo).address,
      port: (a as AddressInfo).port,
      https: useTls,
      unix: false,
    };
  }

  return {
    name: 'telemetry',
    async start() {
      if ((certFile === '') !== (keyFile === '')) {
        throw new SftpgoError(
          'INVALID_INPUT',
          'telemetry: certificate_file and certificate_key_file must be set together (both for HTTPS, neither for HTTP)',
        );
      }
      if (cfg.auth_user_file !== '') auth = await HtpasswdFile.open(resolve(cfg.auth_user_file));
      const s = useTls
        ? https.createServer(await tlsOptions(), onRequest)
        : http.createServer(onRequest);
      s.headersTimeout = 30_000;
      s.requestTimeout = 60_000;
      s.maxHeadersCount = 100;
      await listen(s);
      server = s;
      metrics.enableProcessMetrics();
      await probeProvider();
      probeTimer = setInterval(() => void probeProvider(), PROVIDER_PROBE_INTERVAL_MS);
      probeTimer.unref();
      const l = listener();
      log.info(
        {
          address: l?.unix ? l.address : `${l?.address ?? ''}:${l?.port ?? ''}`,
          https: useTls,
          auth: auth !== undefined,
          profiler: profiler !== undefined,
        },
        'telemetry server listening',
      );
    },
    async stop() {
      clearInterval(probeTimer);
      probeTimer = undefined;
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((res) => {
        const timer = setTimeout(() => s.closeAllConnections(), GRACE_MS);
        s.close(() => {
          clearTimeout(timer);
          res();
        });
        s.closeIdleConnections();
      });
    },
    /** SIGHUP: new handshakes use the certificate and key read now; a bad file keeps the current ones */
    async reloadCertificates() {
      if (!useTls || !server) return;
      const opts = await tlsOptions();
      (server as https.Server).setSecureContext(opts);
      log.info({}, 'TLS certificates reloaded');
    },
    addresses(): ListeningAddress[] {
      const l = listener();
      return l ? [{ address: l.address, port: l.port }] : [];
    },
    listener,
  };
}
