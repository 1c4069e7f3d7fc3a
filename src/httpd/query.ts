/**
 * Query-string parsing for the REST API (mirrors httpd/api_utils.go:getSearchFilters).
 * A parameter given several times uses its first value, as Go's url.Values.Get.
 */
import type { ListOptions } from '../dataprovider/provider.js';
import { HttpError } from './errors.js';

export type Query = Readonly<Record<string, string | string[] | undefined>>;

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;

function first(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

function bad(param: string, why: string): HttpError {
  return new HttpError(400, `invalid ${param}`, { detail: `invalid ${param}: ${why}` });
}

/** strconv.Atoi-like: optional sign, decimal digits only, within the safe integer range */
function parseInteger(raw: string): number | undefined {
  if (!/^[+-]?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function parseListOptions(q: Query): Required<ListOptions> {
  let limit = DEFAULT_LIMIT;
  let offset = 0;
  let order: 'ASC' | 'DESC' = 'ASC';
  const rawLimit = first(q, 'limit');
  if (rawLimit !== undefined) {
    const n = parseInteger(rawLimit);
    if (n === undefined) throw bad('limit', `${JSON.stringify(rawLimit)} is not an integer`);
    if (n < 1) throw bad('limit', `must be at least 1, got ${n}`);
    limit = Math.min(n, MAX_LIMIT);
  }
  const rawOffset = first(q, 'offset');
  if (rawOffset !== undefined) {
    const n = parseInteger(rawOffset);
    if (n === undefined) throw bad('offset', `${JSON.stringify(rawOffset)} is not an integer`);
    if (n < 0) throw bad('offset', `must not be negative, got ${n}`);
    offset = n;
  }
  const rawOrder = first(q, 'order');
  if (rawOrder !== undefined) {
    if (rawOrder !== 'ASC' && rawOrder !== 'DESC') {
      throw bad('order', `${JSON.stringify(rawOrder)} is not ASC or DESC`);
    }
    order = rawOrder;
  }
  return { limit, offset, order };
}

/** `?disconnect=`: 1 disconnects, any other integer does not, a non-integer is a 400 */
export function parseDisconnect(q: Query): boolean {
  const raw = first(q, 'disconnect');
  if (raw === undefined) return false;
  const n = parseInteger(raw);
  if (n === undefined) {
    throw new HttpError(400, 'invalid disconnect parameter', {
      detail: `invalid disconnect parameter: ${JSON.stringify(raw)} is not an integer`,
    });
  }
  return n === 1;
}
