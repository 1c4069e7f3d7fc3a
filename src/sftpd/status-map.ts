/**
 * SftpgoError codes -> SFTP v3 status codes (STYLE.md §C, SFTP status column).
 * The table is a `Record<ErrorCode, number>`: adding an error code fails to compile until
 * it is mapped here.
 */
import { SftpgoError, type ErrorCode } from '../errors/index.js';

/** SSH_FX_* status codes of SFTP v3 (draft-ietf-secsh-filexfer-02 §7). */
export const SFTP_STATUS_CODE = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

export type SftpStatusCode = (typeof SFTP_STATUS_CODE)[keyof typeof SFTP_STATUS_CODE];

export const SFTP_STATUS: Record<ErrorCode, SftpStatusCode> = {
  NOT_FOUND: SFTP_STATUS_CODE.NO_SUCH_FILE,
  PERMISSION_DENIED: SFTP_STATUS_CODE.PERMISSION_DENIED,
  NAME_NOT_ALLOWED: SFTP_STATUS_CODE.PERMISSION_DENIED,
  ALREADY_EXISTS: SFTP_STATUS_CODE.FAILURE,
  NOT_EMPTY: SFTP_STATUS_CODE.FAILURE,
  CONFLICT: SFTP_STATUS_CODE.FAILURE,
  PARENT_MISSING: SFTP_STATUS_CODE.NO_SUCH_FILE,
  QUOTA_EXCEEDED: SFTP_STATUS_CODE.FAILURE,
  OP_UNSUPPORTED: SFTP_STATUS_CODE.OP_UNSUPPORTED,
  INVALID_INPUT: SFTP_STATUS_CODE.BAD_MESSAGE,
  METHOD_DISABLED: SFTP_STATUS_CODE.OP_UNSUPPORTED,
  // AUTH_FAILED / CONNECTION_DENIED / RATE_LIMITED are handled before any SFTP request exists;
  // should one surface inside a session it is a plain failure.
  AUTH_FAILED: SFTP_STATUS_CODE.PERMISSION_DENIED,
  CONNECTION_DENIED: SFTP_STATUS_CODE.FAILURE,
  RATE_LIMITED: SFTP_STATUS_CODE.FAILURE,
  BACKEND_UNAVAILABLE: SFTP_STATUS_CODE.FAILURE,
  ABORTED: SFTP_STATUS_CODE.FAILURE,
  INTERNAL: SFTP_STATUS_CODE.FAILURE,
};

/** Default text of each status, as OpenSSH's sftp-server words it. */
const STATUS_TEXT: Record<SftpStatusCode, string> = {
  0: 'Success',
  1: 'End of file',
  2: 'No such file',
  3: 'Permission denied',
  4: 'Failure',
  5: 'Bad message',
  6: 'No connection',
  7: 'Connection lost',
  8: 'Operation unsupported',
};

export interface MappedStatus {
  code: SftpStatusCode;
  message: string;
}

/**
 * Status and client-visible message for any thrown value. Only exposed SftpgoError messages
 * reach the client; everything else becomes a generic FAILURE.
 */
export function toSftpStatus(err: unknown): MappedStatus {
  if (SftpgoError.is(err)) {
    const code = SFTP_STATUS[err.code];
    return { code, message: err.expose ? err.message : STATUS_TEXT[code] };
  }
  return { code: SFTP_STATUS_CODE.FAILURE, message: STATUS_TEXT[SFTP_STATUS_CODE.FAILURE] };
}

export function statusText(code: SftpStatusCode): string {
  return STATUS_TEXT[code];
}
