/**
 * Our nephele adapter (deps-evaluation §3): nephele's Adapter/Resource/Properties/Lock
 * interfaces over one common.Connection per request. Every operation goes through the
 * Connection, so permissions, file patterns, quota, upload modes, hooks and accounting are the
 * core's; nothing here decides what a user may do. Only the WebDAV-specific state (locks, dead
 * properties) lives here, in the user's UserDavState.
 *
 * nephele is the only module importing 'nephele' besides server.ts and methods.ts: replacing
 * or forking the library touches these three files.
 */
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { Adapter, Lock, Method, Properties, Resource, User as DavUser } from 'nephele';
import {
  MethodNotImplementedError,
  MethodNotSupportedError,
  PropertyIsProtectedError,
  PropertyNotFoundError,
  ResourceExistsError,
  ResourceNotFoundError,
  ResourceTreeNotCompleteError,
} from 'nephele';
import type { Connection, LookedUpFile } from '../common/connection.js';
import type { DownloadTransfer } from '../common/transfer.js';
import { SftpgoError } from '../errors/index.js';
import { virtualDir, type FileInfo } from '../vfs/index.js';
import type { MimeTypes } from './mime.js';
import { sniffContentType } from './mime.js';
import { baseName, urlToVirtualPath, virtualPathToUrl } from './paths.js';
import type { StoredLock, UserDavState } from './state.js';

/** what one authenticated request works with */
export interface DavRequestContext {
  conn: Connection;
  state: UserDavState;
  mime: MimeTypes;
  user: DavUser;
  /** the request's method (some lookups depend on it) */
  method: string;
  /**
   * The collections stat'ed during this request. nephele looks every ancestor up for each
   * lock check (PROPFIND lists lockdiscovery for every member): without this, a Depth 1
   * PROPFIND of n members at depth d costs n x d stats. Cleared by every mutation.
   */
  dirStats: Map<string, FileInfo>;
}

/** nephele decides existence and tree completeness from its own error classes */
export function toNepheleError(e: unknown): unknown {
  if (SftpgoError.is(e, 'NOT_FOUND')) return new ResourceNotFoundError(e.message);
  if (SftpgoError.is(e, 'PARENT_MISSING')) return new ResourceTreeNotCompleteError(e.message);
  return e;
}

async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toNepheleError(e);
  }
}

/** upstream's ETag: hex mtime in ns followed by hex size (without the quotes nephele adds) */
export function etagOf(info: FileInfo): string {
  const ns = BigInt(info.mtime.getTime()) * 1_000_000n;
  return `${ns.toString(16)}${info.size.toString(16)}`;
}

export class DavAdapter implements Adapter {
  constructor(readonly ctx: DavRequestContext) {}

  getComplianceClasses(): Promise<string[]> {
    return Promise.resolve(['2']);
  }

  getAllowedMethods(): Promise<string[]> {
    return Promise.resolve([]);
  }

  getOptionsResponseCacheControl(): Promise<string> {
    return Promise.resolve('no-cache');
  }

  /** permissions are the Connection's, checked by every operation */
  isAuthorized(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async getResource(url: URL, baseUrl: URL): Promise<Resource> {
    const p = urlToVirtualPath(url, baseUrl);
    let info = this.ctx.dirStats.get(p);
    if (!info) {
      info = await this.resolveInfo(p);
      if (info.isDirectory) this.ctx.dirStats.set(p, info);
    }
    return new DavResource(this, baseUrl, p, info, info.isDirectory);
  }

  /**
   * The resource's attributes: stat (needs `list` on the parent); for DELETE and MOVE of a
   * symlink whose target is missing or outside the root, the link itself (they act on the
   * link); for GET/HEAD of a file in a directory the user may not list, the download checks
   * instead (a download needs no `list`; PROPFIND, the WebDAV stat, still does).
   */
  private async resolveInfo(p: string): Promise<FileInfo> {
    const conn = this.ctx.conn;
    const method = this.ctx.method;
    try {
      return await conn.stat(p);
    } catch (e) {
      if (!SftpgoError.is(e, 'PERMISSION_DENIED') && !SftpgoError.is(e, 'NOT_FOUND')) throw e;
      if (method === 'DELETE' || method === 'MOVE') {
        const link = await conn.lstat(p).catch(() => undefined);
        if (link?.isSymlink) return link;
      }
      if (SftpgoError.is(e, 'PERMISSION_DENIED') && (method === 'GET' || method === 'HEAD')) {
        const file = await conn.statForDownload(p).catch(() => undefined);
        if (file && !file.isDirectory) return file;
      }
      throw toNepheleError(e);
    }
  }

  /**
   * getResource for a transfer that follows at once (fast.ts: GET/HEAD/PUT of a file): the
   * path's resolution is kept for the open (Connection.lookupFile). A path that does not
   * exist gives a resource without `fileInfo` (a new file for PUT; GET asks getResource for
   * its error). A refused look goes through getResource, which answers it as for nephele (its
   * fallbacks, its error).
   */
  async lookupResource(url: URL, baseUrl: URL): Promise<DavResource> {
    const p = urlToVirtualPath(url, baseUrl);
    let looked: LookedUpFile;
    try {
      looked = await this.ctx.conn.lookupFile(p);
    } catch {
      return (await this.getResource(url, baseUrl)) as DavResource;
    }
    const info = looked.info;
    return new DavResource(this, baseUrl, p, info, info?.isDirectory ?? false, false, looked);
  }

  /**
   * Whether the resource at `url` is a collection, as `getResource(url).isCollection()` tells
   * (same errors): for the parent of a resource of lookupResource (a PUT's parent check),
   * answered from the child's look when it showed the parent to be a directory
   * (Connection.parentIsDirectory: the same permission check, no second look-up).
   */
  async isCollectionAt(url: URL, baseUrl: URL, child: DavResource): Promise<boolean> {
    const looked = child.lookedUp;
    const p = urlToVirtualPath(url, baseUrl);
    if (looked?.path === child.path && virtualDir(looked.path) === p)
      return mapped(this.ctx.conn.parentIsDirectory(looked));
    return (await this.getResource(url, baseUrl)).isCollection();
  }

  newResource(url: URL, baseUrl: URL): Promise<Resource> {
    return Promise.resolve(
      new DavResource(this, baseUrl, urlToVirtualPath(url, baseUrl), undefined, false),
    );
  }

  newCollection(url: URL, baseUrl: URL): Promise<Resource> {
    return Promise.resolve(
      new DavResource(this, baseUrl, urlToVirtualPath(url, baseUrl), undefined, true),
    );
  }

  getMethod(method: string): typeof Method {
    throw new MethodNotImplementedError(`${method} is not implemented by this server`);
  }
}

export class DavResource implements Resource {
  constructor(
    readonly adapter: DavAdapter,
    readonly baseUrl: URL,
    /** the virtual path */
    readonly path: string,
    private info: FileInfo | undefined,
    private readonly collection: boolean,
    /** a member of a listed collection (PROPFIND Depth 1/infinity), not the request's resource */
    private readonly listed = false,
    /** the path as looked up for the transfer of this request (lookupResource) */
    private readonly looked?: LookedUpFile,
  ) {}

  private get ctx(): DavRequestContext {
    return this.adapter.ctx;
  }

  get fileInfo(): FileInfo | undefined {
    return this.info;
  }

  /** the look of lookupResource, when the resource came from it */
  get lookedUp(): LookedUpFile | undefined {
    return this.looked;
  }

  private async stat(): Promise<FileInfo> {
    this.info ??= await mapped(this.ctx.conn.stat(this.path));
    return this.info;
  }

  // ------------------------------------------------------------ locks

  private lock(l: StoredLock): DavLock {
    return new DavLock(this, this.ctx.state, l);
  }

  getLocks(): Promise<Lock[]> {
    return Promise.resolve(this.ctx.state.locksAt(this.path).map((l) => this.lock(l)));
  }

  getLocksByUser(user: DavUser): Promise<Lock[]> {
    return Promise.resolve(
      this.ctx.state
        .locksAt(this.path)
        .filter((l) => l.username === user.username)
        .map((l) => this.lock(l)),
    );
  }

  createLockForUser(user: DavUser): Promise<Lock> {
    return Promise.resolve(
      this.lock({
        token: '',
        path: this.path,
        date: new Date(),
        timeout: 0,
        scope: 'exclusive',
        depth: '0',
        provisional: false,
        owner: {},
        username: user.username,
      }),
    );
  }

  // ------------------------------------------------------------ properties

  getProperties(): Promise<Properties> {
    return Promise.resolve(new DavProperties(this));
  }

  // ------------------------------------------------------------ content

  async getStream(range?: { start: number; end: number }): Promise<Readable> {
    const t = await this.openDownload(range?.start ?? 0);
    // the response's Content-Length is the size at open: no read past it
    const end = range ? range.end + 1 : (t.fileSize ?? Number.POSITIVE_INFINITY);
    return downloadStream(t, t.stream(end));
  }

  private openDownload(offset: number): Promise<DownloadTransfer> {
    return this.ctx.conn.openDownload(this.path, {
      offset,
      ...(this.looked ? { looked: this.looked } : {}),
    });
  }

  /**
   * getMediaType and getStream of a whole-file GET at once, for a file whose type must be
   * sniffed (knownMediaType undefined): the type is sniffed from the first chunk the download
   * reads, as upstream's GET sniffs the file it serves, instead of a second open for the sniff.
   * `error`: the download could not be opened or its first read failed (the transfer is then
   * closed); the caller answers as getMediaType + getStream would have: getMediaType's type,
   * then this error.
   */
  async sniffedDownload(): Promise<{ mediaType: string; stream: Readable } | { error: unknown }> {
    let t: DownloadTransfer;
    try {
      t = await this.openDownload(0);
    } catch (e) {
      return { error: e };
    }
    let peeked: { head: Buffer | null; stream: Readable };
    try {
      peeked = await t.peekStream(t.fileSize ?? Number.POSITIVE_INFINITY);
    } catch (e) {
      await t.abort(e);
      return { error: e };
    }
    const { head } = peeked;
    const mediaType =
      head && head.length > 0 ? sniffContentType(head) : 'text/plain; charset=utf-8';
    this.ctx.mime.remember(baseName(this.path), mediaType);
    return { mediaType, stream: downloadStream(t, peeked.stream) };
  }

  async setStream(input: Readable): Promise<void> {
    this.ctx.dirStats.clear();
    // a failed PUT never leaves partial data: an existing file is replaced atomically, a new one
    // written in place (upload_mode 0) is removed
    const up = await this.ctx.conn.openUpload(this.path, {
      mode: 'truncate',
      wholeFile: true,
      ...(this.looked ? { looked: this.looked } : {}),
    });
    await up.consume(input);
    this.info = undefined;
  }

  async create(): Promise<void> {
    this.ctx.dirStats.clear();
    if (this.collection) {
      await mapped(this.ctx.conn.mkdir(this.path));
      return;
    }
    const existing = await this.ctx.conn.stat(this.path).catch((e: unknown) => {
      if (SftpgoError.is(e, 'NOT_FOUND')) return undefined;
      throw toNepheleError(e);
    });
    if (existing) throw new ResourceExistsError('the resource already exists');
    const up = await mapped(this.ctx.conn.openUpload(this.path, { mode: 'truncate' }));
    await up.close();
  }

  async delete(): Promise<void> {
    this.ctx.dirStats.clear();
    const info = await this.stat();
    if (info.isDirectory) await mapped(this.ctx.conn.rmdir(this.path));
    else await mapped(this.ctx.conn.remove(this.path));
    this.ctx.state.dropProps(this.path);
  }

  /** nephele's contract: the resource alone (a collection without its members) */
  async copy(destination: URL, baseUrl: URL): Promise<void> {
    this.ctx.dirStats.clear();
    const to = urlToVirtualPath(destination, baseUrl);
    const info = await this.stat();
    if (info.isDirectory) await mapped(this.ctx.conn.mkdir(to));
    else await mapped(this.ctx.conn.copy(this.path, to, { overwrite: false }));
    this.ctx.state.copyProps(this.path, to, false);
  }

  async move(destination: URL, baseUrl: URL): Promise<void> {
    this.ctx.dirStats.clear();
    const to = urlToVirtualPath(destination, baseUrl);
    await mapped(this.ctx.conn.rename(this.path, to));
    this.ctx.state.copyProps(this.path, to, true);
  }

  async getLength(): Promise<number> {
    const info = await this.stat();
    return info.isDirectory ? 0 : info.size;
  }

  async getEtag(): Promise<string> {
    return etagOf(await this.stat());
  }

  async getMediaType(): Promise<string | null> {
    const known = this.knownMediaType(await this.stat());
    if (known !== undefined) return known;
    const name = baseName(this.path);
    const sniffed = await this.sniff();
    this.ctx.mime.remember(name, sniffed);
    return sniffed;
  }

  /**
   * The media type as far as it is known without reading the file (`info`: this resource's
   * attributes): null for a collection, undefined when the content must be sniffed.
   */
  knownMediaType(info: FileInfo): string | null | undefined {
    if (info.isDirectory) return null;
    const name = baseName(this.path);
    const known = this.ctx.mime.byName(name);
    if (known) return known;
    // members of a listing are sniffed once per unknown extension (then cached), never when
    // they have none: a listing must not open every file
    if (this.listed && extname(name) === '') return 'application/octet-stream';
    return undefined;
  }

  /** the type of the first 512 bytes; octet-stream when they cannot be read (no download permission) */
  private async sniff(): Promise<string> {
    let t: DownloadTransfer;
    try {
      // the server's own read: not a download for the custom actions
      t = await this.ctx.conn.openDownload(this.path, { actions: false });
    } catch (e) {
      this.ctx.conn.log.debug({ err: e, file_path: this.path }, 'content type: cannot sniff');
      return 'application/octet-stream';
    }
    try {
      const head = await t.read(0, 512);
      return head && head.length > 0 ? sniffContentType(head) : 'text/plain; charset=utf-8';
    } catch (e) {
      this.ctx.conn.log.debug({ err: e, file_path: this.path }, 'content type: sniff read failed');
      return 'application/octet-stream';
    } finally {
      await t.close();
    }
  }

  getCanonicalName(): Promise<string> {
    return Promise.resolve(baseName(this.path));
  }

  getCanonicalPath(): Promise<string> {
    return Promise.resolve(this.path);
  }

  async getCanonicalUrl(): Promise<URL> {
    return virtualPathToUrl(this.path, this.baseUrl, await this.isCollection());
  }

  isCollection(): Promise<boolean> {
    return Promise.resolve(this.info ? this.info.isDirectory : this.collection);
  }

  async getInternalMembers(): Promise<Resource[]> {
    const info = await this.stat();
    if (!info.isDirectory) throw new MethodNotSupportedError('not a collection');
    const out: Resource[] = [];
    let it: AsyncIterableIterator<FileInfo>;
    try {
      it = await this.ctx.conn.list(this.path);
    } catch (e) {
      // a member collection the user may not list is reported without its members (as
      // upstream); listing the request's own collection is refused
      if (this.listed && SftpgoError.is(e, 'PERMISSION_DENIED')) return out;
      throw toNepheleError(e);
    }
    const prefix = this.path === '/' ? '/' : `${this.path}/`;
    for await (const fi of it) {
      out.push(
        new DavResource(
          this.adapter,
          this.baseUrl,
          `${prefix}${fi.name}`,
          fi,
          fi.isDirectory,
          true,
        ),
      );
    }
    return out;
  }

  /** quota-used-bytes / quota-available-bytes (RFC 4331) */
  async quota(): Promise<{ used: number; available: number | undefined }> {
    const q = await this.ctx.conn.getUsage(this.path);
    if (q.quotaSize > 0)
      return { used: q.usedSize, available: Math.max(0, q.quotaSize - q.usedSize) };
    try {
      const v = await this.ctx.conn.statVfs(this.path);
      return { used: q.usedSize, available: v.bavail * v.frsize };
    } catch (e) {
      this.ctx.conn.log.debug({ err: e }, 'quota-available-bytes: no statvfs');
      return { used: q.usedSize, available: undefined };
    }
  }
}

/**
 * A Readable over a download transfer opened at `start`, up to `end` (exclusive): the core's
 * stream (reads ahead, throttled); the transfer is closed at the end and aborted when the
 * response stops early.
 */
function downloadStream(t: DownloadTransfer, r: Readable): Readable {
  r.once('end', () => void t.close());
  r.once('close', () => {
    if (!t.closed) void t.abort();
  });
  return r;
}

class DavLock implements Lock {
  token: string;
  date: Date;
  timeout: number;
  scope: 'exclusive' | 'shared';
  depth: '0' | 'infinity';
  provisional: boolean;
  owner: unknown;
  private savedToken: string | undefined;

  constructor(
    readonly resource: DavResource,
    private readonly state: UserDavState,
    private readonly stored: StoredLock,
  ) {
    this.token = stored.token;
    this.date = stored.date;
    this.timeout = stored.timeout;
    this.scope = stored.scope;
    this.depth = stored.depth;
    this.provisional = stored.provisional;
    this.owner = stored.owner;
    this.savedToken = stored.token || undefined;
  }

  save(): Promise<void> {
    if (this.savedToken && this.savedToken !== this.token) {
      this.state.deleteLock({ path: this.stored.path, token: this.savedToken });
    }
    this.state.saveLock({
      token: this.token,
      path: this.stored.path,
      date: this.date,
      timeout: this.timeout,
      scope: this.scope,
      depth: this.depth,
      provisional: this.provisional,
      owner: this.owner,
      username: this.stored.username,
    });
    this.savedToken = this.token;
    return Promise.resolve();
  }

  delete(): Promise<void> {
    this.state.deleteLock({ path: this.stored.path, token: this.token });
    return Promise.resolve();
  }
}

/** live properties (RFC 4918 §15, RFC 4331); quota ones are returned only when asked by name */
export const LIVE = [
  'displayname',
  'getcontentlength',
  'getcontenttype',
  'getetag',
  'getlastmodified',
  'resourcetype',
  'supportedlock',
] as const;
export const PROTECTED = new Set<string>([
  'creationdate',
  'getcontentlength',
  'getcontenttype',
  'getetag',
  'getlastmodified',
  'resourcetype',
  'supportedlock',
  'lockdiscovery',
  'quota-available-bytes',
  'quota-used-bytes',
]);

type PropValue = string | object | object[];

/** supportedlock's value: exclusive and shared write locks (a new object: nephele may alter it) */
export function supportedLock(): PropValue {
  return {
    lockentry: [
      { lockscope: { exclusive: {} }, locktype: { write: {} } },
      { lockscope: { shared: {} }, locktype: { write: {} } },
    ],
  };
}

/** getlastmodified's value (RFC 1123 date) */
export function httpDate(d: Date): string {
  return d.toUTCString();
}

class DavProperties implements Properties {
  constructor(readonly resource: DavResource) {}

  private get state(): UserDavState {
    return this.resource.adapter.ctx.state;
  }

  private dead(): Map<string, unknown> {
    return this.state.deadProps(this.resource.path) ?? new Map<string, unknown>();
  }

  async get(name: string): Promise<PropValue> {
    const r = this.resource;
    const dead = this.dead();
    if (dead.has(name)) return dead.get(name) as PropValue;
    const missing = (): never => {
      throw new PropertyNotFoundError(`${name} property doesn't exist on resource.`);
    };
    switch (name) {
      case 'displayname':
        return await r.getCanonicalName();
      case 'getcontentlength':
        return (await r.isCollection()) ? missing() : `${await r.getLength()}`;
      case 'getcontenttype':
        return (await r.getMediaType()) ?? missing();
      case 'getetag':
        return (await r.isCollection()) ? missing() : JSON.stringify(await r.getEtag());
      case 'getlastmodified': {
        await r.getLength();
        return httpDate(r.fileInfo?.mtime ?? new Date());
      }
      case 'resourcetype':
        return (await r.isCollection()) ? { collection: {} } : {};
      case 'supportedlock':
        return supportedLock();
      case 'quota-used-bytes':
        return `${(await r.quota()).used}`;
      case 'quota-available-bytes': {
        const q = await r.quota();
        return q.available === undefined ? missing() : `${q.available}`;
      }
      default:
        return missing();
    }
  }

  getByUser(name: string): Promise<PropValue> {
    return this.get(name);
  }

  async set(name: string, value: unknown): Promise<void> {
    const errors = await this.runInstructions([['set', name, value]]);
    if (errors?.[0]) throw errors[0][1];
  }

  setByUser(name: string, value: unknown): Promise<void> {
    return this.set(name, value);
  }

  async remove(name: string): Promise<void> {
    const errors = await this.runInstructions([['remove', name, undefined]]);
    if (errors?.[0]) throw errors[0][1];
  }

  removeByUser(name: string): Promise<void> {
    return this.remove(name);
  }

  /** all or nothing: a protected property fails the whole set */
  async runInstructions(
    instructions: ['set' | 'remove', string, unknown][],
  ): Promise<undefined | [string, Error][]> {
    const errors: [string, Error][] = [];
    for (const [, name] of instructions) {
      if (PROTECTED.has(name))
        errors.push([name, new PropertyIsProtectedError(`${name} is a protected property.`)]);
    }
    if (errors.length > 0) return errors;
    // the resource must exist (PROPPATCH on a missing resource is a 404 before this)
    await this.resource.getLength();
    const dead = new Map(this.dead());
    for (const [action, name, value] of instructions) {
      if (action === 'set') dead.set(name, value);
      else dead.delete(name);
    }
    this.state.setDeadProps(this.resource.path, dead);
    return undefined;
  }

  runInstructionsByUser(
    instructions: ['set' | 'remove', string, unknown][],
  ): Promise<undefined | [string, Error][]> {
    return this.runInstructions(instructions);
  }

  async getAll(): Promise<Record<string, PropValue>> {
    const out: Record<string, PropValue> = {};
    for (const name of LIVE) {
      try {
        out[name] = await this.get(name);
      } catch (e) {
        if (!(e instanceof PropertyNotFoundError)) throw e;
      }
    }
    for (const [k, v] of this.dead()) out[k] = v as PropValue;
    return out;
  }

  getAllByUser(): Promise<Record<string, PropValue>> {
    return this.getAll();
  }

  async list(): Promise<string[]> {
    return [...(await this.listLive()), ...(await this.listDead())];
  }

  listByUser(): Promise<string[]> {
    return this.list();
  }

  async listLive(): Promise<string[]> {
    const collection = await this.resource.isCollection();
    return LIVE.filter(
      (n) => !collection || (n !== 'getcontentlength' && n !== 'getcontenttype' && n !== 'getetag'),
    );
  }

  listLiveByUser(): Promise<string[]> {
    return this.listLive();
  }

  listDead(): Promise<string[]> {
    return Promise.resolve(
      [...this.dead().keys()].filter((k) => !(LIVE as readonly string[]).includes(k)),
    );
  }

  listDeadByUser(): Promise<string[]> {
    return this.listDead();
  }
}
