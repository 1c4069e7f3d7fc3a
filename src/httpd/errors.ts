/**
 * HTTP-level answers that are not domain errors: a status plus the two fields of the API's
 * error shape. `message` says what went wrong in words a client can show; `error` carries the
 * detail (upstream puts its Go error text there). Domain failures stay SftpgoError and are
 * mapped through HTTP_STATUS in the error middleware.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** the route already logged this rejection with its details: the error edge does not repeat it */
  readonly logged: boolean;
  /** the JSON path of the request field the error concerns, when known (never sent) */
  readonly field?: string;
  constructor(
    status: number,
    message: string,
    o: {
      detail?: string;
      headers?: Record<string, string>;
      cause?: unknown;
      logged?: boolean;
      field?: string;
    } = {},
  ) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'HttpError';
    this.status = status;
    this.detail = o.detail;
    this.headers = o.headers ?? {};
    this.logged = o.logged ?? false;
    if (o.field !== undefined) this.field = o.field;
  }

  static is(e: unknown): e is HttpError {
    return (
      typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'HttpError' &&
      typeof (e as { status?: unknown }).status === 'number'
    );
  }
}

export const BASIC_REALM = 'Basic realm="SFTPGo"';
