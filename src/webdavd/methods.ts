/**
 * COPY, MOVE and DELETE through the core's tree operations instead of nephele's per-member
 * recursion (a nephele plugin ending the request in its before* hook, after nephele validated
 * the request: Destination, Depth, body, conditional headers, the lock of the request URL):
 * - DELETE of a collection = Connection.removeTree (every entry checked before anything is
 *   removed); the locks rooted below it must have been submitted;
 * - COPY = Connection.copy(src, dst, {overwrite: false}) after removing an existing destination
 *   (RFC 4918 §9.8.4: `Overwrite: T` replaces, it does not merge); Depth 0 on a collection = mkdir;
 * - MOVE = removeTree(dst) when it exists and may be overwritten, then Connection.rename.
 * The first error stops the operation and answers its status (no per-member 207 results).
 * `Overwrite` absent means T for both, as RFC 4918 says (2.1.2 MOVE wanted an explicit T).
 *
 * The same plugin fixes other nephele behaviours: UNLOCK of a token that locks nothing answers
 * 409 (nephele: a 207 clients read as success), the PROPFIND/PROPPATCH XML parser keeps
 * same-name properties of different namespaces apart, and LOCK takes a lockinfo without owner.
 */
import type { Request, Response } from 'express';
import type { AuthResponse, Method, Plugin, Resource } from 'nephele';
import {
  BadGatewayError,
  LockedError,
  PreconditionFailedError,
  ResourceTreeNotCompleteError,
} from 'nephele';
import { SftpgoError } from '../errors/index.js';
import { DavResource, type DavRequestContext } from './adapter.js';
import { isSameOrBelow } from './paths.js';
import { fastPropfind, propfindRequestOf } from './propfind.js';

interface TreeEventData {
  method: Method;
  resource: Resource;
  destination: Resource;
  exists: boolean;
  depth?: string;
  overwrite?: string;
}

/** how the server finds the context of a request */
export type ContextOf = (request: Request) => DavRequestContext | undefined;

function requireContext(ctxOf: ContextOf, request: Request): DavRequestContext {
  const ctx = ctxOf(request);
  if (!ctx) throw new SftpgoError('AUTH_FAILED', 'not authenticated');
  return ctx;
}

function davResource(r: Resource): DavResource {
  if (!(r instanceof DavResource)) throw new SftpgoError('INTERNAL', 'foreign nephele resource');
  return r;
}

/** the submitted lock tokens (any `<...>` in the If header, bare tokens included) */
function submittedTokens(request: Request): Set<string> {
  const h = request.get('If') ?? '';
  return new Set([...h.matchAll(/<([^>]+)>/g)].map((m) => m[1] ?? ''));
}

/** 423 unless every lock rooted below `path` (not at it: nephele checked that) was submitted */
function checkLocksBelow(ctx: DavRequestContext, request: Request, path: string): void {
  const tokens = submittedTokens(request);
  const held = ctx.state.locksBelow(path).filter((l) => !l.provisional && !tokens.has(l.token));
  if (held.length > 0) throw new LockedError('a member of the collection is locked');
}

async function parentMustExist(ctx: DavRequestContext, path: string): Promise<void> {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  try {
    const info = await ctx.conn.stat(parent);
    if (!info.isDirectory) throw new ResourceTreeNotCompleteError('the destination parent is not a collection');
  } catch (e) {
    if (SftpgoError.is(e, 'NOT_FOUND'))
      throw new ResourceTreeNotCompleteError('the destination parent collection does not exist');
    throw e;
  }
}

async function lockPermissionOf(
  data: TreeEventData,
  request: Request,
  response: AuthResponse,
  resource: Resource,
): Promise<void> {
  const lp = await data.method.getLockPermission(request, response, resource, response.locals.user);
  if (lp !== 2) throw new LockedError('the resource is locked');
}

function destinationPath(request: Request, data: TreeEventData): string {
  const dest = davResource(data.destination);
  const header = request.get('Destination') ?? '';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(header)) {
    const u = new URL(header);
    if (u.host !== request.headers.host) throw new BadGatewayError('the destination is on another server');
  }
  return dest.path;
}

function finish(response: Response, existed: boolean, location: URL): false {
  response.status(existed ? 204 : 201);
  if (!existed) response.set({ Location: location.toString() });
  response.set({ 'Content-Length': '0' });
  response.end();
  return false;
}

/** an xml2js element as nephele's parser configures it (xmlns: true) */
type XmlElement = Record<string, unknown> & { $ns?: { uri: string; local: string } };

/**
 * xml2js groups sibling elements by tag name, and nephele takes the namespace of an array's
 * first element for all of them, then renders elements of prefix-less namespaces by their local
 * name: `<x xmlns="urn:a"/><x xmlns="urn:b"/>` collapsed into one property (litmus props
 * "propmanyns"). This splits such arrays into one entry per namespace; the entries after the
 * first get a key with a prefix of ours (`sftpgoN:`), which nephele records as the namespace's
 * prefix and uses when it renders the reply.
 */
export function splitMixedNamespaces(node: unknown, prefixes = new Map<string, string>()): unknown {
  if (Array.isArray(node)) return node.map((n) => splitMixedNamespaces(n, prefixes));
  if (typeof node !== 'object' || node === null) return node;
  const el = node as XmlElement;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(el)) {
    if (key === '$' || key === '$ns') {
      out[key] = value;
      continue;
    }
    if (!Array.isArray(value)) {
      out[key] = splitMixedNamespaces(value, prefixes);
      continue;
    }
    const groups = new Map<string, unknown[]>();
    for (const child of value) {
      const uri = typeof child === 'object' && child !== null ? ((child as XmlElement).$ns?.uri ?? '') : '';
      const g = groups.get(uri) ?? [];
      g.push(splitMixedNamespaces(child, prefixes));
      groups.set(uri, g);
    }
    let first = true;
    const local = key.includes(':') ? key.slice(key.indexOf(':') + 1) : key;
    for (const [uri, g] of groups) {
      if (first) {
        out[key] = g;
        first = false;
        continue;
      }
      let prefix = prefixes.get(uri);
      if (prefix === undefined) prefixes.set(uri, (prefix = `sftpgo${prefixes.size + 1}`));
      out[`${prefix}:${local}`] = g;
    }
  }
  return out;
}

interface PatchableParser {
  parseStringPromise(xml: string): Promise<unknown>;
  sftpgoSplitNamespaces?: true;
}

/** makes a nephele method instance's XML parser split mixed-namespace siblings (once) */
function fixParser(method: Method): void {
  const parser = (method as unknown as { xmlParser?: PatchableParser }).xmlParser;

  if (!parser || parser.sftpgoSplitNamespaces) return;
  const parse = parser.parseStringPromise.bind(parser);
  parser.parseStringPromise = async (xml: string) => splitMixedNamespaces(await parse(xml));
  parser.sftpgoSplitNamespaces = true;
}

interface BodyReader {
  getBodyXML(request: Request, response: AuthResponse): Promise<string | null>;
  parseXml(xml: string): Promise<{ output: Record<string, unknown> }>;
  sftpgoRecordsBodies?: WeakMap<Request, string | null>;
}

/**
 * Makes a nephele method instance remember each request's XML body (once per instance): the
 * beforePropfind hook gets the resource and the depth but not what was asked.
 */
function recordBodies(method: Method): void {
  const m = method as unknown as BodyReader;
  if (m.sftpgoRecordsBodies) return;
  const bodies = new WeakMap<Request, string | null>();
  const read = m.getBodyXML.bind(m);
  m.getBodyXML = async (request, response) => {
    const xml = await read(request, response);
    bodies.set(request, xml);
    return xml;
  };
  m.sftpgoRecordsBodies = bodies;
}

interface OwnerlessLock {
  parseXml(xml: string): Promise<{ output: Record<string, unknown> }>;
  sftpgoOptionalOwner?: true;
}

/**
 * Makes a nephele LOCK instance accept a lockinfo without an owner, or with an empty one (once
 * per instance): RFC 4918 §14.11 makes `owner` optional and cadaver, for one, sends none; nephele
 * answered 400 "LOCK method requires a filled owner element" (2.1.2's x/net/webdav accepts it).
 * The lock then shows an empty `<owner/>` in lockdiscovery: `{ $: {} }` is an element without
 * attributes or content for nephele's XML writer, and not empty for its check.
 */
function optionalLockOwner(method: Method): void {
  const m = method as unknown as OwnerlessLock;
  if (m.sftpgoOptionalOwner) return;
  const parse = m.parseXml.bind(m);
  m.parseXml = async (xml) => {
    const parsed = await parse(xml);
    const info = parsed.output['lockinfo'] as Record<string, unknown> | undefined;
    if (info && typeof info === 'object') {
      const owner = info['owner'];
      const first: unknown = Array.isArray(owner) ? owner[0] : undefined;
      const empty =
        first === undefined ||
        first === '' ||
        (typeof first === 'object' && first !== null && Object.keys(first).length === 0);
      if (empty) info['owner'] = [{ $: {} }];
    }
    return parsed;
  };
  m.sftpgoOptionalOwner = true;
}

interface LockSets {
  all: unknown[];
  resource: unknown[];
  depthZero: unknown[];
  depthInfinity: unknown[];
}

interface LockWalker {
  getLocksGeneral(request: Request, response: AuthResponse, resource: Resource, getLocks: unknown): Promise<LockSets>;
  sftpgoNoLockWalk?: true;
}

/**
 * Makes a nephele method instance skip its lock lookup while the user holds no lock (once per
 * instance): nephele walks every ancestor of the resource (a stat each) to collect the locks
 * that cover it, and finds none when none is stored.
 */
function skipLockWalkWithoutLocks(method: Method, ctxOf: ContextOf): void {
  const m = method as unknown as LockWalker;
  if (m.sftpgoNoLockWalk) return;
  const walk = m.getLocksGeneral.bind(m);
  m.getLocksGeneral = (request, response, resource, getLocks) => {
    if (ctxOf(request)?.state.hasLocks === false) {
      return Promise.resolve({ all: [], resource: [], depthZero: [], depthInfinity: [] });
    }
    return walk(request, response, resource, getLocks);
  };
  m.sftpgoNoLockWalk = true;
}

const TOKEN_MISMATCH =
  '<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:lock-token-matches-request-uri/></D:error>\n';

/** what COPY and MOVE start with: the context, source and destination; Overwrite: F refused */
function treeRequest(
  ctxOf: ContextOf,
  request: Request,
  data: TreeEventData,
): { ctx: DavRequestContext; src: DavResource; to: string } {
  const ctx = requireContext(ctxOf, request);
  ctx.dirStats.clear();
  const src = davResource(data.resource);
  const to = destinationPath(request, data);
  if (data.exists && data.overwrite === 'F')
    throw new PreconditionFailedError('the destination exists and Overwrite is F');
  return { ctx, src, to };
}

/** an existing COPY/MOVE destination goes first (RFC 4918 9.8.4), with its locks and properties */
async function replaceTarget(ctx: DavRequestContext, to: string): Promise<void> {
  await ctx.conn.removeTree(to);
  ctx.state.dropLocks(to);
  ctx.state.dropProps(to);
}

export function davMethodsPlugin(ctxOf: ContextOf): Plugin {
  return {
    beginPropfind(_request: Request, _response: AuthResponse, data: { method: Method }) {
      fixParser(data.method);
      recordBodies(data.method);
      return Promise.resolve(undefined);
    },

    beginPut(_request: Request, _response: AuthResponse, data: { method: Method }) {
      skipLockWalkWithoutLocks(data.method, ctxOf);
      return Promise.resolve(undefined);
    },

    beginLock(_request: Request, _response: AuthResponse, data: { method: Method }) {
      optionalLockOwner(data.method);
      return Promise.resolve(undefined);
    },

    beginMkcol(_request: Request, _response: AuthResponse, data: { method: Method }) {
      skipLockWalkWithoutLocks(data.method, ctxOf);
      return Promise.resolve(undefined);
    },

    /** Depth 0/1 of live properties without locks or dead properties: propfind.ts */
    async beforePropfind(
      request: Request,
      response: AuthResponse,
      data: { method: Method; resource: Resource; depth: string },
    ) {
      const ctx = requireContext(ctxOf, request);
      const m = data.method as unknown as BodyReader;
      const xml = m.sftpgoRecordsBodies?.get(request);
      if (xml === undefined) return undefined;
      const asked = propfindRequestOf(xml ? (await m.parseXml(xml)).output : null);
      const sent = await fastPropfind(ctx, request, response, data.method, data.resource, data.depth, asked);
      return sent ? false : undefined;
    },

    beginProppatch(_request: Request, _response: AuthResponse, data: { method: Method }) {
      fixParser(data.method);
      return Promise.resolve(undefined);
    },

    /**
     * UNLOCK with a token that locks nothing here: 409 with the lock-token-matches-request-uri
     * precondition (RFC 4918 §9.11.1); nephele answered a 207 that clients read as success.
     */
    beforeUnlock(_request: Request, response: AuthResponse, data: { lock?: unknown }) {
      if (data.lock != null) return Promise.resolve(undefined);
      response.status(409);
      response.set({ 'Content-Type': 'application/xml; charset=utf-8' });
      response.send(TOKEN_MISMATCH);
      return Promise.resolve(false as const);
    },

    async beforeDelete(request: Request, response: AuthResponse, data: { resource: Resource }) {
      const ctx = requireContext(ctxOf, request);
      ctx.dirStats.clear();
      const r = davResource(data.resource);
      if (!(await r.isCollection())) return undefined;
      checkLocksBelow(ctx, request, r.path);
      await ctx.conn.removeTree(r.path);
      ctx.state.dropLocks(r.path);
      ctx.state.dropProps(r.path);
      response.status(204);
      response.end();
      return false;
    },

    async beforeCopy(request: Request, response: AuthResponse, data: TreeEventData) {
      const { ctx, src, to } = treeRequest(ctxOf, request, data);
      // before the lock checks: they look the destination's ancestors up
      await parentMustExist(ctx, to);
      await lockPermissionOf(data, request, response, data.destination);
      if (data.exists) checkLocksBelow(ctx, request, to);
      const collection = await src.isCollection();
      if (collection && isSameOrBelow(to, src.path))
        throw new SftpgoError('PERMISSION_DENIED', 'cannot copy a collection into itself');
      if (data.exists) await replaceTarget(ctx, to);
      if (collection && data.depth === '0') await ctx.conn.mkdir(to);
      else await ctx.conn.copy(src.path, to, { overwrite: false });
      ctx.state.copyProps(src.path, to, false);
      return finish(response, data.exists, await davResource(data.destination).getCanonicalUrl());
    },

    async beforeMove(request: Request, response: AuthResponse, data: TreeEventData) {
      const { ctx, src, to } = treeRequest(ctxOf, request, data);
      await lockPermissionOf(data, request, response, data.resource);
      const collection = await src.isCollection();
      if (collection) checkLocksBelow(ctx, request, src.path);
      await parentMustExist(ctx, to);
      await lockPermissionOf(data, request, response, data.destination);
      if (data.exists) checkLocksBelow(ctx, request, to);
      if (collection && isSameOrBelow(to, src.path))
        throw new SftpgoError('PERMISSION_DENIED', 'cannot move a collection into itself');
      if (data.exists) await replaceTarget(ctx, to);
      await ctx.conn.rename(src.path, to);
      ctx.state.dropLocks(src.path);
      ctx.state.copyProps(src.path, to, true);
      return finish(response, data.exists, await davResource(data.destination).getCanonicalUrl());
    },
  };
}
