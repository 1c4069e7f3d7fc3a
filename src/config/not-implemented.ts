/**
 * The one list of configuration keys sftpgo-ts accepts (so an SFTPGo 2.1.2 sftpgo.json loads) but
 * does not implement yet, and what `sftpgo serve` does when one of them is set (STYLE.md J.3: no
 * silent no-ops):
 * - 'warn': one startup warning naming the key, saying it is ignored;
 * - 'refuse': the start fails, naming every such key, because ignoring it would weaken security
 *   (a hook that could deny a login, client certificates, the PROXY protocol ...).
 *
 * A key is "set" when it differs from its default, unless the entry says otherwise. An entry may
 * name a whole section (`ftpd`): every key under it is then covered, and the entry decides when
 * the section counts as set (a binding with a port > 0).
 *
 * src/config/not-implemented.test.ts keeps this list true: every leaf key of the schema must be
 * read by the code or listed here, and a listed key the code starts reading fails the test until
 * its entry is removed. When a feature lands, delete its entries.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './schema.js';
import { INDEXED_LISTS } from './schema.js';
import { formatPath, isPlainObject } from './tree.js';

export type NotImplementedAction = 'warn' | 'refuse';

export interface NotImplementedEntry {
  action: NotImplementedAction;
  /** what is lost by ignoring the key; ends up in the warning or the refusal */
  reason: string;
  /**
   * When the key counts as set, given its value (the section's, for a section entry) and the
   * whole config. Returns the key paths to name (e.g. the enabled bindings' ports), or
   * undefined/[] when not set. Default: the key itself when it differs from its default (for a
   * section: each of its leaves that does).
   */
  isSet?: (value: unknown, config: Readonly<Config>) => string[] | undefined;
  /** a 'warn' entry that refuses when this returns a reason (the same key, in a riskier setup) */
  refuseWhen?: (config: Readonly<Config>) => string | undefined;
}

/**
 * Key paths use `[]` for "every element of the list": `httpd.bindings[].client_auth_type`.
 * Order: as in sftpgo.json.
 */
export const NOT_IMPLEMENTED: Readonly<Record<string, NotImplementedEntry>> = {
  // every key of SFTPGo 2.1.2's configuration is implemented; new ones are listed here until
  // they are (the CLI flags that are not, such as `startsubsys -j`, refuse)
};

export interface NotImplementedReport {
  /** one line per set key: "<key>: ... ignored (<reason>)" */
  warnings: string[];
  /** one line per set key that refuses the start: "<key>: <reason>" */
  refusals: string[];
}

type Seg = { key: string; each: boolean };

function parsePattern(pattern: string): Seg[] {
  return pattern
    .split('.')
    .map((p) => (p.endsWith('[]') ? { key: p.slice(0, -2), each: true } : { key: p, each: false }));
}

/** every (concrete path, value, default) the pattern designates in `config` */
function expand(
  config: unknown,
  defaults: unknown,
  segs: Seg[],
): { path: (string | number)[]; value: unknown; def: unknown }[] {
  let nodes: { path: (string | number)[]; value: unknown; def: unknown }[] = [
    { path: [], value: config, def: defaults },
  ];
  for (const seg of segs) {
    const next: typeof nodes = [];
    for (const n of nodes) {
      if (!isPlainObject(n.value)) continue;
      const path = [...n.path, seg.key];
      const value = n.value[seg.key];
      const def = isPlainObject(n.def) ? n.def[seg.key] : undefined;
      if (!seg.each) {
        next.push({ path, value, def });
        continue;
      }
      if (!Array.isArray(value)) continue;
      // elements are compared with the default element, whatever the length of the list
      const element = INDEXED_LISTS[formatPath(path)];
      const template: unknown = element?.parse({});
      value.forEach((v: unknown, i) => next.push({ path: [...path, i], value: v, def: template }));
    }
    nodes = next;
  }
  return nodes;
}

/** the leaves of `value` that differ from `def` (lists compare as a whole) */
function changedLeaves(value: unknown, def: unknown, path: (string | number)[]): string[] {
  if (isPlainObject(value) && isPlainObject(def)) {
    return Object.keys(value).flatMap((k) => changedLeaves(value[k], def[k], [...path, k]));
  }
  return isDeepStrictEqual(value, def) ? [] : [formatPath(path)];
}

/**
 * What `sftpgo serve` must say about the not-implemented keys of `config`. `defaults` is the
 * default configuration resolved for the same config dir (defaultConfigFor), so path keys compare.
 */
export function checkNotImplemented(
  config: Readonly<Config>,
  defaults: Readonly<Config>,
  table: Readonly<Record<string, NotImplementedEntry>> = NOT_IMPLEMENTED,
): NotImplementedReport {
  const warnings: string[] = [];
  const refusals: string[] = [];
  for (const [pattern, entry] of Object.entries(table)) {
    const named: string[] = [];
    for (const n of expand(config, defaults, parsePattern(pattern))) {
      const set = entry.isSet
        ? (entry.isSet(n.value, config) ?? [])
        : changedLeaves(n.value, n.def, n.path);
      named.push(...set);
    }
    if (named.length === 0) continue;
    const escalated = entry.action === 'warn' ? entry.refuseWhen?.(config) : undefined;
    for (const key of named) {
      if (entry.action === 'refuse') refusals.push(`${key}: ${entry.reason}`);
      else if (escalated !== undefined) refusals.push(`${key}: ${entry.reason}; ${escalated}`);
      else
        warnings.push(
          `${key} is set but not implemented yet in sftpgo-ts: ignored (${entry.reason})`,
        );
    }
  }
  return { warnings, refusals };
}

/** The start error for `refusals` (non-empty), in the shape of a configuration error. */
export function formatRefusals(refusals: readonly string[], file: string | undefined): string {
  const where = file === undefined ? '' : ` in ${file}`;
  return `configuration${where} uses features sftpgo-ts does not implement yet, and ignoring them would weaken security; remove them to start:\n  ${refusals.join('\n  ')}`;
}
