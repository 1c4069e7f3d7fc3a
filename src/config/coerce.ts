/**
 * Upstream-compatible leniency for the config file, applied before schema validation.
 *
 * SFTPGo 2.1.2 reads its file with viper, which lowercases every key, and decodes it with
 * mapstructure in weakly typed mode. So a real 2.1.2 config may say `"Common"`, `"Max_Auth_Tries"`,
 * `"port": "2022"`, `"enabled": "true"` or `"password": 1234` and still start. We accept the
 * conversions a person would call the same value and warn once per key, naming it, so the file
 * can be fixed; anything else stays as written and the schema refuses it with the usual message.
 */
import type { Config } from './schema.js';
import { INDEXED_LISTS } from './schema.js';
import { formatPath, isPlainObject } from './tree.js';

type Key = string | number;

/**
 * Lowercases every object key of the tree in place (the config has no keys that carry user
 * data, so this cannot change a value). Two spellings of one key in the same object are
 * ambiguous (viper would keep either, depending on map order): reported in `issues`.
 */
export function lowercaseKeys(node: unknown, keys: Key[], issues: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => lowercaseKeys(item, [...keys, i], issues));
    return;
  }
  if (!isPlainObject(node)) return;
  const spelled = new Map<string, string>();
  for (const k of Object.keys(node)) {
    const lower = k.toLowerCase();
    const first = spelled.get(lower);
    if (first !== undefined) {
      issues.push(
        `${formatPath([...keys, lower])}: given twice, as "${first}" and "${k}" (keys are case-insensitive)`,
      );
      delete node[k];
      continue;
    }
    spelled.set(lower, k);
    if (k !== lower) {
      node[lower] = node[k];
      delete node[k];
    }
  }
  for (const [k, v] of Object.entries(node)) lowercaseKeys(v, [...keys, k], issues);
}

/** Go's strconv.ParseBool spellings (what mapstructure accepts for a bool) */
const TRUE = ['1', 't', 'T', 'true', 'TRUE', 'True'];
const FALSE = ['0', 'f', 'F', 'false', 'FALSE', 'False'];
const NUMBER_RE = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

function describe(v: unknown): string {
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `the ${typeof v} ${String(v)}`;
}

/**
 * Converts, in place, the weakly typed values of `node` that sit where `def` (the default tree)
 * has a number, boolean, string or list of strings:
 * - a decimal string for a number: `"5"` -> 5 (range and integer checks still apply);
 * - `"true"`/`"false"` (Go ParseBool spellings) or the numbers 1/0 for a boolean;
 * - a finite number for a string (`"password": 1234`), also inside lists of strings;
 * - a string for a list of strings: comma separated, as viper's StringToSlice hook
 *   (`"execute_on": "upload,download"`).
 * Not converted (refused by the schema): booleans for numbers or strings, other numbers for
 * booleans, objects and lists where a scalar is expected, and the reverse.
 */
export function coerceWeakTypes(
  raw: Record<string, unknown>,
  defaults: Config,
  warnings: string[],
  where: string,
): void {
  walk(raw, defaults, []);

  function warn(keys: Key[], from: unknown, to: unknown): void {
    warnings.push(
      `${formatPath(keys)}${where}: ${describe(from)} taken as ${Array.isArray(to) ? `the list ${JSON.stringify(to)}` : describe(to)}; write it as ${JSON.stringify(to)}`,
    );
  }

  function walk(node: Record<string, unknown>, def: Record<string, unknown>, keys: Key[]): void {
    for (const [k, v] of Object.entries(node)) {
      if (!Object.hasOwn(def, k)) continue; // unknown keys are warned about elsewhere
      const path = [...keys, k];
      const d = def[k];
      if (Array.isArray(d)) {
        const element = INDEXED_LISTS[formatPath(path)];
        if (element !== undefined) {
          if (!Array.isArray(v)) continue;
          const template = element.parse({}) as Record<string, unknown>;
          v.forEach((item, i) => {
            if (isPlainObject(item)) walk(item, template, [...path, i]);
          });
          continue;
        }
        if (typeof v === 'string') {
          const list = v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
          node[k] = list;
          warn(path, v, list);
        } else if (Array.isArray(v)) {
          v.forEach((item, i) => {
            if (typeof item === 'number' && Number.isFinite(item)) {
              v[i] = String(item);
              warn([...path, i], item, v[i]);
            }
          });
        }
        continue;
      }
      if (isPlainObject(d)) {
        if (isPlainObject(v)) walk(v, d, path);
        continue;
      }
      const to = convertScalar(v, typeof d);
      if (to !== undefined) {
        node[k] = to;
        warn(path, v, to);
      }
    }
  }
}

/** the converted value, or undefined when `v` is already right or not convertible */
function convertScalar(v: unknown, want: string): unknown {
  switch (want) {
    case 'number':
      if (typeof v === 'string' && NUMBER_RE.test(v.trim())) return Number(v.trim());
      return undefined;
    case 'boolean':
      if (typeof v === 'string') {
        if (TRUE.includes(v.trim())) return true;
        if (FALSE.includes(v.trim())) return false;
      }
      if (v === 1) return true;
      if (v === 0) return false;
      return undefined;
    case 'string':
      return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
    default:
      return undefined;
  }
}
