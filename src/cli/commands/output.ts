import type { IO } from './io.js';

/** Output flags every client subcommand accepts. */
export interface OutputFlags {
  /** print the raw API objects as JSON (stable, for scripts) */
  json?: boolean | undefined;
  /** print nothing on success */
  quiet?: boolean | undefined;
}

export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value ?? null, null, 2)}\n`);
}

/**
 * Prints a result: raw JSON with --json, nothing with --quiet, else the human form.
 */
export function printResult(io: IO, flags: OutputFlags, value: unknown, human: () => void): void {
  if (flags.json === true) printJson(io, value);
  else if (flags.quiet !== true) human();
}

/** A success line ("User u1 deleted"), unless --quiet; with --json the API answer instead. */
export function printSuccess(io: IO, flags: OutputFlags, apiAnswer: unknown, line: string): void {
  printResult(io, flags, apiAnswer, () => io.stdout.write(`${line}\n`));
}

/** Display width of a string (ASCII-accurate; wide characters are rare in these tables). */
function width(s: string): number {
  return [...s].length;
}

function truncate(s: string, max: number): string {
  if (max <= 1 || width(s) <= max) return s;
  return `${[...s].slice(0, max - 1).join('')}…`;
}

/**
 * A table. On a terminal: an upper-case header and columns aligned with two spaces, the last
 * column cut to the terminal width. Otherwise (pipes, scripts): tab-separated rows, no header.
 */
export function printTable(io: IO, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const clean = rows.map((r) => r.map((c) => c.replace(/[\t\n\r]+/g, ' ')));
  if (!io.isTTY) {
    for (const r of clean) io.stdout.write(`${r.join('\t')}\n`);
    return;
  }
  const all = [header.map((h) => h.toUpperCase()), ...clean];
  const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  const fixed = widths.slice(0, -1).reduce((a, w) => a + w + 2, 0);
  const lastMax = Math.max(10, io.columns - fixed);
  for (const r of all) {
    const cells = header.map((_, i) => {
      const c = r[i] ?? '';
      if (i === header.length - 1) return truncate(c, lastMax);
      return c + ' '.repeat((widths[i] ?? 0) - width(c));
    });
    io.stdout.write(`${cells.join('  ').trimEnd()}\n`);
  }
}

/** Flattens nested objects into dotted keys; arrays of scalars are joined with ", ". */
export function flatten(value: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) {
      if (value.length > 0) out.push([prefix, value.map(String).join(', ')]);
      return out;
    }
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
    return out;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    }
    return out;
  }
  out.push([prefix, String(value)]);
  return out;
}

/** An object as aligned `key: value` lines (dotted keys for nested fields). */
export function printFields(io: IO, value: unknown, pairs?: readonly [string, string][]): void {
  const rows = pairs ?? flatten(value);
  const w = Math.max(0, ...rows.map(([k]) => width(k)));
  for (const [k, v] of rows) io.stdout.write(`${k}:${' '.repeat(w - width(k) + 1)}${v}\n`);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

/** A unix-ms timestamp as a local "YYYY-MM-DD HH:MM:SS"; "-" for 0 or missing. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms <= 0 || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A duration as "45s", "12m03s", "3h04m", "2d05h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** "used / limit" quota text; a 0 limit is unlimited. */
export function formatQuota(used: number | undefined, limit: number | undefined, bytes: boolean): string {
  const f = (n: number | undefined): string => (bytes ? formatBytes(n ?? 0) : String(n ?? 0));
  return `${f(used)} / ${limit === undefined || limit === 0 ? 'unlimited' : f(limit)}`;
}
