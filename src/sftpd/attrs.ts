/**
 * FileInfo -> SFTP v3 ATTRS and the `ls -l` style `longname` of NAME replies
 * (pkg/sftp runLs, as used by SFTPGo 2.1.2).
 */
import type { Attributes } from 'ssh2';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type FileInfo } from '../vfs/types.js';

/** Full mode with file type bits, filled in when a backend gave only permission bits. */
export function fullMode(fi: FileInfo): number {
  if ((fi.mode & S_IFMT) !== 0) return fi.mode;
  const perm = fi.mode & 0o7777;
  if (fi.isSymlink) return S_IFLNK | (perm || 0o777);
  if (fi.isDirectory) return S_IFDIR | (perm || 0o755);
  return S_IFREG | (perm || 0o644);
}

export function toAttrs(fi: FileInfo): Attributes {
  return {
    mode: fullMode(fi),
    uid: fi.uid,
    gid: fi.gid,
    size: fi.size,
    atime: Math.floor(fi.atime.getTime() / 1000),
    mtime: Math.floor(fi.mtime.getTime() / 1000),
  };
}

const TYPE_CHARS: ReadonlyArray<readonly [number, string]> = [
  [0o140000, 's'],
  [S_IFLNK, 'l'],
  [S_IFREG, '-'],
  [0o060000, 'b'],
  [S_IFDIR, 'd'],
  [0o020000, 'c'],
  [0o010000, 'p'],
];

/** "drwxr-xr-x" style permission string, with setuid/setgid/sticky letters. */
export function modeString(mode: number): string {
  const type = mode & S_IFMT;
  const t = TYPE_CHARS.find(([m]) => m === type)?.[1] ?? '?';
  const rwx = (bits: number, special: boolean, specialChar: string): string => {
    const x = (bits & 1) !== 0;
    let third = x ? 'x' : '-';
    if (special) third = x ? specialChar : specialChar.toUpperCase();
    return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${third}`;
  };
  return (
    t +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

/**
 * `-rw-r--r--    1 1000     1000         1234 Jan  2 15:04 name` — the format of pkg/sftp's
 * runLs: `%s %4d %-8s %-8s %8d %12s %s`, date "Jan 2 15:04", or "Jan 2 2006" when older than
 * six months. Times are UTC, as Go formats them on a UTC server.
 */
export function longname(fi: FileInfo, name: string, now = Date.now()): string {
  const m = fi.mtime;
  const date = `${MONTHS[m.getUTCMonth()] ?? 'Jan'} ${m.getUTCDate()}`;
  const yearOrTime =
    m.getTime() < now - SIX_MONTHS_MS
      ? String(m.getUTCFullYear())
      : `${String(m.getUTCHours()).padStart(2, '0')}:${String(m.getUTCMinutes()).padStart(2, '0')}`;
  const when = `${date} ${yearOrTime}`;
  return `${modeString(fullMode(fi))} ${String(1).padStart(4)} ${String(fi.uid).padEnd(8)} ${String(fi.gid).padEnd(8)} ${String(fi.size).padStart(8)} ${when.padStart(12)} ${name}`;
}
