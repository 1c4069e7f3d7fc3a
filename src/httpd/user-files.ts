/**
 * A user's files over HTTP, shared by the REST user API (GET /user/file, POST /user/streamzip)
 * and the web client (its file pages): the registered HTTP Connection of one request, the
 * download of one file (Range, If-Range, 206) and the zip of a selection. Every access goes
 * through src/common, so the user's login conditions, permissions, file patterns and
 * accounting are those of every other protocol.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { ParameterizedContext } from 'koa';
import { Connection } from '../common/connection.js';
import { newConnectionId, newXid } from '../common/registry.js';
import { createUserFs } from '../common/user-fs.js';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { normalizeVirtualPath, virtualBase } from '../vfs/index.js';
import type { ApiDeps, HttpdState } from './context.js';
import { HttpError } from './errors.js';
import { checkHttpAccess, forbidden } from './user-login.js';
import { createZipStream, resolveZipRequest } from './zip-stream.js';

type Ctx = ParameterizedContext<HttpdState>;

/**
 * A registered HTTP connection over the user's filesystems for this request (the user's login
 * conditions re-checked, max_sessions included); close() it when done.
 */
export async function openHttpConnection(deps: ApiDeps, ctx: Ctx, user: User): Promise<Connection> {
  checkHttpAccess(deps, ctx.state.remoteIp, user, true);
  const id = newConnectionId('HTTP', newXid());
  const mounts = await createUserFs(user, { ...deps.userFs, logger: deps.logger });
  const conn = new Connection({
    id,
    protocol: 'HTTP',
    user,
    mounts,
    remoteAddress: ctx.state.remoteIp,
    clientVersion: ctx.get('user-agent') || undefined,
    logger: deps.logger.child({ connection_id: id, protocol: 'HTTP', username: user.username }),
    provider: deps.provider,
    config: deps.connectionConfig,
    registry: deps.connections,
    closeMounts: true,
  });
  try {
    conn.register();
  } catch (e) {
    await conn.close();
    if (SftpgoError.is(e, 'CONNECTION_DENIED')) throw forbidden(e.message);
    throw e;
  }
  conn.command = `${ctx.method} ${ctx.path}`;
  return conn;
}

export interface ByteRange {
  start: number;
  /** bytes to send */
  length: number;
}

/**
 * A single `bytes=` range against a file of `size` bytes: `a-b`, `a-`, `-n`. Returns undefined
 * when the header is not a byte range (the whole file is sent), throws 416 when it cannot be
 * satisfied (several ranges included).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined || header === '') return undefined;
  const h = header.trim();
  if (!h.toLowerCase().startsWith('bytes=')) return undefined;
  const spec = h.slice(6).trim();
  const unsatisfiable = (why: string): HttpError =>
    new HttpError(416, 'Requested Range Not Satisfiable', {
      detail: `${why}: ${JSON.stringify(header)}`,
      headers: { 'Content-Range': `bytes */${size}` },
    });
  if (spec.includes(',')) throw unsatisfiable('multiple ranges are not supported');
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable('invalid range');
  const a = m[1] === '' ? undefined : Number(m[1]);
  const b = m[2] === '' ? undefined : Number(m[2]);
  if (
    (a !== undefined && !Number.isSafeInteger(a)) ||
    (b !== undefined && !Number.isSafeInteger(b))
  )
    throw unsatisfiable('invalid range');
  if (a === undefined) {
    // suffix: the last b bytes
    const n = Math.min(b ?? 0, size);
    if (n <= 0) throw unsatisfiable('empty suffix range');
    return { start: size - n, length: n };
  }
  if (a >= size) throw unsatisfiable('range start beyond the end of the file');
  const end = b === undefined ? size - 1 : Math.min(b, size - 1);
  if (end < a) throw unsatisfiable('range end before its start');
  return { start: a, length: end - a + 1 };
}

/** `attachment; filename="..."` with a filename* for names that are not plain ASCII */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const disp = `attachment; filename="${ascii}"`;
  return ascii === name ? disp : `${disp}; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Answers with the content of the file `name` (a virtual path already normalized and known to
 * be a file: `info`), honouring Range and If-Range (206 with Content-Range). The response body
 * streams through a download Transfer of `conn`; `conn` is closed when the body is done, or
 * here when something fails before the body is handed over.
 */
export async function sendFileDownload(
  ctx: Ctx,
  conn: Connection,
  name: string,
  info: { size: number; mtime: Date },
): Promise<void> {
  let handedOver = false;
  try {
    const lastModified = new Date(Math.floor(info.mtime.getTime() / 1000) * 1000).toUTCString();
    const ifRange = ctx.get('if-range');
    const range =
      ifRange !== '' && ifRange !== lastModified
        ? undefined
        : parseRange(ctx.get('range') || undefined, info.size);
    const start = range?.start ?? 0;
    const length = range?.length ?? info.size;
    // a HEAD sends no content: no pre-download / download action (as upstream)
    const t = await conn.openDownload(name, { offset: start, actions: ctx.method !== 'HEAD' });
    let stream: Readable;
    try {
      stream = Readable.from(
        (async function* () {
          let pos = start;
          let left = length;
          while (left > 0) {
            const chunk = await t.read(pos, Math.min(left, 256 * 1024));
            if (chunk === null || chunk.length === 0) break;
            pos += chunk.length;
            left -= chunk.length;
            yield chunk;
          }
        })(),
      );
    } catch (e) {
      await t.close();
      throw e;
    }
    stream.once('close', () => {
      void t.close().finally(() => conn.close());
    });
    handedOver = true;
    ctx.status = range ? 206 : 200;
    ctx.set('Last-Modified', lastModified);
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Content-Disposition', contentDisposition(virtualBase(name)));
    if (range)
      ctx.set(
        'Content-Range',
        `bytes ${range.start}-${range.start + range.length - 1}/${info.size}`,
      );
    const ext = posix.extname(virtualBase(name));
    ctx.type = ext === '' ? 'application/octet-stream' : ext;
    if (!ctx.response.get('Content-Type')) ctx.type = 'application/octet-stream';
    ctx.body = stream;
    ctx.length = length;
  } finally {
    if (!handedOver) await conn.close();
  }
}

/** the virtual path of a download request: 400 for the root, or a directory (`info` given) */
export function requireFilePath(raw: string): string {
  const name = normalizeVirtualPath(raw);
  if (name === '/')
    throw new HttpError(400, 'Please set the path to a valid file', {
      detail: 'the path is missing or is the root directory',
    });
  return name;
}

export function notAFile(name: string): HttpError {
  return new HttpError(
    400,
    `Please set the path to a valid file, ${JSON.stringify(name)} is a directory`,
    {
      detail: 'is a directory',
    },
  );
}

/**
 * Answers with a zip of `paths` (files and directories, walked through `conn`) generated on
 * the fly (zip-stream.ts). The paths are checked before anything is sent; `conn` is closed
 * when the zip is done, or here when something fails before.
 */
export async function sendZip(
  ctx: Ctx,
  deps: Pick<ApiDeps, 'logger'>,
  conn: Connection,
  paths: readonly string[],
): Promise<void> {
  let handedOver = false;
  try {
    const entries = await resolveZipRequest(conn, paths);
    const { stream, done } = createZipStream(conn, entries, { logger: deps.logger });
    void done.finally(() => conn.close());
    handedOver = true;
    ctx.status = 200;
    ctx.set('Content-Disposition', 'attachment; filename="sftpgo-download.zip"');
    ctx.set('Accept-Ranges', 'none');
    ctx.set('Content-Transfer-Encoding', 'binary');
    ctx.type = 'application/zip';
    ctx.body = stream;
  } finally {
    if (!handedOver) await conn.close();
  }
}
