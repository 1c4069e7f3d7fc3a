/**
 * startServer(): an in-process `sftpgo serve` for integration tests (STYLE.md §G). Each call
 * gets its own temp config dir with a written sftpgo.json, its own SQLite database, free
 * 127.0.0.1 ports picked beforehand (port 0 keeps its upstream meaning: disabled), and a first
 * admin created through SFTPGO_DEFAULT_ADMIN_* passed as the service's env (process.env is
 * never read or changed). No globals: tests may run servers in parallel.
 *
 * `api()` validates every response against src/api/openapi.yaml and throws on a mismatch.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiUser } from '../../src/api/index.js';
import type { Config } from '../../src/config/index.js';
import type { DataProvider } from '../../src/dataprovider/provider.js';
import { startService, type RunningService } from '../../src/service/index.js';
import { createOpenApiValidator, type OpenApiValidator } from './openapi.js';

export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type ConfigOverrides = DeepPartial<Config>;

export interface StartServerOptions {
  /** deep-merged over the harness config; arrays merge by index (bindings[0].port, ...) */
  config?: ConfigOverrides;
  /** extra env for the service (SFTPGO_* config overrides, ...) */
  env?: Record<string, string>;
  /** the first admin (default: "admin" with a random password) */
  admin?: { username: string; password: string };
  /** false: no first admin is created */
  createAdmin?: boolean;
  /** use this dir (must exist) instead of a fresh temp dir; it is not removed by stop() */
  configDir?: string;
  /** validate api() responses against the spec (default true) */
  validate?: boolean;
  /** `serve --loaddata-*`: restore this dump at start */
  loaddata?: { from: string; mode?: number; scan?: number; clean?: boolean };
  /** shorter hook program limits than upstream's (StartServiceOptions.hookTimeouts) */
  hookTimeouts?: { actions?: number };
}

export interface ApiResult<T = unknown> {
  status: number;
  /** parsed JSON for JSON responses, text otherwise */
  body: T;
  text: string;
  headers: Headers;
}

export interface ApiOptions {
  headers?: Record<string, string>;
  /** validate this response against the spec (default: the server's setting) */
  validate?: boolean;
}

/** undefined = the first admin's token; null = no Authorization header; string = this token */
export type TokenArg = string | null | undefined;

export interface TestServer {
  configDir: string;
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  httpUrl: string;
  /** the SFTP port when the sftpd service runs in this build */
  sftpPort: number | undefined;
  provider: DataProvider;
  service: RunningService;
  admin: { username: string; password: string };
  /** the startup summary the service printed */
  summary: string;
  validator: OpenApiValidator;
  /** a (cached) API token of the first admin */
  adminToken(): Promise<string>;
  /** GET /api/v2/token with these credentials; throws unless 200 */
  token(username: string, password: string): Promise<string>;
  /** GET /api/v2/user/token (the user API) with these credentials; throws unless 200 */
  userToken(username: string, password: string): Promise<string>;
  /**
   * One REST call. `path` is relative to /api/v2 unless it starts with /api/ or /healthz.
   * `body`: objects are sent as JSON; strings and Buffers are sent verbatim.
   */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: TokenArg,
    o?: ApiOptions,
  ): Promise<ApiResult<T>>;
  stop(): Promise<void>;
}

/** a TCP port free on 127.0.0.1 right now */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** deep merge; arrays merge element by element so one binding field can be overridden */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(over)) {
    const out: unknown[] = [...base];
    over.forEach((v, i) => {
      out[i] = i < base.length ? mergeConfig(base[i], v) : v;
    });
    return out;
  }
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : v;
    return out;
  }
  return over === undefined ? base : over;
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

async function harnessConfig(over: ConfigOverrides | undefined): Promise<Record<string, unknown>> {
  const base = {
    sftpd: { bindings: [{ port: await freePort(), address: '127.0.0.1' }] },
    httpd: {
      bindings: [
        { port: await freePort(), address: '127.0.0.1', enable_web_admin: false, enable_web_client: false },
      ],
    },
    data_provider: { driver: 'sqlite', name: 'sftpgo.db' },
    // upstream's default (127.0.0.1:10000) would collide between parallel tests: off unless asked
    telemetry: { bind_port: 0 },
  };
  return mergeConfig(base, over ?? {}) as Record<string, unknown>;
}

function isAddrInUse(e: unknown): boolean {
  const text = e instanceof Error ? `${e.message} ${String((e.cause as { code?: unknown } | undefined)?.code)}` : '';
  return text.includes('EADDRINUSE');
}

export async function startServer(o: StartServerOptions = {}): Promise<TestServer> {
  const ownDir = o.configDir === undefined;
  const configDir = o.configDir ?? (await mkdtemp(join(tmpdir(), 'sftpgo-test-')));
  const admin = o.admin ?? { username: 'admin', password: `pwd-${randomBytes(9).toString('base64url')}` };
  const env: Record<string, string> = {
    ...(o.createAdmin === false
      ? {}
      : { SFTPGO_DEFAULT_ADMIN_USERNAME: admin.username, SFTPGO_DEFAULT_ADMIN_PASSWORD: admin.password }),
    ...o.env,
  };
  let summary = '';
  let service: RunningService | undefined;
  for (let attempt = 0; service === undefined; attempt++) {
    const config = await harnessConfig(o.config);
    await writeFile(join(configDir, 'sftpgo.json'), `${JSON.stringify(config, null, 2)}\n`);
    try {
      service = await startService({
        configDir,
        env,
        logFilePath: 'sftpgo.log',
        logVerbose: true,
        summary: { write: (t: string) => (summary += t) },
        ...(o.hookTimeouts ? { hookTimeouts: o.hookTimeouts } : {}),
        ...(o.loaddata
          ? {
              loaddataFrom: o.loaddata.from,
              loaddataMode: o.loaddata.mode,
              loaddataScan: o.loaddata.scan,
              loaddataClean: o.loaddata.clean,
            }
          : {}),
      });
    } catch (e) {
      // a port picked as free was taken meanwhile by a parallel test: pick again
      if (attempt < 3 && isAddrInUse(e)) continue;
      if (ownDir) await rm(configDir, { recursive: true, force: true });
      throw e;
    }
  }
  const svc = service;
  const http = svc.httpd?.addresses()[0];
  if (!http) {
    await svc.stop();
    throw new Error('startServer: the HTTP server is not running (httpd.bindings[0].port is 0?)');
  }
  const httpUrl = `http://${http.address.includes(':') ? `[${http.address}]` : http.address}:${http.port}`;
  const sftpd = svc.servers.find((s) => s.name === 'sftpd');
  const validator = createOpenApiValidator();
  const validateDefault = o.validate ?? true;
  let cachedToken: string | undefined;

  async function token(username: string, password: string, path = '/token'): Promise<string> {
    const r = await api<{ access_token?: string }>('GET', path, undefined, null, {
      headers: { authorization: basicAuth(username, password) },
    });
    if (r.status !== 200 || typeof r.body.access_token !== 'string') {
      throw new Error(`cannot get a token for ${username}: ${r.status} ${r.text}`);
    }
    return r.body.access_token;
  }

  async function adminToken(): Promise<string> {
    cachedToken ??= await token(admin.username, admin.password);
    return cachedToken;
  }

  async function api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    tok?: TokenArg,
    opts: ApiOptions = {},
  ): Promise<ApiResult<T>> {
    const fullPath = path.startsWith('/api/') || path.startsWith('/healthz') ? path : `/api/v2${path}`;
    const headers: Record<string, string> = {};
    const bearer = tok === undefined ? await adminToken() : tok;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let payload: string | Buffer | undefined;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      payload = body;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, opts.headers);
    const res = await fetch(`${httpUrl}${fullPath}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    let parsed: unknown = text;
    if (contentType?.includes('application/json') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new Error(`${method} ${fullPath}: invalid JSON in the response (${res.status}): ${text.slice(0, 200)}`, {
          cause: e,
        });
      }
    }
    if ((opts.validate ?? validateDefault) && method.toUpperCase() !== 'HEAD') {
      validator.validateResponse({ method, path: fullPath, status: res.status, contentType, body: parsed });
    }
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }

  return {
    configDir,
    httpUrl,
    sftpPort: sftpd?.addresses()[0]?.port,
    provider: svc.provider,
    service: svc,
    admin,
    summary,
    validator,
    adminToken,
    token: (username, password) => token(username, password),
    userToken: (username, password) => token(username, password, '/user/token'),
    api,
    async stop() {
      await svc.stop();
      if (ownDir) await rm(configDir, { recursive: true, force: true });
    },
  };
}

export interface RestUser {
  username: string;
  password: string;
  home: string;
}

/**
 * Users through the REST API, as every protocol harness creates them: a unique name with
 * `prefix`, password "pass-<username>" and a home under `dir` unless given, all permissions.
 */
export function restUsers(
  srv: TestServer,
  dir: string,
  prefix: string,
): {
  createUser(u?: Partial<ApiUser>): Promise<RestUser>;
  updateUser(username: string, u: Partial<ApiUser>): Promise<void>;
  getUser(username: string): Promise<ApiUser>;
} {
  let seq = 0;
  const getUser = async (username: string): Promise<ApiUser> => {
    const r = await srv.api<ApiUser>('GET', `/users/${encodeURIComponent(username)}`);
    if (r.status !== 200) throw new Error(`cannot get user ${username}: ${r.status} ${r.text}`);
    return r.body;
  };
  return {
    getUser,
    async createUser(u: Partial<ApiUser> = {}): Promise<RestUser> {
      const username = u.username ?? `${prefix}${++seq}${randomBytes(2).toString('hex')}`;
      const password = u.password ?? `pass-${username}`;
      const home = u.home_dir ?? (await mkdtemp(join(dir, `${username}-`)));
      const body: ApiUser = {
        status: 1,
        permissions: { '/': ['*'] } as unknown as ApiUser['permissions'],
        ...u,
        username,
        password,
        home_dir: home,
      };
      const r = await srv.api('POST', '/users', body);
      if (r.status !== 201) throw new Error(`cannot create user ${username}: ${r.status} ${r.text}`);
      return { username, password, home };
    },
    async updateUser(username: string, u: Partial<ApiUser>): Promise<void> {
      const cur = await getUser(username);
      const r = await srv.api('PUT', `/users/${encodeURIComponent(username)}`, { ...cur, ...u });
      if (r.status !== 200) throw new Error(`cannot update user ${username}: ${r.status} ${r.text}`);
    },
  };
}
