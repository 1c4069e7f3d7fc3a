/**
 * Google Cloud Storage backend (provider 2): a bucket, optionally below a key prefix, seen as a
 * filesystem (upstream vfs/gcsfs.go at v2.1.2; storage-2.1.2.md §4), with
 * @google-cloud/storage. Loaded only through the registry's lazy import, so the SDK is not
 * loaded unless a user or folder uses GCS.
 *
 * Credentials: the service account JSON of `gcsconfig.credentials` (decrypted through the KMS
 * when the filesystem is built, in memory only), or with `automatic_credentials` 1 the
 * Application Default Credentials of the server's environment. There is no endpoint setting
 * (none in 2.1.2's GCSConfig): the SDK itself sends every request to an emulator when the
 * server runs with STORAGE_EMULATOR_HOST set (then without credentials), see the README.
 *
 * Keys: the path "/a/b" is the object `<key_prefix>a/b` (key_prefix is "" or ends with "/").
 * Paths are normalized first (`..` cannot climb above "/", NUL refused), so no object outside
 * the prefix can be named.
 *
 * Directories are emulated (capability emulatedDirs): a directory exists when a marker object
 * `<dir>/` exists (0 bytes, Content-Type inode/directory), when an object `<dir>` has that
 * content type (the markers SFTPGo 2.1.0 and older wrote, without the slash), or when any
 * object name starts with `<dir>/`. mkdir of an existing path does nothing; a missing
 * directory lists as empty and is removed without error; directories without a marker report
 * mtime = now, size 0.
 *
 * What this backend does not do (capabilities false, the methods are absent): positional
 * writes and reads (uploads stream through openWrite as one resumable upload, downloads
 * through openRead, a read at an offset being one ranged GET), resume/append, atomic temp-file
 * uploads (an upload is atomic already: nothing is visible before it completes), symlinks,
 * chmod/chown/chtimes, truncate, statvfs. Rename is a server-side rewrite + delete: files and
 * empty directories only, not atomic.
 *
 * Deadlines: 30 s per metadata request (each listing page, the rewrite of a rename, the start
 * of an upload) and for a download's response to start, 300 s for a whole usage scan; the
 * transfer of the data has none (upstream: the same). Every operation also honours the
 * caller's AbortSignal: the SDK's metadata calls take no signal, so an aborted call returns
 * ABORTED at once and its request runs out in the background, cut by the same deadline.
 */
import { Storage, type Bucket, type CopyOptions, type StorageOptions } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import { SftpgoError } from '../../../errors/index.js';
import { isEmptySecret } from '../../../kms/index.js';
import { metrics } from '../../../util/metrics.js';
import { normalizeVirtualPath, virtualBase } from '../../path.js';
import type { CreateFsOptions, FilesystemConfig } from '../../registry.js';
import {
  type FileInfo,
  type Fs,
  type FsCapabilities,
  type FsLogger,
  type Op,
  type Upload,
  type Usage,
  type WriteStreamOptions,
} from '../../types.js';
import {
  checkKeyPrefix,
  contentTypeOf,
  OBJECT_STORE_CAPABILITIES,
  objectDirPrefix,
  objectEntry as entry,
  objectPath,
  type ObjectPath as Resolved,
} from '../object-store.js';
import { openGcsRead } from './download.js';
import { mapGcsError, type MapContext } from './errors.js';
import { cancelSession, startGcsUpload, UploadAgents } from './upload.js';

export interface GcsFsOptions {
  bucket: string;
  /** "" or a cleaned prefix ending with "/" (the data provider saves it normalized) */
  keyPrefix?: string;
  /**
   * the parsed credentials JSON (a service account key, or any type the Google auth library
   * accepts); absent: Application Default Credentials
   */
  credentials?: Record<string, unknown>;
  storageClass?: string;
  /** the virtual mount point, used only to name paths in error messages */
  displayPrefix?: string;
  /** clean-up failures that leave something behind (an upload session, a late object) */
  logger?: FsLogger;
}

const META_TIMEOUT_MS = 30_000;
const SCAN_TIMEOUT_MS = 300_000;
const DIR_CONTENT_TYPE = 'inode/directory';
const PAGE_SIZE = 1000;
const LIST_FIELDS = 'items(name,size,updated,contentType,timeDeleted),prefixes,nextPageToken';
const SCAN_FIELDS = 'items(name,size,contentType,timeDeleted),nextPageToken';

const NO_LOGGER: FsLogger = Object.freeze({ warn: () => undefined, error: () => undefined });

/** the fields of an object resource this backend reads */
interface ObjectResource {
  name?: string;
  size?: string | number;
  updated?: string;
  contentType?: string;
  timeDeleted?: string;
  generation?: string | number;
}

interface ListPage {
  items?: ObjectResource[];
  prefixes?: string[];
  nextPageToken?: string;
}

const sizeOf = (o: ObjectResource): number => Number(o.size ?? 0) || 0;
function mtimeOf(o: ObjectResource): Date {
  const t = o.updated === undefined ? NaN : Date.parse(o.updated);
  return Number.isNaN(t) ? new Date() : new Date(t);
}
const isDirObject = (o: ObjectResource): boolean =>
  (o.name ?? '').endsWith('/') || o.contentType === DIR_CONTENT_TYPE;

/** what a path is in the bucket */
type Found =
  | { kind: 'root' }
  | { kind: 'file'; object: ObjectResource }
  /** a directory backed by an object: its marker `<key>/`, or a ≤ 2.1.0 marker `<key>` */
  | { kind: 'marker'; object: ObjectResource }
  /** objects below `<key>/`, with or without a marker */
  | { kind: 'implicit' };

export class GcsFs implements Fs {
  readonly kind = 'gcs' as const;
  readonly capabilities: FsCapabilities = OBJECT_STORE_CAPABILITIES;
  private readonly storage: Storage;
  private readonly bucket: Bucket;
  private readonly keyPrefix: string;
  private readonly storageClass: string | undefined;
  private readonly displayPrefix: string;
  private readonly logger: FsLogger;
  private readonly agents = new UploadAgents();

  constructor(o: GcsFsOptions) {
    if (o.bucket === '') throw new SftpgoError('INVALID_INPUT', 'the GCS bucket cannot be empty');
    this.keyPrefix = checkKeyPrefix(o.keyPrefix ?? '', 'GCS');
    this.storageClass = o.storageClass || undefined;
    this.displayPrefix = normalizeVirtualPath(o.displayPrefix ?? '/');
    this.logger = o.logger ?? NO_LOGGER;
    const options: StorageOptions = {
      // the SDK's own cut-off of a metadata request, as our deadline
      timeout: META_TIMEOUT_MS,
      retryOptions: { totalTimeout: META_TIMEOUT_MS / 1000 },
    };
    if (o.credentials) {
      options.credentials = o.credentials;
      const project = o.credentials.project_id;
      if (typeof project === 'string' && project !== '') options.projectId = project;
    }
    this.storage = new Storage(options);
    this.bucket = this.storage.bucket(o.bucket);
  }

  // ---------------------------------------------------------------- helpers

  private resolve(p: string): Resolved {
    return objectPath(p, this.keyPrefix, this.displayPrefix);
  }

  /** the prefix of the object names inside a directory */
  private dirPrefix(r: Resolved): string {
    return objectDirPrefix(r, this.keyPrefix);
  }

  /**
   * One SDK call under a deadline and the caller's signal; failures mapped to SftpgoErrors.
   * The SDK takes no signal: when the signal or the deadline fires first, the call's outcome
   * is dropped (see the module comment).
   */
  private async call<T>(
    send: () => Promise<T>,
    ctx: MapContext,
    o?: Op,
    timeoutMs = META_TIMEOUT_MS,
  ): Promise<T> {
    if (o?.signal?.aborted) throw this.abortedError(ctx, o.signal.reason);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const cut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(mapGcsError(undefined, { ...ctx, timedOut: true })),
        timeoutMs,
      );
      const signal = o?.signal;
      if (signal) {
        onAbort = () => reject(this.abortedError(ctx, signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    const call = send();
    call.catch(() => undefined); // its failure after a cut is of no interest
    try {
      return await Promise.race([call, cut]);
    } catch (e) {
      throw mapGcsError(e, ctx);
    } finally {
      clearTimeout(timer);
      if (onAbort) o?.signal?.removeEventListener('abort', onAbort);
    }
  }

  private abortedError(ctx: MapContext, cause: unknown): SftpgoError {
    return new SftpgoError(
      'ABORTED',
      `${ctx.op} ${JSON.stringify(ctx.display)}: operation aborted`,
      {
        cause,
      },
    );
  }

  private throwIfAborted(ctx: MapContext, o?: Op): void {
    if (o?.signal?.aborted) throw this.abortedError(ctx, o.signal.reason);
  }

  /** an object's resource; undefined when it does not exist */
  private async object(name: string, ctx: MapContext, o?: Op): Promise<ObjectResource | undefined> {
    try {
      const [meta] = await this.call(
        () => metrics.meterCloudRequest('gcs', 'head_object', this.bucket.file(name).getMetadata()),
        ctx,
        o,
      );
      return meta as ObjectResource;
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  private async listPage(
    query: {
      prefix: string;
      delimiter?: string;
      maxResults: number;
      pageToken?: string;
      fields: string;
    },
    ctx: MapContext,
    o?: Op,
    timeoutMs?: number,
  ): Promise<ListPage> {
    const [, , resp] = await this.call(
      () =>
        metrics.meterCloudRequest(
          'gcs',
          'list_objects',
          this.bucket.getFiles({ ...query, autoPaginate: false }),
        ),
      ctx,
      o,
      timeoutMs,
    );
    return (resp ?? {}) as ListPage;
  }

  /**
   * What lies below a directory path: whether any object other than its own marker does, and
   * the marker `<key>/` itself when it exists (upstream hasContents / the marker attrs of Stat,
   * in one request: the marker sorts first).
   */
  private async probeDir(
    r: Resolved,
    ctx: MapContext,
    o?: Op,
  ): Promise<{ contents: boolean; marker: ObjectResource | undefined }> {
    const prefix = this.dirPrefix(r);
    const page = await this.listPage(
      { prefix, maxResults: 2, fields: 'items(name,size,updated,contentType,generation)' },
      ctx,
      o,
    );
    const items = page.items ?? [];
    return {
      contents: items.some((i) => i.name !== prefix),
      marker: items.find((i) => i.name === prefix),
    };
  }

  /**
   * What a path is (upstream Stat): the root; an object with the name (a file, or a ≤ 2.1.0
   * directory marker); objects below `<key>/` (a directory); its marker `<key>/`; else
   * NOT_FOUND. Without a key prefix the root checks that the bucket exists.
   */
  private async find(r: Resolved, op: string, o?: Op): Promise<Found> {
    const ctx = { op, display: r.display };
    if (r.rel === '/') {
      if (this.keyPrefix === '') {
        await this.call(
          () => metrics.meterCloudRequest('gcs', 'head_bucket', this.bucket.getMetadata()),
          ctx,
          o,
        );
      }
      return { kind: 'root' };
    }
    const object = await this.object(r.key, ctx, o);
    if (object) return isDirObject(object) ? { kind: 'marker', object } : { kind: 'file', object };
    const dir = await this.probeDir(r, ctx, o);
    if (dir.contents) return { kind: 'implicit' };
    if (dir.marker) return { kind: 'marker', object: dir.marker };
    throw new SftpgoError(
      'NOT_FOUND',
      `${op} ${JSON.stringify(r.display)}: no such file or directory`,
    );
  }

  // ---------------------------------------------------------------- Fs

  async stat(p: string, o?: Op): Promise<FileInfo> {
    const r = this.resolve(p);
    const found = await this.find(r, 'stat', o);
    const name = virtualBase(r.rel);
    switch (found.kind) {
      case 'root':
      case 'implicit':
        return entry(name, true, 0, new Date());
      case 'marker':
        return entry(name, true, sizeOf(found.object), mtimeOf(found.object));
      case 'file':
        return entry(name, false, sizeOf(found.object), mtimeOf(found.object));
    }
  }

  /** there are no symlinks: the same as stat */
  lstat(p: string, o?: Op): Promise<FileInfo> {
    return this.stat(p, o);
  }

  /**
   * Objects with delimiter "/", one page (up to 1000 entries) per request as the caller
   * iterates: prefixes are directories (mtime now), the directory's own marker is skipped, an
   * object ending in "/" or with the directory content type is a directory, soft-deleted
   * objects are skipped, directories are listed once. A missing directory lists as empty.
   */
  async *list(dir: string, o?: Op): AsyncIterableIterator<FileInfo> {
    const r = this.resolve(dir);
    const prefix = this.dirPrefix(r);
    const ctx = { op: 'list', display: r.display };
    const dirs = new Set<string>();
    let pageToken: string | undefined;
    do {
      const query = { prefix, delimiter: '/', maxResults: PAGE_SIZE, fields: LIST_FIELDS };
      const page = await this.listPage(pageToken ? { ...query, pageToken } : query, ctx, o);
      const now = new Date();
      for (const p of page.prefixes ?? []) {
        const name = p.slice(prefix.length, -1);
        // "a//b" gives an empty name below "a/": not addressable as a path
        if (name === '' || dirs.has(name)) continue;
        dirs.add(name);
        this.throwIfAborted(ctx, o);
        yield entry(name, true, 0, now);
      }
      for (const obj of page.items ?? []) {
        const full = obj.name ?? '';
        if (full === prefix || obj.timeDeleted !== undefined) continue;
        let name = full.slice(prefix.length);
        const isDir = isDirObject(obj);
        if (name.endsWith('/')) name = name.slice(0, -1);
        if (name === '') continue;
        if (isDir) {
          if (dirs.has(name)) continue;
          dirs.add(name);
        }
        this.throwIfAborted(ctx, o);
        yield entry(name, isDir, isDir ? 0 : sizeOf(obj), mtimeOf(obj));
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /**
   * The object from `offset` (one ranged GET when > 0, see download.ts): a missing object
   * fails here with NOT_FOUND; an offset at or past the end gives an empty stream; an offset
   * > 0 on a gzip-encoded object is OP_UNSUPPORTED (upstream). Destroying the stream ends the
   * request.
   */
  async openRead(p: string, o?: Op & { offset?: number }): Promise<Readable> {
    const offset = o?.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid read offset');
    const r = this.resolve(p);
    if (r.rel === '/')
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    const storage = this.storage;
    const url = `${storage.baseUrl}/b/${encodeURIComponent(this.bucket.name)}/o/${encodeURIComponent(r.key)}`;
    return openGcsRead({
      url,
      // as the SDK: no credentials for an emulator (a custom endpoint)
      authHeaders: async () =>
        storage.customEndpoint && storage.useAuthWithCustomEndpoint !== true
          ? {}
          : ((await storage.authClient.getRequestHeaders(url)) as Record<string, string>),
      offset,
      display: r.display,
      startTimeoutMs: META_TIMEOUT_MS,
      ...(o?.signal ? { signal: o.signal } : {}),
    });
  }

  /**
   * A streamed upload replacing the object whole, on completion (see upload.ts). Resuming
   * (offset > 0) and `atomic` (a temp object) are OP_UNSUPPORTED: a GCS upload is atomic
   * already. The resumable session is started here, so a missing bucket or refused
   * credentials fail the open.
   */
  async openWrite(p: string, o?: WriteStreamOptions): Promise<Upload> {
    const offset = o?.offset ?? 0;
    if (offset !== 0) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'resuming uploads is not supported by this storage backend',
      );
    }
    if (o?.atomic) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'atomic uploads are not supported by this storage backend (its uploads are atomic already)',
      );
    }
    const r = this.resolve(p);
    if (r.rel === '/')
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    const ctx = { op: 'upload', display: r.display };
    this.throwIfAborted(ctx, o);
    const agent = this.agents.take();
    const file = this.bucket.file(r.key);
    // every request of this upload goes through its own agent (upload.ts)
    type Decorated = ReturnType<(typeof file.interceptors)[number]['request']>;
    file.interceptors.push({
      // `agent` is an option of gaxios (uploads), unknown to the SDK's request type
      request: (req) => ({ ...req, agent: (u: URL) => agent.pick(u) }) as unknown as Decorated,
    });
    const contentType = contentTypeOf(r.rel);
    const metadata = {
      ...(contentType ? { contentType } : {}),
      ...(this.storageClass ? { storageClass: this.storageClass } : {}),
    };
    let timedOut = false;
    // no signal for this one request: a session created while we waited is cancelled below
    const timer = setTimeout(() => {
      timedOut = true;
      agent.destroy();
    }, META_TIMEOUT_MS);
    let uri: string;
    try {
      // SDK 7.22.0 sets the retry count of the whole client to 0 here (it hands its shared
      // retry options to the upload, which zeroes them as uploads are not retried): put it back
      const retries = this.storage.retryOptions.maxRetries;
      const started = file.createResumableUpload({ metadata });
      this.storage.retryOptions.maxRetries = retries;
      [uri] = await started;
    } catch (e) {
      agent.destroy();
      throw mapGcsError(e, { ...ctx, timedOut });
    } finally {
      clearTimeout(timer);
    }
    if (o?.signal?.aborted) {
      await cancelSession(uri, r.display, META_TIMEOUT_MS, this.logger);
      agent.destroy();
      throw this.abortedError(ctx, o.signal.reason);
    }
    return startGcsUpload({
      file,
      uri,
      agent,
      agents: this.agents,
      display: r.display,
      cleanupTimeoutMs: META_TIMEOUT_MS,
      logger: this.logger,
      ...(o?.signal ? { signal: o.signal } : {}),
    });
  }

  /**
   * Creates the directory marker `<key>/`. An existing path (file or directory) is left alone
   * and the call succeeds (upstream); parents need no marker (`recursive` changes nothing).
   */
  async mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void> {
    const r = this.resolve(p);
    if (r.rel === '/') return;
    try {
      await this.find(r, 'mkdir', o);
      return;
    } catch (e) {
      if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
    }
    await this.call(
      () =>
        this.bucket.file(`${r.key}/`).save(Buffer.alloc(0), {
          resumable: false,
          metadata: {
            contentType: DIR_CONTENT_TYPE,
            ...(this.storageClass ? { storageClass: this.storageClass } : {}),
          },
        }),
      { op: 'mkdir', display: r.display },
      o,
    );
  }

  /**
   * Rewrite (server-side copy) + delete of the source: a file, or an empty directory's marker
   * (`<key>/`, or a ≤ 2.1.0 marker `<key>`, copied to `<target>/`). A directory with contents
   * is refused with NOT_EMPTY, as upstream. Not atomic: a failure between the copy and the
   * delete leaves both. The copy is of the generation found, and the delete only removes that
   * generation, so an object uploaded meanwhile is not lost. An existing target file is
   * replaced; a file onto a directory is INVALID_INPUT.
   */
  async rename(from: string, to: string, o?: Op): Promise<void> {
    const rf = this.resolve(from);
    const rt = this.resolve(to);
    if (rf.rel === '/' || rt.rel === '/') {
      throw new SftpgoError('PERMISSION_DENIED', 'renaming the root directory is not allowed');
    }
    if (rf.rel === rt.rel) return;
    const ctx = { op: 'rename', display: rf.display };
    const found = await this.find(rf, 'rename', o);
    let target = rt.key;
    let contentType: string | undefined;
    if (found.kind === 'file') {
      let onto: Found | undefined;
      try {
        onto = await this.find(rt, 'rename', o);
      } catch (e) {
        if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
      }
      if (onto !== undefined && onto.kind !== 'file') {
        throw new SftpgoError(
          'INVALID_INPUT',
          `cannot rename ${JSON.stringify(rf.display)}: ${JSON.stringify(rt.display)} is a directory`,
        );
      }
      contentType = found.object.contentType;
    } else if (
      found.kind === 'marker' &&
      // find() reports a marker `<key>/` only without contents; a ≤ 2.1.0 marker is probed here
      ((found.object.name ?? '').endsWith('/') || !(await this.probeDir(rf, ctx, o)).contents)
    ) {
      target += '/';
      contentType = DIR_CONTENT_TYPE;
    } else {
      throw new SftpgoError(
        'NOT_EMPTY',
        `cannot rename non empty directory: ${JSON.stringify(rf.display)}`,
      );
    }
    const source = found.object;
    const generation = Number(source.generation);
    const src = this.bucket.file(
      source.name ?? rf.key,
      Number.isSafeInteger(generation) ? { generation } : {},
    );
    // the rewrite's request body is these options: the storage class is a field of it too
    const copy: CopyOptions & { storageClass?: string } = {
      ...(contentType ? { contentType } : {}),
      ...(this.storageClass ? { storageClass: this.storageClass } : {}),
    };
    await this.call(
      () =>
        metrics.meterCloudRequest('gcs', 'copy_object', src.copy(this.bucket.file(target), copy)),
      ctx,
      o,
    );
    await this.deleteObject(source, ctx, o);
  }

  /** deletes an object found earlier: only that generation (a newer one is kept) */
  private async deleteObject(obj: ObjectResource, ctx: MapContext, o?: Op): Promise<void> {
    const gen = obj.generation;
    await this.call(
      () =>
        metrics.meterCloudRequest(
          'gcs',
          'delete_object',
          this.bucket
            .file(obj.name ?? '')
            .delete(gen === undefined ? {} : { ifGenerationMatch: gen }),
        ),
      ctx,
      o,
    );
  }

  /**
   * A file: delete of its object (NOT_FOUND when missing). `dir`: NOT_EMPTY when objects remain
   * below it (upstream); else delete of its marker `<key>/`, or of a ≤ 2.1.0 marker `<key>`
   * (upstream retries without the slash on a 404); a missing directory is no error.
   */
  async remove(p: string, o?: Op & { dir?: boolean }): Promise<void> {
    const r = this.resolve(p);
    if (r.rel === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    const ctx = { op: 'remove', display: r.display };
    if (!o?.dir) {
      await this.call(
        () => metrics.meterCloudRequest('gcs', 'delete_object', this.bucket.file(r.key).delete()),
        ctx,
        o,
      );
      return;
    }
    const dir = await this.probeDir(r, ctx, o);
    if (dir.contents) {
      throw new SftpgoError(
        'NOT_EMPTY',
        `cannot remove non empty directory: ${JSON.stringify(r.display)}`,
      );
    }
    if (dir.marker) {
      await this.deleteObject(dir.marker, ctx, o);
      return;
    }
    const legacy = await this.object(r.key, ctx, o);
    if (legacy === undefined) return;
    if (!isDirObject(legacy)) {
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is not a directory`);
    }
    await this.deleteObject(legacy, ctx, o);
  }

  /**
   * Files and bytes below `dir` for quota scans: every object under it (no delimiter), except
   * soft-deleted ones and 0-byte directory objects. One deadline of 300 s for the whole scan.
   */
  async usage(dir: string, o?: Op): Promise<Usage> {
    const r = this.resolve(dir);
    const prefix = this.dirPrefix(r);
    const ctx = { op: 'usage', display: r.display };
    const deadline = Date.now() + SCAN_TIMEOUT_MS;
    let files = 0;
    let bytes = 0;
    let pageToken: string | undefined;
    do {
      const query = { prefix, maxResults: PAGE_SIZE, fields: SCAN_FIELDS };
      const left = Math.max(1, deadline - Date.now());
      const page = await this.listPage(pageToken ? { ...query, pageToken } : query, ctx, o, left);
      for (const obj of page.items ?? []) {
        if (obj.timeDeleted !== undefined) continue;
        const size = sizeOf(obj);
        if (size === 0 && isDirObject(obj)) continue;
        files++;
        bytes += size;
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return { files, bytes };
  }

  /** no symlinks: the normalized path itself */
  /** the object key (the key prefix itself for the root) */
  nativePath(p: string): string {
    return this.resolve(p).key;
  }

  realpath(p: string, _o?: Op): Promise<string> {
    return Promise.resolve(normalizeVirtualPath(p));
  }

  /** releases the idle connections kept for uploads */
  close(): Promise<void> {
    this.agents.close();
    return Promise.resolve();
  }
}

/** the parsed credentials JSON of a gcsconfig (never echoed: it holds a private key) */
function parseCredentials(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    // the parser's message quotes the input: neither it nor the error may reach a log
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new SftpgoError('INVALID_INPUT', 'the GCS credentials are not a valid JSON object');
  }
  return v as Record<string, unknown>;
}

/** GcsFsOptions out of a provider 2 config; the credentials are decrypted here, in memory */
export async function gcsOptionsOf(
  config: FilesystemConfig,
  o: CreateFsOptions,
): Promise<GcsFsOptions> {
  const c = config.gcsconfig;
  if (!c) throw new SftpgoError('INVALID_INPUT', 'the GCS filesystem has no gcsconfig');
  let credentials: Record<string, unknown> | undefined;
  if ((c.automatic_credentials ?? 0) === 0) {
    if (isEmptySecret(c.credentials)) {
      throw new SftpgoError('INVALID_INPUT', 'the GCS filesystem has no credentials');
    }
    if (!o.decryptSecret) {
      throw new SftpgoError('INTERNAL', 'the GCS credentials cannot be decrypted: no KMS');
    }
    credentials = parseCredentials(await o.decryptSecret(c.credentials ?? {}));
  }
  return {
    bucket: c.bucket ?? '',
    keyPrefix: c.key_prefix ?? '',
    ...(credentials ? { credentials } : {}),
    ...(c.storage_class ? { storageClass: c.storage_class } : {}),
    ...(o.displayPrefix !== undefined ? { displayPrefix: o.displayPrefix } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
  };
}

/** registry entry (src/vfs/registry.ts): provider 2 */
export async function create(config: FilesystemConfig, o: CreateFsOptions): Promise<Fs> {
  o.signal?.throwIfAborted();
  return new GcsFs(await gcsOptionsOf(config, o));
}
