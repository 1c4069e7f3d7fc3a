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
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Connection } from '../../common/connection.js';
import type { User } from '../../dataprovider/provider.js';
import { SftpgoError } from '../../errors/index.js';
import { normalizeVirtualPath, type FileInfo } from '../../vfs/index.js';
import type { ApiDeps, HttpdContext, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeBody, decodePwdChange } from '../decode.js';
import { BASIC_REALM, HttpError } from '../errors.js';
import { bearerToken } from '../middleware/auth.js';
import type { Query } from '../query.js';
import { changeUserPassword, checkKeyAccess, setUserPublicKeys } from '../user-account.js';
import {
  notAFile,
  openHttpConnection,
  requireFilePath,
  sendFileDownload,
  sendZip,
} from '../user-files.js';
import { loginHttpUser } from '../user-login.js';
import { sendJson, sendMessage } from './respond.js';
import { parseBasicAuth } from './token.js';

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

function queryPath(q: Query): string {
  const v = q['path'];
  return (Array.isArray(v) ? v[0] : v) ?? '';
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

  const openConnection = (ctx: HttpdContext, user: User): Promise<Connection> =>
    openHttpConnection(deps, ctx, user);

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
    await changeUserPassword(
      deps,
      ctx.state.remoteIp,
      user,
      pwd.current_password ?? '',
      pwd.new_password ?? '',
    );
    sendMessage(ctx, 200, 'Password updated');
  });

  router.get('/user/publickeys', requireUserToken, async (ctx) => {
    const user = await currentUser(ctx);
    checkKeyAccess(deps, ctx.state.remoteIp, user, ctx.state.claims?.permissions);
    sendJson(ctx, 200, user.public_keys ?? []);
  });

  router.put('/user/publickeys', requireUserToken, async (ctx) => {
    const keys = decodeBody(
      { array: 'string' },
      await readJsonBody(ctx.req),
    ) as unknown as string[];
    const user = await currentUser(ctx);
    await setUserPublicKeys(deps, ctx.state.remoteIp, user, keys, ctx.state.claims?.permissions);
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
    let name: string;
    let info: FileInfo;
    try {
      name = requireFilePath(raw);
      info = await conn.stat(name);
      if (info.isDirectory) throw notAFile(name);
    } catch (e) {
      await conn.close();
      throw e;
    }
    await sendFileDownload(ctx, conn, name, info);
  });

  router.post('/user/streamzip', requireUserToken, async (ctx) => {
    const paths = decodeBody(
      { array: 'string' },
      await readJsonBody(ctx.req),
    ) as unknown as string[];
    const user = await currentUser(ctx);
    await sendZip(ctx, deps, await openConnection(ctx, user), paths);
  });
}
