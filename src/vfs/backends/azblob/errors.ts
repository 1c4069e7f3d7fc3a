/**
 * Translation of Azure Blob SDK errors (RestError) into SftpgoError codes, at the source
 * (STYLE.md §C rule 1; upstream AzureBlobFs.IsNotExist / IsPermission at v2.1.2). Messages name
 * the client-visible path and, when the service sent one, its error code (BlobNotFound, ...):
 * never the container, the key prefix, a URL (a SAS URL carries its signature), an SDK message
 * or a credential. The SDK error is the `cause`; its request (with the URL) is not enumerable,
 * so a logged cause shows status, code and headers only.
 */
import { SftpgoError } from '../../../errors/index.js';
import { failurePrefix, NETWORK_CODES, storageFailure, type MapContext } from '../object-store.js';

export type { MapContext } from '../object-store.js';

interface RestErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  details?: { errorCode?: unknown } | null;
}

const NOT_FOUND_CODES = new Set(['BlobNotFound', 'ContainerNotFound', 'ResourceNotFound']);
const CONTAINER_MISSING_CODES = new Set(['ContainerNotFound', 'ContainerBeingDeleted']);
const PERMISSION_CODES = new Set([
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'AuthorizationResourceTypeMismatch',
  'AuthorizationServiceMismatch',
  'AuthorizationSourceIPMismatch',
  'AuthorizationProtocolMismatch',
  'InsufficientAccountPermissions',
  'InvalidAuthenticationInfo',
  'UnauthorizedBlobOverwrite',
  'AccountIsDisabled',
]);

export interface AzErrorFields {
  name: string;
  /** the service's error code (x-ms-error-code / the XML body), or a socket error code */
  code: string;
  /** the HTTP status, 0 without a response */
  status: number;
}

export function azErrorFields(e: unknown): AzErrorFields {
  if (typeof e !== 'object' || e === null) return { name: '', code: '', status: 0 };
  const o = e as RestErrorLike;
  const detail = o.details?.errorCode;
  const code = typeof o.code === 'string' ? o.code : typeof detail === 'string' ? detail : '';
  return {
    name: typeof o.name === 'string' ? o.name : '',
    code,
    status: typeof o.statusCode === 'number' ? o.statusCode : 0,
  };
}

/** the blob or the container does not exist (upstream: HTTP 404, BlobNotFound, ContainerNotFound) */
export function isAzNotFound(e: unknown): boolean {
  if (SftpgoError.is(e)) return e.code === 'NOT_FOUND';
  const f = azErrorFields(e);
  return f.status === 404 || NOT_FOUND_CODES.has(f.code);
}

/** a ranged download starting at or after the end of the blob */
export function isAzInvalidRange(e: unknown): boolean {
  const f = azErrorFields(e);
  return f.status === 416 || f.code === 'InvalidRange';
}

/** Maps any error of an Azure call to an SftpgoError; SftpgoErrors pass through unchanged. */
export function mapAzError(e: unknown, c: MapContext): SftpgoError {
  if (SftpgoError.is(e)) return e;
  const f = azErrorFields(e);
  if (c.timedOut) return storageFailure('timeout', c, e);
  if (f.name === 'AbortError') return storageFailure('aborted', c, e);
  if (CONTAINER_MISSING_CODES.has(f.code)) {
    return new SftpgoError(
      'NOT_FOUND',
      `${failurePrefix(c)}: the storage container does not exist`,
      { cause: e },
    );
  }
  if (isAzNotFound(e)) return storageFailure('not-found', c, e);
  if (f.status === 401 || f.status === 403 || PERMISSION_CODES.has(f.code)) {
    return storageFailure('denied', c, e, f.code);
  }
  if (f.status >= 500 || f.status === 429) return storageFailure('unavailable', c, e, f.code);
  // the SDK reports a failed send as REQUEST_SEND_ERROR, the socket's code in its message
  if (f.status === 0 && (f.code === 'REQUEST_SEND_ERROR' || NETWORK_CODES.has(f.code))) {
    return storageFailure('unreachable', c, e);
  }
  return storageFailure('error', c, e, f.code);
}
