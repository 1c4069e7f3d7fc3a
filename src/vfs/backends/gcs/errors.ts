/**
 * Translation of @google-cloud/storage errors into SftpgoError codes, at the source (STYLE.md §C
 * rule 1; upstream GCSFs.IsNotExist / IsPermission: HTTP 404 or "404" in the message, 401/403
 * or "403"). Messages name the client-visible path only: never the bucket, the key prefix, an
 * SDK message or a credential. The SDK error is the `cause`.
 *
 * The SDK reports an HTTP status in three shapes: ApiError (metadata calls, downloads) and the
 * resumable upload's own errors carry it in `code` (a number); the GaxiosError of a refused
 * resumable session start carries it in `status` (its `code` is a string); an error body
 * passed through as is (`{ code, message, errors }`) has it in `code`.
 */
import { SftpgoError } from '../../../errors/index.js';
import { failurePrefix, NETWORK_CODES, storageFailure, type MapContext } from '../object-store.js';

export type { MapContext } from '../object-store.js';

interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  response?: { status?: unknown };
}

/** undici's socket failures (downloads and session cancels go through fetch) */
const FETCH_NETWORK_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** the HTTP status of an SDK error, 0 when it has none */
export function gcsStatusOf(e: unknown): number {
  if (typeof e !== 'object' || e === null) return 0;
  const o = e as SdkErrorLike;
  for (const v of [o.status, o.code, o.response?.status]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v < 600) return v;
    if (typeof v === 'string' && /^[1-5]\d\d$/.test(v)) return Number(v);
  }
  return 0;
}

function codeOf(e: unknown): string {
  if (typeof e !== 'object' || e === null) return '';
  const o = e as SdkErrorLike & { cause?: { code?: unknown } };
  if (typeof o.code === 'string') return o.code;
  // undici's fetch: TypeError('fetch failed') with the socket error as its cause
  return typeof o.cause?.code === 'string' ? o.cause.code : '';
}

function messageOf(e: unknown): string {
  if (typeof e !== 'object' || e === null) return '';
  const m = (e as SdkErrorLike).message;
  return typeof m === 'string' ? m : '';
}

/** Maps any error of a GCS call to an SftpgoError; SftpgoErrors pass through unchanged. */
export function mapGcsError(e: unknown, c: MapContext): SftpgoError {
  if (SftpgoError.is(e)) return e;
  if (c.timedOut) return storageFailure('timeout', c, e);
  const name = typeof e === 'object' && e !== null ? (e as SdkErrorLike).name : undefined;
  if (name === 'AbortError') return storageFailure('aborted', c, e);
  const message = messageOf(e);
  if (message.startsWith('Could not load the default credentials')) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${failurePrefix(c)}: no GCS credentials: the filesystem uses automatic credentials and none were found in the server's environment`,
      { cause: e },
    );
  }
  let status = gcsStatusOf(e);
  // upstream also looks for the status in the text (errors built from a failed retry)
  if (status === 0) status = /\b404\b/.test(message) ? 404 : /\b403\b/.test(message) ? 403 : 0;
  if (status === 404) return storageFailure('not-found', c, e);
  if (status === 401 || status === 403) return storageFailure('denied', c, e);
  if (status === 412) {
    return new SftpgoError(
      'CONFLICT',
      `${failurePrefix(c)}: the object was changed by someone else meanwhile`,
      { cause: e },
    );
  }
  if (status === 400) {
    return new SftpgoError(
      'INVALID_INPUT',
      `${failurePrefix(c)}: the storage backend refused the request as invalid`,
      { cause: e },
    );
  }
  if (status === 429 || status >= 500) return storageFailure('unavailable', c, e);
  const code = codeOf(e);
  if (NETWORK_CODES.has(code) || FETCH_NETWORK_CODES.has(code)) {
    return storageFailure('unreachable', c, e);
  }
  return storageFailure('error', c, e, status > 0 ? `HTTP ${status}` : '');
}
