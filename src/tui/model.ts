import type { ConnectionStatus, ServicesStatus, Transfer } from '../client/index.js';

/** One poll of the server. */
export interface Snapshot {
  /** client clock when the answer arrived, ms */
  at: number;
  connections: ConnectionStatus[];
  status: ServicesStatus | undefined;
}

export interface TransferRow {
  key: string;
  direction: 'upload' | 'download';
  path: string;
  bytes: number;
  /** bytes per second between the last two polls (or since the start, on the first one) */
  speed: number;
}

export interface ConnectionRow {
  id: string;
  user: string;
  protocol: string;
  remote: string;
  connectedMs: number;
  idleMs: number;
  command: string;
  transfers: TransferRow[];
  /** sum of the transfer speeds */
  speed: number;
}

export const SORT_KEYS = ['connected', 'user', 'protocol', 'idle', 'speed'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function nextSortKey(k: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(k) + 1) % SORT_KEYS.length] ?? 'connected';
}

function transferKey(connId: string, t: Transfer): string {
  return `${connId}|${t.operation_type ?? ''}|${t.path ?? ''}|${t.start_time ?? 0}`;
}

/** Bytes seen per transfer at the previous poll, to compute speeds. */
export type ByteHistory = ReadonlyMap<string, { at: number; bytes: number }>;

/**
 * Turns a snapshot into rows, computing each transfer's speed from the previous snapshot's byte
 * count (the API gives only totals). Returns the rows and the history for the next poll.
 */
export function buildRows(snap: Snapshot, prev: ByteHistory): { rows: ConnectionRow[]; history: ByteHistory } {
  const history = new Map<string, { at: number; bytes: number }>();
  const rows = snap.connections.map((c): ConnectionRow => {
    const id = c.connection_id ?? '';
    const transfers = (c.active_transfers ?? []).map((t): TransferRow => {
      const key = transferKey(id, t);
      const bytes = t.size ?? 0;
      const before = prev.get(key);
      let speed = 0;
      if (before !== undefined && snap.at > before.at) {
        speed = Math.max(0, ((bytes - before.bytes) * 1000) / (snap.at - before.at));
      } else if (t.start_time !== undefined && snap.at > t.start_time) {
        speed = (bytes * 1000) / (snap.at - t.start_time);
      }
      history.set(key, { at: snap.at, bytes });
      return { key, direction: t.operation_type === 'upload' ? 'upload' : 'download', path: t.path ?? '', bytes, speed };
    });
    return {
      id,
      user: c.username ?? '',
      protocol: c.protocol ?? '',
      remote: c.remote_address ?? '',
      connectedMs: c.connection_time ? Math.max(0, snap.at - c.connection_time) : 0,
      idleMs: c.last_activity ? Math.max(0, snap.at - c.last_activity) : 0,
      command: c.command ?? '',
      transfers,
      speed: transfers.reduce((a, t) => a + t.speed, 0),
    };
  });
  return { rows, history };
}

/** Case-insensitive match on user, protocol, remote address, id, command and transfer paths. */
export function filterRows(rows: readonly ConnectionRow[], filter: string): ConnectionRow[] {
  const f = filter.trim().toLowerCase();
  if (f === '') return [...rows];
  return rows.filter((r) =>
    [r.user, r.protocol, r.remote, r.id, r.command, ...r.transfers.map((t) => t.path)].some((s) => s.toLowerCase().includes(f)),
  );
}

export function sortRows(rows: readonly ConnectionRow[], key: SortKey): ConnectionRow[] {
  const out = [...rows];
  const by: Record<SortKey, (a: ConnectionRow, b: ConnectionRow) => number> = {
    connected: (a, b) => b.connectedMs - a.connectedMs,
    user: (a, b) => a.user.localeCompare(b.user),
    protocol: (a, b) => a.protocol.localeCompare(b.protocol),
    idle: (a, b) => a.idleMs - b.idleMs,
    speed: (a, b) => b.speed - a.speed,
  };
  return out.sort((a, b) => by[key](a, b) || a.id.localeCompare(b.id));
}

export interface Totals {
  connections: number;
  transfers: number;
  uploadSpeed: number;
  downloadSpeed: number;
}

export function totals(rows: readonly ConnectionRow[]): Totals {
  const ts = rows.flatMap((r) => r.transfers);
  return {
    connections: rows.length,
    transfers: ts.length,
    uploadSpeed: ts.filter((t) => t.direction === 'upload').reduce((a, t) => a + t.speed, 0),
    downloadSpeed: ts.filter((t) => t.direction === 'download').reduce((a, t) => a + t.speed, 0),
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

export function formatSpeed(bps: number): string {
  return `${formatBytes(bps)}/s`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** Pads or cuts to exactly `w` characters. */
export function fit(s: string, w: number): string {
  if (w <= 0) return '';
  const chars = [...s];
  if (chars.length > w) return `${chars.slice(0, Math.max(0, w - 1)).join('')}…`;
  return s + ' '.repeat(w - chars.length);
}
