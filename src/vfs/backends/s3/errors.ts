/**
 * Translation of AWS SDK errors into SftpgoError codes, at the source (STYLE.md §C rule 1;
 * upstream S3Fs.IsNotExist / IsPermission). Messages name the client-visible path only: never
 * the bucket, the key prefix, an SDK message or a credential. The SDK error is the `cause`.
 */
import { SftpgoError } from '../../../errors/index.js';
import { failurePrefix, NETWORK_CODES, storageFailure, type MapContext } from '../object-store.js';

export type { MapContext } from '../object-store.js';

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

/** Maps any error of an S3 call to an SftpgoError; SftpgoErrors pass through unchanged. */
export function mapS3Error(e: unknown, c: MapContext): SftpgoError {
  if (SftpgoError.is(e)) return e;
  const prefix = failurePrefix(c);
  const cause = { cause: e };
  const f = fieldsOf(e);
  if (c.timedOut || f.name === 'TimeoutError') return storageFailure('timeout', c, e);
  if (f.name === 'AbortError') return storageFailure('aborted', c, e);
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
  if (isS3NotFound(e)) return storageFailure('not-found', c, e);
  if (PERMISSION_NAMES.has(f.name) || f.status === 403) return storageFailure('denied', c, e);
  if (f.status >= 500 || f.name === 'SlowDown' || f.status === 429) {
    return storageFailure('unavailable', c, e);
  }
  if (NETWORK_CODES.has(f.code)) return storageFailure('unreachable', c, e);
  return storageFailure('error', c, e, f.name !== 'Error' ? f.name : '');
}
