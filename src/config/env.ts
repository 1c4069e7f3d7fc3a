/**
 * `SFTPGO_<SECTION>__<KEY>` environment overrides, upstream syntax: `__` separates the levels,
 * a numeric level indexes a list of objects (0-9, as upstream), lists of strings are comma
 * separated, booleans accept true/false/1/0 (and Go's t/f), numbers are parsed.
 * Variables that are not config keys (SFTPGO_CONFIG_DIR, SFTPGO_LOG_*, ...) are ignored.
 */
import type { Config } from './schema.js';
import { INDEXED_LISTS } from './schema.js';
import { formatPath, isPlainObject } from './tree.js';

export const ENV_PREFIX = 'SFTPGO_';
/** upstream reads list-of-object entries from env for indexes 0..9 only */
export const MAX_ENV_LIST_INDEX = 9;

type Leaf = 'string' | 'number' | 'boolean' | 'list';
type Key = string | number;

interface EnvEntry {
  name: string;
  value: string;
  keys: Key[];
  leaf: Leaf;
}

export interface EnvOverlay {
  /** formatted key path (with the actual list position) -> env variable that set it */
  sources: Map<string, string>;
  warnings: string[];
}

/** Maps one variable name to a config key path, or undefined when it names no config key. */
function resolveEnvName(
  name: string,
  defaults: Config,
  warnings: string[],
): Omit<EnvEntry, 'name' | 'value'> | undefined {
  const parts = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
  if (parts.some((p) => p === '')) return undefined;
  let node: unknown = defaults;
  const keys: Key[] = [];
  for (const part of parts) {
    if (Array.isArray(node)) {
      const element = INDEXED_LISTS[formatPath(keys)];
      if (element === undefined || !/^\d+$/.test(part)) return undefined;
      const idx = Number(part);
      if (idx > MAX_ENV_LIST_INDEX) {
        warnings.push(
          `environment variable ${name} ignored: list index ${idx} is beyond ${MAX_ENV_LIST_INDEX}`,
        );
        return undefined;
      }
      keys.push(idx);
      node = element.parse({});
      continue;
    }
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return undefined;
    keys.push(part);
    node = node[part];
  }
  if (Array.isArray(node)) {
    // a list of objects is not a leaf: it needs an index
    return INDEXED_LISTS[formatPath(keys)] === undefined ? { keys, leaf: 'list' } : undefined;
  }
  if (typeof node === 'string') return { keys, leaf: 'string' };
  if (typeof node === 'number') return { keys, leaf: 'number' };
  if (typeof node === 'boolean') return { keys, leaf: 'boolean' };
  return undefined; // an object section: not a leaf
}

/** Converts the text of a variable; a value that does not parse stays a string so validation names it. */
function convert(value: string, leaf: Leaf): unknown {
  switch (leaf) {
    case 'string':
      return value;
    case 'number': {
      const t = value.trim();
      return /^[-+]?\d+(\.\d+)?$/.test(t) ? Number(t) : value;
    }
    case 'boolean': {
      const t = value.trim();
      if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(t)) return true;
      if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(t)) return false;
      return value;
    }
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
}

function compareKeys(a: Key[], b: Key[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as Key;
    const y = b[i] as Key;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Applies the SFTPGO_* variables of `env` onto `raw` (the file content, mutated in place).
 * A list of objects absent from the file starts as its default; an index at or beyond the list
 * length appends a new element (filled with defaults by the schema), as upstream does.
 */
export function applyEnv(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  defaults: Config,
): EnvOverlay {
  const warnings: string[] = [];
  const sources = new Map<string, string>();
  const entries: EnvEntry[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const r = resolveEnvName(name, defaults, warnings);
    if (r !== undefined) entries.push({ name, value, ...r });
  }
  // ascending list indexes, so appended elements keep their relative order (upstream loops 0..9)
  entries.sort((a, b) => compareKeys(a.keys, b.keys) || (a.name < b.name ? -1 : 1));

  const positions = new Map<string, number>(); // "list path#env index" -> position in the list
  for (const e of entries) {
    let container: unknown = raw;
    const actual: Key[] = [];
    let ok = true;
    for (let i = 0; i < e.keys.length - 1; i++) {
      const k = e.keys[i] as Key;
      const next = e.keys[i + 1] as Key;
      if (typeof k === 'number') {
        const list = container as unknown[];
        const posKey = `${formatPath(actual)}#${k}`;
        let pos = positions.get(posKey);
        if (pos === undefined) {
          if (k < list.length) pos = k;
          else {
            list.push({});
            pos = list.length - 1;
          }
          positions.set(posKey, pos);
        }
        actual.push(pos);
        if (!isPlainObject(list[pos])) {
          ok = false;
          break;
        }
        container = list[pos];
        continue;
      }
      const obj = container as Record<string, unknown>;
      if (!Object.hasOwn(obj, k) || obj[k] === undefined) {
        obj[k] =
          typeof next === 'number'
            ? structuredClone(defaultAt(defaults, [...e.keys.slice(0, i + 1)]))
            : {};
      }
      const child = obj[k];
      if (typeof next === 'number' ? !Array.isArray(child) : !isPlainObject(child)) {
        ok = false;
        break;
      }
      actual.push(k);
      container = child;
    }
    if (!ok) {
      warnings.push(
        `environment variable ${e.name} ignored: ${formatPath(actual.length ? actual : e.keys.slice(0, 1))} in the config file has an unexpected type`,
      );
      continue;
    }
    const last = e.keys[e.keys.length - 1] as string;
    (container as Record<string, unknown>)[last] = convert(e.value, e.leaf);
    actual.push(last);
    sources.set(formatPath(actual), e.name);
  }
  return { sources, warnings };
}

function defaultAt(defaults: Config, keys: Key[]): unknown {
  let node: unknown = defaults;
  for (const k of keys) node = (node as Record<string, unknown>)[k];
  return node;
}
