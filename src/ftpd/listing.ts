/**
 * Directory listing formats: LIST (ls -l style, as common clients parse it), NLST (names) and
 * the RFC 3659 MLSD/MLST fact lines. Mirrors upstream ftpserverlib's formats at the revision
 * SFTPGo 2.1.2 pins, with two fixes: symlinks are `l` (ls style, Go's FileMode string writes
 * `L`), and the MLST fact line starts with the space RFC 3659 requires.
 */
import type { FileInfo } from '../vfs/index.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** entries older than this (relative to the session start) show the year instead of the time */
const RECENT_MS = 180 * 24 * 3600 * 1000;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "drwxr-xr-x" style mode string */
export function modeString(fi: FileInfo): string {
  const type = fi.isSymlink ? 'l' : fi.isDirectory ? 'd' : '-';
  const m = fi.mode;
  const bit = (mask: number, c: string): string => (m & mask ? c : '-');
  let s =
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    bit(0o100, 'x') +
    bit(0o40, 'r') +
    bit(0o20, 'w') +
    bit(0o10, 'x') +
    bit(0o4, 'r') +
    bit(0o2, 'w') +
    bit(0o1, 'x');
  const chars = s.split('');
  if (m & 0o4000) chars[2] = chars[2] === 'x' ? 's' : 'S';
  if (m & 0o2000) chars[5] = chars[5] === 'x' ? 's' : 'S';
  if (m & 0o1000) chars[8] = chars[8] === 'x' ? 't' : 'T';
  s = chars.join('');
  return type + s;
}

/** "Jan  2 15:04" for recent entries, "Jan  2  2006" for older ones (local time, as ls) */
export function listDate(d: Date, now: number): string {
  const day = String(d.getDate()).padStart(2, ' ');
  const mon = MONTHS[d.getMonth()] ?? 'Jan';
  if (now - d.getTime() < RECENT_MS && d.getTime() - now < RECENT_MS) {
    return `${mon} ${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  }
  return `${mon} ${day}  ${d.getFullYear()}`;
}

/** one LIST line, without the line end */
export function listLine(fi: FileInfo, now: number): string {
  const size = String(fi.size).padStart(12, ' ');
  return `${modeString(fi)} 1 ftp ftp ${size} ${listDate(fi.mtime, now)} ${fi.name}`;
}

/** YYYYMMDDHHMMSS in UTC (MDTM, MLSD Modify) */
export function ftpTime(d: Date): string {
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds())
  );
}

/** parses YYYYMMDDHHMMSS[.sss] (UTC); undefined when malformed */
export function parseFtpTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, se, ms);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** the RFC 3659 facts of an entry: "Type=file;Size=3;Modify=20240101120000;" */
export function mlsxFacts(fi: FileInfo): string {
  const type = fi.isDirectory ? 'dir' : 'file';
  return `Type=${type};Size=${fi.size};Modify=${ftpTime(fi.mtime)};UNIX.mode=0${(fi.mode & 0o7777).toString(8)};`;
}

/** one MLSD line (facts, space, name), without the line end */
export function mlsdLine(fi: FileInfo): string {
  return `${mlsxFacts(fi)} ${fi.name}`;
}
