/**
 * Small, defensive readers for objects that come straight from JSON (REST bodies, dumps).
 * Every failure is an INVALID_INPUT SftpgoError whose message names the field, mirroring the
 * text of upstream's ValidationError where one exists. Nothing here throws a TypeError.
 */
import { BlockList, isIP } from 'node:net';
import { posix } from 'node:path';
import { SftpgoError } from '../../errors/index.js';

export type JsonObject = Record<string, unknown>;

/** `field`: the JSON path of the offending input (SftpgoError.field), when known */
export function invalid(msg: string, field?: string): SftpgoError {
  return new SftpgoError('INVALID_INPUT', msg, field === undefined ? {} : { field });
}

/** `parent.key`, or `key` at the top level */
export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** JSON-ish quoting for values inside messages (Go's %#v for strings). */
export function q(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    // circular or BigInt values cannot be stringified: fall back to the plain conversion
    return String(v);
  }
}

export function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `${typeof v} ${q(v)}`;
}

/** The object itself, or {} when absent/null; anything else is rejected. */
export function readObject(v: unknown, label: string): JsonObject {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw invalid(`invalid ${label}: expected an object, got ${describe(v)}`);
  return v;
}

/** A string, '' when absent/null. */
export function readString(o: JsonObject, key: string, label = key): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string')
    throw invalid(`invalid ${label}: expected a string, got ${describe(v)}`);
  return v;
}

export interface IntRange {
  min?: number;
  max?: number;
}

/** A safe integer, `def` (0) when absent/null, checked against the range. */
export function readInt(
  o: JsonObject,
  key: string,
  label = key,
  range: IntRange = {},
  def = 0,
): number {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw invalid(`invalid ${label}: expected an integer, got ${describe(v)}`);
  }
  if (range.min !== undefined && v < range.min) {
    throw invalid(`invalid ${label}: ${v}, must be >= ${range.min}`, label);
  }
  if (range.max !== undefined && v > range.max) {
    throw invalid(`invalid ${label}: ${v}, must be <= ${range.max}`, label);
  }
  return v;
}

export function readBool(o: JsonObject, key: string, label = key): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean')
    throw invalid(`invalid ${label}: expected a boolean, got ${describe(v)}`);
  return v;
}

/** An array of strings, [] when absent/null. */
export function readStringArray(o: JsonObject, key: string, label = key): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v))
    throw invalid(`invalid ${label}: expected an array of strings, got ${describe(v)}`);
  return v.map((item: unknown, i) => {
    if (typeof item !== 'string') {
      throw invalid(`invalid ${label}[${i}]: expected a string, got ${describe(item)}`);
    }
    return item;
  });
}

export function removeDuplicates<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}

/** Go's path.Clean for slash-separated paths ('' -> '.', no trailing slash but for '/'). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  if (n.length > 1 && n.endsWith('/')) return n.slice(0, -1);
  return n;
}

/** SFTPGo's utils.CleanPath: a cleaned, always absolute virtual path. */
export function cleanVirtualPath(p: string): string {
  return cleanPath(p.startsWith('/') ? p : `/${p}`);
}

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/');
}

/** The natural key rule for usernames, admin names and folder names. */
export const NATURAL_KEY_RE = /^[a-zA-Z0-9\-_.~]+$/;

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** net.ParseCIDR: `addr/bits` with an IPv4 or IPv6 address; undefined when malformed. */
export function parseCidr(s: string): ParsedCidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const address = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits) || address.includes('%')) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const prefix = Number(bits);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  try {
    new BlockList().addSubnet(address, prefix, family);
  } catch {
    // BlockList refuses what it cannot represent: treat it as malformed, like Go's parser would
    return undefined;
  }
  return { address, prefix, family };
}

/**
 * Whether `pattern` is a well-formed Go `path.Match` pattern (the only error Match reports is
 * ErrBadPattern: a dangling escape or a malformed `[...]` class).
 */
export function isValidGlob(pattern: string): boolean {
  const chars = [...pattern];
  let i = 0;
  const esc = (): boolean => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return false;
    if (c === '\\') {
      i++;
      if (i >= chars.length) return false;
    }
    i++;
    return i < chars.length;
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) return false;
      i += 2;
      continue;
    }
    if (c !== '[') {
      i++;
      continue;
    }
    i++;
    if (chars[i] === '^') i++;
    let items = 0;
    for (;;) {
      if (i >= chars.length) return false;
      if (chars[i] === ']' && items > 0) {
        i++;
        break;
      }
      if (!esc()) return false;
      if (chars[i] === '-') {
        i++;
        if (!esc()) return false;
      }
      items++;
    }
  }
  return true;
}

const UNICODE_RANGES = '\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF';
const ATOM_RE = new RegExp(
  `^[a-zA-Z0-9!#$%&'*+\\-/=?^_\`{|}~${UNICODE_RANGES}]+(?:\\.[a-zA-Z0-9!#$%&'*+\\-/=?^_\`{|}~${UNICODE_RANGES}]+)*$`,
);
const QUOTED_LOCAL_RE = /^"(?:[^"\\\r\n]|\\[^\r\n])*"$/;
const ALNUM_U = new RegExp(`^[a-zA-Z0-9${UNICODE_RANGES}]$`);
const ALPHA_U = new RegExp(`^[a-zA-Z${UNICODE_RANGES}]$`);
const DOMAIN_CHAR = new RegExp(`^[a-zA-Z0-9\\-.~${UNICODE_RANGES}]$`);

/**
 * The email rule of upstream admin.go, evaluated without backtracking: a dot-atom or quoted
 * local part, then a domain made of at least two labels whose last one starts and ends with a
 * letter (an optional trailing dot is allowed).
 */
export function isValidEmail(email: string): boolean {
  if (email.length > 320) return false;
  const at = email.lastIndexOf('@');
  if (at <= 0) return false;
  const local = email.slice(0, at);
  let domain = email.slice(at + 1);
  if (!ATOM_RE.test(local) && !QUOTED_LOCAL_RE.test(local)) return false;
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  const d = [...domain];
  if (d.length < 3 || !d.every((c) => DOMAIN_CHAR.test(c))) return false;
  const first = d[0] ?? '';
  const last = d[d.length - 1] ?? '';
  if (!ALNUM_U.test(first) || !ALPHA_U.test(last)) return false;
  for (let k = 1; k < d.length - 1; k++) {
    if (d[k] === '.' && ALNUM_U.test(d[k - 1] ?? '') && ALPHA_U.test(d[k + 1] ?? '')) return true;
  }
  return false;
}
