/**
 * Pure path helpers of the SFTP backend: the endpoint, and the mapping between paths relative to
 * the backend root (what the `Fs` methods take) and remote paths below `prefix`.
 */
import { posix } from 'node:path';
import { SftpgoError } from '../../../errors/index.js';

/** `host:port` (`[v6]:port`) as upstream's net.SplitHostPort; INVALID_INPUT otherwise */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  let host = i > 0 ? endpoint.slice(0, i) : '';
  const portText = i > 0 ? endpoint.slice(i + 1) : '';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) host = '';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (host === '' || !(port >= 1 && port <= 65535)) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `invalid SFTP fs config: invalid endpoint ${JSON.stringify(endpoint)}`,
    );
  }
  return { host, port };
}

/** the prefix as upstream stores it: a clean absolute POSIX path, "/" when empty */
export function cleanPrefix(prefix: string | undefined): string {
  if (!prefix) return '/';
  const p = posix.normalize(`/${prefix}`);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** `p` equals `dir` or is below it (both clean absolute paths) */
export function isInside(p: string, dir: string): boolean {
  if (dir === '/') return true;
  return p === dir || p.startsWith(`${dir}/`);
}

/** the root-relative path of a remote path inside `prefix` */
export function fromRemote(prefix: string, remote: string): string {
  if (prefix === '/') return remote;
  return remote === prefix ? '/' : remote.slice(prefix.length);
}

/**
 * true when the relative symlink `target`, created in the root-relative directory `dir`, leads
 * above the root (lexically: `..` past "/", which posix.join would silently clamp)
 */
export function climbsAboveRoot(dir: string, target: string): boolean {
  let depth = dir.split('/').filter(Boolean).length;
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      depth--;
      if (depth < 0) return true;
    } else depth++;
  }
  return false;
}
