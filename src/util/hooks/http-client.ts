/**
 * The HTTP client of every HTTP hook, configured by the `http` section (upstream
 * httpclient/httpclient.go at v2.1.2 on go-retryablehttp v0.7.0). Written on node:http/https
 * rather than fetch: Node 20's fetch takes no per-client CA, client certificate or
 * skip-verify settings without the undici package, and the retry rules below are upstream's,
 * not any library's.
 *
 * - `timeout` (float seconds, 0 = none) bounds each attempt, body included.
 * - Two flavours: plain (one attempt: external auth, pre-login, check password,
 *   keyboard-interactive) and retryable (actions, post-login, post-connect, startup). A retryable
 *   request is retried on a transport error (except certificate verification failures), on 429,
 *   on any 5xx but 501, waiting min(retry_wait_min·2^i, retry_wait_max) s before retry i, or the
 *   integer Retry-After of a 429/503. When the retries run out on a retryable outcome the caller
 *   gets an error, never the response (upstream: "giving up after N attempt(s)").
 * - `ca_certificates` are added to Node's bundled roots; `certificates` are client certificates;
 *   `skip_tls_verify`; `headers` are set when their `url` is empty or a prefix of the request URL.
 * - Up to 10 redirects are followed: 301/302/303 turn into a body-less GET, 307/308 repeat the
 *   request.
 * - Differences from upstream: HTTP(S)_PROXY environment variables are not honoured.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';

/** the `http` section of the configuration (src/config's HttpClientConfig has this shape) */
export interface HttpClientConfig {
  /** seconds, fractions allowed; 0 = no limit */
  timeout: number;
  retry_wait_min: number;
  retry_wait_max: number;
  retry_max: number;
  ca_certificates: readonly string[];
  certificates: readonly { cert: string; key: string }[];
  skip_tls_verify: boolean;
  headers: readonly { key: string; value: string; url: string }[];
}

export interface HookRequest {
  method: 'GET' | 'POST';
  url: string;
  /** added to the URL's own query; the whole query is then encoded with its keys sorted */
  query?: Readonly<Record<string, string>>;
  /** a POST body, sent as application/json */
  body?: string | Buffer;
  /** retry as described above (otherwise one attempt) */
  retryable: boolean;
  /** keep at most this many bytes of the response body (default 1 MiB, as upstream reads) */
  maxBody?: number;
  /** aborts the request and any wait between retries */
  signal?: AbortSignal;
}

export interface HookResponse {
  status: number;
  /** at most maxBody bytes */
  body: Buffer;
}

const MAX_REDIRECTS = 10;
const DEFAULT_MAX_BODY = 1024 * 1024;
/** what upstream's Go client sends, so receivers written for SFTPGo see the same request */
const USER_AGENT = 'Go-http-client/1.1';

/** the URL with its userinfo password replaced, for logs (Go's URL.Redacted) */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = 'xxxxx';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

/** `url` with `query` added and every parameter re-encoded, keys sorted (Go's url.Values.Encode) */
export function withQuery(
  url: string,
  query: Readonly<Record<string, string>> | undefined,
): string {
  if (query === undefined) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.append(k, v);
  u.searchParams.sort();
  return u.toString();
}

/** Node's TLS verification error codes: retrying cannot help */
function isCertificateError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/.test(code)
  );
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 0 || (status >= 500 && status !== 501);
}

class AttemptError extends Error {}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Attempt {
  method: string;
  url: string;
  body: string | Buffer | undefined;
}

export class HookHttpClient {
  readonly #cfg: HttpClientConfig;
  readonly #httpsAgent: https.Agent;
  readonly #httpAgent: http.Agent;

  /** reads the CA and client certificate files now: a file that cannot be read throws (a start error) */
  constructor(cfg: HttpClientConfig, configDir: string) {
    this.#cfg = cfg;
    const extraCas = cfg.ca_certificates.map((p) => readFileSync(resolve(configDir, p), 'utf8'));
    const certs = cfg.certificates.filter((c) => c.cert !== '' && c.key !== '');
    this.#httpsAgent = new https.Agent({
      keepAlive: true,
      ca: extraCas.length > 0 ? [...rootCertificates, ...extraCas] : undefined,
      cert: certs.map((c) => readFileSync(resolve(configDir, c.cert))),
      key: certs.map((c) => readFileSync(resolve(configDir, c.key))),
      rejectUnauthorized: !cfg.skip_tls_verify,
    });
    this.#httpAgent = new http.Agent({ keepAlive: true });
  }

  /** the configured extra headers that apply to `url` */
  headersFor(url: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const h of this.#cfg.headers) {
      if (h.key === '' || h.value === '') continue;
      if (h.url === '' || url.startsWith(h.url)) out[h.key] = h.value;
    }
    return out;
  }

  /**
   * Sends the request (following redirects, retrying when `retryable`) and resolves with the final
   * response. Rejects on a transport error, and on a retryable outcome once retries run out.
   */
  async request(r: HookRequest): Promise<HookResponse> {
    const url = withQuery(r.url, r.query);
    const attempts = r.retryable ? this.#cfg.retry_max + 1 : 1;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(this.#backoffMs(i - 1, last), r.signal);
      try {
        const res = await this.#follow(r, url);
        if (!r.retryable || !isRetryableStatus(res.status)) return res;
        last = res;
      } catch (e) {
        if (e instanceof AttemptError || r.signal?.aborted === true) throw e;
        if (!r.retryable || isCertificateError(e)) throw e;
        last = e;
      }
    }
    const why = last instanceof Error ? `: ${last.message}` : '';
    throw new Error(`${r.method} ${redactUrl(url)} giving up after ${attempts} attempt(s)${why}`, {
      cause: last,
    });
  }

  #backoffMs(i: number, last: unknown): number {
    const res = last as Partial<HookResponse & { retryAfter: number }> | undefined;
    if (res?.retryAfter !== undefined) return res.retryAfter * 1000;
    const s = Math.min(this.#cfg.retry_wait_min * 2 ** i, this.#cfg.retry_wait_max);
    return s * 1000;
  }

  /** one attempt, redirects included */
  async #follow(r: HookRequest, url: string): Promise<HookResponse & { retryAfter?: number }> {
    const headers = this.headersFor(url);
    let a: Attempt = { method: r.method, url, body: r.body };
    for (let hop = 0; ; hop++) {
      const res = await this.#once(a, headers, r.maxBody ?? DEFAULT_MAX_BODY, r.signal);
      if (res.location === undefined || ![301, 302, 303, 307, 308].includes(res.status)) {
        return res;
      }
      if (hop >= MAX_REDIRECTS)
        throw new AttemptError(
          `${r.method} ${redactUrl(url)}: stopped after ${MAX_REDIRECTS} redirects`,
        );
      const next = new URL(res.location, a.url).toString();
      a = res.status <= 303 ? { method: 'GET', url: next, body: undefined } : { ...a, url: next };
    }
  }

  #once(
    a: Attempt,
    extra: Record<string, string>,
    maxBody: number,
    signal: AbortSignal | undefined,
  ): Promise<HookResponse & { retryAfter?: number; location?: string }> {
    const u = new URL(a.url);
    const isHttps = u.protocol === 'https:';
    if (!isHttps && u.protocol !== 'http:') {
      return Promise.reject(
        new AttemptError(`unsupported protocol scheme ${JSON.stringify(u.protocol)}`),
      );
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...extra };
    if (a.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(a.body));
    }
    const timeoutMs = this.#cfg.timeout > 0 ? Math.ceil(this.#cfg.timeout * 1000) : undefined;
    return new Promise((resolve, reject) => {
      const ac = new AbortController();
      const onAbort = (): void => ac.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => ac.abort(new Error(`timeout after ${this.#cfg.timeout} s`)),
              timeoutMs,
            );
      const finish = (
        err: unknown,
        res?: HookResponse & { retryAfter?: number; location?: string },
      ): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (res) resolve(res);
        else reject(err instanceof Error ? err : new Error(String(err)));
      };
      const req = (isHttps ? https : http).request(
        u,
        {
          method: a.method,
          headers,
          agent: isHttps ? this.#httpsAgent : this.#httpAgent,
          signal: ac.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (b: Buffer) => {
            if (kept >= maxBody) return;
            const part = b.subarray(0, maxBody - kept);
            chunks.push(part);
            kept += part.length;
          });
          res.on('error', (e) => finish(e));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const ra = res.headers['retry-after'];
            const retryAfter =
              (status === 429 || status === 503) && typeof ra === 'string' && /^\d+$/.test(ra)
                ? Number(ra)
                : undefined;
            finish(undefined, {
              status,
              body: Buffer.concat(chunks),
              ...(retryAfter === undefined ? {} : { retryAfter }),
              ...(res.headers.location === undefined ? {} : { location: res.headers.location }),
            });
          });
        },
      );
      req.on('error', (e) => {
        const reason: unknown = ac.signal.aborted ? ac.signal.reason : undefined;
        finish(reason instanceof Error ? reason : e);
      });
      req.end(a.body);
    });
  }

  /** closes idle keep-alive sockets (server stop) */
  close(): void {
    this.#httpsAgent.destroy();
    this.#httpAgent.destroy();
  }
}
