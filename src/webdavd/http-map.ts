/**
 * SftpgoError codes -> HTTP statuses of the WebDAV front end (STYLE.md §C, WebDAV column).
 * A `Record<ErrorCode, number>`: a new error code fails to compile until it is mapped here.
 *
 * Where 2.1.2 answered oddly we answer what the RFCs mean: a quota overrun is 507 Insufficient
 * Storage (RFC 4918 §11.5; 2.1.2: 404 at open, 405 mid-body), a denied download is 403 before
 * any byte is sent (2.1.2: a 200 with a cut-off body).
 */
import { SftpgoError, type ErrorCode } from '../errors/index.js';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  NAME_NOT_ALLOWED: 403,
  ALREADY_EXISTS: 405,
  NOT_EMPTY: 409,
  CONFLICT: 409,
  PARENT_MISSING: 409,
  QUOTA_EXCEEDED: 507,
  OP_UNSUPPORTED: 403,
  INVALID_INPUT: 400,
  METHOD_DISABLED: 403,
  AUTH_FAILED: 401,
  CONNECTION_DENIED: 403,
  RATE_LIMITED: 429,
  BACKEND_UNAVAILABLE: 503,
  ABORTED: 500,
  INTERNAL: 500,
};

/** the status and the client-visible text of an error (unknown errors: 500, generic text) */
export function httpError(e: unknown): { status: number; message: string } {
  if (SftpgoError.is(e)) {
    return {
      status: HTTP_STATUS[e.code],
      message: e.expose ? e.message : 'internal error',
    };
  }
  return { status: 500, message: 'internal error' };
}
