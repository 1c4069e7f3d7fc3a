/**
 * What the object-store backends (S3, Azure Blob) share: their capabilities, and the codes and
 * texts of the failures their SDK errors are mapped to (STYLE.md §C rule 1). Each backend keeps
 * its own classifier (which SDK error is which failure) and its special cases (a missing bucket
 * or container, missing credentials); the messages name the client-visible path only.
 */
import { SftpgoError, type ErrorCode } from '../../errors/index.js';
import type { FsCapabilities } from '../types.js';

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
