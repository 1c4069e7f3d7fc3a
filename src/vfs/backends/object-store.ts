/**
 * What the object-store backends (S3, GCS, Azure Blob) share: their capabilities, and the codes
 * and texts of the failures their SDK errors are mapped to (STYLE.md §C rule 1). Each backend
 * keeps its own classifier (which SDK error is which failure) and its special cases (a missing
 * bucket or container, missing credentials); the messages name the client-visible path only.
 * S3 and GCS also share how a path becomes an object name below a key prefix, their entries and
 * the content types of their uploads.
 */
import { SftpgoError, type ErrorCode } from '../../errors/index.js';
import { metrics, type CloudBackend } from '../../util/metrics.js';
import { loadPlatformTypes, typeByExtension } from '../../util/mime.js';
import { joinVirtual, normalizeVirtualPath } from '../path.js';
import { S_IFDIR, S_IFREG, type FileInfo, type FsCapabilities } from '../types.js';

/**
 * Streams only (uploads through openWrite, downloads through openRead), no resume, no atomic
 * temp files (nothing is visible before an upload completes anyway), no links or attributes,
 * rename by copy + delete, directories emulated by prefixes and markers.
 */
export const OBJECT_STORE_CAPABILITIES: FsCapabilities = Object.freeze({
  resume: false,
  atomicUpload: false,
  randomAccess: false,
  symlinks: false,
  chmod: false,
  chown: false,
  chtimes: false,
  truncate: false,
  statvfs: false,
  rename: false,
  emulatedDirs: true,
});

export interface MapContext {
  /** the operation ("stat", "list", "open", ...) */
  op: string;
  /** the client-visible path */
  display: string;
  /** the request was cut by its own deadline rather than by the caller */
  timedOut?: boolean;
}

/** socket-level failures: the endpoint cannot be reached right now */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export type StorageFailure =
  'timeout' | 'aborted' | 'not-found' | 'denied' | 'unavailable' | 'unreachable' | 'error';

const FAILURES: Readonly<Record<StorageFailure, { code: ErrorCode; text: string }>> = {
  timeout: { code: 'BACKEND_UNAVAILABLE', text: 'the storage backend timed out' },
  aborted: { code: 'ABORTED', text: 'operation aborted' },
  'not-found': { code: 'NOT_FOUND', text: 'no such file or directory' },
  denied: { code: 'PERMISSION_DENIED', text: 'access denied by the storage backend' },
  unavailable: { code: 'BACKEND_UNAVAILABLE', text: 'the storage backend is unavailable' },
  unreachable: { code: 'BACKEND_UNAVAILABLE', text: 'the storage backend is unreachable' },
  error: { code: 'INTERNAL', text: 'storage backend error' },
};

/** `<op> "<path>"`, the start of every mapped message */
export function failurePrefix(c: MapContext): string {
  return `${c.op} ${JSON.stringify(c.display)}`;
}

/**
 * The SftpgoError of a classified failure: `<op> "<path>": <text>`, plus ` (<detail>)` (the
 * service's error code or name) when given; `cause` is the SDK error.
 */
export function storageFailure(
  kind: StorageFailure,
  c: MapContext,
  cause: unknown,
  detail = '',
): SftpgoError {
  const f = FAILURES[kind];
  const what = detail !== '' ? ` (${detail})` : '';
  return new SftpgoError(f.code, `${failurePrefix(c)}: ${f.text}${what}`, { cause });
}

/**
 * Owner reported for every entry: the server process's uid, for the group too (upstream
 * vfs.FileInfo reports the uid twice; 65534 where there is none).
 */
const OWNER = process.getuid?.() ?? 65534;

/** an object store's file or directory entry (modes 0644 / 0755, as upstream vfs.FileInfo) */
export function objectEntry(name: string, dir: boolean, size: number, mtime: Date): FileInfo {
  return {
    name,
    size,
    mode: dir ? S_IFDIR | 0o755 : S_IFREG | 0o644,
    mtime,
    atime: mtime,
    isDirectory: dir,
    isSymlink: false,
    isFile: !dir,
    uid: OWNER,
    gid: OWNER,
  };
}

/** the platform's content-type table, read on first use (a read-only copy of a system file) */
let platformTypes: Map<string, string> | undefined;

/** the Content-Type of an upload named `name`, by its extension; undefined when unknown */
export function contentTypeOf(name: string): string | undefined {
  platformTypes ??= loadPlatformTypes();
  return typeByExtension(name, platformTypes);
}

/**
 * A key prefix as the data provider saves it: "" or a cleaned prefix ending with "/";
 * INVALID_INPUT naming `store` ("S3", "GCS") otherwise.
 */
export function checkKeyPrefix(prefix: string, store: string): string {
  if (prefix.startsWith('/') || (prefix !== '' && !prefix.endsWith('/'))) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `the ${store} key prefix must not start with "/" and must end with "/"`,
    );
  }
  return prefix;
}

/** a path of an object store below a key prefix */
export interface ObjectPath {
  /** normalized path relative to the root */
  rel: string;
  /** the object name of the path (the key prefix itself for the root) */
  key: string;
  /** client-visible path for messages */
  display: string;
}

/**
 * `p` as the object `<keyPrefix><path>`: normalized first (`..` cannot climb above "/", NUL
 * refused), so no object outside the prefix can be named. `displayPrefix`: the mount point.
 */
export function objectPath(p: string, keyPrefix: string, displayPrefix: string): ObjectPath {
  const rel = normalizeVirtualPath(p);
  return {
    rel,
    key: rel === '/' ? keyPrefix : keyPrefix + rel.slice(1),
    display: joinVirtual(displayPrefix, rel),
  };
}

/** the prefix of the object names inside the directory `r` */
export function objectDirPrefix(r: ObjectPath, keyPrefix: string): string {
  return r.rel === '/' ? keyPrefix : `${r.key}/`;
}

/**
 * Counts an object storage upload in its backend's metrics once `done` settles: the bytes stored,
 * or when it failed the bytes the caller had written by then (partial uploads count, as upstream).
 */
export function meterUpload(
  backend: CloudBackend,
  done: Promise<{ bytes: number }>,
  written: () => number,
): void {
  done.then(
    (r) => metrics.cloudTransferCompleted(backend, 'upload', r.bytes, true),
    () => metrics.cloudTransferCompleted(backend, 'upload', written(), false),
  );
}
