/**
 * GET/HEAD, PUT and DELETE of a file answered without express and nephele, the way propfind.ts answers
 * PROPFIND: the common case handled here, everything else left to nephele.
 *
 * Going through express (router, cookie-parser, nephele's per-request debug logger, plugin and
 * adapter look-ups) and nephele's methods cost a small file transfer more CPU than the transfer
 * itself, and nephele looks the resource up twice (once for the method, once more for the
 * conditional headers). Here the request's resource is looked up once, through the same
 * DavAdapter/DavResource nephele uses (so the same Connection calls: permissions, patterns,
 * quota, upload modes, accounting and transfer logging are the core's), and the answer is the one
 * nephele's GET_HEAD.js / PUT.js / DELETE.js gives for it: same status, same headers, same errors (through
 * nephele's own catchErrors and the server's error handler).
 *
 * Covered: GET/HEAD of a file, PUT of a file (new or replaced) whose parent is a collection,
 * DELETE of a file (or symlink) without a body and without an `Accept` other than `*\/*`, for
 * a user holding no lock, without a query string or trailing slash, and without the headers
 * nephele acts on beyond the plain transfer (`If`, `If-*`, `Range`, `Lock-Token`,
 * `Content-Encoding`, `Content-Language`); GET/HEAD also without a `getcontentlanguage` dead
 * property on the file. A collection, the root, or a URL nephele would parse differently goes
 * to nephele before anything is sent (`false`). test/integration/webdavd/fast-path.test.ts asks
 * both paths the same requests and compares the answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  catchErrors,
  ForbiddenError,
  ResourceNotFoundError,
  ResourceTreeNotCompleteError,
} from 'nephele';
import type { Resource } from 'nephele';
import { DavAdapter, DavResource, etagOf, type DavRequestContext } from './adapter.js';

/** request headers that ask nephele for more than the plain transfer: such requests go to it */
const NEPHELE_HEADERS = [
  'if',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'range',
  'lock-token',
  'content-encoding',
  'content-language',
] as const;

type NodeRequest = IncomingMessage & { baseUrl?: string; originalUrl?: string };

/** requests answered here since the start (the comparison test checks which path answered) */
export const fastPathStats = { answered: 0 };

export interface FastPathDeps {
  /** the Content-Type header of a media type, as nephele's response (express) writes it */
  contentType(mediaType: string): string;
  /** nephele's error handler (the server's), for the errors nephele's catchErrors maps */
  onError(code: number, message: string, error: Error | undefined): Promise<void>;
}

/** a first look without I/O: may this request take the fast path? */
export function fastPathCandidate(req: IncomingMessage, ctx: DavRequestContext): boolean {
  const m = req.method;
  if (m !== 'GET' && m !== 'HEAD' && m !== 'PUT' && m !== 'DELETE') return false;
  if (ctx.state.hasLocks) return false;
  for (const h of NEPHELE_HEADERS) if (req.headers[h] !== undefined) return false;
  if (m === 'DELETE') {
    // nephele negotiates an XML error body (406 when refused) and refuses a request body
    const accept = req.headers.accept;
    if (accept !== undefined && accept !== '*/*') return false;
    if (req.headers['transfer-encoding'] !== undefined) return false;
    const len = req.headers['content-length'];
    if (len !== undefined && len !== '0') return false;
  }
  const url = req.url ?? '';
  return !url.includes('?') && !url.endsWith('/');
}

/**
 * The request's URL and the binding's base URL as nephele builds them (express'
 * request.protocol without trust proxy); undefined for a request nephele would refuse or parse
 * otherwise (no usable Host, a malformed path).
 */
export function requestUrls(
  req: IncomingMessage,
): { origin: string; url: URL; baseUrl: URL } | undefined {
  const nreq = req as NodeRequest;
  try {
    const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
    const origin = `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`;
    const url = new URL(nreq.originalUrl ?? req.url ?? '/', origin);
    const baseUrl = new URL(nreq.baseUrl ? `${nreq.baseUrl}/` : '/', origin);
    // nephele's middlewares decode the path first and fail on a malformed one
    decodeURIComponent(req.url ?? '');
    return { origin, url, baseUrl };
  } catch {
    return undefined;
  }
}

function davResource(r: Resource): DavResource | undefined {
  return r instanceof DavResource ? r : undefined;
}

/**
 * Answers a fastPathCandidate request and resolves true, or resolves false having sent
 * nothing (nephele answers it then).
 */
export async function fastFileRequest(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: DavRequestContext,
  deps: FastPathDeps,
): Promise<boolean> {
  const urls = requestUrls(req);
  if (!urls) return false;
  const { origin, url, baseUrl } = urls;
  let handled = true;
  const run = catchErrors(
    async () => {
      const adapter = new DavAdapter(ctx);
      handled =
        req.method === 'PUT'
          ? await put(req, res, adapter, url, baseUrl, origin)
          : req.method === 'DELETE'
            ? await deleteFile(res, adapter, url, baseUrl)
            : await getOrHead(req, res, adapter, url, baseUrl, deps);
    },
    (code: number, message: string, error?: Error) => deps.onError(code, message, error),
  );
  await run();
  if (handled) fastPathStats.answered++;
  return handled;
}

/** nephele's GET_HEAD.run for a file without Range and conditional headers */
async function getOrHead(
  req: IncomingMessage,
  res: ServerResponse,
  adapter: DavAdapter,
  url: URL,
  baseUrl: URL,
  deps: FastPathDeps,
): Promise<boolean> {
  let resource: DavResource | undefined = await adapter.lookupResource(url, baseUrl);
  // a missing file: nephele's error for it
  if (!resource.fileInfo) resource = davResource(await adapter.getResource(url, baseUrl));
  if (!resource || (await resource.isCollection())) return false;
  if (adapter.ctx.state.deadProps(resource.path)?.has('getcontentlanguage')) return false;
  const info = resource.fileInfo;
  if (!info) return false;
  // a type to sniff: from the download's own first read (one open), GET only
  const sniffed =
    req.method === 'GET' && resource.knownMediaType(info) === undefined
      ? await resource.sniffedDownload()
      : undefined;
  const mediaType =
    sniffed && 'mediaType' in sniffed ? sniffed.mediaType : await resource.getMediaType();
  if (mediaType === null) return false;
  const vary = res.getHeader('Vary');
  res.setHeader('Vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('Date', new Date().toUTCString());
  res.setHeader('Accept-Ranges', 'bytes');
  res.statusCode = 200;
  res.setHeader('ETag', JSON.stringify(etagOf(info)));
  res.setHeader('Last-Modified', info.mtime.toUTCString());
  res.setHeader('Content-Type', deps.contentType(mediaType));
  if (req.method !== 'HEAD') {
    if (sniffed && 'error' in sniffed) throw sniffed.error;
    const stream = sniffed && 'stream' in sniffed ? sniffed.stream : await resource.getStream();
    req.on('close', () => {
      if (!stream.readableEnded || !stream.destroyed) stream.destroy(new Error('Request aborted.'));
    });
    res.setHeader('Content-Length', `${info.size}`);
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('close', resolve);
      if (stream.errored) reject(stream.errored);
      else stream.pipe(res);
    });
  }
  res.end();
  return true;
}

/** nephele's PUT.run for a file whose user holds no lock, without conditional headers */
async function put(
  req: IncomingMessage,
  res: ServerResponse,
  adapter: DavAdapter,
  url: URL,
  baseUrl: URL,
  origin: string,
): Promise<boolean> {
  let resource: DavResource | undefined;
  try {
    resource = await adapter.lookupResource(url, baseUrl);
  } catch (e) {
    if (!(e instanceof ResourceNotFoundError)) throw e;
    resource = davResource(await adapter.newResource(url, baseUrl));
  }
  if (!resource || resource.path === '/' || (await resource.isCollection())) return false;
  const newResource = resource.fileInfo === undefined;
  // the parent must be a collection (nephele's getParentResource: the canonical URL's parent)
  const canonical = (await resource.getCanonicalUrl()).pathname;
  const parentPath = `${canonical.replace(/\/?$/, '').split('/').slice(0, -1).join('/')}/`;
  if (!parentPath.startsWith(baseUrl.pathname)) return false;
  try {
    if (!(await adapter.isCollectionAt(new URL(parentPath, origin), baseUrl, resource)))
      throw new ForbiddenError('Parent resource is not a collection.');
  } catch (e) {
    if (e instanceof ResourceNotFoundError) {
      throw new ResourceTreeNotCompleteError(
        'One or more intermediate collections must be created before this resource.',
      );
    }
    throw e;
  }
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('Date', new Date().toUTCString());
  const body = req.headers['content-length'] === '0' ? Readable.from(Buffer.from([])) : req;
  await resource.setStream(body);
  res.statusCode = newResource ? 201 : 204;
  if (newResource) res.setHeader('Location', (await resource.getCanonicalUrl()).toString());
  res.end();
  return true;
}

/** nephele's DELETE.run for a file (a collection goes to nephele and its removeTree plugin) */
async function deleteFile(
  res: ServerResponse,
  adapter: DavAdapter,
  url: URL,
  baseUrl: URL,
): Promise<boolean> {
  const resource = davResource(await adapter.getResource(url, baseUrl));
  if (!resource || resource.path === '/' || (await resource.isCollection())) return false;
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('Date', new Date().toUTCString());
  await resource.delete();
  res.statusCode = 204;
  res.end();
  return true;
}
