import type { ErrorCode } from '../errors/index.js';

/**
 * ErrorCode -> HTTP status for the REST API (STYLE.md §C). Exhaustive on purpose: adding a code
 * to src/errors fails to compile until it is mapped here.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  ALREADY_EXISTS: 409,
  NOT_EMPTY: 409,
  PARENT_MISSING: 409,
  QUOTA_EXCEEDED: 413,
  NAME_NOT_ALLOWED: 403,
  OP_UNSUPPORTED: 501,
  INVALID_INPUT: 400,
  AUTH_FAILED: 401,
  CONNECTION_DENIED: 403,
  RATE_LIMITED: 429,
  METHOD_DISABLED: 403,
  CONFLICT: 409,
  BACKEND_UNAVAILABLE: 503,
  ABORTED: 500,
  INTERNAL: 500,
};

/** Reason phrases used as `message` where upstream uses http.StatusText. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}
