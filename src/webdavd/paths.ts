/** virtual path helpers of the WebDAV layer (request URL <-> virtual path) */
import { SftpgoError } from '../errors/index.js';
import { normalizeVirtualPath } from '../vfs/index.js';

/** true when `p` is `base` or inside it (both normalized virtual paths) */
export function isSameOrBelow(p: string, base: string): boolean {
  return p === base || base === '/' || p.startsWith(`${base}/`);
}

/**
 * The virtual path a request URL designates below `baseUrl` (the binding prefix): the
 * remainder of the path, percent-decoded once, normalized (no `..` can escape the root).
 */
export function urlToVirtualPath(url: URL, baseUrl: URL): string {
  const base = baseUrl.pathname.replace(/\/?$/, '/');
  const pathname = url.pathname;
  if (!`${pathname}/`.startsWith(base)) {
    throw new SftpgoError('NOT_FOUND', 'the resource is outside of the WebDAV namespace');
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname.slice(base.length));
  } catch (e) {
    throw new SftpgoError('INVALID_INPUT', 'invalid percent-encoding in the request path', {
      cause: e,
    });
  }
  if (rel.includes('\0')) throw new SftpgoError('INVALID_INPUT', 'invalid path');
  return normalizeVirtualPath(`/${rel}`);
}

/** the URL of a virtual path below `baseUrl`; collections end with `/` */
export function virtualPathToUrl(p: string, baseUrl: URL, collection: boolean): URL {
  const base = baseUrl.pathname.replace(/\/?$/, '/');
  const rel = p === '/' ? '' : p.slice(1).split('/').map(encodeURIComponent).join('/');
  const tail = collection && rel !== '' ? '/' : '';
  return new URL(`${base}${rel}${tail}`, baseUrl);
}

export function baseName(p: string): string {
  return p === '/' ? '' : p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Resolves literal `.` and `..` segments of a request path (RFC 3986 §5.2.4, what clients
 * normally do before sending), never above the root; percent-encoded dots stay as sent (they
 * are decoded, then normalized, with the rest of the path). The trailing slash is kept.
 */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segs = path.split('/');
  for (const seg of segs.slice(1)) {
    if (seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const last = segs[segs.length - 1];
  if ((last === '.' || last === '..') && out[out.length - 1] !== '') out.push('');
  return `/${out.join('/')}`;
}
