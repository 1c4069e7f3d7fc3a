import createClient, { type Client } from 'openapi-fetch';
import type { BackupData, paths, Schemas } from '../api/index.js';
import {
  ApiError,
  apiResponseFields,
  httpErrorMessage,
  isAbortError,
  isTimeoutError,
  networkErrorCode,
} from './errors.js';
import { isAccessToken, tokenIsFresh, type AccessToken } from './token.js';

export type User = Schemas['User'];
export type Admin = Schemas['Admin'];
export type Folder = Schemas['BaseVirtualFolder'];
export type ConnectionStatus = Schemas['ConnectionStatus'];
export type Transfer = Schemas['Transfer'];
export type DefenderEntry = Schemas['DefenderEntry'];
export type QuotaScan = Schemas['QuotaScan'];
export type FolderQuotaScan = Schemas['FolderQuotaScan'];
export type QuotaUsage = Schemas['QuotaUsage'];
export type ServicesStatus = Schemas['ServicesStatus'];
export type VersionInfo = Schemas['VersionInfo'];
export type ApiMessage = Schemas['ApiResponse'];
export type { BackupData };

/** The fetch the client calls: openapi-fetch hands it a ready Request. */
export type FetchFn = (input: Request) => Promise<Response>;

export interface SftpgoClientOptions {
  /** server root, e.g. http://127.0.0.1:8080 (the API lives under /api/v2) */
  url: string;
  /** admin username used for Basic auth when a token is needed */
  username?: string | undefined;
  /** called lazily, only when a new token must be requested */
  password?: (() => Promise<string>) | undefined;
  /** a token obtained earlier (e.g. from the stored profile), used while fresh */
  token?: AccessToken | undefined;
  /** per-request timeout; default 30 s */
  timeoutMs?: number | undefined;
  fetch?: FetchFn | undefined;
  now?: (() => number) | undefined;
  /** told about every token the client obtains with the password */
  onToken?: ((t: AccessToken) => void) | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** overrides the client's timeout for this call; 0 disables it */
  timeoutMs?: number | undefined;
}

export interface ListOptions extends CallOptions {
  limit?: number | undefined;
  offset?: number | undefined;
  order?: 'ASC' | 'DESC' | undefined;
}

/** the largest page a list endpoint returns (the server clamps `limit` to it) */
export const MAX_PAGE_SIZE = 500;

/**
 * Every item of a list endpoint, page after page of MAX_PAGE_SIZE (offset advancing) until a
 * short page. Like any offset paging, an item added or deleted meanwhile before the current
 * offset shifts the pages: one item may then be missed or listed twice.
 */
export async function listAll<T>(
  fetchPage: (o: ListOptions) => Promise<T[]>,
  o: Omit<ListOptions, 'limit' | 'offset'> = {},
): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
    const page = await fetchPage({ ...o, limit: MAX_PAGE_SIZE, offset });
    out.push(...page);
    if (page.length < MAX_PAGE_SIZE) return out;
  }
}

export type QuotaMode = 'add' | 'reset';
export type LoadMode = 0 | 1 | 2;
export type ScanQuotaMode = 0 | 1 | 2;

export interface LoadOptions extends CallOptions {
  mode?: LoadMode | undefined;
  scanQuota?: ScanQuotaMode | undefined;
  /** called with (bytesSent, totalBytes) while a request body is being sent */
  onProgress?: ((sent: number, total: number) => void) | undefined;
}

export interface DumpOptions extends CallOptions {
  /** server-side file (relative to backups_path); when absent the dump is returned */
  outputFile?: string | undefined;
  indent?: boolean | undefined;
}

/** Result of a request made through openapi-fetch (either branch of its union). */
interface FetchResult<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

type SendInit = {
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  [key: string]: unknown;
};

const DEFAULT_TIMEOUT_MS = 30_000;
/** Bodies at least this large are streamed so that progress can be reported. */
const STREAM_THRESHOLD = 256 * 1024;
const STREAM_CHUNK = 64 * 1024;

/** Normalises a server URL given by the user: adds http:// if missing, drops trailing slashes. */
export function normalizeServerUrl(raw: string): string {
  let u = raw.trim();
  if (u === '') throw new ApiError('empty server URL', { kind: 'protocol' });
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `http://${u}`;
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch (e) {
    throw new ApiError(`invalid server URL "${raw}"`, { kind: 'protocol', cause: e });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ApiError(`invalid server URL "${raw}": only http and https are supported`, {
      kind: 'protocol',
    });
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * Typed client of the SFTPGo 2.1.2 REST API (admin side). Gets and renews the admin JWT on its
 * own (Basic auth on GET /token, renewed a minute before expiry, retried once on a 401) and turns
 * every failure into an ApiError.
 */
export class SftpgoClient {
  readonly url: string;
  readonly username: string | undefined;
  readonly #api: Client<paths>;
  readonly #root: Client<paths>;
  readonly #password: (() => Promise<string>) | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #onToken: ((t: AccessToken) => void) | undefined;
  #token: AccessToken | undefined;
  #pendingToken: Promise<AccessToken> | undefined;

  constructor(o: SftpgoClientOptions) {
    this.url = normalizeServerUrl(o.url);
    this.username = o.username;
    this.#password = o.password;
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#now = o.now ?? Date.now;
    this.#onToken = o.onToken;
    this.#token = o.token;
    const fetchFn: FetchFn = o.fetch ?? ((req) => globalThis.fetch(req));
    this.#api = createClient<paths>({ baseUrl: `${this.url}/api/v2`, fetch: fetchFn });
    this.#root = createClient<paths>({ baseUrl: this.url, fetch: fetchFn });
  }

  /** The token currently held, if any (fresh or not). */
  get token(): AccessToken | undefined {
    return this.#token;
  }

  // ---- auth -------------------------------------------------------------------------------

  /** Requests a new admin token with Basic auth (`GET /token`), replacing the cached one. */
  async login(o: CallOptions = {}): Promise<AccessToken> {
    if (this.username === undefined || this.username === '') {
      throw new ApiError('an admin username is needed to get an API token', { kind: 'auth' });
    }
    if (this.#password === undefined) {
      throw new ApiError('an admin password is needed to get an API token', { kind: 'auth' });
    }
    const password = await this.#password();
    const basic = Buffer.from(`${this.username}:${password}`, 'utf8').toString('base64');
    const data = await this.#send(
      'GET',
      '/token',
      (init) => this.#api.GET('/token', init),
      { ...o, auth: false, headers: { Authorization: `Basic ${basic}` } },
    );
    if (!isAccessToken(data)) {
      throw new ApiError('the server answered /token without an access token', { kind: 'protocol' });
    }
    this.#token = { access_token: data.access_token, expires_at: data.expires_at };
    this.#onToken?.(this.#token);
    return this.#token;
  }

  /** Invalidates the current token on the server (`GET /logout`) and forgets it. */
  async logout(o: CallOptions = {}): Promise<ApiMessage> {
    const tok = this.#token;
    if (tok === undefined) throw new ApiError('no token to invalidate', { kind: 'auth' });
    const data = await this.#send('GET', '/logout', (init) => this.#api.GET('/logout', init), {
      ...o,
      auth: false,
      headers: { Authorization: `Bearer ${tok.access_token}` },
    });
    this.#token = undefined;
    return data ?? {};
  }

  /** A token valid for at least one more minute, requesting a new one when needed. */
  async accessToken(o: CallOptions = {}): Promise<AccessToken> {
    if (tokenIsFresh(this.#token, this.#now())) return this.#token;
    this.#pendingToken ??= this.login(o).finally(() => {
      this.#pendingToken = undefined;
    });
    return this.#pendingToken;
  }

  // ---- health, version, status ------------------------------------------------------------

  /** `GET /healthz` (outside /api/v2, no auth): the body, normally "ok". */
  async health(o: CallOptions = {}): Promise<string> {
    const data = await this.#send(
      'GET',
      '/healthz',
      (init) => this.#root.GET('/healthz', { ...init, parseAs: 'text' }),
      { ...o, auth: false },
    );
    return typeof data === 'string' ? data : '';
  }

  version(o: CallOptions = {}): Promise<VersionInfo> {
    return this.#json('GET', '/version', (init) => this.#api.GET('/version', init), o);
  }

  status(o: CallOptions = {}): Promise<ServicesStatus> {
    return this.#json('GET', '/status', (init) => this.#api.GET('/status', init), o);
  }

  // ---- users ------------------------------------------------------------------------------

  listUsers(o: ListOptions = {}): Promise<User[]> {
    return this.#json(
      'GET',
      '/users',
      (init) => this.#api.GET('/users', { ...init, params: { query: listQuery(o) } }),
      o,
    );
  }

  /** every user, in pages of MAX_PAGE_SIZE (listAll) */
  listAllUsers(o: Omit<ListOptions, 'limit' | 'offset'> = {}): Promise<User[]> {
    return listAll((page) => this.listUsers(page), o);
  }

  getUser(username: string, o: CallOptions = {}): Promise<User> {
    return this.#json(
      'GET',
      `/users/${username}`,
      (init) => this.#api.GET('/users/{username}', { ...init, params: { path: { username } } }),
      o,
    );
  }

  addUser(user: User, o: CallOptions = {}): Promise<User> {
    return this.#json('POST', '/users', (init) => this.#api.POST('/users', { ...init, body: user }), o);
  }

  updateUser(
    username: string,
    user: User,
    o: CallOptions & { disconnect?: boolean | undefined } = {},
  ): Promise<ApiMessage> {
    return this.#message('PUT', `/users/${username}`, (init) =>
      this.#api.PUT('/users/{username}', {
        ...init,
        params: { path: { username }, query: o.disconnect === true ? { disconnect: 1 } : {} },
        body: user,
      }), o);
  }

  deleteUser(username: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('DELETE', `/users/${username}`, (init) =>
      this.#api.DELETE('/users/{username}', { ...init, params: { path: { username } } }), o);
  }

  // ---- folders ----------------------------------------------------------------------------

  listFolders(o: ListOptions = {}): Promise<Folder[]> {
    return this.#json(
      'GET',
      '/folders',
      (init) => this.#api.GET('/folders', { ...init, params: { query: listQuery(o) } }),
      o,
    );
  }

  getFolder(name: string, o: CallOptions = {}): Promise<Folder> {
    return this.#json(
      'GET',
      `/folders/${name}`,
      (init) => this.#api.GET('/folders/{name}', { ...init, params: { path: { name } } }),
      o,
    );
  }

  addFolder(folder: Folder, o: CallOptions = {}): Promise<Folder> {
    return this.#json('POST', '/folders', (init) => this.#api.POST('/folders', { ...init, body: folder }), o);
  }

  updateFolder(name: string, folder: Folder, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('PUT', `/folders/${name}`, (init) =>
      this.#api.PUT('/folders/{name}', { ...init, params: { path: { name } }, body: folder }), o);
  }

  deleteFolder(name: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('DELETE', `/folders/${name}`, (init) =>
      this.#api.DELETE('/folders/{name}', { ...init, params: { path: { name } } }), o);
  }

  // ---- admins -----------------------------------------------------------------------------

  listAdmins(o: ListOptions = {}): Promise<Admin[]> {
    return this.#json(
      'GET',
      '/admins',
      (init) => this.#api.GET('/admins', { ...init, params: { query: listQuery(o) } }),
      o,
    );
  }

  getAdmin(username: string, o: CallOptions = {}): Promise<Admin> {
    return this.#json(
      'GET',
      `/admins/${username}`,
      (init) => this.#api.GET('/admins/{username}', { ...init, params: { path: { username } } }),
      o,
    );
  }

  addAdmin(admin: Admin, o: CallOptions = {}): Promise<Admin> {
    return this.#json('POST', '/admins', (init) => this.#api.POST('/admins', { ...init, body: admin }), o);
  }

  updateAdmin(username: string, admin: Admin, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('PUT', `/admins/${username}`, (init) =>
      this.#api.PUT('/admins/{username}', { ...init, params: { path: { username } }, body: admin }), o);
  }

  deleteAdmin(username: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('DELETE', `/admins/${username}`, (init) =>
      this.#api.DELETE('/admins/{username}', { ...init, params: { path: { username } } }), o);
  }

  /** `PUT /admin/changepwd`: changes the password of the admin the token belongs to. */
  changeAdminPassword(currentPassword: string, newPassword: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('PUT', '/admin/changepwd', (init) =>
      this.#api.PUT('/admin/changepwd', {
        ...init,
        body: { current_password: currentPassword, new_password: newPassword },
      }), o);
  }

  // ---- connections ------------------------------------------------------------------------

  listConnections(o: CallOptions = {}): Promise<ConnectionStatus[]> {
    return this.#json('GET', '/connections', (init) => this.#api.GET('/connections', init), o);
  }

  closeConnection(connectionID: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('DELETE', `/connections/${connectionID}`, (init) =>
      this.#api.DELETE('/connections/{connectionID}', { ...init, params: { path: { connectionID } } }), o);
  }

  // ---- defender ---------------------------------------------------------------------------

  listDefenderHosts(o: CallOptions = {}): Promise<DefenderEntry[]> {
    return this.#json('GET', '/defender/hosts', (init) => this.#api.GET('/defender/hosts', init), o);
  }

  getDefenderHost(id: string, o: CallOptions = {}): Promise<DefenderEntry> {
    return this.#json(
      'GET',
      `/defender/hosts/${id}`,
      (init) => this.#api.GET('/defender/hosts/{id}', { ...init, params: { path: { id } } }),
      o,
    );
  }

  deleteDefenderHost(id: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('DELETE', `/defender/hosts/${id}`, (init) =>
      this.#api.DELETE('/defender/hosts/{id}', { ...init, params: { path: { id } } }), o);
  }

  // ---- quota ------------------------------------------------------------------------------

  listUserQuotaScans(o: CallOptions = {}): Promise<QuotaScan[]> {
    return this.#json('GET', '/quotas/users/scans', (init) => this.#api.GET('/quotas/users/scans', init), o);
  }

  listFolderQuotaScans(o: CallOptions = {}): Promise<FolderQuotaScan[]> {
    return this.#json('GET', '/quotas/folders/scans', (init) => this.#api.GET('/quotas/folders/scans', init), o);
  }

  startUserQuotaScan(username: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('POST', `/quotas/users/${username}/scan`, (init) =>
      this.#api.POST('/quotas/users/{username}/scan', { ...init, params: { path: { username } } }), o);
  }

  startFolderQuotaScan(name: string, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('POST', `/quotas/folders/${name}/scan`, (init) =>
      this.#api.POST('/quotas/folders/{name}/scan', { ...init, params: { path: { name } } }), o);
  }

  updateUserQuotaUsage(
    username: string,
    usage: QuotaUsage,
    mode: QuotaMode,
    o: CallOptions = {},
  ): Promise<ApiMessage> {
    return this.#message('PUT', `/quotas/users/${username}/usage`, (init) =>
      this.#api.PUT('/quotas/users/{username}/usage', {
        ...init,
        params: { path: { username }, query: { mode } },
        body: usage,
      }), o);
  }

  updateFolderQuotaUsage(name: string, usage: QuotaUsage, mode: QuotaMode, o: CallOptions = {}): Promise<ApiMessage> {
    return this.#message('PUT', `/quotas/folders/${name}/usage`, (init) =>
      this.#api.PUT('/quotas/folders/{name}/usage', {
        ...init,
        params: { path: { name }, query: { mode } },
        body: usage,
      }), o);
  }

  // ---- maintenance ------------------------------------------------------------------------

  /**
   * `GET /dumpdata`. Without `outputFile` the backup is returned as the server sent it (text);
   * with it, the server writes the file and the result is its ApiResponse message as JSON text.
   */
  async dumpData(o: DumpOptions = {}): Promise<string> {
    const query: { 'output-file'?: string; 'output-data'?: 0 | 1; indent?: 0 | 1 } = {};
    if (o.outputFile !== undefined) query['output-file'] = o.outputFile;
    else query['output-data'] = 1;
    if (o.indent === true) query.indent = 1;
    const data = await this.#send(
      'GET',
      '/dumpdata',
      (init) => this.#api.GET('/dumpdata', { ...init, params: { query }, parseAs: 'text' }),
      o,
    );
    return typeof data === 'string' ? data : '';
  }

  /** `POST /loaddata`: restores a backup sent as the request body (raw JSON bytes). */
  loadData(body: Uint8Array, o: LoadOptions = {}): Promise<ApiMessage> {
    const query = loadQuery(o);
    const useStream = o.onProgress !== undefined && body.byteLength >= STREAM_THRESHOLD;
    return this.#message('POST', '/loaddata', (init) =>
      this.#api.POST('/loaddata', {
        ...init,
        params: { query },
        // the bytes are sent as they are: the server, not the client, validates the backup
        body: {} as BackupData,
        bodySerializer: () => (useStream ? progressStream(body, o.onProgress) : body),
        ...(useStream ? { duplex: 'half' } : {}),
      }), o).then((m) => {
      o.onProgress?.(body.byteLength, body.byteLength);
      return m;
    });
  }

  /** `GET /loaddata?input-file=`: restores a backup file that already sits on the server. */
  loadDataFromServerFile(inputFile: string, o: LoadOptions = {}): Promise<ApiMessage> {
    const query = { ...loadQuery(o), 'input-file': inputFile };
    return this.#message('GET', '/loaddata', (init) =>
      this.#api.GET('/loaddata', { ...init, params: { query } }), o);
  }

  // ---- plumbing ---------------------------------------------------------------------------

  async #json<D>(
    method: string,
    path: string,
    fn: (init: SendInit) => Promise<FetchResult<D>>,
    o: CallOptions,
  ): Promise<D> {
    const data = await this.#send(method, path, fn, o);
    if (data === undefined) {
      throw new ApiError(`${method} ${path}: the server sent an empty answer`, {
        kind: 'protocol',
        method,
        url: path,
      });
    }
    return data;
  }

  async #message<D>(
    method: string,
    path: string,
    fn: (init: SendInit) => Promise<FetchResult<D>>,
    o: CallOptions,
  ): Promise<ApiMessage> {
    const data = await this.#send(method, path, fn, o);
    return apiResponseFields(data);
  }

  /**
   * Runs one request: adds the bearer token (unless `auth: false`), applies the timeout, maps
   * network failures and non-2xx answers to ApiError, and retries once with a fresh token when a
   * token that looked valid is refused with 401 and the password is at hand.
   */
  async #send<D>(
    method: string,
    path: string,
    fn: (init: SendInit) => Promise<FetchResult<D>>,
    o: CallOptions & { auth?: boolean; headers?: Record<string, string> },
  ): Promise<D | undefined> {
    const auth = o.auth ?? true;
    const url = `${this.url}${path === '/healthz' ? '' : '/api/v2'}${path}`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...o.headers };
      if (auth) headers.Authorization = `Bearer ${(await this.accessToken(o)).access_token}`;
      const timeoutMs = o.timeoutMs ?? this.#timeoutMs;
      const signals: AbortSignal[] = [];
      if (timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));
      if (o.signal !== undefined) signals.push(o.signal);
      const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
      let res: FetchResult<D>;
      try {
        res = await fn({ headers, signal });
      } catch (e) {
        throw this.#networkError(e, method, url, timeoutMs);
      }
      const { response } = res;
      if (response.ok) return res.data;
      if (response.status === 401 && auth && attempt === 0 && this.#password !== undefined) {
        this.#token = undefined; // refused (revoked, or signed by an older server): get a new one
        continue;
      }
      const fields = apiResponseFields(res.error);
      throw new ApiError(httpErrorMessage(response.status, res.error), {
        kind: 'http',
        status: response.status,
        serverMessage: fields.message,
        serverError: fields.error,
        method,
        url,
      });
    }
  }

  #networkError(e: unknown, method: string, url: string, timeoutMs: number): ApiError {
    if (ApiError.is(e)) return e;
    if (isTimeoutError(e)) {
      return new ApiError(
        `the SFTPGo server at ${this.url} did not answer within ${Math.round(timeoutMs / 100) / 10} s`,
        { kind: 'timeout', method, url, cause: e },
      );
    }
    if (isAbortError(e)) {
      return new ApiError('request cancelled', { kind: 'timeout', method, url, cause: e });
    }
    return new ApiError(`cannot reach the SFTPGo server at ${this.url}: ${networkErrorCode(e)}`, {
      kind: 'unreachable',
      method,
      url,
      cause: e,
    });
  }
}

function listQuery(o: ListOptions): { limit?: number; offset?: number; order?: 'ASC' | 'DESC' } {
  const q: { limit?: number; offset?: number; order?: 'ASC' | 'DESC' } = {};
  if (o.limit !== undefined) q.limit = o.limit;
  if (o.offset !== undefined) q.offset = o.offset;
  if (o.order !== undefined) q.order = o.order;
  return q;
}

function loadQuery(o: LoadOptions): { mode?: LoadMode; 'scan-quota'?: ScanQuotaMode } {
  const q: { mode?: LoadMode; 'scan-quota'?: ScanQuotaMode } = {};
  if (o.mode !== undefined) q.mode = o.mode;
  if (o.scanQuota !== undefined) q['scan-quota'] = o.scanQuota;
  return q;
}

/** A byte stream over `body` that reports how much has been handed to the transport. */
function progressStream(
  body: Uint8Array,
  onProgress: ((sent: number, total: number) => void) | undefined,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= body.byteLength) {
        controller.close();
        return;
      }
      const end = Math.min(offset + STREAM_CHUNK, body.byteLength);
      controller.enqueue(body.subarray(offset, end));
      offset = end;
      onProgress?.(offset, body.byteLength);
    },
  });
}
