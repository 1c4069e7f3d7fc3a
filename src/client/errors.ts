/**
 * The one error the REST client throws. `status` is the HTTP status of the failed request, or 0
 * when no HTTP answer arrived at all (`kind` then says why: the server was unreachable or the
 * request timed out). `serverMessage`/`serverError` are the two fields of the server's ApiResponse
 * body, verbatim, when the server sent one.
 */
export type ApiErrorKind = 'http' | 'unreachable' | 'timeout' | 'auth' | 'protocol';

export interface ApiErrorInit {
  kind: ApiErrorKind;
  status?: number;
  serverMessage?: string | undefined;
  serverError?: string | undefined;
  method?: string | undefined;
  url?: string | undefined;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly serverMessage: string | undefined;
  readonly serverError: string | undefined;
  readonly method: string | undefined;
  readonly url: string | undefined;

  constructor(message: string, init: ApiErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApiError';
    this.kind = init.kind;
    this.status = init.status ?? 0;
    this.serverMessage = init.serverMessage;
    this.serverError = init.serverError;
    this.method = init.method;
    this.url = init.url;
  }

  /** Type guard by shape, so it works across module copies. */
  static is(e: unknown): e is ApiError {
    return (
      typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'ApiError' &&
      typeof (e as { status?: unknown }).status === 'number'
    );
  }

  /** True for a 404 answer. */
  get notFound(): boolean {
    return this.kind === 'http' && this.status === 404;
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The human message for a failed HTTP answer: the server's `message` and `error` fields joined
 * ("Not Found: user \"x\" does not exist"), or the status text when the body carries neither.
 */
export function httpErrorMessage(status: number, body: unknown): string {
  const { message, error } = apiResponseFields(body);
  let parts = [message, error].filter((s): s is string => typeof s === 'string' && s.trim() !== '');
  if (parts.length === 2 && parts[0] === parts[1]) parts.pop();
  // "Not Found" next to 'user "x" does not exist' adds nothing
  const generic = (STATUS_TEXT[status] ?? '').toLowerCase();
  if (parts.length === 2 && parts.some((p) => p.toLowerCase() === generic)) {
    parts = parts.filter((p) => p.toLowerCase() !== generic);
  }
  if (parts.length > 0) return parts.join(': ');
  if (typeof body === 'string' && body.trim() !== '' && body.length < 200) return body.trim();
  return `${status} ${STATUS_TEXT[status] ?? 'HTTP error'}`;
}

/** Extracts `message` and `error` from an ApiResponse-shaped body. */
export function apiResponseFields(body: unknown): { message?: string; error?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as { message?: unknown; error?: unknown };
  const out: { message?: string; error?: string } = {};
  if (typeof b.message === 'string') out.message = b.message;
  if (typeof b.error === 'string') out.error = b.error;
  return out;
}

/** The errno-like code of a fetch network failure (ECONNREFUSED, ENOTFOUND, ...). */
export function networkErrorCode(e: unknown): string {
  let cur: unknown = e;
  let deepest = e instanceof Error && e.message !== '' ? e.message : 'network error';
  for (let depth = 0; depth < 5 && typeof cur === 'object' && cur !== null; depth++) {
    const c = cur as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
    if (typeof c.code === 'string' && c.code !== '') return c.code;
    if (typeof c.message === 'string' && c.message !== '') deepest = c.message;
    // AggregateError (happy eyeballs): look at the first inner error
    if (Array.isArray(c.errors) && c.errors.length > 0) {
      cur = c.errors[0];
      continue;
    }
    cur = c.cause;
  }
  return deepest;
}

/** True when `e` is the rejection of an AbortSignal.timeout(). */
export function isTimeoutError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'TimeoutError';
}

/** True when `e` is the rejection of a caller-requested abort (not a timeout). */
export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}
