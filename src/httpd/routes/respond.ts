import type { HttpdContext } from '../context.js';
import { setJsonBody } from '../json-body.js';

/** `{"message": "..."}` acknowledgements (upstream sendAPIResponse with a nil error) */
export function sendMessage(ctx: HttpdContext, status: number, message: string): void {
  setJsonBody(ctx, status, { message });
}

export function sendJson(ctx: HttpdContext, status: number, body: unknown): void {
  setJsonBody(ctx, status, body);
}

/** a path parameter of the matched route (always present when the route matched) */
export function pathParam(ctx: HttpdContext, name: string): string {
  const v = (ctx.params as Record<string, string | undefined>)[name];
  return v ?? '';
}
