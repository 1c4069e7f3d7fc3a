/**
 * A user's own account over HTTP, shared by the REST user API (PUT /user/changepwd,
 * GET/PUT /user/publickeys) and the web client's account page (upstream
 * handleWebClientChangePwdPost / handleWebClientManageKeysPost of 2.1.2 call the same code as
 * the API): the rules live here once.
 */
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import type { ApiDeps } from './context.js';
import { HttpError } from './errors.js';
import { checkHttpAccess, forbidden } from './user-login.js';

/** filters.web_client option: the user may not change its own public keys */
export const PUBLIC_KEY_CHANGE_DISABLED = 'publickey-change-disabled';

const bad = (m: string): HttpError => new HttpError(400, m, { detail: m });

/** true when the user's options (or those its token was issued with) forbid key changes */
export function keyChangeDenied(user: User, tokenOptions: readonly string[] = []): boolean {
  return (
    tokenOptions.includes(PUBLIC_KEY_CHANGE_DISABLED) ||
    (user.filters?.web_client ?? []).includes(PUBLIC_KEY_CHANGE_DISABLED)
  );
}

/** 403 when key changes are disabled, then the HTTP login conditions (403 naming the reason) */
export function checkKeyAccess(
  deps: Pick<ApiDeps, 'connections'>,
  ip: string,
  user: User,
  tokenOptions: readonly string[] = [],
): void {
  if (keyChangeDenied(user, tokenOptions))
    throw forbidden('public key changes are disabled for this user');
  checkHttpAccess(deps, ip, user, false);
}

/**
 * Changes the user's password: both given, different, the current one verified through the
 * data provider (login hooks included). Throws HttpError 400 with the reason, 403 when the
 * user may not log in over HTTP.
 */
export async function changeUserPassword(
  deps: Pick<ApiDeps, 'provider' | 'connections'>,
  ip: string,
  user: User,
  current: string,
  next: string,
): Promise<void> {
  checkHttpAccess(deps, ip, user, false);
  if (current === '' || next === '')
    throw bad('please provide the current password and the new one');
  if (current === next) throw bad('the new password must be different from the current one');
  try {
    await deps.provider.authenticateUser({
      username: user.username ?? '',
      method: 'password',
      password: current,
      ip,
      protocol: 'HTTP',
    });
  } catch (e) {
    if (!SftpgoError.is(e, 'AUTH_FAILED') && !SftpgoError.is(e, 'NOT_FOUND')) throw e;
    throw bad('current password does not match');
  }
  await deps.provider.setUserPassword(user.username ?? '', next);
}

/** Replaces the user's public keys (validated by the data provider: 400 naming the bad key). */
export async function setUserPublicKeys(
  deps: Pick<ApiDeps, 'provider' | 'connections'>,
  ip: string,
  user: User,
  keys: string[],
  tokenOptions: readonly string[] = [],
): Promise<void> {
  checkKeyAccess(deps, ip, user, tokenOptions);
  await deps.provider.setUserPublicKeys(user.username ?? '', keys);
}
