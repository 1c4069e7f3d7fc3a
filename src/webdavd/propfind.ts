/**
 * PROPFIND Depth 0/1 of our live properties, answered without nephele's per-member machinery.
 *
 * nephele renders a multistatus by building one xml2js object tree and serializing it through
 * xmlbuilder, and for every member it resolves the parent chain (getParentResource: URL parsing,
 * an adapter lookup, a stat of the parent) to list the locks: a Depth 1 PROPFIND of 100 files
 * cost ~16 ms of CPU, most of it garbage (bench/README.md, webdav-vs-nginx). Here the request's
 * resource and its listed members (whose attributes come from the listing itself, no stat per
 * member) are rendered straight into a string.
 *
 * This only covers what needs nothing of nephele's namespace handling: no request body, or
 * `allprop` without `include`, or `prop` naming DAV: properties only, and a user with no locks
 * and no dead properties (then every `lockdiscovery` is empty and every property is one of ours,
 * whose values are plain DAV: elements). Anything else (Depth infinity, `propname`, other
 * namespaces, locks, dead properties) returns false and nephele answers as before. The property
 * values come from the same DavProperties.get as nephele's path, so both answer the same.
 * Written by hand: no XML library serializes faster than string concatenation of fixed element
 * names, which is all this needs (text values are escaped).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { AuthResponse, Method } from 'nephele';
import { PropertyNotFoundError } from 'nephele';
import type { FileInfo } from '../vfs/index.js';
import type { DavRequestContext } from './adapter.js';
import {
  DavAdapter,
  DavResource,
  etagOf,
  httpDate,
  LIVE,
  PROTECTED,
  supportedLock,
} from './adapter.js';
import { requestUrls } from './fast.js';
import { baseName } from './paths.js';

/** the DAV: properties this path renders (ours); any other requested name goes to nephele */
const KNOWN = new Set<string>([...LIVE, ...PROTECTED]);

/** what the request asks: every live property, or these names */
export type PropfindRequest = { allprop: true } | { allprop: false; names: string[] };

/** an xml2js element as nephele's parseXml returns it (DAV: names bare, others `uri%%name`) */
type Parsed = Record<string, unknown>;

/**
 * The request a parsed body makes, or undefined when this path does not cover it. `body` is
 * nephele's parseXml output (null: no body, which means allprop).
 */
export function propfindRequestOf(body: Parsed | null): PropfindRequest | undefined {
  if (body === null) return { allprop: true };
  const pf = body['propfind'] as Parsed | undefined;
  if (pf === undefined || typeof pf !== 'object') return undefined;
  const keys = Object.keys(pf).filter((k) => k !== '$');
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'allprop') return { allprop: true };
  if (keys[0] !== 'prop') return undefined;
  const names: string[] = [];
  for (const prop of pf['prop'] as Parsed[]) {
    if (typeof prop !== 'object' || prop === null) return undefined;
    for (const name of Object.keys(prop)) {
      if (name === '$') continue;
      if (!KNOWN.has(name)) return undefined;
      if (!names.includes(name)) names.push(name);
    }
  }
  return { allprop: false, names };
}

const ESCAPED = /[&<>\r]/;

/** XML text escaping (what xmlbuilder escapes in text nodes) */
export function xmlText(s: string): string {
  // most names and values have nothing to escape: no replace (and no new string) for them
  if (!ESCAPED.test(s)) return s;
  return s.replace(/[&<>\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;',
  );
}

/** a property value of ours: a string, or DAV: elements as nephele's plain objects */
export function renderValue(v: unknown): string {
  if (typeof v === 'string') return xmlText(v);
  if (Array.isArray(v)) return v.map(renderValue).join('');
  if (typeof v !== 'object' || v === null) return xmlText(String(v));
  let out = '';
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    for (const c of Array.isArray(child) ? child : [child]) {
      const inner = renderValue(c);
      out += inner === '' ? `<${k}/>` : `<${k}>${inner}</${k}>`;
    }
  }
  return out;
}

function propEl(name: string, value: unknown): string {
  const inner = renderValue(value);
  return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
}

const STATUS: Record<number, string> = {
  200: 'HTTP/1.1 200 OK',
  404: 'HTTP/1.1 404 Not Found',
  500: 'HTTP/1.1 500 Internal Server Error',
};

function propstat(code: 200 | 404 | 500, props: string): string {
  return `<propstat><status>${STATUS[code]}</status><prop>${props}</prop></propstat>`;
}

// the values that are the same for every resource, rendered once
const SUPPORTED_LOCK_XML = propEl('supportedlock', supportedLock());
const COLLECTION_TYPE_XML = propEl('resourcetype', { collection: {} });
const FILE_TYPE_XML = propEl('resourcetype', {});

/**
 * The live property `name` of a resource whose attributes are `info`, rendered from them alone,
 * as DavProperties.get answers it: null when the resource has no such property (404),
 * undefined when it takes more than the attributes (quota, a content type to sniff).
 */
function liveElement(r: DavResource, info: FileInfo, name: string): string | null | undefined {
  switch (name) {
    case 'displayname':
      return propEl(name, baseName(r.path));
    case 'getcontentlength':
      return info.isDirectory ? null : `<getcontentlength>${info.size}</getcontentlength>`;
    case 'getcontenttype': {
      const type = r.knownMediaType(info);
      return type === undefined ? undefined : type === null ? null : propEl(name, type);
    }
    case 'getetag':
      return info.isDirectory ? null : propEl(name, JSON.stringify(etagOf(info)));
    case 'getlastmodified':
      return propEl(name, httpDate(info.mtime));
    case 'resourcetype':
      return info.isDirectory ? COLLECTION_TYPE_XML : FILE_TYPE_XML;
    case 'supportedlock':
      return SUPPORTED_LOCK_XML;
    case 'creationdate':
      return null;
    default:
      return undefined;
  }
}

/**
 * renderResponse for a resource whose attributes are known and whose asked properties all come
 * from them (liveElement), without a promise or a property object per member; undefined when
 * some property needs renderResponse. No dead property exists here (fastPropfind's condition).
 */
function renderFromInfo(r: DavResource, href: string, req: PropfindRequest): string | undefined {
  const info = r.fileInfo;
  if (info === undefined) return undefined;
  const names: readonly string[] = req.allprop ? LIVE : req.names;
  let found = '';
  let missing = '';
  for (const name of names) {
    if (name === 'lockdiscovery') continue;
    const el = liveElement(r, info, name);
    if (el === undefined) return undefined;
    if (el !== null) found += el;
    else if (!req.allprop) missing += `<${name}/>`;
  }
  // last, as nephele lists it
  if (req.allprop || req.names.includes('lockdiscovery')) found += '<lockdiscovery/>';
  let out = `<response><href>${xmlText(href)}</href>`;
  if (found !== '') out += propstat(200, found);
  if (missing !== '') out += propstat(404, missing);
  return `${out}</response>`;
}

/** one `response` element: the resource's properties as nephele's PROPFIND would list them */
async function renderResponse(r: DavResource, href: string, req: PropfindRequest): Promise<string> {
  const props = await r.getProperties();
  const found: string[] = [];
  const missing: string[] = [];
  const failed: string[] = [];
  try {
    if (req.allprop) {
      for (const [name, value] of Object.entries(await props.getAll()))
        found.push(propEl(name, value));
      found.push('<lockdiscovery/>');
    } else {
      for (const name of req.names) {
        if (name === 'lockdiscovery') continue;
        try {
          found.push(propEl(name, await props.get(name)));
        } catch (e) {
          if (e instanceof PropertyNotFoundError) missing.push(`<${name}/>`);
          else failed.push(`<${name}/>`);
        }
      }
      // last, as nephele lists it
      if (req.names.includes('lockdiscovery')) found.push('<lockdiscovery/>');
    }
  } catch {
    return `<response><href>${xmlText(href)}</href>${propstat(500, '')}</response>`;
  }
  let out = `<response><href>${xmlText(href)}</href>`;
  if (found.length > 0) out += propstat(200, found.join(''));
  if (missing.length > 0) out += propstat(404, missing.join(''));
  if (failed.length > 0) out += propstat(500, failed.join(''));
  return `${out}</response>`;
}

/** the multistatus of `resource` (and its members for Depth 1) */
async function renderMultistatus(
  resource: DavResource,
  depth: '0' | '1',
  req: PropfindRequest,
): Promise<string> {
  const self = (await resource.getCanonicalUrl()).toString();
  let body = `<?xml version="1.0" encoding="UTF-8"?>\n<multistatus xmlns="DAV:">`;
  body += renderFromInfo(resource, self, req) ?? (await renderResponse(resource, self, req));
  if (depth === '1' && (await resource.isCollection())) {
    const dir = self.endsWith('/') ? self : `${self}/`;
    for (const m of await resource.getInternalMembers()) {
      const member = m as DavResource;
      const collection = member.fileInfo?.isDirectory ?? (await member.isCollection());
      const href = `${dir}${encodeURIComponent(member.path.slice(member.path.lastIndexOf('/') + 1))}${collection ? '/' : ''}`;
      body += renderFromInfo(member, href, req) ?? (await renderResponse(member, href, req));
    }
  }
  return `${body}</multistatus>`;
}

/** requests directPropfind answered since the start (the comparison test checks which path answered) */
export const directPropfindStats = { answered: 0 };

/** nephele's supported response encodings (Method.getRequestedEncoding) */
const ENCODINGS = new Set(['gzip', 'deflate', 'br', 'identity', 'x-gzip', '*']);

/**
 * A first look without I/O: may directPropfind answer this request? A PROPFIND with Depth 0 or
 * 1 and no body (allprop), from a user holding no lock and no dead property, without the
 * headers nephele would act on or negotiate (`If*`, an `Accept` other than `*\/*`, an
 * `Accept-Encoding` it refuses, a `Content-Type`), without a query string. nephele must run
 * without compression (the server's set-up): the body is then sent as is.
 */
export function directPropfindCandidate(req: IncomingMessage, ctx: DavRequestContext): boolean {
  if (req.method !== 'PROPFIND' || !ctx.state.empty) return false;
  const h = req.headers;
  if (h.depth !== '0' && h.depth !== '1') return false;
  const len = h['content-length'];
  if ((len !== undefined && len !== '0') || h['transfer-encoding'] !== undefined) return false;
  if (h['content-type'] !== undefined) return false;
  if (h.accept !== undefined && h.accept !== '*/*') return false;
  for (const name of Object.keys(h)) if (name.startsWith('if')) return false;
  const ae = h['accept-encoding'];
  // nephele refuses (406) a list naming no encoding it knows, whatever the q-values
  if (ae !== undefined && !ae.split(',').some((v) => ENCODINGS.has(v.trim().split(';')[0] ?? '')))
    return false;
  return !(req.url ?? '').includes('?');
}

/**
 * Answers a directPropfindCandidate request without express and nephele (their router,
 * middlewares, body reading and plugin look-ups cost a listing ~10 % of its CPU) and resolves
 * true, with what fastPropfind sends through nephele for it: same status, headers and body. A
 * look-up or listing that fails resolves false having sent nothing: nephele answers then (its
 * errors, its checks).
 */
export async function directPropfind(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: DavRequestContext,
): Promise<boolean> {
  const urls = requestUrls(req);
  if (!urls) return false;
  let body: string;
  let collection: boolean;
  try {
    const resource = await new DavAdapter(ctx).getResource(urls.url, urls.baseUrl);
    if (!(resource instanceof DavResource)) return false;
    collection = await resource.isCollection();
    body = await renderMultistatus(resource, req.headers.depth === '1' ? '1' : '0', {
      allprop: true,
    });
  } catch {
    return false;
  }
  const content = Buffer.from(body, 'utf-8');
  res.statusCode = 207;
  // as nephele's PROPFIND.run, express' res.set, nephele's sendBodyContent (vary) and res.send
  if (collection && !urls.url.pathname.endsWith('/'))
    res.setHeader('Content-Location', `${urls.url.toString()}/`);
  res.setHeader('Content-Type', 'application/xml; charset=utf-8');
  const vary = res.getHeader('Vary');
  res.setHeader('Vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
  res.setHeader('Content-Length', String(content.byteLength));
  res.end(content);
  directPropfindStats.answered++;
  return true;
}

/** what fastPropfind uses of nephele's Method (not in its types) */
interface NepheleMethod {
  opts: { compression?: boolean };
  getRequestData(q: Request, s: AuthResponse): { encoding: string };
  sendBodyContent(s: AuthResponse, c: string, e: string): Promise<void>;
}

/**
 * Answers the PROPFIND when this path covers it (see the file comment) and returns true;
 * returns false, having sent nothing, otherwise. Called after nephele validated the request
 * (Depth, body, conditional headers).
 */
export async function fastPropfind(
  ctx: DavRequestContext,
  request: Request,
  response: AuthResponse,
  method: Method,
  resource: unknown,
  depth: string,
  req: PropfindRequest | undefined,
): Promise<boolean> {
  if (req === undefined || (depth !== '0' && depth !== '1')) return false;
  if (!(resource instanceof DavResource) || !ctx.state.empty) return false;
  const accepted = request.accepts('application/xml', 'text/xml');
  if (!accepted) return false;
  const body = await renderMultistatus(resource, depth, req);
  response.status(207);
  response.set({ 'Content-Type': `${accepted}; charset=utf-8` });
  const m = method as unknown as NepheleMethod;
  // without compression the body is sent as is whatever the client accepts (an encoding it
  // does not accept at all was refused before: nephele's run asked getRequestData first)
  const encoding = m.opts.compression ? m.getRequestData(request, response).encoding : 'identity';
  await m.sendBodyContent(response, body, encoding);
  return true;
}
