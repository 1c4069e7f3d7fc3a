/** Flag value parsers shared by the server-side commands (serve, portable). */
import { InvalidArgumentError } from '@commander-js/extra-typings';

const TRUE = new Set(['1', 't', 'true', 'yes', 'y', 'on']);
const FALSE = new Set(['0', 'f', 'false', 'no', 'n', 'off']);

export function parseBool(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new InvalidArgumentError(`expected true or false, got "${v}"`);
}

export function parseInteger(v: string): number {
  if (!/^[+-]?\d+$/.test(v.trim()))
    throw new InvalidArgumentError(`expected an integer, got "${v}"`);
  return Number(v.trim());
}
