import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { FlagError } from '../errors.js';
import { readInput, type IO } from '../io.js';

/** Reads a JSON object from a file (or stdin for `-`), for --from-file. */
export async function readJsonObject(io: IO, path: string, what: string): Promise<Record<string, unknown>> {
  let buf: Buffer;
  try {
    buf = await readInput(io, path);
  } catch (e) {
    throw new FlagError(`cannot read ${path}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new FlagError(`${path === '-' ? 'stdin' : path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FlagError(`${path === '-' ? 'stdin' : path}: expected a JSON object describing the ${what}`);
  }
  return v as Record<string, unknown>;
}

/** Reads a small local text file named by a flag (credentials, keys). */
export async function readTextFlagFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new FlagError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** --expiration-date: an ISO date or date-time, unix milliseconds, or 0/never for no expiration. */
export function dateArg(v: string): number {
  const s = v.trim();
  if (s === '0' || s.toLowerCase() === 'never') return 0;
  if (/^\d{10,}$/.test(s)) return Number(s);
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
    if (Number.isFinite(ms)) return ms;
  }
  throw new InvalidArgumentError('expected an ISO date (2025-12-31), a date-time, unix milliseconds, or 0.');
}

/** --status: enabled/disabled (or 1/0). */
export function statusArg(v: string): 0 | 1 {
  const s = v.trim().toLowerCase();
  if (s === '1' || s === 'enabled' || s === 'enable') return 1;
  if (s === '0' || s === 'disabled' || s === 'disable') return 0;
  throw new InvalidArgumentError('expected enabled or disabled (1 or 0).');
}

export function statusText(s: number | undefined): string {
  return s === 1 ? 'enabled' : 'disabled';
}
