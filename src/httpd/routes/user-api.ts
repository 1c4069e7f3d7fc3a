/**
 * Tag "users API" (and the user half of "token"): what a user can do with a JWT of audience
 * APIUser (mirrors httpd/api_http_user.go and server.go getUserToken of SFTPGo 2.1.2):
 * GET /user/token (HTTP Basic), /user/logout, /user/changepwd, /user/publickeys,
 * /user/folder, /user/file (Range -> 206), /user/streamzip.
 *
 * Every file access goes through a src/common Connection with protocol HTTP, registered for
 * the duration of the request: the user's login conditions (status, expiration, denied
 * protocols, IP filters, max_sessions), per-directory permissions and file patterns apply as on
 * every other protocol, and the request shows up in GET /connections. Paths are virtual paths
 * cleaned by the vfs layer: `..` cannot leave the user's root.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { Connection } from '../../common/connection.js';
import { newConnectionId, newXid } from '../../common/registry.js';
import { createUserFs } from '../../common/user-fs.js';
import type { User } from '../../dataprovider/provider.js';
import { SftpgoError } from '../../errors/index.js';
import { normalizeVirtualPath, virtualBase, type FileInfo } from '../../vfs/index.js';
import type { ApiDeps, HttpdContext, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeBody, decodePwdChange } from '../decode.js';
import { BASIC_REALM, HttpError } from '../errors.js';
import { bearerToken } from '../middleware/auth.js';
import type { Query } from '../query.js';
import { createZipStream, resolveZipRequest } from '../zip-stream.js';
import { checkHttpAccess, forbidden, loginHttpUser } from '../user-login.js';
import { sendJson, sendMessage } from './respond.js';
import { parseBasicAuth } from './token.js';

export const PUBLIC_KEY_CHANGE_DISABLED = 'publickey-change-disabled';

// Go's io/fs FileMode bits (the `mode` of DirEntry)
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

/** a POSIX st_mode as Go's fs.FileMode (what SFTPGo 2.1.2 returns as DirEntry.mode) */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & 0o170000) {
    case 0o040000:
      m += GO_MODE_DIR;
      break;
    case 0o120000:
      m += GO_MODE_SYMLINK;
      break;
    case 0o060000:
      m += GO_MODE_DEVICE;
      break;
    case 0o020000:
      m += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE;
      break;
    case 0o010000:
      m += GO_MODE_NAMED_PIPE;
      break;
    case 0o140000:
      m += GO_MODE_SOCKET;
      break;
    default:
      break;
  }
  if (mode & 0o4000) m += GO_MODE_SETUID;
  if (mode & 0o2000) m += GO_MODE_SETGID;
  if (mode & 0o1000) m += GO_MODE_STICKY;
  return m;
}

/** RFC 3339 in UTC, seconds (Go time.RFC3339 of a UTC time) */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface DirEntry {
  name: string;
  size?: number;
  mode: number;
  last_modified: string;
}

export function toDirEntry(info: FileInfo): DirEntry {
  const regular = info.isFile && !info.isSymlink;
  return {
    name: info.name,
    ...(regular ? { size: info.size } : {}),
    mode: goFileMode(info.mode),
    last_modified: rfc3339(info.mtime),
  };
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

function queryPath(q: Query): string {
  const v = q['path'];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** `attachment; filename="..."` with a filename* for names that are not plain ASCII */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const disp = `attachment; filename="${ascii}"`;
  return ascii === name ? disp : `${disp}; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function registerUserApiRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const { provider, tokens } = deps;

  const requireUserToken: Middleware<HttpdState> = async function userToken(ctx, next) {
    const token = bearerToken(ctx.get('authorization') || undefined);
    ctx.state.claims = tokens.verify(token, 'APIUser');
    if (token !== undefined) ctx.state.token = token;
    await next();
  };

  const currentUser = async (ctx: HttpdContext): Promise<User> => {
    const username = ctx.state.claims?.username ?? '';
    if (username === '')
      throw new HttpError(400, 'Invalid token claims', { detail: 'no username in token' });
    try {
      return await provider.getUser(username);
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND'))
        throw new HttpError(404, 'Unable to retrieve your user', { detail: 'Not Found' });
      throw e;
    }
  };

  /** the login conditions of the HTTP protocol, re-checked on every request */
  const checkAccess = (ctx: HttpdContext, user: User, withSessions: boolean): void =>
    checkHttpAccess(deps, ctx.state.remoteIp, user, withSessions);

  /** a registered HTTP connection over the user's filesystems; close() it when done */
  const openConnection = async (ctx: HttpdContext, user: User): Promise<Connection> => {
    checkAccess(ctx, user, true);
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
      provider,
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
  };

  const keyChangeDenied = (ctx: HttpdContext, user: User): boolean =>
    (ctx.state.claims?.permissions ?? []).includes(PUBLIC_KEY_CHANGE_DISABLED) ||
    (user.filters?.web_client ?? []).includes(PUBLIC_KEY_CHANGE_DISABLED);

  // ---------------------------------------------------------------- token

  router.get('/user/token', async (ctx) => {
    const creds = parseBasicAuth(ctx.get('authorization') || undefined) ?? {
      username: '',
      password: '',
    };
    const user = await loginHttpUser(deps, {
      ...creds,
      ip: ctx.state.remoteIp,
      challenge: { 'WWW-Authenticate': BASIC_REALM },
    });
    const issued = tokens.issue(
      {
        username: user.username ?? creds.username,
        permissions: [...(user.filters?.web_client ?? [])],
      },
      'APIUser',
    );
    sendJson(ctx, 200, { access_token: issued.access_token, expires_at: issued.expires_at });
  });

  router.get('/user/logout', requireUserToken, (ctx) => {
    if (ctx.state.token !== undefined) tokens.revoke(ctx.state.token);
    sendMessage(ctx, 200, 'Your token has been invalidated');
  });

  // ---------------------------------------------------------------- account

  router.put('/user/changepwd', requireUserToken, async (ctx) => {
    const pwd = decodePwdChange(await readJsonBody(ctx.req));
    const user = await currentUser(ctx);
    checkAccess(ctx, user, false);
    const current = pwd.current_password ?? '';
    const next = pwd.new_password ?? '';
    const bad = (m: string): HttpError => new HttpError(400, m, { detail: m });
    if (current === '' || next === '')
      throw bad('please provide the current password and the new one');
    if (current === next) throw bad('the new password must be different from the current one');
    try {
      await provider.authenticateUser({
        username: user.username ?? '',
        method: 'password',
        password: current,
        ip: ctx.state.remoteIp,
        protocol: 'HTTP',
      });
    } catch (e) {
      if (!SftpgoError.is(e, 'AUTH_FAILED') && !SftpgoError.is(e, 'NOT_FOUND')) throw e;
      throw bad('current password does not match');
    }
    await provider.setUserPassword(user.username ?? '', next);
    sendMessage(ctx, 200, 'Password updated');
  });

  router.get('/user/publickeys', requireUserToken, async (ctx) => {
    const user = await currentUser(ctx);
    if (keyChangeDenied(ctx, user))
      throw forbidden('public key changes are disabled for this user');
    checkAccess(ctx, user, false);
    sendJson(ctx, 200, user.public_keys ?? []);
  });

  router.put('/user/publickeys', requireUserToken, async (ctx) => {
    const keys = decodeBody(
      { array: 'string' },
      await readJsonBody(ctx.req),
    ) as unknown as string[];
    const user = await currentUser(ctx);
    if (keyChangeDenied(ctx, user))
      throw forbidden('public key changes are disabled for this user');
    checkAccess(ctx, user, false);
    await provider.setUserPublicKeys(user.username ?? '', keys);
    sendMessage(ctx, 200, 'Public keys updated');
  });

  // ---------------------------------------------------------------- files

  router.get('/user/folder', requireUserToken, async (ctx) => {
    const user = await currentUser(ctx);
    const conn = await openConnection(ctx, user);
    try {
      const dir = normalizeVirtualPath(queryPath(ctx.query));
      const entries: DirEntry[] = [];
      for await (const info of await conn.list(dir)) entries.push(toDirEntry(info));
      sendJson(ctx, 200, entries);
    } finally {
      await conn.close();
    }
  });

  router.get('/user/file', requireUserToken, async (ctx) => {
    const user = await currentUser(ctx);
    const raw = queryPath(ctx.query);
    const conn = await openConnection(ctx, user);
    let handedOver = false;
    try {
      const name = normalizeVirtualPath(raw);
      if (name === '/')
        throw new HttpError(400, 'Please set the path to a valid file', {
          detail: 'the path is missing or is the root directory',
        });
      const info = await conn.stat(name);
      if (info.isDirectory) {
        throw new HttpError(
          400,
          `Please set the path to a valid file, ${JSON.stringify(name)} is a directory`,
          { detail: 'is a directory' },
        );
      }
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
      const cleanup = (): void => {
        void t.close().finally(() => conn.close());
      };
      stream.once('close', cleanup);
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
  });

  router.post('/user/streamzip', requireUserToken, async (ctx) => {
    const paths = decodeBody(
      { array: 'string' },
      await readJsonBody(ctx.req),
    ) as unknown as string[];
    const user = await currentUser(ctx);
    const conn = await openConnection(ctx, user);
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
  });
}
