/**
 * A user's password login over HTTP, shared by `GET /api/v2/user/token` (Basic credentials) and
 * the web client's login form (upstream getUserToken / handleWebClientLoginPost of 2.1.2): the
 * post-connect hook once credentials are present, authentication through the data provider's
 * single entry (login hooks included), the HTTP login conditions (status, expiration, denied
 * protocols and login methods, IP filters, max_sessions), the filesystem root check, then the
 * last-login update. Every failure is scored by the defender, logged as connection_failed
 * (fail2ban's input) and reported to metrics and the post-login hook.
 */
import { checkLogin } from '../common/login.js';
import { POST_CONNECT_DENIED } from '../common/post-connect.js';
import { reportLogin } from '../common/post-login.js';
import { createUserFs } from '../common/user-fs.js';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { logConnectionFailed } from '../logger/index.js';
import type { ApiDeps } from './context.js';
import { HttpError } from './errors.js';

export function forbidden(detail: string): HttpError {
  return new HttpError(403, 'Forbidden', { detail });
}

/** the login conditions of the HTTP protocol; 403 naming the reason */
export function checkHttpAccess(
  deps: Pick<ApiDeps, 'connections'>,
  ip: string,
  user: User,
  withSessions: boolean,
): void {
  try {
    checkLogin(user, {
      protocol: 'HTTP',
      loginMethod: 'password',
      remoteIp: ip,
      ...(withSessions ? { registry: deps.connections } : {}),
    });
  } catch (e) {
    if (SftpgoError.is(e)) throw forbidden(e.message);
    throw e;
  }
}

export interface HttpUserCredentials {
  username: string;
  password: string;
  ip: string;
  /** extra headers of a 401 (the REST API's Basic challenge) */
  challenge?: Record<string, string>;
}

/**
 * The user when the credentials log in; throws HttpError 401 (missing or wrong credentials),
 * 403 (post-connect hook, login conditions) or 500 (filesystem root unusable).
 */
export async function loginHttpUser(deps: ApiDeps, c: HttpUserCredentials): Promise<User> {
  const { ip } = c;
  const unauthorized = (detail: string, logged = false): HttpError =>
    new HttpError(401, 'Unauthorized', { detail, headers: c.challenge ?? {}, logged });
  const failed = (username: string, e: unknown): void => {
    deps.gate.reportLoginFailure(ip, e);
    logConnectionFailed(deps.rootLogger, {
      client_ip: ip,
      username,
      login_type: 'password',
      protocol: 'HTTP',
      error: e instanceof Error ? e.message : String(e),
    });
  };
  // [metrics, post-login] every outcome from here on, method "password" as upstream
  const notify = (
    username: string,
    o: { user?: User; error?: unknown; noLookup?: boolean },
  ): void =>
    reportLogin(deps.postLogin, { protocol: 'HTTP', ip, method: 'password', username, ...o });
  if (c.username === '' || c.password === '') {
    const err = new SftpgoError('AUTH_FAILED', 'credentials cannot be null or empty');
    failed(c.username, err);
    notify(c.username, { error: err, noLookup: true });
    throw unauthorized('credentials cannot be null or empty');
  }
  // [post-connect] HTTP runs it here only, once the credentials are present (upstream getUserToken)
  const postConnect = deps.gate.postConnect;
  if (postConnect) {
    try {
      await postConnect.check(ip, 'HTTP');
    } catch (e) {
      throw new HttpError(403, 'Forbidden', {
        detail: POST_CONNECT_DENIED,
        cause: e,
        logged: true,
      });
    }
  }
  let user: User;
  try {
    user = await deps.provider.authenticateUser({
      username: c.username,
      method: 'password',
      password: c.password,
      ip,
      protocol: 'HTTP',
    });
  } catch (e) {
    if (SftpgoError.is(e, 'AUTH_FAILED') || SftpgoError.is(e, 'NOT_FOUND')) {
      failed(c.username, e);
      notify(c.username, { error: e });
      deps.logger.debug(
        { sender: 'HTTP', username: c.username, remote_addr: ip, reason: e.message },
        'user login failed',
      );
      throw unauthorized('invalid credentials', true);
    }
    notify(c.username, { error: e });
    throw e;
  }
  try {
    checkHttpAccess(deps, ip, user, true);
  } catch (e) {
    failed(c.username, e);
    notify(c.username, { user, error: e });
    throw e;
  }
  // the filesystem root must be usable (upstream CheckFsRoot)
  try {
    const mounts = await createUserFs(user, { ...deps.userFs, logger: deps.logger });
    await mounts.close();
  } catch (e) {
    deps.logger.warn(
      { sender: 'HTTP', username: user.username, err: e },
      'unable to check the user filesystem root',
    );
    notify(c.username, { user, error: e });
    throw new HttpError(500, 'Internal Server Error', {
      detail: 'unable to check the filesystem root',
      cause: e,
    });
  }
  notify(c.username, { user });
  try {
    await deps.provider.updateLastLogin(user.username ?? c.username);
  } catch (e) {
    deps.logger.warn(
      { sender: 'HTTP', username: user.username, err: e },
      'unable to update the last login',
    );
  }
  return user;
}
