/**
 * The one place where the REST API turns failures into answers (STYLE.md §C): SftpgoError
 * codes through HTTP_STATUS, HttpError as given, anything else a 500 whose body says nothing
 * about the internals. Also gives unmatched routes (404) and wrong methods (405/501) the API's
 * JSON error shape.
 */
import type { Middleware } from 'koa';
import { SftpgoError, exposedMessage } from '../../errors/index.js';
import type { HttpdLogger, HttpdState } from '../context.js';
import { HttpError } from '../errors.js';
import { HTTP_STATUS, statusText } from '../http-map.js';
import { setJsonBody } from '../json-body.js';

export interface ApiErrorBody {
  message: string;
  error?: string;
}

interface Mapped {
  status: number;
  body: ApiErrorBody;
  headers: Readonly<Record<string, string>>;
}

/** 5xx answers that may carry their own message: the others say nothing about the internals */
const EXPOSABLE_5XX = new Set([501]);

function genericServerError(status: number): Mapped {
  const error = status === 503 ? 'the service is temporarily unavailable' : 'internal error';
  return { status, body: { message: statusText(status), error }, headers: {} };
}

export function mapError(e: unknown): Mapped {
  if (HttpError.is(e)) {
    const body: ApiErrorBody = { message: e.message };
    if (e.detail !== undefined) body.error = e.detail;
    return { status: e.status, body, headers: e.headers };
  }
  if (SftpgoError.is(e)) {
    const status = HTTP_STATUS[e.code];
    if (status >= 500 && (!e.expose || !EXPOSABLE_5XX.has(status))) return genericServerError(status);
    const text = exposedMessage(e);
    const error = status === 404 ? 'Not Found' : text;
    return { status, body: { message: text, error }, headers: {} };
  }
  return genericServerError(500);
}

/**
 * What the log gets of a failure: names, codes, messages and the stack, down the cause chain.
 * Never the other enumerable properties (a driver error carries the SQL parameters, which can
 * include password hashes).
 */
export function errorSummary(e: unknown, depth = 0): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: String(e) };
  const out: Record<string, unknown> = { type: e.name, message: e.message };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (depth === 0 && e.stack) out.stack = e.stack;
  if (e.cause !== undefined && depth < 3) out.cause = errorSummary(e.cause, depth + 1);
  return out;
}

export function errorMiddleware(logger: HttpdLogger): Middleware<HttpdState> {
  return async function apiErrors(ctx, next) {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) {
          setJsonBody(ctx, 404, { message: 'Not Found' });
        } else if (ctx.status === 405 || ctx.status === 501) {
          setJsonBody(ctx, ctx.status, { message: statusText(ctx.status) });
        }
      }
    } catch (e) {
      const m = mapError(e);
      if (m.status >= 500) {
        logger.error({ error: errorSummary(e), method: ctx.method, uri: ctx.path }, 'request failed');
      } else if (!(HttpError.is(e) && e.logged)) {
        logger.debug(
          { method: ctx.method, uri: ctx.path, status: m.status, reason: m.body.error ?? m.body.message },
          'request rejected',
        );
      }
      for (const [k, v] of Object.entries(m.headers)) ctx.set(k, v);
      setJsonBody(ctx, m.status, m.body);
    }
  };
}
