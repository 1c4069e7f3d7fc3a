/**
 * SftpgoError codes -> FTP reply codes (STYLE.md §C, FTP column). The table is a
 * `Record<ErrorCode, number>`: adding an error code fails to compile until it is mapped here.
 *
 * Where this differs from SFTPGo 2.1.2, which answers 550 to every file-system failure:
 * quota / max upload size -> 552 (RFC 959 "exceeded storage allocation"), a name refused by the
 * file pattern filters -> 553 ("file name not allowed"), an unsupported operation -> 504, a
 * closed / aborted transfer -> 426, a storage backend failure -> 451 (transient).
 */
import { SftpgoError, type ErrorCode } from '../errors/index.js';

export const FTP_REPLY: Record<ErrorCode, number> = {
  NOT_FOUND: 550,
  PERMISSION_DENIED: 550,
  NAME_NOT_ALLOWED: 553,
  ALREADY_EXISTS: 550,
  NOT_EMPTY: 550,
  CONFLICT: 550,
  PARENT_MISSING: 550,
  QUOTA_EXCEEDED: 552,
  OP_UNSUPPORTED: 504,
  // the core uses INVALID_INPUT for "is a directory", "invalid resume offset", ...: requested
  // file action not taken, not a syntax error of the command line
  INVALID_INPUT: 550,
  METHOD_DISABLED: 502,
  AUTH_FAILED: 530,
  CONNECTION_DENIED: 421,
  RATE_LIMITED: 421,
  BACKEND_UNAVAILABLE: 451,
  ABORTED: 426,
  INTERNAL: 451,
};

/** Replies of the TLS policy (RFC 4217): they have no error code of their own. */
export const REPLY_TLS_REQUIRED_CONTROL = 534;
export const REPLY_TLS_REQUIRED_DATA = 521;

export interface MappedReply {
  code: number;
  message: string;
}

/** reply code and client-visible message for any thrown value (only exposed messages pass) */
export function toFtpReply(err: unknown): MappedReply {
  if (SftpgoError.is(err)) {
    return { code: FTP_REPLY[err.code], message: err.expose ? err.message : 'internal error' };
  }
  return { code: 451, message: 'internal error' };
}
