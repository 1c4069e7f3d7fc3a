/**
 * Translation of AWS SDK errors into SftpgoError codes, at the source (STYLE.md §C rule 1;
 * upstream S3Fs.IsNotExist / IsPermission). Messages name the client-visible path only: never
 * the bucket, the key prefix, an SDK message or a credential. The SDK error is the `cause`.
 */
import { SftpgoError } from '../../../errors/index.js';

interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const PERMISSION_NAMES = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'AccountProblem',
]);
const CREDENTIALS_NAMES = new Set(['CredentialsProviderError', 'ProviderError']);
/** socket-level failures: the endpoint cannot be reached right now */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function fieldsOf(e: unknown): { name: string; code: string; status: number } {
  if (typeof e !== 'object' || e === null) return { name: '', code: '', status: 0 };
  const o = e as SdkErrorLike;
  const status = o.$metadata?.httpStatusCode;
  return {
    name: typeof o.name === 'string' ? o.name : '',
    code: typeof o.code === 'string' ? o.code : '',
    status: typeof status === 'number' ? status : 0,
  };
}

/** the SDK error says the key (or, for HEAD requests, the bucket) does not exist */
function isS3NotFound(e: unknown): boolean {
  const f = fieldsOf(e);
  return NOT_FOUND_NAMES.has(f.name) || f.status === 404;
}

/** a ranged GET starting at or after the end of the object */
export function isS3InvalidRange(e: unknown): boolean {
  const f = fieldsOf(e);
  return f.name === 'InvalidRange' || f.status === 416;
}

export interface MapContext {
  /** the operation ("stat", "list", "open", ...) */
  op: string;
  /** the client-visible path */
  display: string;
  /** the request was cut by its own deadline rather than by the caller */
  timedOut?: boolean;
}

/** Maps any error of an S3 call to an SftpgoError; SftpgoErrors pass through unchanged. */
export function mapS3Error(e: unknown, c: MapContext): SftpgoError {
  if (SftpgoError.is(e)) return e;
  const prefix = `${c.op} ${JSON.stringify(c.display)}`;
  const cause = { cause: e };
  const f = fieldsOf(e);
  if (c.timedOut || f.name === 'TimeoutError') {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the storage backend timed out`,
      cause,
    );
  }
  if (f.name === 'AbortError') {
    return new SftpgoError('ABORTED', `${prefix}: operation aborted`, cause);
  }
  if (CREDENTIALS_NAMES.has(f.name)) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: no S3 credentials: the user has no access key and none was found in the server's environment`,
      cause,
    );
  }
  if (f.name === 'NoSuchBucket') {
    return new SftpgoError('NOT_FOUND', `${prefix}: the storage bucket does not exist`, cause);
  }
  if (f.name === 'KeyTooLongError') {
    return new SftpgoError('INVALID_INPUT', `${prefix}: file name too long`, cause);
  }
  if (isS3NotFound(e)) {
    return new SftpgoError('NOT_FOUND', `${prefix}: no such file or directory`, cause);
  }
  if (PERMISSION_NAMES.has(f.name) || f.status === 403) {
    return new SftpgoError(
      'PERMISSION_DENIED',
      `${prefix}: access denied by the storage backend`,
      cause,
    );
  }
  if (f.status >= 500 || f.name === 'SlowDown' || f.status === 429) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the storage backend is unavailable`,
      cause,
    );
  }
  if (NETWORK_CODES.has(f.code)) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the storage backend is unreachable`,
      cause,
    );
  }
  const what = f.name !== '' && f.name !== 'Error' ? ` (${f.name})` : '';
  return new SftpgoError('INTERNAL', `${prefix}: storage backend error${what}`, cause);
}
