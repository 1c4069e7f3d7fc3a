/**
 * S3 backend (provider 1): a bucket, optionally below a key prefix, seen as a filesystem
 * (upstream vfs/s3fs.go at v2.1.2; storage-2.1.2.md §3). Loaded only through the registry's lazy
 * import, so the AWS SDK is not loaded unless a user or folder uses S3.
 *
 * Keys: the path "/a/b" is the key `<key_prefix>a/b` (key_prefix is "" or ends with "/").
 * Paths are normalized first (`..` cannot climb above "/", NUL refused), so no key outside the
 * prefix can be named.
 *
 * Directories are emulated (capability emulatedDirs): a directory exists when a marker object
 * `<dir>/` exists (0 bytes, Content-Type application/x-directory, as s3fs-fuse writes them) or
 * when any key starts with `<dir>/`. mkdir of an existing path does nothing; a missing directory
 * lists as empty; directories without a marker report mtime = now, size 0.
 *
 * What this backend does not do (capabilities false, the methods are absent): positional
 * writes and reads (uploads stream through openWrite, downloads through openRead, a read at
 * an offset being one ranged GET), resume/append, atomic temp-file uploads (an S3 upload is
 * atomic already: nothing is visible before it completes), symlinks, chmod/chown/chtimes,
 * truncate, statvfs. Rename is CopyObject + DeleteObject: files and empty directories only,
 * not atomic, objects over 5 GiB refused (one-request copy).
 *
 * Deadlines: 30 s per metadata request (each listing page, the copy of a rename included) and
 * for a download's response to start, 300 s for a whole usage scan; the transfer of the data
 * has none (upstream: the same, except one deadline for a whole listing). Every operation also
 * honours the caller's AbortSignal.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  waitUntilObjectExists,
  type _Object,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { addAbortSignal, pipeline, Readable, Transform } from 'node:stream';
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
import { isS3InvalidRange, mapS3Error, type MapContext } from './errors.js';
import { startS3Upload } from './upload.js';

export interface S3FsOptions {
  bucket: string;
  region: string;
  /** "" or a cleaned prefix ending with "/" (the data provider saves it normalized) */
  keyPrefix?: string;
  /** custom endpoint (S3-compatible servers): used as is, with path-style requests */
  endpoint?: string;
  /** static credentials; without them the SDK's default chain (env, ~/.aws, instance roles) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  storageClass?: string;
  /** multipart part size in bytes (default 5 MiB) */
  partSize?: number;
  /** parts uploaded in parallel (default 2) */
  queueSize?: number;
  /** the virtual mount point, used only to name paths in error messages */
  displayPrefix?: string;
  /** failed multipart aborts that leave parts stored */
  logger?: FsLogger;
}

const MIB = 1024 * 1024;
const DEFAULT_PART_MIB = 5;
const DEFAULT_CONCURRENCY = 2;
const META_TIMEOUT_MS = 30_000;
const SCAN_TIMEOUT_MS = 300_000;
/** CopyObject copies at most 5 GB in one request */
const MAX_COPY_BYTES = 5 * 1024 * MIB;
const DIR_CONTENT_TYPE = 'application/x-directory';
const READ_HIGH_WATER_MARK = 256 * 1024;

const NO_LOGGER: FsLogger = Object.freeze({ warn: () => undefined, error: () => undefined });

/** CopySource: `bucket/key`, URL-encoded segment by segment (`+` as %2B) */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key}`.split('/').map(encodeURIComponent).join('/');
}

export class S3Fs implements Fs {
  readonly kind = 's3' as const;
  readonly capabilities: FsCapabilities = OBJECT_STORE_CAPABILITIES;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly storageClass: string | undefined;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly displayPrefix: string;
  private readonly logger: FsLogger;

  constructor(o: S3FsOptions) {
    if (o.bucket === '') throw new SftpgoError('INVALID_INPUT', 'the S3 bucket cannot be empty');
    if (o.region === '') throw new SftpgoError('INVALID_INPUT', 'the S3 region cannot be empty');
    this.bucket = o.bucket;
    this.keyPrefix = checkKeyPrefix(o.keyPrefix ?? '', 'S3');
    this.storageClass = o.storageClass || undefined;
    this.partSize = o.partSize ?? DEFAULT_PART_MIB * MIB;
    this.queueSize = o.queueSize ?? DEFAULT_CONCURRENCY;
    this.displayPrefix = normalizeVirtualPath(o.displayPrefix ?? '/');
    this.logger = o.logger ?? NO_LOGGER;
    const config: S3ClientConfig = { region: o.region };
    if (o.endpoint) {
      config.endpoint = o.endpoint;
      config.forcePathStyle = true;
      // S3-compatible servers often reject the SDK's default trailing checksums (aws-chunked
      // bodies); upstream's SDK sends none either
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (o.credentials) config.credentials = o.credentials;
    // the SDK's own warnings go to our log instead of the console; its request and error logs
    // are dropped (errors reach the caller mapped)
    const log = this.logger;
    config.logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (...content: unknown[]) => {
        log.warn({ sender: 'vfs', sdk_message: content.map(String).join(' ') }, 'S3 SDK warning');
      },
      error: () => undefined,
    };
    this.client = new S3Client(config);
  }

  // ---------------------------------------------------------------- helpers

  private resolve(p: string): Resolved {
    return objectPath(p, this.keyPrefix, this.displayPrefix);
  }

  /** the prefix of the keys inside a directory */
  private dirPrefix(r: Resolved): string {
    return objectDirPrefix(r, this.keyPrefix);
  }

  /**
   * One SDK call under a deadline and the caller's signal; failures mapped to SftpgoErrors.
   * `send` receives the signal to pass to the SDK.
   */
  private async call<T>(
    send: (signal: AbortSignal) => Promise<T>,
    ctx: MapContext,
    o?: Op,
    timeoutMs = META_TIMEOUT_MS,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = o?.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
    try {
      signal.throwIfAborted();
      return await send(signal);
    } catch (e) {
      if (o?.signal?.aborted && !SftpgoError.is(e)) {
        const what = `${ctx.op} ${JSON.stringify(ctx.display)}`;
        throw new SftpgoError('ABORTED', `${what}: operation aborted`, { cause: e });
      }
      throw mapS3Error(e, { ...ctx, timedOut: deadline.aborted });
    }
  }

  private listPage(
    input: { Prefix: string; Delimiter?: string; MaxKeys?: number; ContinuationToken?: string },
    signal: AbortSignal,
  ): Promise<ListObjectsV2CommandOutput> {
    return metrics.meterCloudRequest(
      's3',
      'list_objects',
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, ...input }), {
        abortSignal: signal,
      }),
    );
  }

  /** HeadObject, counted in the metrics (a missing object counts as an error, as upstream) */
  private headObject(key: string, signal: AbortSignal) {
    return metrics.meterCloudRequest(
      's3',
      'head_object',
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      }),
    );
  }

  private deleteObject(key: string, signal: AbortSignal) {
    return metrics.meterCloudRequest(
      's3',
      'delete_object',
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      }),
    );
  }

  /**
   * What lies below a directory path: whether any key other than its own marker does, and the
   * marker itself when it exists (upstream hasContents / the marker HEAD of Stat, in one request).
   */
  private async probeDir(
    r: Resolved,
    op: string,
    o?: Op,
  ): Promise<{ contents: boolean; marker: _Object | undefined }> {
    const prefix = this.dirPrefix(r);
    const ctx = { op, display: r.display };
    const page = await this.call((s) => this.listPage({ Prefix: prefix, MaxKeys: 2 }, s), ctx, o);
    const objects = page.Contents ?? [];
    return {
      contents: objects.some((c) => c.Key !== prefix),
      marker: objects.find((c) => c.Key === prefix),
    };
  }

  // ---------------------------------------------------------------- Fs

  /**
   * Root: a dir (with a key prefix no request is made; without one, HeadBucket checks the
   * bucket). Else: an object with the key → a file; keys below `<key>/` → a directory
   * (mtime now, unless only its marker exists: then the marker's); NOT_FOUND otherwise.
   */
  async stat(p: string, o?: Op): Promise<FileInfo> {
    const r = this.resolve(p);
    const ctx = { op: 'stat', display: r.display };
    if (r.rel === '/') {
      if (this.keyPrefix === '') {
        await this.call(
          (s) =>
            metrics.meterCloudRequest(
              's3',
              'head_bucket',
              this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: s }),
            ),
          ctx,
          o,
        );
      }
      return entry('/', true, 0, new Date());
    }
    const name = virtualBase(r.rel);
    try {
      const head = await this.call((s) => this.headObject(r.key, s), ctx, o);
      return entry(name, false, head.ContentLength ?? 0, head.LastModified ?? new Date());
    } catch (e) {
      // 404: no such object; the bucket's own absence shows in the listing below
      if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
    }
    const dir = await this.probeDir(r, 'stat', o);
    if (dir.contents) return entry(name, true, 0, new Date());
    if (dir.marker) {
      return entry(name, true, dir.marker.Size ?? 0, dir.marker.LastModified ?? new Date());
    }
    throw new SftpgoError(
      'NOT_FOUND',
      `stat ${JSON.stringify(r.display)}: no such file or directory`,
    );
  }

  /** there are no symlinks: the same as stat */
  lstat(p: string, o?: Op): Promise<FileInfo> {
    return this.stat(p, o);
  }

  /**
   * ListObjectsV2 with delimiter "/", one page (up to 1000 keys) per request as the caller
   * iterates: common prefixes are directories (mtime now), the directory's own marker is
   * skipped, a 0-byte key ending in "/" is a directory. A missing directory lists as empty.
   */
  async *list(dir: string, o?: Op): AsyncIterableIterator<FileInfo> {
    const r = this.resolve(dir);
    const prefix = this.dirPrefix(r);
    const ctx = { op: 'list', display: r.display };
    const dirs = new Set<string>();
    let token: string | undefined;
    do {
      const input = {
        Prefix: prefix,
        Delimiter: '/',
        ...(token ? { ContinuationToken: token } : {}),
      };
      const page = await this.call((s) => this.listPage(input, s), ctx, o);
      const now = new Date();
      // a listing cancelled while the caller goes through a page stops there
      const checkAborted = (): void => {
        if (o?.signal?.aborted) {
          throw new SftpgoError('ABORTED', `list ${JSON.stringify(r.display)}: operation aborted`, {
            cause: o.signal.reason,
          });
        }
      };
      for (const cp of page.CommonPrefixes ?? []) {
        const name = (cp.Prefix ?? '').slice(prefix.length, -1);
        // "a//b" gives an empty name below "a/": not addressable as a path
        if (name === '' || dirs.has(name)) continue;
        dirs.add(name);
        checkAborted();
        yield entry(name, true, 0, now);
      }
      for (const obj of page.Contents ?? []) {
        const key = obj.Key ?? '';
        if (key === prefix) continue;
        let name = key.slice(prefix.length);
        const size = obj.Size ?? 0;
        if (name.endsWith('/')) {
          name = name.slice(0, -1);
          if (size === 0) {
            if (name === '' || dirs.has(name)) continue;
            dirs.add(name);
            checkAborted();
            yield entry(name, true, 0, obj.LastModified ?? now);
            continue;
          }
        }
        if (name === '') continue;
        checkAborted();
        yield entry(name, false, size, obj.LastModified ?? now);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * The object from `offset` (a ranged GET when > 0). Unlike upstream, a missing object fails
   * here (NOT_FOUND), not on the first read. An offset at or past the end gives an empty
   * stream. Destroying the stream ends the request.
   */
  async openRead(p: string, o?: Op & { offset?: number }): Promise<Readable> {
    const offset = o?.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid read offset');
    const r = this.resolve(p);
    if (r.rel === '/')
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    const ctx = { op: 'open', display: r.display };
    // a deadline for the response to start; the body then streams as long as it takes
    const start = new AbortController();
    const timer = setTimeout(() => start.abort(), META_TIMEOUT_MS);
    const signal = o?.signal ? AbortSignal.any([o.signal, start.signal]) : start.signal;
    let body: Readable;
    try {
      signal.throwIfAborted();
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: r.key,
          ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
        }),
        { abortSignal: signal },
      );
      body = res.Body instanceof Readable ? res.Body : Readable.from([]);
    } catch (e) {
      if (offset > 0 && isS3InvalidRange(e)) return Readable.from([]);
      throw mapS3Error(e, {
        ...ctx,
        timedOut: start.signal.aborted && o?.signal?.aborted !== true,
      });
    } finally {
      clearTimeout(timer);
    }
    // errors while streaming reach the reader mapped (a transform's destroy hook picks the
    // error it emits); destroying `out` ends the request through the pipeline
    let bytes = 0;
    const out = new Transform({
      readableHighWaterMark: READ_HIGH_WATER_MARK,
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
      destroy(err, cb) {
        cb(err ? mapS3Error(err, { op: 'read', display: r.display }) : null);
      },
    });
    pipeline(body, out, (err) => {
      // failures reach the reader through `out`; for the metrics, a download ended early by the
      // reader is an error, as upstream counts a cancelled one
      metrics.cloudTransferCompleted('s3', 'download', bytes, !err);
    });
    if (o?.signal) addAbortSignal(o.signal, out);
    return out;
  }

  /**
   * A streamed upload replacing the object whole, on completion (see upload.ts). Resuming
   * (offset > 0) and `atomic` (a temp object) are OP_UNSUPPORTED: an S3 upload is atomic already.
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
    if (o?.signal?.aborted) throw mapS3Error(o.signal.reason, { op: 'upload', display: r.display });
    const contentType = contentTypeOf(r.rel);
    return Promise.resolve(
      startS3Upload({
        client: this.client,
        bucket: this.bucket,
        key: r.key,
        display: r.display,
        partSize: this.partSize,
        queueSize: this.queueSize,
        abortTimeoutMs: META_TIMEOUT_MS,
        logger: this.logger,
        ...(contentType ? { contentType } : {}),
        ...(this.storageClass ? { storageClass: this.storageClass } : {}),
        ...(o?.signal ? { signal: o.signal } : {}),
      }),
    );
  }

  /**
   * Creates the directory marker `<key>/`. An existing path (file or directory) is left alone
   * and the call succeeds (upstream); parents need no marker (`recursive` changes nothing).
   */
  async mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void> {
    const r = this.resolve(p);
    if (r.rel === '/') return;
    try {
      await this.stat(p, o);
      return;
    } catch (e) {
      if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
    }
    await this.call(
      (s) =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: `${r.key}/`,
            Body: Buffer.alloc(0),
            ContentLength: 0,
            ContentType: DIR_CONTENT_TYPE,
            ...(this.storageClass ? { StorageClass: this.storageClass as StorageClass } : {}),
          }),
          { abortSignal: s },
        ),
      { op: 'mkdir', display: r.display },
      o,
    );
  }

  /**
   * CopyObject + (once the copy is visible) DeleteObject: a file, or an empty directory's
   * marker. A directory with contents is refused with NOT_EMPTY, as upstream; so is a file
   * over 5 GiB (OP_UNSUPPORTED). Not atomic: a failure between the copy and the delete leaves
   * both. An existing target file is replaced; a file onto a directory is INVALID_INPUT.
   */
  async rename(from: string, to: string, o?: Op): Promise<void> {
    const rf = this.resolve(from);
    const rt = this.resolve(to);
    if (rf.rel === '/' || rt.rel === '/') {
      throw new SftpgoError('PERMISSION_DENIED', 'renaming the root directory is not allowed');
    }
    if (rf.rel === rt.rel) return;
    const info = await this.stat(from, o);
    let source = rf.key;
    let target = rt.key;
    let contentType: string | undefined;
    if (info.isDirectory) {
      if ((await this.probeDir(rf, 'rename', o)).contents) {
        throw new SftpgoError(
          'NOT_EMPTY',
          `cannot rename non empty directory: ${JSON.stringify(rf.display)}`,
        );
      }
      source += '/';
      target += '/';
      contentType = DIR_CONTENT_TYPE;
    } else {
      const onto = await this.probeDir(rt, 'rename', o);
      if (onto.contents || onto.marker) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `cannot rename ${JSON.stringify(rf.display)}: ${JSON.stringify(rt.display)} is a directory`,
        );
      }
      if (info.size > MAX_COPY_BYTES) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          `cannot rename ${JSON.stringify(rf.display)}: objects larger than 5 GiB cannot be renamed`,
        );
      }
      contentType = contentTypeOf(rf.rel);
    }
    const ctx = { op: 'rename', display: rf.display };
    await this.call(
      (s) =>
        metrics.meterCloudRequest(
          's3',
          'copy_object',
          this.client.send(
            new CopyObjectCommand({
              Bucket: this.bucket,
              Key: target,
              CopySource: copySource(this.bucket, source),
              ...(contentType ? { ContentType: contentType } : {}),
              ...(this.storageClass ? { StorageClass: this.storageClass as StorageClass } : {}),
            }),
            { abortSignal: s },
          ),
        ),
      ctx,
      o,
    );
    await this.call(
      async (s) => {
        await waitUntilObjectExists(
          { client: this.client, maxWaitTime: META_TIMEOUT_MS / 1000, abortSignal: s },
          { Bucket: this.bucket, Key: target },
        );
      },
      ctx,
      o,
    );
    await this.call((s) => this.deleteObject(source, s), ctx, o);
  }

  /**
   * DeleteObject of the key (a file: NOT_FOUND when missing) or of the marker `<key>/` (`dir`:
   * NOT_EMPTY when keys remain below it, as upstream; a missing directory is no error).
   */
  async remove(p: string, o?: Op & { dir?: boolean }): Promise<void> {
    const r = this.resolve(p);
    if (r.rel === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    let key = r.key;
    const ctx = { op: 'remove', display: r.display };
    if (!o?.dir) {
      // DeleteObject succeeds on a missing key: a missing file must still be NOT_FOUND
      await this.call((s) => this.headObject(key, s), ctx, o);
    } else {
      if ((await this.probeDir(r, 'remove', o)).contents) {
        throw new SftpgoError(
          'NOT_EMPTY',
          `cannot remove non empty directory: ${JSON.stringify(r.display)}`,
        );
      }
      key += '/';
    }
    await this.call((s) => this.deleteObject(key, s), ctx, o);
  }

  /**
   * Files and bytes below `dir` for quota scans: every key under it (ListObjectsV2 without a
   * delimiter), except 0-byte keys ending in "/" (directory markers). One deadline of 300 s for
   * the whole scan.
   */
  async usage(dir: string, o?: Op): Promise<Usage> {
    const r = this.resolve(dir);
    const prefix = this.dirPrefix(r);
    const ctx = { op: 'usage', display: r.display };
    return this.call(
      async (signal) => {
        let files = 0;
        let bytes = 0;
        let token: string | undefined;
        do {
          const page = await this.listPage(
            { Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) },
            signal,
          );
          for (const obj of page.Contents ?? []) {
            const size = obj.Size ?? 0;
            if (size === 0 && (obj.Key ?? '').endsWith('/')) continue;
            files++;
            bytes += size;
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return { files, bytes };
      },
      ctx,
      o,
      SCAN_TIMEOUT_MS,
    );
  }

  /** no symlinks: the normalized path itself */
  /** the object key (the key prefix itself for the root) */
  nativePath(p: string): string {
    return this.resolve(p).key;
  }

  realpath(p: string, _o?: Op): Promise<string> {
    return Promise.resolve(normalizeVirtualPath(p));
  }

  /** releases the client's sockets */
  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

/** S3FsOptions out of a provider 1 config; the access secret is decrypted here, in memory */
export async function s3OptionsOf(
  config: FilesystemConfig,
  o: CreateFsOptions,
): Promise<S3FsOptions> {
  const c = config.s3config;
  if (!c) throw new SftpgoError('INVALID_INPUT', 'the S3 filesystem has no s3config');
  let credentials: S3FsOptions['credentials'];
  if (!isEmptySecret(c.access_secret)) {
    if (!o.decryptSecret) {
      throw new SftpgoError('INTERNAL', 'the S3 access secret cannot be decrypted: no KMS');
    }
    const secret = await o.decryptSecret(c.access_secret ?? {});
    if (secret !== '') credentials = { accessKeyId: c.access_key ?? '', secretAccessKey: secret };
  }
  const partMiB = c.upload_part_size ?? 0;
  const concurrency = c.upload_concurrency ?? 0;
  return {
    bucket: c.bucket ?? '',
    region: c.region ?? '',
    keyPrefix: c.key_prefix ?? '',
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(c.storage_class ? { storageClass: c.storage_class } : {}),
    partSize: (partMiB > 0 ? partMiB : DEFAULT_PART_MIB) * MIB,
    queueSize: concurrency > 0 ? concurrency : DEFAULT_CONCURRENCY,
    ...(o.displayPrefix !== undefined ? { displayPrefix: o.displayPrefix } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
  };
}

/** registry entry (src/vfs/registry.ts): provider 1 */
export async function create(config: FilesystemConfig, o: CreateFsOptions): Promise<Fs> {
  if (o.signal?.aborted) {
    throw new SftpgoError('ABORTED', 'the S3 filesystem was not built: aborted', {
      cause: o.signal.reason,
    });
  }
  return new S3Fs(await s3OptionsOf(config, o));
}
