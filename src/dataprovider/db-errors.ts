/**
 * Translation of database driver errors into SftpgoError codes, at the source (STYLE §C rule 1):
 * unique violations -> ALREADY_EXISTS, lost/refused connections and busy databases ->
 * BACKEND_UNAVAILABLE, anything else -> INTERNAL (message not exposed).
 */
import { SftpgoError } from '../errors/index.js';

interface DriverErrorShape {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  driverError?: unknown;
}

function shape(e: unknown): DriverErrorShape {
  return typeof e === 'object' && e !== null ? (e as DriverErrorShape) : {};
}

const UNIQUE_CODES = new Set([
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  '23505', // postgres unique_violation
  'ER_DUP_ENTRY',
]);

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_FULL',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '28P01', // invalid_password
  '28000', // invalid_authorization_specification
  '3D000', // invalid_catalog_name (database does not exist)
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'connect ECONNREFUSED',
  'Connection lost',
  'Driver not Connected',
  'is not initialized',
  'Cannot use a pool after calling end',
  'database connection is not open',
  'The database connection is not open',
];

function codeOf(e: unknown): string {
  const s = shape(e);
  const inner = shape(s.driverError);
  const c = inner.code ?? s.code;
  return typeof c === 'string' ? c : '';
}

function messageOf(e: unknown): string {
  const m = shape(e).message;
  return typeof m === 'string' ? m : String(e);
}

export function isUniqueViolation(e: unknown): boolean {
  const code = codeOf(e);
  if (UNIQUE_CODES.has(code)) return true;
  const inner = shape(shape(e).driverError);
  return inner.errno === 1062 || shape(e).errno === 1062;
}

export function isUnavailable(e: unknown): boolean {
  const code = codeOf(e);
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  const msg = messageOf(e);
  return UNAVAILABLE_MESSAGES.some((m) => msg.includes(m));
}

/** Maps any error thrown by the database layer; SftpgoErrors pass through unchanged. */
export function mapDbError(e: unknown, what: string): SftpgoError {
  if (SftpgoError.is(e)) return e;
  if (isUniqueViolation(e))
    return new SftpgoError('ALREADY_EXISTS', `${what}: already exists`, { cause: e });
  if (isUnavailable(e)) {
    return new SftpgoError('BACKEND_UNAVAILABLE', `data provider unavailable: ${messageOf(e)}`, {
      cause: e,
    });
  }
  return new SftpgoError('INTERNAL', `${what}: ${messageOf(e)}`, { cause: e });
}
