/**
 * A Google Cloud Storage JSON API server for tests (no GCS emulator runs here: firebase-tools needs
 * Java 21, npm has no fake-gcs-server), covering what @google-cloud/storage 7.x sends:
 * - buckets insert/get; objects list (prefix, delimiter, pageToken/maxResults → `items`,
 *   `prefixes`, `nextPageToken`), get (metadata, or `alt=media` with or without `Range`), delete,
 *   copyTo, rewriteTo (always done in one call), compose;
 * - uploads: `uploadType=media`, `multipart` (multipart/related) and `resumable` (session URI in
 *   `Location`; PUTs with `Content-Range: bytes a-b/T`, T the total or `*` (not known yet), b
 *   may be `*` (the end of this PUT); 308 + `Range` until the last byte; `bytes *` then `/T` is
 *   a status query; of a PUT cut off mid-way what arrived is kept, and `Range` says where to
 *   resume; DELETE cancels the session and cuts off its PUT);
 * - resources with md5Hash, crc32c (base64, big-endian), generation, size (a string), updated,
 *   contentType, storageClass; downloads send x-goog-hash; an upload's X-Goog-Hash is checked;
 * - if(Source)(Meta)generation(Not)Match → 412; errors as `{ error: { code, message, errors } }`;
 * - /storage/v1/b/... (apiEndpoint) and /b/... (STORAGE_EMULATOR_HOST) alike;
 * - for tests: `events` ('upload-progress', 'request'), `settled()` (no request in flight) and
 *   `openSessions()` (resumable uploads neither finished nor cancelled).
 * Not covered: auth (nothing is checked), XML API, signed URLs, ACL/IAM, versioning (a
 * `generation` other than the live one is a 404), bucket delete/list, object patch, moveTo,
 * `fields` (ignored), startOffset/endOffset/matchGlob, encryption keys, decompressive
 * transcoding (gzip objects are served as stored, with Content-Encoding: gzip). Names
 * sort by UTF-16 code unit (GCS: UTF-8 bytes; same order below U+D800). Composite objects keep
 * an md5Hash. Data is in files under `dir`, streamed in and out; metadata only in memory.
 *
 * Plain node:http, no framework: routing is one split of the path, and bodies must be streamed
 * to disk, so a router and body parsers would add a dependency and remove none of this code.
 *
 * Standalone: `node --import tsx test/helpers/gcs-emulator.ts [--port N] [--dir D]` prints
 * `{"endpoint":...,"port":...}` as one line on stdout and stops on SIGTERM/SIGINT.
 */
import { CRC32C } from '@google-cloud/storage';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { copyFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

export interface GcsEmulator {
  /** http://127.0.0.1:PORT, for `new Storage({ apiEndpoint })` or STORAGE_EMULATOR_HOST */
  endpoint: string;
  port: number;
  /**
   * 'upload-progress' ({ bucket, name, bytes }): upload data was written; a test can abort a
   * client once its upload has reached the server, then wait for settled().
   * 'request' ({ method, url, range }): a request arrived (`range`: its Range header, or '')
   */
  events: EventEmitter;
  /** resolves once no request is being handled (e.g. after a client aborted an upload) */
  settled(): Promise<void>;
  /**
   * The resumable sessions neither finished nor cancelled, as `bucket/name` (a client that
   * abandons an upload leaves one: GCS keeps it, and what it received, for a week)
   */
  openSessions(): string[];
  stop(): Promise<void>;
}

/** `dir` (created if missing, kept by stop()) holds the data, default a temp dir; port 0: free */
export interface GcsEmulatorOptions {
  dir?: string;
  port?: number;
}

/** the object fields an upload, copy or compose may set; the others are the server's */
const META_KEYS =
  'contentType contentEncoding contentDisposition cacheControl storageClass metadata';
type ObjectMeta = Record<string, unknown>;
type Digest = { size: number; md5Hash: string; crc32c: string };
interface Stored extends Digest {
  bucket: string;
  name: string;
  generation: number;
  updated: string;
  file: string;
  meta: ObjectMeta;
}
type Bucket = { name: string; created: string; objects: Map<string, Stored> };
interface Session {
  bucket: string;
  name: string;
  meta: ObjectMeta;
  query: URLSearchParams;
  file: string;
  h: Hasher;
  done?: Stored; // finished: kept so that a repeated last PUT or a status query gets the object
  put?: IncomingMessage; // the PUT under way
}

class GcsError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
const notFound = (what: string) => new GcsError(404, 'notFound', `No such ${what}.`);
const badRequest = (message: string) => new GcsError(400, 'invalid', message);
const conditionNotMet = () => new GcsError(412, 'conditionNotMet', 'Precondition failed.');

/** MD5 and CRC32C (the SDK's implementation: no other package here has CRC32C) of a stream. */
class Hasher {
  private md5: Hash = createHash('md5');
  private crc = new CRC32C();
  size = 0;
  update(b: Buffer): void {
    this.md5.update(b);
    this.crc.update(b);
    this.size += b.length;
  }
  digest(): Digest {
    const md5Hash = this.md5.copy().digest('base64');
    return { size: this.size, md5Hash, crc32c: this.crc.toString() };
  }
}

/**
 * Appends `src` to `file`, hashing what is written. When `src` fails (a client that went away),
 * what was written stays, and `h` counts exactly that: a resumable session resumes from there.
 */
async function appendBody(
  src: AsyncIterable<Buffer>,
  file: string,
  h: Hasher,
  progress = () => {},
): Promise<void> {
  const fh = await open(file, 'a');
  try {
    for await (const chunk of src) {
      await fh.write(chunk);
      h.update(chunk);
      progress();
    }
  } finally {
    await fh.close();
  }
}
/** The media part of a multipart/related body, streamed; `out` gets the metadata part. */
async function* multipartMedia(
  src: AsyncIterable<Buffer>,
  boundary: string,
  out: { json: string; type?: string },
): AsyncGenerator<Buffer> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  let buf = Buffer.from('\r\n'); // so that the first delimiter looks like the others
  let [part, inHeaders, closed] = [-1, false, false];
  for await (const chunk of src) {
    if (closed) continue; // read to the end: leaving the loop would destroy the request
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (inHeaders) {
        if (buf.length >= 2 && buf.subarray(0, 2).toString() === '--') {
          closed = true; // the close delimiter
          break;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const type = /^content-type:\s*(.*)$/im.exec(buf.subarray(0, end).toString())?.[1];
        if (part === 1 && type !== undefined) out.type = type.trim();
        [buf, inHeaders] = [buf.subarray(end + 4), false];
      }
      const at = buf.indexOf(delim);
      const safe = at >= 0 ? at : Math.max(0, buf.length - delim.length + 1);
      if (part === 0) out.json += buf.subarray(0, safe).toString();
      if (out.json.length > 1 << 20) throw badRequest('metadata part too large');
      if (part === 1 && safe > 0) yield buf.subarray(0, safe);
      buf = buf.subarray(at >= 0 ? at + delim.length : safe);
      if (at < 0) break;
      [part, inHeaders] = [part + 1, true];
    }
  }
  if (!closed) throw badRequest('multipart body ends without its close delimiter');
}

async function readJson(req: AsyncIterable<Buffer>): Promise<Record<string, unknown>> {
  let text = '';
  for await (const c of req) {
    text += c.toString();
    if (text.length > 1 << 20) throw badRequest('JSON body too large');
  }
  return parseJson(text);
}
function parseJson(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    v = undefined; // not JSON: reported below, the same as JSON that is not an object
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badRequest('not a JSON object');
  return v as Record<string, unknown>;
}
const pickMeta = (body: Record<string, unknown>): ObjectMeta =>
  Object.fromEntries(META_KEYS.split(' ').flatMap((k) => (body[k] == null ? [] : [[k, body[k]]])));

/** `p`GenerationMatch & co. against `obj` (absent: generation 0); metageneration is always 1. */
function preconditionsHold(q: URLSearchParams, obj: Stored | undefined, p = 'if'): boolean {
  const gen = obj?.generation ?? 0;
  const meta = obj === undefined ? undefined : 1;
  return (
    [
      ['GenerationMatch', gen, true],
      ['GenerationNotMatch', gen, false],
      ['MetagenerationMatch', meta, true],
      ['MetagenerationNotMatch', meta, false],
    ] as const
  ).every(([name, actual, equal]) => {
    const want = q.get(p + name);
    return want === null || (Number(want) === actual) === equal;
  });
}
function checkPreconditions(q: URLSearchParams, obj: Stored | undefined, p = 'if'): void {
  if (!preconditionsHold(q, obj, p)) throw conditionNotMet();
}

/** The error for an X-Goog-Hash header (`crc32c=...,md5=...`) that does not match `d`. */
function hashMismatch(header: string | string[] | undefined, d: Digest): GcsError | undefined {
  for (const pair of (typeof header === 'string' ? header : '').split(',')) {
    const at = pair.indexOf('=');
    const [k, v] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    const actual = k === 'crc32c' ? d.crc32c : k === 'md5' ? d.md5Hash : v;
    if (v !== actual) return badRequest(`Provided ${k} ${v} doesn't match calculated ${actual}.`);
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body?: unknown, headers = {}): void {
  const data = body === undefined ? '' : JSON.stringify(body);
  const type = body === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' };
  res.writeHead(status, { ...type, 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

export async function startGcsEmulator(opts: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'gcs-emulator-')));
  await mkdir(dir, { recursive: true });
  const buckets = new Map<string, Bucket>();
  const sessions = new Map<string, Session>();
  let lastGeneration = 0;
  const newFile = () => join(dir, randomUUID());
  const events = new EventEmitter();
  const progress = (bucket: string, name: string, h: Hasher) => () =>
    void events.emit('upload-progress', { bucket, name, bytes: h.size });

  const getBucket = (name: string | undefined): Bucket => {
    const b = buckets.get(name ?? '');
    if (b === undefined) throw notFound('bucket');
    return b;
  };
  const getObject = (b: Bucket, name: string, generation?: string | null): Stored => {
    const obj = b.objects.get(name);
    if (obj === undefined || (generation != null && Number(generation) !== obj.generation)) {
      throw notFound('object');
    }
    return obj;
  };

  /**
   * Makes `file` the live generation of b/name, unless the name is empty, `hashHeader` does not
   * match or a precondition fails: then the file is removed and the error thrown.
   */
  async function commit(
    b: Bucket,
    name: string,
    meta: ObjectMeta,
    file: string,
    d: Digest,
    q: URLSearchParams,
    hashHeader?: string | string[],
  ): Promise<Stored> {
    const old = b.objects.get(name);
    const failure =
      name === ''
        ? badRequest('an object name is required')
        : (hashMismatch(hashHeader, d) ??
          (preconditionsHold(q, old) ? undefined : conditionNotMet()));
    if (failure !== undefined) {
      await rm(file, { force: true });
      throw failure;
    }
    lastGeneration = Math.max(lastGeneration + 1, Date.now() * 1000); // microseconds, as GCS
    const { size, md5Hash, crc32c } = d;
    const [generation, updated] = [lastGeneration, new Date().toISOString()];
    const obj: Stored = {
      size,
      md5Hash,
      crc32c,
      bucket: b.name,
      name,
      generation,
      updated,
      file,
      meta,
    };
    b.objects.set(name, obj);
    if (old !== undefined) await rm(old.file, { force: true });
    return obj;
  }

  const objectResource = (o: Stored) => {
    const [gen, path] = [String(o.generation), `b/${o.bucket}/o/${encodeURIComponent(o.name)}`];
    const links = {
      selfLink: `${endpoint}/storage/v1/${path}`,
      mediaLink: `${endpoint}/download/storage/v1/${path}?generation=${gen}&alt=media`,
    };
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${gen}`,
      ...links,
      name: o.name,
      bucket: o.bucket,
      generation: gen,
      metageneration: '1',
      etag: Buffer.from(gen).toString('base64'),
      timeCreated: o.updated,
      updated: o.updated,
      contentType: 'application/octet-stream',
      storageClass: 'STANDARD',
      ...o.meta,
      size: String(o.size),
      md5Hash: o.md5Hash,
      crc32c: o.crc32c,
    };
  };
  const bucketResource = (b: Bucket) => ({
    kind: 'storage#bucket',
    id: b.name,
    name: b.name,
    selfLink: `${endpoint}/storage/v1/b/${b.name}`,
    projectNumber: '0',
    metageneration: '1',
    location: 'US',
    storageClass: 'STANDARD',
    etag: 'CAE=',
    timeCreated: b.created,
    updated: b.created,
  });

  function list(b: Bucket, q: URLSearchParams) {
    const [prefix, delim] = [q.get('prefix') ?? '', q.get('delimiter') ?? ''];
    const max = Math.min(Math.max(Number(q.get('maxResults') ?? 1000) || 1000, 1), 1000);
    // the token is the last name or prefix returned; after a prefix, all names under it are skipped
    const token = q.get('pageToken');
    let last: [string, boolean] = ['', false];
    try {
      if (token) last = JSON.parse(Buffer.from(token, 'base64url').toString()) as typeof last;
    } catch {
      throw badRequest('invalid pageToken');
    }
    const [after, rolledUp] = last;
    const items: ReturnType<typeof objectResource>[] = [];
    const prefixes: string[] = [];
    let nextPageToken: string | undefined;
    const names = [...b.objects.keys()].filter((n) => n.startsWith(prefix)).sort();
    for (const n of names) {
      if (token && (n <= after || (rolledUp && n.startsWith(after)))) continue;
      const cut = delim === '' ? -1 : n.indexOf(delim, prefix.length);
      const p = cut < 0 ? undefined : n.slice(0, cut + delim.length);
      if (p !== undefined && p === prefixes.at(-1)) continue;
      if (items.length + prefixes.length === max) {
        nextPageToken = Buffer.from(JSON.stringify(last)).toString('base64url');
        break;
      }
      if (p !== undefined) prefixes.push(p);
      else items.push(objectResource(getObject(b, n)));
      last = [p ?? n, p !== undefined];
    }
    return {
      kind: 'storage#objects',
      ...(prefixes.length > 0 && { prefixes }),
      ...(items.length > 0 && { items }),
      ...(nextPageToken !== undefined && { nextPageToken }),
    };
  }

  async function download(req: IncomingMessage, res: ServerResponse, o: Stored) {
    let [start, end, status] = [0, o.size - 1, 200];
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range?.trim() ?? '');
    if (m !== null && (m[1] !== '' || m[2] !== '') && o.size > 0) {
      if (m[1] === '') {
        start = Math.max(0, o.size - Number(m[2])); // '-N': the last N bytes
      } else {
        [start, end] = [Number(m[1]), m[2] === '' ? end : Math.min(Number(m[2]), end)];
      }
      if (start >= o.size || start > end) {
        const headers = { 'content-range': `bytes */${o.size}` };
        throw new GcsError(416, 'requestedRangeNotSatisfiable', 'Bad range.', headers);
      }
      status = 206;
    }
    const fh = await open(o.file); // before replying: a concurrent overwrite cannot cut the read
    res.writeHead(status, {
      'content-type': String(o.meta.contentType ?? 'application/octet-stream'),
      'content-length': end - start + 1,
      ...(status === 206 && { 'content-range': `bytes ${start}-${end}/${o.size}` }),
      'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
      'x-goog-generation': String(o.generation),
      'x-goog-metageneration': '1',
      'x-goog-stored-content-encoding': String(o.meta.contentEncoding ?? 'identity'),
      ...(o.meta.contentEncoding === 'gzip' && { 'content-encoding': 'gzip' }), // served as stored
      'x-goog-stored-content-length': String(o.size),
    });
    if (o.size > 0) return pipeline(fh.createReadStream({ start, end }), res);
    await fh.close();
    res.end();
  }

  async function upload(req: IncomingMessage, res: ServerResponse, b: Bucket, q: URLSearchParams) {
    const [type, uploadId] = [q.get('uploadType'), q.get('upload_id')];
    if (type === 'resumable' && uploadId !== null) return resumableChunk(req, res, uploadId);
    if (req.method !== 'POST') throw new GcsError(405, 'methodNotAllowed', 'Use POST.');
    let name = q.get('name') ?? '';
    if (type === 'resumable') {
      const body = await readJson(req);
      const meta = pickMeta({ contentType: req.headers['x-upload-content-type'], ...body });
      if (name === '') name = String(body.name ?? '');
      checkPreconditions(q, b.objects.get(name));
      const [id, file] = [randomUUID(), newFile()];
      await writeFile(file, '');
      sessions.set(id, { bucket: b.name, name, meta, query: q, file, h: new Hasher() });
      const qs = new URLSearchParams({ uploadType: 'resumable', name, upload_id: id });
      return send(res, 200, undefined, {
        location: `${endpoint}/upload/storage/v1/b/${b.name}/o?${qs}`,
      });
    }
    const [file, h] = [newFile(), new Hasher()];
    let meta: ObjectMeta;
    try {
      if (type === 'media') {
        await appendBody(req, file, h, progress(b.name, name, h));
        meta = { contentType: req.headers['content-type'] ?? 'application/octet-stream' };
      } else if (type === 'multipart') {
        const boundary = /boundary="?([^";]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1];
        if (boundary === undefined) throw badRequest('multipart upload without a boundary');
        const out: { json: string; type?: string } = { json: '' };
        await appendBody(multipartMedia(req, boundary, out), file, h, progress(b.name, name, h));
        const body = parseJson(out.json);
        meta = pickMeta({ contentType: out.type, ...body });
        if (name === '') name = String(body.name ?? '');
      } else {
        throw badRequest(`unsupported uploadType ${String(type)}`);
      }
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    const obj = await commit(b, name, meta, file, h.digest(), q, req.headers['x-goog-hash']);
    send(res, 200, objectResource(obj));
  }

  async function resumableChunk(req: IncomingMessage, res: ServerResponse, id: string) {
    const s = sessions.get(id);
    if (s === undefined) throw notFound('upload session');
    if (req.method === 'DELETE') {
      sessions.delete(id); // cancelled: a PUT under way is cut off, the data dropped
      s.put?.destroy();
      if (s.done === undefined) await rm(s.file, { force: true });
      return send(res, 499);
    }
    if (req.method !== 'PUT') throw new GcsError(405, 'methodNotAllowed', 'Use PUT.');
    if (s.done !== undefined) return send(res, 200, objectResource(s.done));
    const cr = req.headers['content-range'] ?? 'bytes 0-*/*'; // none: all the data in this PUT
    const m = /^bytes (?:\*|(\d+)-(-1|\d+|\*))\/(\d+|\*)$/.exec(cr.trim());
    if (m === null) throw badRequest(`invalid Content-Range ${cr}`);
    const [first, last, total] = [m[1], m[2], m[3] === '*' ? undefined : Number(m[3])];
    const incomplete = () => {
      const range = s.h.size > 0 ? { range: `bytes=0-${s.h.size - 1}` } : {};
      send(res, 308, undefined, range);
    };
    if (first !== undefined) {
      if (Number(first) !== s.h.size) {
        req.resume(); // not where our data ends: dropped, the reply says where to resume
        return incomplete();
      }
      s.put = req;
      await appendBody(req, s.file, s.h, progress(s.bucket, s.name, s.h)).finally(() => {
        s.put = undefined;
      });
      if (last !== '*' && s.h.size !== Number(last) + 1) {
        throw badRequest('the body length does not match Content-Range');
      }
    }
    const complete = total === undefined ? last === '*' : s.h.size >= total;
    if (!complete) return incomplete();
    if (total !== undefined && s.h.size !== total) throw badRequest('more bytes than the total');
    sessions.delete(id); // a failed check at the end ends the session, as in GCS
    const [b, hashHeader] = [getBucket(s.bucket), req.headers['x-goog-hash']];
    s.done = await commit(b, s.name, s.meta, s.file, s.h.digest(), s.query, hashHeader);
    sessions.set(id, s);
    send(res, 200, objectResource(s.done));
  }

  async function copy(
    req: IncomingMessage,
    src: Stored,
    dst: Bucket,
    name: string,
    q: URLSearchParams,
  ) {
    const meta = { ...src.meta, ...pickMeta(await readJson(req)) };
    checkPreconditions(q, src, 'ifSource');
    checkPreconditions(q, dst.objects.get(name));
    const file = newFile();
    await copyFile(src.file, file);
    return commit(dst, name, meta, file, src, q);
  }

  async function compose(req: IncomingMessage, b: Bucket, name: string, q: URLSearchParams) {
    const body = await readJson(req);
    const sources = (Array.isArray(body.sourceObjects) ? body.sourceObjects : []) as {
      name?: string;
      generation?: string;
    }[];
    if (sources.length < 1 || sources.length > 32)
      throw badRequest('compose takes 1 to 32 sources');
    const objs = sources.map((s) => getObject(b, String(s.name), s.generation));
    checkPreconditions(q, b.objects.get(name));
    const [file, h] = [newFile(), new Hasher()];
    try {
      for (const o of objs) await appendBody((await open(o.file)).createReadStream(), file, h);
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    const dest = parseJson(JSON.stringify(body.destination ?? {}));
    return commit(b, name, pickMeta(dest), file, h.digest(), q);
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [q, method] = [url.searchParams, req.method ?? 'GET'];
    let seg: string[];
    try {
      seg = url.pathname.split('/').map((s) => decodeURIComponent(s));
    } catch {
      throw badRequest('malformed percent-encoding in the path');
    }
    seg.shift(); // the empty string before the first '/'
    const isUpload = seg[0] === 'upload';
    if (isUpload || seg[0] === 'download') seg.shift();
    if (seg[0] === 'storage' && seg[1] === 'v1') seg.splice(0, 2);
    const [b, bucketName, o, name, action, ...rest] = seg;
    if (b !== 'b' || (o !== undefined && o !== 'o'))
      throw new GcsError(404, 'notFound', 'Not Found');
    if (isUpload && o === 'o' && name === undefined) {
      return upload(req, res, getBucket(bucketName), q);
    }
    if (!isUpload && bucketName === undefined && method === 'POST') {
      const body = await readJson(req);
      const bname = String(body.name ?? '');
      if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bname))
        throw badRequest('Invalid bucket name');
      if (buckets.has(bname)) throw new GcsError(409, 'conflict', 'You already own this bucket.');
      const bucket: Bucket = { name: bname, created: new Date().toISOString(), objects: new Map() };
      buckets.set(bname, bucket);
      return send(res, 200, bucketResource(bucket));
    }
    const bucket = isUpload ? undefined : getBucket(bucketName);
    if (bucket !== undefined && o === undefined && method === 'GET') {
      return send(res, 200, bucketResource(bucket));
    }
    if (bucket !== undefined && o !== undefined && name === undefined && method === 'GET') {
      return send(res, 200, list(bucket, q));
    }
    if (bucket !== undefined && name !== undefined && action === undefined) {
      const obj = getObject(bucket, name, q.get('generation'));
      checkPreconditions(q, obj);
      if (method === 'GET' && q.get('alt') === 'media') return download(req, res, obj);
      if (method === 'GET') return send(res, 200, objectResource(obj));
      if (method === 'DELETE') {
        bucket.objects.delete(name);
        await rm(obj.file, { force: true });
        return send(res, 204);
      }
    }
    const [rb, dstBucket, ro, dstName] = rest;
    const copyTo = action === 'copyTo' || action === 'rewriteTo';
    if (bucket !== undefined && name !== undefined && method === 'POST') {
      if (copyTo && rb === 'b' && ro === 'o' && dstName !== undefined) {
        const src = getObject(bucket, name, q.get('sourceGeneration'));
        const dst = objectResource(await copy(req, src, getBucket(dstBucket), dstName, q));
        if (action === 'copyTo') return send(res, 200, dst);
        const [kind, size] = ['storage#rewriteResponse', dst.size];
        return send(res, 200, {
          kind,
          totalBytesRewritten: size,
          objectSize: size,
          done: true,
          resource: dst,
        });
      }
      if (action === 'compose') {
        return send(res, 200, objectResource(await compose(req, bucket, name, q)));
      }
    }
    throw new GcsError(404, 'notFound', `Not Found: ${method} ${url.pathname}`);
  }

  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    inFlight++;
    events.emit('request', { method: req.method, url: req.url, range: req.headers.range ?? '' });
    void route(req, res)
      .catch((err: unknown) => {
        if (res.headersSent || req.socket.destroyed) return void res.destroy(); // mid-reply or gone
        const e = err instanceof GcsError ? err : new GcsError(500, 'backendError', String(err));
        if (!req.readableEnded) req.resume(); // drop the unread body, so the client sees the reply
        const errors = [{ domain: 'global', reason: e.reason, message: e.message }];
        send(res, e.status, { error: { code: e.status, message: e.message, errors } }, e.headers);
      })
      .finally(() => {
        if (--inFlight > 0) return;
        for (const w of waiters) w();
        waiters = [];
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    events,
    settled: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    openSessions: () =>
      [...sessions.values()]
        .filter((s) => s.done === undefined)
        .map((s) => `${s.bucket}/${s.name}`),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const dir = arg('--dir');
  const emu = await startGcsEmulator({ port: Number(arg('--port') ?? 0), ...(dir && { dir }) });
  process.stdout.write(`${JSON.stringify({ endpoint: emu.endpoint, port: emu.port })}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void emu.stop().then(() => process.exit(0)));
  }
}
