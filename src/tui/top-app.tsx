import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ServicesStatus } from '../client/index.js';
import type { TopDataSource } from './data-source.js';
import {
  buildRows,
  filterRows,
  fit,
  formatBytes,
  formatDuration,
  formatSpeed,
  nextSortKey,
  sortRows,
  totals,
  type ByteHistory,
  type ConnectionRow,
  type SortKey,
} from './model.js';

export interface TopAppProps {
  source: TopDataSource;
  /** refresh period, ms */
  intervalMs: number;
  /** clock for the header time (tests pass a fixed one) */
  now?: () => number;
}

type Mode = { kind: 'normal' } | { kind: 'filter'; draft: string } | { kind: 'confirm'; id: string; user: string };

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
}

function services(s: ServicesStatus | undefined): string {
  if (s === undefined) return '';
  const mark = (v: boolean | undefined): string => (v === true ? '●' : '○');
  return `SSH${mark(s.ssh?.is_active)} FTP${mark(s.ftp?.is_active)} DAV${mark(s.webdav?.is_active)} DB${mark(s.data_provider?.is_active)}`;
}

/** Column widths for a terminal `width` columns wide (80 at least is assumed, less still renders). */
function columns(width: number): { user: number; proto: number; remote: number; conn: number; idle: number; activity: number } {
  const user = 10;
  const proto = 5;
  const remote = 21;
  const conn = 7;
  const idle = 6;
  const activity = Math.max(10, width - 2 - (user + proto + remote + conn + idle) - 5);
  return { user, proto, remote, conn, idle, activity };
}

function activity(r: ConnectionRow): string {
  const t = r.transfers[0];
  if (t === undefined) return r.command;
  const more = r.transfers.length > 1 ? ` +${r.transfers.length - 1}` : '';
  return `${t.direction === 'upload' ? '↑' : '↓'} ${t.path} ${formatBytes(t.bytes)} ${formatSpeed(t.speed)}${more}`;
}

/** `sftpgo top`: live connections and transfers, refreshed every interval. */
export function TopApp({ source, intervalMs, now = Date.now }: TopAppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const width = Math.max(40, stdout.columns ?? 80);
  const height = Math.max(12, stdout.rows ?? 24);

  const [rows, setRows] = useState<ConnectionRow[]>([]);
  const [status, setStatus] = useState<ServicesStatus | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [updatedAt, setUpdatedAt] = useState<number | undefined>(undefined);
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  const [sortKey, setSortKey] = useState<SortKey>('connected');
  const [filter, setFilter] = useState('');
  const [mode, setModeState] = useState<Mode>({ kind: 'normal' });
  // keystrokes can arrive faster than React re-renders: the handler reads the latest mode here
  const modeRef = useRef<Mode>(mode);
  const setMode = useCallback((m: Mode) => {
    modeRef.current = m;
    setModeState(m);
  }, []);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const history = useRef<ByteHistory>(new Map());
  const [pollNow, setPollNow] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      try {
        const snap = await source.poll();
        if (stopped) return;
        const built = buildRows(snap, history.current);
        history.current = built.history;
        setRows(built.rows);
        setStatus(snap.status);
        setUpdatedAt(snap.at);
        setError(undefined);
        setLoaded(true);
      } catch (e) {
        if (!stopped) setError(errorText(e));
      } finally {
        if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
      }
    };
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [source, intervalMs, pollNow]);

  const visible = useMemo(() => sortRows(filterRows(rows, filter), sortKey), [rows, filter, sortKey]);
  const selIndex = Math.max(0, visible.findIndex((r) => r.id === selectedId));
  const selected = visible[selIndex];
  const visibleRef = useRef(visible);
  visibleRef.current = visible;
  const selectedRef = useRef(selected?.id);
  selectedRef.current = selected?.id;

  const move = useCallback((delta: number) => {
    const list = visibleRef.current;
    if (list.length === 0) return;
    const cur = Math.max(0, list.findIndex((r) => r.id === selectedRef.current));
    const next = list[Math.min(list.length - 1, Math.max(0, cur + delta))];
    selectedRef.current = next?.id;
    setSelectedId(next?.id);
  }, []);

  useInput((input, key) => {
    const mode = modeRef.current;
    if (mode.kind === 'filter') {
      if (key.return) {
        setFilter(mode.draft);
        setMode({ kind: 'normal' });
      } else if (key.escape) {
        setMode({ kind: 'normal' });
      } else if (key.backspace || key.delete) {
        setMode({ kind: 'filter', draft: mode.draft.slice(0, -1) });
      } else if (input !== '' && !key.ctrl && !key.meta) {
        setMode({ kind: 'filter', draft: mode.draft + input });
      }
      return;
    }
    if (mode.kind === 'confirm') {
      const id = mode.id;
      setMode({ kind: 'normal' });
      if (input === 'y' || input === 'Y') {
        setNotice(`closing ${id}...`);
        source.closeConnection(id).then(
          () => {
            setNotice(`connection ${id} closed`);
            setPollNow((n) => n + 1);
          },
          (e: unknown) => setNotice(`cannot close ${id}: ${errorText(e)}`),
        );
      } else {
        setNotice('not closed');
      }
      return;
    }
    if (input === 'q' || key.escape) exit();
    else if (key.upArrow || input === 'k') move(-1);
    else if (key.downArrow || input === 'j') move(1);
    else if (key.pageUp) move(-10);
    else if (key.pageDown) move(10);
    else if (input === '/') setMode({ kind: 'filter', draft: filter });
    else if (input === 's') setSortKey((k) => nextSortKey(k));
    else if (input === 'd') {
      const sel = visibleRef.current.find((r) => r.id === selectedRef.current) ?? visibleRef.current[0];
      if (sel !== undefined) setMode({ kind: 'confirm', id: sel.id, user: sel.user });
    }
  });

  const t = totals(visible);
  const cw = columns(width);
  const detail = selected?.transfers ?? [];
  const detailLines = Math.min(3, detail.length);
  const listRows = Math.max(1, height - 6 - detailLines);
  const first = Math.min(Math.max(0, selIndex - listRows + 1), Math.max(0, visible.length - listRows));
  const shown = visible.slice(first, first + listRows);

  const header1 = `SFTPGo top  ${source.label}  ${services(status)}`;
  const clockText = clock(updatedAt ?? now());
  const header2 =
    `${t.connections} conn${t.connections === 1 ? '' : 's'}  ${t.transfers} transfer${t.transfers === 1 ? '' : 's'}` +
    `  ↑ ${formatSpeed(t.uploadSpeed)}  ↓ ${formatSpeed(t.downloadSpeed)}  sort: ${sortKey}` +
    (filter !== '' ? `  filter: ${filter}` : '');

  let footer: string;
  if (mode.kind === 'filter') footer = `filter: ${mode.draft}█  (Enter apply, Esc cancel)`;
  else if (mode.kind === 'confirm') footer = `Close connection ${mode.id} of ${mode.user}? (y/N)`;
  else footer = notice ?? '↑↓/jk move  / filter  s sort  d close  q quit';

  return (
    <Box flexDirection="column" width={width}>
      <Text bold>{fit(header1, width - clockText.length - 1)} {clockText}</Text>
      <Text>{fit(header2, width)}</Text>
      {error !== undefined ? (
        <Text color="red">{fit(`${error} (retrying every ${formatDuration(intervalMs)})`, width)}</Text>
      ) : (
        <Text> </Text>
      )}
      <Text inverse>
        {fit(
          `  ${fit('USER', cw.user)} ${fit('PROTO', cw.proto)} ${fit('REMOTE', cw.remote)} ${fit('CONN', cw.conn)} ${fit('IDLE', cw.idle)} ${fit('ACTIVITY', cw.activity)}`,
          width,
        )}
      </Text>
      {!loaded && error === undefined ? <Text dimColor>loading...</Text> : null}
      {loaded && visible.length === 0 ? <Text dimColor>{filter === '' ? 'no active connections' : 'no connection matches the filter'}</Text> : null}
      {shown.map((r) => {
        const isSel = r.id === selected?.id;
        return (
          <Text key={r.id} inverse={isSel} color={isSel ? 'cyan' : undefined}>
            {fit(
              `${isSel ? '>' : ' '} ${fit(r.user, cw.user)} ${fit(r.protocol, cw.proto)} ${fit(r.remote, cw.remote)} ${fit(formatDuration(r.connectedMs), cw.conn)} ${fit(formatDuration(r.idleMs), cw.idle)} ${fit(activity(r), cw.activity)}`,
              width,
            )}
          </Text>
        );
      })}
      {detail.slice(0, detailLines).map((d) => (
        <Text key={d.key} dimColor>
          {fit(`    ${d.direction === 'upload' ? '↑ upload  ' : '↓ download'} ${d.path}  ${formatBytes(d.bytes)}  ${formatSpeed(d.speed)}`, width)}
        </Text>
      ))}
      <Text color={mode.kind === 'confirm' ? 'yellow' : undefined}>{fit(footer, width)}</Text>
    </Box>
  );
}
