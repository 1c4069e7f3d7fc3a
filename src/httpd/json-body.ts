import type { ParameterizedContext } from 'koa';

/**
 * Sets a JSON answer already serialized. Koa serializes an object body itself when it responds,
 * and again each time `ctx.response.length` is read before that (the request log reads it for
 * `resp_size`): a string body is serialized once and its length is the Content-Length koa sets.
 * The bytes and the Content-Type (`application/json; charset=utf-8`) are those koa would send.
 */
export function setJsonBody(ctx: ParameterizedContext, status: number, value: unknown): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(value);
}
