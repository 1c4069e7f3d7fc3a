/**
 * Per-user policy read from the user object (upstream dataprovider/user.go): per-directory
 * permissions, file pattern filters, IP filters, quota limits.
 */
import { BlockList, isIP } from 'node:net';
import { posix } from 'node:path';
import type { User } from '../dataprovider/provider.js';
import { dirsForVirtualPath } from '../vfs/index.js';
import type { Permission } from './types.js';

/** the permissions map (the generated API type of `permissions` is too loose) */
export function permissionsOf(user: User): Record<string, readonly string[]> {
  return (user.permissions ?? {}) as unknown as Record<string, readonly string[]>;
}

/**
 * The permissions granted on a virtual path: the entry of the most specific directory
 * among the path and its ancestors; "/" is the fallback (upstream GetPermissionsForPath).
 */
export function getPermissionsForPath(user: User, virtualPath: string): readonly string[] {
  const perms = permissionsOf(user);
  const keys = Object.keys(perms);
  const root = perms['/'];
  if (root && keys.length === 1) return root;
  for (const d of dirsForVirtualPath(virtualPath)) {
    const p = perms[d];
    if (p) return p;
  }
  return root ?? [];
}

export function hasPerm(user: User, perm: Permission, virtualPath: string): boolean {
  const p = getPermissionsForPath(user, virtualPath);
  return p.includes('*') || p.includes(perm);
}

export function hasPerms(user: User, perms: readonly Permission[], virtualPath: string): boolean {
  const p = getPermissionsForPath(user, virtualPath);
  if (p.includes('*')) return true;
  return perms.every((x) => p.includes(x));
}

/** true when a permission entry exists for the path or for a directory below it */
export function hasPermissionsInside(user: User, virtualPath: string): boolean {
  return Object.keys(permissionsOf(user)).some(
    (d) => d === virtualPath || (virtualPath === '/' ? d !== '/' : d.startsWith(`${virtualPath}/`)),
  );
}

// ------------------------------------------------------------------ shell patterns

/**
 * Compiles a Go `path.Match` pattern into a RegExp: `*` any run of non-'/' characters, `?`
 * one non-'/' character, `[...]` a class (`^` negates, ranges with `-`), `\` escapes.
 * Returns undefined for a malformed pattern.
 */
export function compileShellPattern(pattern: string): RegExp | undefined {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) return undefined;
      re += escapeRe(pattern[i] as string);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let first = true;
      let closed = false;
      while (j < pattern.length) {
        const ch = pattern[j] as string;
        if (ch === ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (ch === '\\') {
          j++;
          if (j >= pattern.length) return undefined;
          cls += escapeClass(pattern[j] as string);
        } else if (
          ch === '-' &&
          cls !== '' &&
          cls !== '^' &&
          pattern[j + 1] !== ']' &&
          j + 1 < pattern.length
        ) {
          cls += '-';
        } else if (ch === '/') {
          return undefined;
        } else {
          cls += escapeClass(ch);
        }
        j++;
      }
      if (!closed || cls === '' || cls === '^') return undefined;
      // Go classes never match '/'
      re += cls.startsWith('^') ? `[${cls}/]` : `(?!/)[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  re += '$';
  try {
    return new RegExp(re, 's');
  } catch {
    // an invalid range such as [z-a] makes the pattern malformed, as in Go
    return undefined;
  }
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}

/** Go path.Match semantics, case-sensitive; a malformed pattern matches nothing and reports it */
export function matchShellPattern(
  pattern: string,
  name: string,
): { matched: boolean; malformed: boolean } {
  const re = compileShellPattern(pattern);
  if (!re) return { matched: false, malformed: true };
  return { matched: re.test(name), malformed: false };
}

/**
 * Whether the file pattern filters allow a virtual path (upstream IsFileAllowed): the filter of
 * the most specific directory among the file's parent and its ancestors applies; names are
 * compared case-insensitively; denied patterns first (a malformed denied pattern denies), then
 * allowed ones (when any are set, one must match).
 */
export function isFileAllowed(user: User, virtualPath: string): boolean {
  const filters = user.filters?.file_patterns;
  if (!filters || filters.length === 0) return true;
  let filter: (typeof filters)[number] | undefined;
  for (const d of dirsForVirtualPath(posix.dirname(virtualPath))) {
    filter = filters.find((f) => f.path === d);
    if (filter) break;
  }
  if (!filter) return true;
  const name = posix.basename(virtualPath).toLowerCase();
  for (const p of filter.denied_patterns ?? []) {
    const m = matchShellPattern(p.toLowerCase(), name);
    if (m.malformed || m.matched) return false;
  }
  const allowed = filter.allowed_patterns ?? [];
  for (const p of allowed) {
    if (matchShellPattern(p.toLowerCase(), name).matched) return true;
  }
  return allowed.length === 0;
}

// ------------------------------------------------------------------ IP filters

/** the bare IP of a remote address ("1.2.3.4:5678", "[::1]:22", "::ffff:1.2.3.4" → plain IP) */
export function ipFromRemoteAddress(remote: string): string {
  let ip = remote.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracket) ip = bracket[1] as string;
  else if (isIP(ip) === 0) {
    const i = ip.lastIndexOf(':');
    if (i > 0 && /^\d+$/.test(ip.slice(i + 1))) ip = ip.slice(0, i);
  }
  const pct = ip.indexOf('%');
  if (pct >= 0) ip = ip.slice(0, pct);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? (mapped[1] as string) : ip;
}

function cidrList(cidrs: readonly string[]): BlockList | undefined {
  const bl = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const family = isIP(addr ?? '');
    const prefix = Number(bits);
    if (!family || bits === undefined || !Number.isInteger(prefix)) return undefined;
    try {
      bl.addSubnet(addr as string, prefix, family === 6 ? 'ipv6' : 'ipv4');
    } catch {
      // out-of-range prefix: the list is invalid, handled like a parse failure upstream
      return undefined;
    }
  }
  return bl;
}

function listContains(bl: BlockList, ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return bl.check(ip, 'ipv4') || bl.check(`::ffff:${ip}`, 'ipv6');
  return bl.check(ip, 'ipv6');
}

/**
 * Upstream IsLoginFromAddrAllowed: denied CIDRs first, then allowed ones; an invalid CIDR
 * denies; an unparsable remote IP is allowed (as upstream, it cannot happen for real sockets).
 */
export function isLoginFromAddrAllowed(user: User, remoteAddress: string): boolean {
  const allowed = user.filters?.allowed_ip ?? [];
  const denied = user.filters?.denied_ip ?? [];
  if (allowed.length === 0 && denied.length === 0) return true;
  const ip = ipFromRemoteAddress(remoteAddress);
  if (isIP(ip) === 0) return true;
  if (denied.length > 0) {
    const bl = cidrList(denied);
    if (!bl || listContains(bl, ip)) return false;
  }
  if (allowed.length > 0) {
    const bl = cidrList(allowed);
    if (!bl) return false;
    return listContains(bl, ip);
  }
  return true;
}

// ------------------------------------------------------------------ quota limits

export function userHasQuotaRestrictions(user: User): boolean {
  return (user.quota_files ?? 0) > 0 || (user.quota_size ?? 0) > 0;
}

export function userHasNoQuotaRestrictions(user: User, checkFiles: boolean): boolean {
  return (user.quota_size ?? 0) === 0 && (!checkFiles || (user.quota_files ?? 0) === 0);
}
