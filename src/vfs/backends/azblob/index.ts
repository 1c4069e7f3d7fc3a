/**
 * Azure Blob Storage backend (provider 3): a container, optionally below a key prefix, seen as
 * a filesystem (upstream vfs/azblobfs.go at v2.1.2; storage-2.1.2.md §5). Loaded only through
 * the registry's lazy import, so the Azure SDK is not loaded unless a user or folder uses it.
 *
 * Keys: the path "/a/b" is the blob `<key_prefix>a/b` (key_prefix is "" or ends with "/").
 * Paths are normalized first (`..` cannot climb above "/", NUL refused), so no blob outside the
 * prefix can be named.
 *
 * Directories are emulated (capability emulatedDirs): a directory exists when a marker blob
 * named `<dir>` (no trailing slash, 0 bytes, Content-Type inode/directory) exists or when any
 * blob starts with `<dir>/`. mkdir of an existing path does nothing; a missing directory lists
 * as empty and its removal succeeds; directories without a marker report mtime = now, size 0.
 *
 * What this backend does not do (capabilities false, the methods are absent): positional
 * writes and reads (uploads stream through openWrite as staged blocks committed at the end,
 * downloads through openRead, a read at an offset being one ranged download), resume/append,
 * atomic temp-file uploads (nothing is visible before the block list is committed), symlinks,
 * chmod/chown/chtimes, truncate, statvfs. Rename is a server-side copy + delete: files and
 * empty directories only, not atomic.
 *
 * Credentials: the account name and key (shared key), or a SAS URL naming a container or the
 * account (then `container` is required). Both secrets are decrypted in memory with the KMS
 * when the backend is built. Deadlines as upstream: 30 s per metadata request (each listing
 * page too), 300 s for a whole usage scan; transfers have none but their blocks'. Every
 * operation also honours the caller's AbortSignal.
 */
import { isIP } from 'node:net';
import { addAbortSignal, finished, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AnonymousCredential,
  BlobServiceClient,
  ContainerClient,
  StorageSharedKeyCredential,
  type BlobItem,
  type ContainerListBlobHierarchySegmentResponse as ListHierarchyPage,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import type { ApiSecret } from '../../../api/index.js';
import { SftpgoError } from '../../../errors/index.js';
import { isEmptySecret } from '../../../kms/index.js';
import { metrics } from '../../../util/metrics.js';
import { loadPlatformTypes, typeByExtension } from '../../../util/mime.js';
import { COMMIT_HASH, VERSION } from '../../../util/version.js';
import { throwIfAborted } from '../../errors.js';
import { joinVirtual, normalizeVirtualPath, virtualBase } from '../../path.js';
import type { CreateFsOptions, FilesystemConfig } from '../../registry.js';
import {
  S_IFDIR,
  S_IFREG,
  type FileInfo,
  type Fs,
  type FsCapabilities,
  type FsLogger,
  type Op,
  type Upload,
  type Usage,
  type WriteStreamOptions,
} from '../../types.js';
import { OBJECT_STORE_CAPABILITIES } from '../object-store.js';
import { isAzInvalidRange, isAzNotFound, mapAzError, type MapContext } from './errors.js';
import { startBlockUpload } from './upload.js';

/** Content-Type of the directory markers (upstream dirMimeType) */
export const DIR_CONTENT_TYPE = 'inode/directory';
const DEFAULT_ENDPOINT = 'blob.core.windows.net';
const MIB = 1024 * 1024;
const DEFAULT_PART_SIZE = 4 * MIB;
const DEFAULT_CONCURRENCY = 2;
/** per metadata request (upstream ctxTimeout) */
const METADATA_TIMEOUT_MS = 30_000;
/** a whole usage scan (upstream ctxLongTimeout) */
const SCAN_TIMEOUT_MS = 300_000;
/** a rename's copy: poll interval, overall deadline, consecutive poll errors tolerated */
const COPY_POLL_MS = 500;
const COPY_TIMEOUT_MS = 30_000;
const COPY_POLL_ERRORS = 3;
/** transparent retries of a download body cut mid-way (upstream MaxRetryRequests) */
const DOWNLOAD_RETRIES = 3;

const NO_LOGGER: FsLogger = Object.freeze({ warn: () => undefined, error: () => undefined });

/** the extension table of the platform, read once when the backend module loads */
const PLATFORM_TYPES = loadPlatformTypes();

export type AccessTier = 'Hot' | 'Cool' | 'Archive';

export interface AzureBlobFsOptions {
  /** the container client, built by `containerClientFor` (tests may pass their own) */
  container: ContainerClient;
  /**
   * the client names a container-level SAS URL: the container's own properties cannot be read,
   * so a stat of the root does not ask for them (upstream skips it as well)
   */
  containerSas?: boolean;
  /** "" or a cleaned prefix ending with "/" (the data provider saves it normalized) */
  keyPrefix?: string;
  /** block size in bytes (default 4 MiB) */
  partSize?: number;
  /** blocks staged in parallel (default 2) */
  concurrency?: number;
  accessTier?: AccessTier;
  /** the virtual mount point, used only to name paths in error messages */
  displayPrefix?: string;
  /** a rename whose source could not be deleted after the copy (the file then exists twice) */
  logger?: FsLogger;
  /** listing page size (default: the service's, 5000); tests use small pages */
  pageSize?: number;
  /** the process's uid/gid reported as owner (default: process.getuid/getgid, else 65534) */
  uid?: number;
  gid?: number;
}

interface Resolved {
  /** normalized path relative to the root */
  rel: string;
  /** the blob name ("" for the container root) */
  key: string;
  /** the key names the root: the container, or the key prefix itself */
  isRoot: boolean;
  /** client-visible path for messages */
  display: string;
}

function dirInfo(name: string, mtime: Date, uid: number, gid: number): FileInfo {
  return {
    name,
    size: 0,
    mode: S_IFDIR | 0o755,
    mtime,
    atime: mtime,
    isDirectory: true,
    isSymlink: false,
    isFile: false,
    uid,
    gid,
  };
}

function fileInfo(name: string, size: number, mtime: Date, uid: number, gid: number): FileInfo {
  return {
    name,
    size,
    mode: S_IFREG | 0o644,
    mtime,
    atime: mtime,
    isDirectory: false,
    isSymlink: false,
    isFile: true,
    uid,
    gid,
  };
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new SftpgoError('INVALID_INPUT', 'invalid read offset');
}

/**
 * A stream over a download body whose errors are mapped. Destroying it destroys the body at
 * once, read or not, which releases the connection (a stream replaced by a seek was never read).
 */
function mappedStream(body: Readable, ctx: MapContext): Readable {
  const out = new Readable({
    highWaterMark: 256 * 1024,
    read() {
      body.resume();
    },
    destroy(err, cb) {
      body.destroy();
      cb(err);
    },
  });
  let bytes = 0;
  body.on('data', (c: Buffer) => {
    bytes += c.length;
    if (!out.push(c)) body.pause();
  });
  body.pause();
  finished(body, (err) => {
    // a download ended early by the reader is an error for the metrics, as upstream counts it
    metrics.cloudTransferCompleted('az', 'download', bytes, !err);
    if (err) out.destroy(mapAzError(err, ctx));
    else out.push(null);
  });
  return out;
}

export class AzureBlobFs implements Fs {
  readonly kind = 'azblob' as const;
  readonly capabilities: FsCapabilities = OBJECT_STORE_CAPABILITIES;
  private readonly container: ContainerClient;
  private readonly containerSas: boolean;
  private readonly keyPrefix: string;
  private readonly partSize: number;
  private readonly concurrency: number;
  private readonly tier: AccessTier | undefined;
  private readonly displayPrefix: string;
  private readonly logger: FsLogger;
  private readonly pageSize: number | undefined;
  private readonly uid: number;
  private readonly gid: number;

  constructor(o: AzureBlobFsOptions) {
    const prefix = o.keyPrefix ?? '';
    if (prefix.startsWith('/'))
      throw new SftpgoError('INVALID_INPUT', 'key_prefix cannot start with /');
    this.keyPrefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.container = o.container;
    this.containerSas = o.containerSas ?? false;
    this.partSize = o.partSize !== undefined && o.partSize > 0 ? o.partSize : DEFAULT_PART_SIZE;
    this.concurrency =
      o.concurrency !== undefined && o.concurrency > 0 ? o.concurrency : DEFAULT_CONCURRENCY;
    this.tier = o.accessTier;
    this.displayPrefix = normalizeVirtualPath(o.displayPrefix ?? '/');
    this.logger = o.logger ?? NO_LOGGER;
    this.pageSize = o.pageSize;
    this.uid = o.uid ?? process.getuid?.() ?? 65534;
    this.gid = o.gid ?? process.getgid?.() ?? 65534;
  }

  // ---------------------------------------------------------------- helpers

  private resolve(p: string): Resolved {
    const rel = normalizeVirtualPath(p);
    const display = joinVirtual(this.displayPrefix, rel);
    if (rel === '/') {
      return { rel, key: this.keyPrefix.slice(0, -1), isRoot: true, display };
    }
    return { rel, key: `${this.keyPrefix}${rel.slice(1)}`, isRoot: false, display };
  }

  /** the listing prefix of the directory `r` ("" at the container root) */
  private dirPrefix(r: Resolved): string {
    return r.key === '' ? '' : `${r.key}/`;
  }

  /**
   * Runs one metadata request with upstream's 30 s deadline and the caller's signal; errors are
   * mapped (a deadline is BACKEND_UNAVAILABLE, the caller's abort ABORTED).
   */
  private async call<T>(
    ctx: Omit<MapContext, 'timedOut'>,
    o: Op | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs = METADATA_TIMEOUT_MS,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = o?.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    try {
      throwIfAborted(o?.signal);
      return await fn(signal);
    } catch (e) {
      throw mapAzError(e, { ...ctx, timedOut: timeout.aborted && o?.signal?.aborted !== true });
    }
  }

  /** any blob below `key/` (upstream hasContents: a flat listing of one entry) */
  private async hasContents(r: Resolved, o: Op | undefined): Promise<boolean> {
    return this.call({ op: 'list', display: r.display }, o, async (abortSignal) => {
      const pages = this.container
        .listBlobsFlat({ prefix: this.dirPrefix(r), abortSignal })
        .byPage({ maxPageSize: 1 });
      const first = await metrics.meterCloudRequest('az', 'list_objects', pages.next());
      return first.done !== true && first.value.segment.blobItems.length > 0;
    });
  }

  /** the attributes of `r`, or undefined when nothing exists there */
  private async lookup(r: Resolved, o: Op | undefined): Promise<FileInfo | undefined> {
    const name = virtualBase(r.rel);
    if (r.isRoot) {
      // the prefix root is a directory by definition; the container root is checked, except
      // with a container SAS, which cannot read the container's properties
      if (r.key === '' && !this.containerSas) {
        await this.call({ op: 'stat', display: r.display }, o, (abortSignal) =>
          metrics.meterCloudRequest(
            'az',
            'head_container',
            this.container.getProperties({ abortSignal }),
          ),
        );
      }
      return dirInfo(name, new Date(), this.uid, this.gid);
    }
    try {
      const props = await this.call({ op: 'stat', display: r.display }, o, (abortSignal) =>
        metrics.meterCloudRequest(
          'az',
          'head_object',
          this.container.getBlobClient(r.key).getProperties({ abortSignal }),
        ),
      );
      const mtime = props.lastModified ?? new Date();
      if (props.contentType === DIR_CONTENT_TYPE) return dirInfo(name, mtime, this.uid, this.gid);
      return fileInfo(name, props.contentLength ?? 0, mtime, this.uid, this.gid);
    } catch (e) {
      if (!isAzNotFound(e)) throw e;
    }
    if (await this.hasContents(r, o)) return dirInfo(name, new Date(), this.uid, this.gid);
    return undefined;
  }

  private notFound(op: string, r: Resolved): SftpgoError {
    return new SftpgoError(
      'NOT_FOUND',
      `${op} ${JSON.stringify(r.display)}: no such file or directory`,
    );
  }

  // ---------------------------------------------------------------- Fs

  async stat(p: string, o?: Op): Promise<FileInfo> {
    const r = this.resolve(p);
    const info = await this.lookup(r, o);
    if (!info) throw this.notFound('stat', r);
    return info;
  }

  lstat(p: string, o?: Op): Promise<FileInfo> {
    return this.stat(p, o);
  }

  async *list(dir: string, o?: Op): AsyncIterableIterator<FileInfo> {
    const r = this.resolve(dir);
    const prefix = this.dirPrefix(r);
    const signal = o?.signal;
    throwIfAborted(signal);
    /** directories already listed: a marker blob and the prefix of its contents name one dir */
    const dirs = new Set<string>();
    const now = new Date();
    let token: string | undefined;
    do {
      // one request per page, each with its own deadline (a continuation token resumes it)
      const page = await this.call({ op: 'list', display: r.display }, o, async (abortSignal) => {
        const pages = this.container
          .listBlobsByHierarchy('/', { prefix, abortSignal })
          .byPage(this.pageSettings(token));
        const next = await metrics.meterCloudRequest('az', 'list_objects', pages.next());
        return next.value as ListHierarchyPage | undefined;
      });
      if (!page) return;
      token = page.continuationToken;
      const out: FileInfo[] = [];
      for (const bp of page.segment.blobPrefixes ?? []) {
        const name = bp.name.slice(prefix.length, -1);
        // "a//b" lists a prefix "a//" under "a/": an empty name is no directory entry
        if (name === '' || name.includes('/') || dirs.has(name)) continue;
        dirs.add(name);
        out.push(dirInfo(name, now, this.uid, this.gid));
      }
      for (const b of page.segment.blobItems) {
        const info = this.blobInfo(b, prefix);
        if (!info) continue;
        if (info.isDirectory) {
          if (dirs.has(info.name)) continue;
          dirs.add(info.name);
        }
        out.push(info);
      }
      for (const info of out) {
        throwIfAborted(signal);
        yield info;
      }
    } while (token !== undefined && token !== '');
  }

  private pageSettings(token: string | undefined): {
    continuationToken?: string;
    maxPageSize?: number;
  } {
    return {
      ...(token !== undefined ? { continuationToken: token } : {}),
      ...(this.pageSize !== undefined ? { maxPageSize: this.pageSize } : {}),
    };
  }

  private blobInfo(b: BlobItem, prefix: string): FileInfo | undefined {
    const name = b.name.slice(prefix.length);
    if (name === '' || name.includes('/')) return undefined;
    const mtime = b.properties.lastModified;
    if (b.properties.contentType === DIR_CONTENT_TYPE)
      return dirInfo(name, mtime, this.uid, this.gid);
    return fileInfo(name, b.properties.contentLength ?? 0, mtime, this.uid, this.gid);
  }

  async openRead(p: string, o?: Op & { offset?: number }): Promise<Readable> {
    const offset = o?.offset ?? 0;
    checkOffset(offset);
    const r = this.resolve(p);
    const isDir = (): SftpgoError =>
      new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    if (r.isRoot) throw isDir();
    const ctx: MapContext = { op: 'open', display: r.display };
    throwIfAborted(o?.signal);
    const blob = this.container.getBlobClient(r.key);
    let res;
    try {
      res = await blob.download(offset, undefined, {
        maxRetryRequests: DOWNLOAD_RETRIES,
        ...(o?.signal ? { abortSignal: o.signal } : {}),
      });
    } catch (e) {
      if (!isAzInvalidRange(e)) throw mapAzError(e, ctx);
      // at or past the end of an existing blob: nothing to read (a directory marker is refused)
      const info = await this.stat(p, o);
      if (info.isDirectory) throw isDir();
      return Readable.from([]);
    }
    const body = res.readableStreamBody;
    if (res.contentType === DIR_CONTENT_TYPE || !body) {
      (body as Readable | undefined)?.destroy();
      if (!body) throw new SftpgoError('INTERNAL', `open ${JSON.stringify(r.display)}: no body`);
      throw isDir();
    }
    const stream = mappedStream(body as Readable, { op: 'read', display: r.display });
    if (o?.signal) addAbortSignal(o.signal, stream);
    return stream;
  }

  async openWrite(p: string, o?: WriteStreamOptions): Promise<Upload> {
    const r = this.resolve(p);
    if ((o?.offset ?? 0) !== 0) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'resuming uploads is not supported by this storage backend',
      );
    }
    if (o?.atomic === true) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'atomic uploads are not supported by this storage backend',
      );
    }
    if (r.isRoot)
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    throwIfAborted(o?.signal);
    const contentType = typeByExtension(r.key, PLATFORM_TYPES);
    const up = startBlockUpload(this.container.getBlockBlobClient(r.key), {
      partSize: this.partSize,
      concurrency: this.concurrency,
      display: r.display,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(this.tier !== undefined ? { tier: this.tier } : {}),
    });
    if (o?.signal) addAbortSignal(o.signal, up.stream);
    return up;
  }

  /**
   * Creates a directory marker. As upstream, an existing path (file or directory) makes it
   * succeed without doing anything, and missing parents need nothing (they exist as prefixes
   * once something is below them); `recursive` changes nothing.
   */
  async mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void> {
    const r = this.resolve(p);
    if (await this.lookup(r, o)) return;
    await this.call({ op: 'mkdir', display: r.display }, o, (abortSignal) =>
      this.container.getBlockBlobClient(r.key).commitBlockList([], {
        abortSignal,
        blobHTTPHeaders: { blobContentType: DIR_CONTENT_TYPE },
        ...(this.tier !== undefined ? { tier: this.tier } : {}),
      }),
    );
  }

  /**
   * A server-side copy, then the removal of the source (upstream Rename): files, and empty
   * directories (their marker); a directory with contents is refused with NOT_EMPTY. An existing
   * target file is replaced; a file cannot replace a directory (INVALID_INPUT), a directory
   * replaces only an empty directory.
   */
  async rename(from: string, to: string, o?: Op): Promise<void> {
    const rf = this.resolve(from);
    const rt = this.resolve(to);
    if (rf.isRoot || rt.isRoot) {
      throw new SftpgoError('PERMISSION_DENIED', 'renaming the root directory is not allowed');
    }
    if (rf.key === rt.key) return;
    const src = await this.lookup(rf, o);
    if (!src) throw this.notFound('rename', rf);
    if (src.isDirectory && (await this.hasContents(rf, o))) {
      throw new SftpgoError(
        'NOT_EMPTY',
        `cannot rename non empty directory: ${JSON.stringify(rf.display)}`,
      );
    }
    const dst = await this.lookup(rt, o);
    if (dst?.isDirectory && !src.isDirectory) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `rename ${JSON.stringify(rf.display)}: the target ${JSON.stringify(rt.display)} is a directory`,
      );
    }
    if (dst && !dst.isDirectory && src.isDirectory) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `rename ${JSON.stringify(rf.display)}: the target ${JSON.stringify(rt.display)} is not a directory`,
      );
    }
    if (dst?.isDirectory && (await this.hasContents(rt, o))) {
      throw new SftpgoError(
        'NOT_EMPTY',
        `rename ${JSON.stringify(rf.display)}: the target ${JSON.stringify(rt.display)} is not empty`,
      );
    }
    await this.copy(rf, rt, o);
    try {
      await this.deleteBlob(rf, o);
    } catch (e) {
      this.logger.warn(
        { sender: 'azblob', file_path: rf.display, target_path: rt.display, err: e },
        'rename: the source could not be removed after its copy, it now exists twice',
      );
      throw e;
    }
  }

  /** StartCopyFromURL, then polls the target until the copy is no longer pending (upstream copyFileInternal) */
  private async copy(rf: Resolved, rt: Resolved, o: Op | undefined): Promise<void> {
    const ctx = { op: 'rename', display: rf.display };
    const source = this.container.getBlobClient(rf.key);
    const target = this.container.getBlobClient(rt.key);
    const completed = await this.call(ctx, o, async (abortSignal) => {
      const poller = await metrics.meterCloudRequest(
        'az',
        'copy_object',
        target.beginCopyFromURL(source.url, {
          abortSignal,
          ...(this.tier !== undefined ? { tier: this.tier } : {}),
        }),
      );
      return poller.getOperationState().isCompleted === true;
    });
    if (completed) return;
    const deadline = Date.now() + COPY_TIMEOUT_MS;
    let errors = 0;
    for (;;) {
      await sleep(COPY_POLL_MS, undefined, o?.signal ? { signal: o.signal } : {}).catch(
        (e: unknown) => {
          throw mapAzError(e, ctx);
        },
      );
      let status: string | undefined;
      try {
        const props = await this.call(ctx, o, (abortSignal) =>
          target.getProperties({ abortSignal }),
        );
        errors = 0;
        status = props.copyStatus;
      } catch (e) {
        if (SftpgoError.is(e, 'ABORTED') || ++errors >= COPY_POLL_ERRORS) throw e;
      }
      if (status === 'success') return;
      if (status !== undefined && status !== 'pending') {
        throw new SftpgoError(
          'INTERNAL',
          `rename ${JSON.stringify(rf.display)}: copy failed with status: ${status}`,
        );
      }
      if (Date.now() > deadline) {
        throw new SftpgoError(
          'BACKEND_UNAVAILABLE',
          `rename ${JSON.stringify(rf.display)}: the copy did not complete in time`,
        );
      }
    }
  }

  private async deleteBlob(r: Resolved, o: Op | undefined): Promise<void> {
    await this.call({ op: 'remove', display: r.display }, o, (abortSignal) =>
      metrics.meterCloudRequest(
        'az',
        'delete_object',
        this.container.getBlobClient(r.key).delete({ abortSignal, deleteSnapshots: 'include' }),
      ),
    );
  }

  /**
   * Removes a file, or a directory's marker with `dir` (NOT_EMPTY while something is below it;
   * a missing directory is removed silently, upstream issue #149).
   */
  async remove(p: string, o?: Op & { dir?: boolean }): Promise<void> {
    const r = this.resolve(p);
    if (r.isRoot)
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    if (o?.dir === true) {
      if (await this.hasContents(r, o)) {
        throw new SftpgoError(
          'NOT_EMPTY',
          `cannot remove non empty directory: ${JSON.stringify(r.display)}`,
        );
      }
      try {
        await this.deleteBlob(r, o);
      } catch (e) {
        if (!isAzNotFound(e)) throw e;
      }
      return;
    }
    await this.deleteBlob(r, o);
  }

  /** files and bytes below `dir`, by a flat listing that skips the directory markers */
  async usage(dir: string, o?: Op): Promise<Usage> {
    const r = this.resolve(dir);
    const ctx = { op: 'usage', display: r.display };
    return this.call(
      ctx,
      o,
      async (abortSignal) => {
        let files = 0;
        let bytes = 0;
        const pages = this.container
          .listBlobsFlat({ prefix: this.dirPrefix(r), abortSignal })
          .byPage(this.pageSettings(undefined));
        for (;;) {
          const next = await metrics.meterCloudRequest('az', 'list_objects', pages.next());
          if (next.done === true) break;
          const page = next.value;
          for (const b of page.segment.blobItems) {
            const size = b.properties.contentLength ?? 0;
            if (size === 0 && b.properties.contentType === DIR_CONTENT_TYPE) continue;
            files++;
            bytes += size;
          }
        }
        return { files, bytes };
      },
      SCAN_TIMEOUT_MS,
    );
  }

  /** the blob name (the key prefix without its final "/" for the root) */
  nativePath(p: string): string {
    return this.resolve(p).key;
  }

  realpath(p: string, _o?: Op): Promise<string> {
    return Promise.resolve(normalizeVirtualPath(p));
  }

  async close(): Promise<void> {
    // the SDK holds no connection that needs closing (idle keep-alive sockets time out)
  }
}

// ---------------------------------------------------------------- building from a config

export interface AzureCredentials {
  /** account name + key (shared key) */
  accountName?: string;
  accountKey?: string;
  /** a SAS URL naming the container or the account */
  sasUrl?: string;
}

export interface ContainerTarget {
  container: ContainerClient;
  /** the SAS URL names the container (see AzureBlobFsOptions.containerSas) */
  containerSas: boolean;
}

function pipelineOptions(): StoragePipelineOptions {
  return { userAgentOptions: { userAgentPrefix: `SFTPGo-${VERSION}_${COMMIT_HASH}` } };
}

/** true for an IP host (with or without brackets): the account is then the first path segment */
function isIpHost(hostname: string): boolean {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(h) !== 0;
}

/**
 * The container client of a config (upstream NewAzBlobFs): with a SAS URL, the container it
 * names (which must match `container` when both are set) or `container` in the account it names;
 * otherwise shared-key access to `<endpoint>/<account>` (emulator) or
 * `https://<account>.<endpoint>`. Messages never contain the SAS URL or the key.
 */
export function containerClientFor(
  c: { container?: string; endpoint?: string; useEmulator?: boolean },
  creds: AzureCredentials,
): ContainerTarget {
  const containerName = c.container ?? '';
  const options = pipelineOptions();
  if (creds.sasUrl !== undefined && creds.sasUrl !== '') {
    let url: URL;
    try {
      url = new URL(creds.sasUrl);
    } catch {
      // no cause: the URL error carries the SAS URL with its signature
      throw new SftpgoError(
        'INVALID_INPUT',
        'could not build the Azure Blob backend: invalid sas_url',
      );
    }
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const inUrl = decodeURIComponent(segments[isIpHost(url.hostname) ? 1 : 0] ?? '');
    if (inUrl !== '') {
      if (containerName !== '' && containerName !== inUrl) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `container name in SAS URL ${JSON.stringify(inUrl)} and container provided ${JSON.stringify(containerName)} do not match`,
        );
      }
      return {
        container: new ContainerClient(url.toString(), new AnonymousCredential(), options),
        containerSas: true,
      };
    }
    if (containerName === '')
      throw new SftpgoError('INVALID_INPUT', 'container is required with this SAS URL');
    const service = new BlobServiceClient(url.toString(), new AnonymousCredential(), options);
    return { container: service.getContainerClient(containerName), containerSas: false };
  }
  const account = creds.accountName ?? '';
  if (account === '' || creds.accountKey === undefined || creds.accountKey === '') {
    throw new SftpgoError('INVALID_INPUT', 'credentials cannot be empty or invalid');
  }
  if (containerName === '') throw new SftpgoError('INVALID_INPUT', 'container cannot be empty');
  const endpoint = (
    c.endpoint !== undefined && c.endpoint !== '' ? c.endpoint : DEFAULT_ENDPOINT
  ).replace(/\/+$/, '');
  const serviceUrl =
    c.useEmulator === true ? `${endpoint}/${account}` : `https://${account}.${endpoint}`;
  if (!/^https?:$/.test(URL.parse(serviceUrl)?.protocol ?? '')) {
    throw new SftpgoError(
      'INVALID_INPUT',
      c.useEmulator === true
        ? 'invalid Azure Blob endpoint: with use_emulator it must include the scheme, e.g. http://127.0.0.1:10000'
        : 'invalid Azure Blob endpoint',
    );
  }
  const credential = new StorageSharedKeyCredential(account, creds.accountKey);
  const service = new BlobServiceClient(serviceUrl, credential, options);
  return { container: service.getContainerClient(containerName), containerSas: false };
}

async function decrypt(
  secret: ApiSecret | undefined,
  o: CreateFsOptions,
  what: string,
): Promise<string | undefined> {
  if (isEmptySecret(secret)) return undefined;
  if (!o.decryptSecret) {
    throw new SftpgoError(
      'INTERNAL',
      `the Azure Blob backend cannot decrypt its ${what} without the KMS`,
    );
  }
  try {
    return await o.decryptSecret(secret as ApiSecret);
  } catch (e) {
    throw new SftpgoError('INTERNAL', `unable to decrypt the Azure Blob ${what}`, { cause: e });
  }
}

/** registry entry (src/vfs/registry.ts): provider 3 */
export async function create(config: FilesystemConfig, o: CreateFsOptions): Promise<Fs> {
  const c = config.azblobconfig ?? {};
  throwIfAborted(o.signal);
  const sasUrl = (await decrypt(c.sas_url, o, 'sas_url')) || undefined;
  const accountKey =
    sasUrl === undefined ? await decrypt(c.account_key, o, 'account_key') : undefined;
  const target = containerClientFor(
    {
      ...(c.container !== undefined ? { container: c.container } : {}),
      ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
      ...(c.use_emulator !== undefined ? { useEmulator: c.use_emulator } : {}),
    },
    {
      ...(sasUrl !== undefined ? { sasUrl } : {}),
      ...(c.account_name !== undefined ? { accountName: c.account_name } : {}),
      ...(accountKey !== undefined ? { accountKey } : {}),
    },
  );
  const tier = c.access_tier;
  return new AzureBlobFs({
    container: target.container,
    containerSas: target.containerSas,
    ...(c.key_prefix !== undefined ? { keyPrefix: c.key_prefix } : {}),
    partSize:
      (c.upload_part_size ?? 0) > 0 ? (c.upload_part_size as number) * MIB : DEFAULT_PART_SIZE,
    concurrency:
      (c.upload_concurrency ?? 0) > 0 ? (c.upload_concurrency as number) : DEFAULT_CONCURRENCY,
    ...(tier !== undefined && tier !== '' ? { accessTier: tier } : {}),
    ...(o.displayPrefix !== undefined ? { displayPrefix: o.displayPrefix } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
  });
}
