/**
 * Translation of Azure Blob SDK errors (RestError) into SftpgoError codes, at the source
 * (STYLE.md §C rule 1; upstream AzureBlobFs.IsNotExist / IsPermission at v2.1.2). Messages name
 * the client-visible path and, when the service sent one, its error code (BlobNotFound, ...):
 * never the container, the key prefix, a URL (a SAS URL carries its signature), an SDK message
 * or a credential. The SDK error is the `cause`; its request (with the URL) is not enumerable,
 * so a logged cause shows status, code and headers only.
 */
import { SftpgoError } from '../../../errors/index.js';

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
/** socket-level failures: the endpoint cannot be reached right now */
const NETWORK_CODES = new Set([
  'REQUEST_SEND_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
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

export interface MapContext {
  /** the operation ("stat", "list", "open", ...) */
  op: string;
  /** the client-visible path */
  display: string;
  /** the request was cut by its own deadline rather than by the caller */
  timedOut?: boolean;
}

/** Maps any error of an Azure call to an SftpgoError; SftpgoErrors pass through unchanged. */
export function mapAzError(e: unknown, c: MapContext): SftpgoError {
  if (SftpgoError.is(e)) return e;
  const prefix = `${c.op} ${JSON.stringify(c.display)}`;
  const cause = { cause: e };
  const f = azErrorFields(e);
  const code = f.code !== '' ? ` (${f.code})` : '';
  if (c.timedOut) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the storage backend timed out`,
      cause,
    );
  }
  if (f.name === 'AbortError') {
    return new SftpgoError('ABORTED', `${prefix}: operation aborted`, cause);
  }
  if (CONTAINER_MISSING_CODES.has(f.code)) {
    return new SftpgoError('NOT_FOUND', `${prefix}: the storage container does not exist`, cause);
  }
  if (isAzNotFound(e)) {
    return new SftpgoError('NOT_FOUND', `${prefix}: no such file or directory`, cause);
  }
  if (f.status === 401 || f.status === 403 || PERMISSION_CODES.has(f.code)) {
    return new SftpgoError(
      'PERMISSION_DENIED',
      `${prefix}: access denied by the storage backend${code}`,
      cause,
    );
  }
  if (f.status >= 500 || f.status === 429) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the storage backend is unavailable${code}`,
      cause,
    );
  }
  if (f.status === 0 && NETWORK_CODES.has(f.code)) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the storage backend is unreachable`,
      cause,
    );
  }
  return new SftpgoError('INTERNAL', `${prefix}: storage backend error${code}`, cause);
}
