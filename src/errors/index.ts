/**
 * One error type with a closed set of codes (STYLE.md §C). Every layer below the protocol edges
 * throws SftpgoError; each protocol maps the code through one exhaustive table.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'ALREADY_EXISTS'
  | 'NOT_EMPTY'
  | 'PARENT_MISSING'
  | 'QUOTA_EXCEEDED'
  | 'NAME_NOT_ALLOWED'
  | 'OP_UNSUPPORTED'
  | 'INVALID_INPUT'
  | 'AUTH_FAILED'
  | 'CONNECTION_DENIED'
  | 'RATE_LIMITED'
  | 'METHOD_DISABLED'
  | 'CONFLICT'
  | 'BACKEND_UNAVAILABLE'
  | 'ABORTED'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'ALREADY_EXISTS',
  'NOT_EMPTY',
  'PARENT_MISSING',
  'QUOTA_EXCEEDED',
  'NAME_NOT_ALLOWED',
  'OP_UNSUPPORTED',
  'INVALID_INPUT',
  'AUTH_FAILED',
  'CONNECTION_DENIED',
  'RATE_LIMITED',
  'METHOD_DISABLED',
  'CONFLICT',
  'BACKEND_UNAVAILABLE',
  'ABORTED',
  'INTERNAL',
];

export interface SftpgoErrorOptions {
  cause?: unknown;
  /** may the message reach a client? defaults to true for every code but INTERNAL */
  expose?: boolean;
  /**
   * the JSON path of the input field the error concerns (`home_dir`, `filters.allowed_ip`,
   * `virtual_folders[0].virtual_path`), when known: lets a form show the message next to it.
   * Never part of an API answer.
   */
  field?: string;
}

export class SftpgoError extends Error {
  readonly code: ErrorCode;
  readonly expose: boolean;
  readonly field?: string;
  constructor(code: ErrorCode, message: string, o: SftpgoErrorOptions = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'SftpgoError';
    this.code = code;
    this.expose = o.expose ?? code !== 'INTERNAL';
    // set only when known, so errors without it keep their shape
    if (o.field !== undefined) this.field = o.field;
  }

  /** Type guard by shape, not instanceof, so it works across module copies. */
  static is(e: unknown, code?: ErrorCode): e is SftpgoError {
    if (typeof e !== 'object' || e === null) return false;
    const c = (e as { code?: unknown; name?: unknown }).code;
    if ((e as { name?: unknown }).name !== 'SftpgoError' || typeof c !== 'string') return false;
    return code === undefined || c === code;
  }
}

export const notFound = (msg: string, cause?: unknown): SftpgoError =>
  new SftpgoError('NOT_FOUND', msg, { cause });
export const invalidInput = (msg: string, cause?: unknown): SftpgoError =>
  new SftpgoError('INVALID_INPUT', msg, { cause });
export const permissionDenied = (msg = 'permission denied', cause?: unknown): SftpgoError =>
  new SftpgoError('PERMISSION_DENIED', msg, { cause });

/** Client-visible text for any thrown value. */
export function exposedMessage(e: unknown): string {
  return SftpgoError.is(e) && e.expose ? e.message : 'internal error';
}

/** The message of any thrown value, for logs (never for clients: see exposedMessage). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
