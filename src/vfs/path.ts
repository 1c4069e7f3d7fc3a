/**
 * Virtual path helpers. A virtual path is what a client sees: POSIX, always `/`-rooted,
 * normalized, never containing `..` above the root. Nothing here touches the disk.
 */
import { posix } from 'node:path';
import { SftpgoError } from '../errors/index.js';

/**
 * Normalizes a client supplied path: relative paths are taken from `cwd` (default "/"),
 * backslashes are kept literal (they are valid name characters on POSIX), `.`/`..` are
 * resolved lexically and `..` cannot go above "/". Percent sequences stay literal
 * (`%2e%2e` is a file name, not a parent reference). NUL bytes are refused (INVALID_INPUT).
 */
export function normalizeVirtualPath(p: string, cwd = '/'): string {
  if (typeof p !== 'string') throw new SftpgoError('INVALID_INPUT', 'invalid path');
  if (p.includes('\0') || cwd.includes('\0')) {
    throw new SftpgoError('INVALID_INPUT', 'invalid path: NUL byte not allowed');
  }
  const joined = p.startsWith('/') ? p : `${cwd.startsWith('/') ? cwd : `/${cwd}`}/${p}`;
  // posix.normalize on a '/'-rooted path never yields a leading '..'
  let n = posix.normalize(joined);
  if (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
  return n === '' ? '/' : n;
}

/**
 * All the ancestors of a normalized virtual path, most specific first, the path itself
 * included: "/1/2/3" → ["/1/2/3", "/1/2", "/1", "/"]. (upstream utils.GetDirsForVirtualPath)
 */
export function dirsForVirtualPath(p: string): string[] {
  const out: string[] = [];
  let cur = p;
  for (;;) {
    out.push(cur);
    if (cur === '/') return out;
    cur = posix.dirname(cur);
  }
}

/** true when `child` equals `parent` or is below it (both normalized) */
export function isSameOrBelow(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(`${parent}/`);
}

/** true when `child` is strictly below `parent` (both normalized) */
export function isStrictlyBelow(child: string, parent: string): boolean {
  if (child === parent) return false;
  return isSameOrBelow(child, parent);
}

/** the parent directory of a normalized virtual path ("/" for "/") */
export function virtualDir(p: string): string {
  return posix.dirname(p);
}

/** the last element of a normalized virtual path ("/" for "/") */
export function virtualBase(p: string): string {
  return p === '/' ? '/' : posix.basename(p);
}

/** joins a mount point and a path relative to it ("/vdir" + "/a/b" → "/vdir/a/b") */
export function joinVirtual(mount: string, rel: string): string {
  if (mount === '/') return rel;
  return rel === '/' ? mount : `${mount}${rel}`;
}
