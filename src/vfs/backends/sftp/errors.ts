/**
 * Translation of the remote server's SFTP status codes (and of lost connections) into
 * SftpgoError codes, at the source (STYLE.md §C rule 1). As upstream (pkg/sftp maps
 * NO_SUCH_FILE / PERMISSION_DENIED to OS errors that drive IsNotExist / IsPermission), the
 * specific codes are kept and anything else is a generic failure. Callers refine FAILURE where
 * the operation tells more (mkdir of an existing path, rmdir of a non-empty directory, ...).
 *
 * Messages name the client-visible path, never the remote path (the prefix is server-side
 * configuration); the native error is the `cause`.
 */
import ssh2 from 'ssh2';
import { SftpgoError, type ErrorCode } from '../../../errors/index.js';

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02 §7), as ssh2 numbers them */
export const SFTP_STATUS = ssh2.utils.sftp.STATUS_CODE;

const STATUS_MAP: Record<number, { code: ErrorCode; text: string }> = {
  [SFTP_STATUS.EOF]: { code: 'INVALID_INPUT', text: 'unexpected end of file' },
  [SFTP_STATUS.NO_SUCH_FILE]: { code: 'NOT_FOUND', text: 'no such file or directory' },
  [SFTP_STATUS.PERMISSION_DENIED]: { code: 'PERMISSION_DENIED', text: 'permission denied' },
  [SFTP_STATUS.FAILURE]: { code: 'INTERNAL', text: 'failure reported by the remote SFTP server' },
  [SFTP_STATUS.BAD_MESSAGE]: { code: 'INVALID_INPUT', text: 'bad message' },
  [SFTP_STATUS.NO_CONNECTION]: { code: 'BACKEND_UNAVAILABLE', text: 'no connection' },
  [SFTP_STATUS.CONNECTION_LOST]: { code: 'BACKEND_UNAVAILABLE', text: 'connection lost' },
  [SFTP_STATUS.OP_UNSUPPORTED]: {
    code: 'OP_UNSUPPORTED',
    text: 'operation not supported by the remote SFTP server',
  },
};

/** the SFTP status code of an ssh2 client error, if it is one */
export function sftpStatus(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

/** an error shaped as ssh2 reports a status reply, for answers computed locally */
export function statusError(status: number, message: string): Error {
  return Object.assign(new Error(message), { code: status });
}

export function isStatus(e: unknown, status: number): boolean {
  return sftpStatus(e) === status;
}

/** a request that will never be answered: the channel or the connection is gone */
export function connectionLost(cause?: unknown): SftpgoError {
  return new SftpgoError(
    'BACKEND_UNAVAILABLE',
    'the connection to the remote SFTP server was lost',
    cause === undefined ? {} : { cause },
  );
}

/**
 * Maps anything an ssh2 SFTP call rejected with. SftpgoErrors pass through; a status error is
 * mapped by its code; an error without a status (ssh2's "No response from server" when the
 * channel closes, socket errors) means the connection is gone.
 */
export function mapSftpError(e: unknown, displayPath: string, op?: string): SftpgoError {
  if (SftpgoError.is(e)) return e;
  const prefix = op ? `${op} ${JSON.stringify(displayPath)}` : JSON.stringify(displayPath);
  if ((e as { name?: unknown } | null)?.name === 'AbortError') {
    return new SftpgoError('ABORTED', `${prefix}: operation aborted`, { cause: e });
  }
  const status = sftpStatus(e);
  if (status === undefined) {
    return new SftpgoError(
      'BACKEND_UNAVAILABLE',
      `${prefix}: the connection to the remote SFTP server was lost`,
      { cause: e },
    );
  }
  const m = STATUS_MAP[status] ?? STATUS_MAP[SFTP_STATUS.FAILURE];
  const { code, text } = m as { code: ErrorCode; text: string };
  return new SftpgoError(code, `${prefix}: ${text}`, { cause: e });
}
