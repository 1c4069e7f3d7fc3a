/**
 * Pure helpers of the web client's file pages: breadcrumbs, the names typed into its forms
 * turned into virtual paths, the listing order and human-readable sizes. Virtual paths are
 * cleaned by the vfs layer (`..` cannot leave the user's root); what is checked here is that a
 * form field meant to hold one name holds exactly one.
 */
import { posix } from 'node:path';
import { SftpgoError } from '../../../errors/index.js';
import { normalizeVirtualPath, type FileInfo } from '../../../vfs/index.js';

export interface Crumb {
  name: string;
  path: string;
}

/** the links from the root to `dir` (a normalized virtual path), the root named `Home` */
export function breadcrumbs(dir: string): Crumb[] {
  const out: Crumb[] = [{ name: 'Home', path: '/' }];
  let cur = '';
  for (const seg of dir.split('/')) {
    if (seg === '') continue;
    cur = `${cur}/${seg}`;
    out.push({ name: seg, path: cur });
  }
  return out;
}

/**
 * The virtual path of the entry `name` in the directory `dir`. `name` is one path segment: not
 * empty, no `/`, not `.` or `..`, no NUL (INVALID_INPUT otherwise).
 */
export function childPath(dir: string, name: string): string {
  if (name === '' || name.trim() === '')
    throw new SftpgoError('INVALID_INPUT', 'please give a name');
  if (name.includes('/') || name === '.' || name === '..')
    throw new SftpgoError(
      'INVALID_INPUT',
      `invalid name ${JSON.stringify(name)}: one name, no "/"`,
    );
  if (name.includes('\0')) throw new SftpgoError('INVALID_INPUT', 'invalid name: NUL byte');
  return normalizeVirtualPath(posix.join(normalizeVirtualPath(dir), name));
}

/**
 * The target of a rename of `from`: `to` is a new name in the same directory, or a path —
 * relative to that directory, or absolute from the user's root (`/`-prefixed), as with `mv`.
 */
export function renameTarget(from: string, to: string): string {
  if (to.trim() === '') throw new SftpgoError('INVALID_INPUT', 'please give the new name');
  return normalizeVirtualPath(to, posix.dirname(normalizeVirtualPath(from)));
}

/** directories first, then by name (code point order, as the protocols list them) */
export function sortEntries<T extends Pick<FileInfo, 'name' | 'isDirectory'>>(entries: T[]): T[] {
  return entries.sort((a, b) => {
    if (a.isDirectory !== b.isDirectory) return a.isDirectory ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1536 -> "1.5 KB" (powers of 1024, as upstream's web client shows sizes) */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const n = i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0).replace(/\.0$/, '');
  return `${n} ${UNITS[i] ?? 'B'}`;
}
