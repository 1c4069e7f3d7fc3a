/**
 * CORS for the WebDAV server (`webdavd.cors`, upstream rs/cors v1.8.0 with options
 * passthrough): empty lists take rs/cors' defaults (every origin; GET, POST, HEAD; the simple
 * headers). Preflight requests are answered here, before authentication, so browsers can
 * reach the server; actual requests get the Allow-Origin/Expose headers and go on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebdavdCorsConfig } from '../config/index.js';

/** handles the request when it is a preflight (returns true: answered) */
export type CorsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const DEFAULT_METHODS = ['GET', 'POST', 'HEAD'];
const SIMPLE_HEADERS = ['accept', 'accept-language', 'content-language', 'origin'];

function originMatcher(list: readonly string[]): (origin: string) => boolean {
  if (list.length === 0 || list.includes('*')) return () => true;
  const exact = new Set<string>();
  const wild: [string, string][] = [];
  for (const o of list.map((x) => x.toLowerCase())) {
    const i = o.indexOf('*');
    if (i < 0) exact.add(o);
    else wild.push([o.slice(0, i), o.slice(i + 1)]);
  }
  return (origin) => {
    const o = origin.toLowerCase();
    return exact.has(o) || wild.some(([a, b]) => o.length >= a.length + b.length && o.startsWith(a) && o.endsWith(b));
  };
}

export function corsHandler(cfg: Readonly<WebdavdCorsConfig>): CorsHandler {
  const allowOrigin = originMatcher(cfg.allowed_origins);
  const anyOrigin = cfg.allowed_origins.length === 0 || cfg.allowed_origins.includes('*');
  const methods = (cfg.allowed_methods.length > 0 ? cfg.allowed_methods : DEFAULT_METHODS).map((m) => m.toUpperCase());
  const anyHeader = cfg.allowed_headers.includes('*');
  const headers = [...SIMPLE_HEADERS, ...cfg.allowed_headers.map((h) => h.toLowerCase())];
  const vary = (res: ServerResponse, v: string): void => {
    const cur = res.getHeader('Vary');
    res.setHeader('Vary', cur ? `${String(cur)}, ${v}` : v);
  };
  const originHeader = (res: ServerResponse, origin: string): void => {
    res.setHeader('Access-Control-Allow-Origin', anyOrigin && !cfg.allow_credentials ? '*' : origin);
    if (cfg.allow_credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
  };
  return (req, res) => {
    const origin = req.headers.origin;
    const reqMethod = req.headers['access-control-request-method'];
    if (req.method === 'OPTIONS' && typeof reqMethod === 'string') {
      // preflight
      vary(res, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const reqHeaders = String(req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const ok =
        typeof origin === 'string' &&
        allowOrigin(origin) &&
        methods.includes(reqMethod.toUpperCase()) &&
        (anyHeader || reqHeaders.every((h) => headers.includes(h)));
      if (ok) {
        originHeader(res, origin);
        res.setHeader('Access-Control-Allow-Methods', reqMethod.toUpperCase());
        if (reqHeaders.length > 0) res.setHeader('Access-Control-Allow-Headers', reqHeaders.join(', '));
        if (cfg.max_age > 0) res.setHeader('Access-Control-Max-Age', String(cfg.max_age));
      }
      res.statusCode = 204;
      res.end();
      return true;
    }
    vary(res, 'Origin');
    if (typeof origin === 'string' && allowOrigin(origin) && methods.includes((req.method ?? '').toUpperCase())) {
      originHeader(res, origin);
      if (cfg.exposed_headers.length > 0) res.setHeader('Access-Control-Expose-Headers', cfg.exposed_headers.join(', '));
    }
    return false;
  };
}
