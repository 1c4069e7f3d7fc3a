/**
 * Translation of native (errno) errors into SftpgoError codes, at the source (STYLE.md §C rule 1).
 * Messages name the path as the client sees it, never the absolute server path; the native
 * error is the `cause`.
 */
import { SftpgoError, type ErrorCode } from '../errors/index.js';

interface ErrnoLike {
  code?: unknown;
  name?: unknown;
}

const ERRNO_MAP: Record<string, { code: ErrorCode; text: string }> = {
  ENOENT: { code: 'NOT_FOUND', text: 'no such file or directory' },
  EACCES: { code: 'PERMISSION_DENIED', text: 'permission denied' },
  EPERM: { code: 'PERMISSION_DENIED', text: 'operation not permitted' },
  EROFS: { code: 'PERMISSION_DENIED', text: 'read-only file system' },
  EEXIST: { code: 'ALREADY_EXISTS', text: 'file exists' },
  ENOTEMPTY: { code: 'NOT_EMPTY', text: 'directory not empty' },
  // as OpenSSH's sftp-server: a path through a non-directory does not exist
  ENOTDIR: { code: 'NOT_FOUND', text: 'not a directory' },
  EISDIR: { code: 'INVALID_INPUT', text: 'is a directory' },
  ELOOP: { code: 'INVALID_INPUT', text: 'too many levels of symbolic links' },
  ENAMETOOLONG: { code: 'INVALID_INPUT', text: 'file name too long' },
  EINVAL: { code: 'INVALID_INPUT', text: 'invalid argument' },
  EBADF: { code: 'INVALID_INPUT', text: 'bad file descriptor' },
  EFBIG: { code: 'QUOTA_EXCEEDED', text: 'file too large' },
  ENOSPC: { code: 'QUOTA_EXCEEDED', text: 'no space left on device' },
  EDQUOT: { code: 'QUOTA_EXCEEDED', text: 'disk quota exceeded' },
  EXDEV: { code: 'OP_UNSUPPORTED', text: 'cross-device link' },
  ENOSYS: { code: 'OP_UNSUPPORTED', text: 'function not implemented' },
  ENOTSUP: { code: 'OP_UNSUPPORTED', text: 'operation not supported' },
  EOPNOTSUPP: { code: 'OP_UNSUPPORTED', text: 'operation not supported' },
  EBUSY: { code: 'CONFLICT', text: 'resource busy' },
  ETXTBSY: { code: 'CONFLICT', text: 'text file busy' },
  ABORT_ERR: { code: 'ABORTED', text: 'operation aborted' },
};

/** the errno code of a native error, if any */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const c = (e as ErrnoLike).code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Maps any thrown value to an SftpgoError. SftpgoErrors pass through unchanged. `displayPath`
 * is the client-visible path the operation was about.
 */
export function mapFsError(e: unknown, displayPath: string, op?: string): SftpgoError {
  if (SftpgoError.is(e)) return e;
  const errno = errnoCode(e);
  const prefix = op ? `${op} ${JSON.stringify(displayPath)}` : JSON.stringify(displayPath);
  if ((e as ErrnoLike | null)?.name === 'AbortError') {
    return new SftpgoError('ABORTED', `${prefix}: operation aborted`, { cause: e });
  }
  const m = errno === undefined ? undefined : ERRNO_MAP[errno];
  if (m) return new SftpgoError(m.code, `${prefix}: ${m.text}`, { cause: e });
  return new SftpgoError('INTERNAL', `${prefix}: ${errno ?? 'unexpected error'}`, { cause: e });
}

/**
 * Throws ABORTED when `signal` has fired, whatever its reason (which becomes the cause), so a
 * cancelled operation fails with an SftpgoError like any other.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new SftpgoError('ABORTED', 'operation aborted', { cause: signal.reason as unknown });
  }
}
