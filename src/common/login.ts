/**
 * Login conditions shared by every protocol (upstream dataprovider checkLoginConditions,
 * User.IsLoginMethodAllowed / IsPartialAuth / GetNextAuthMethods, and the max_sessions check).
 */
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { isLoginFromAddrAllowed } from './user-policy.js';
import type { LoginMethod, LoginProtocol } from './types.js';

/** every login method, in upstream's order (ValidLoginMethods) */
export const LOGIN_METHODS: readonly LoginMethod[] = [
  'publickey',
  'password',
  'keyboard-interactive',
  'publickey+password',
  'publickey+keyboard-interactive',
  'TLSCertificate',
  'TLSCertificate+password',
];

/** the SSH multi-step methods */
export const SSH_MULTI_STEP_METHODS: readonly LoginMethod[] = [
  'publickey+password',
  'publickey+keyboard-interactive',
];

function deniedMethods(user: User): readonly string[] {
  return user.filters?.denied_login_methods ?? [];
}

/** login methods the user has not denied */
export function getAllowedLoginMethods(user: User): LoginMethod[] {
  const denied = deniedMethods(user);
  return LOGIN_METHODS.filter((m) => !denied.includes(m));
}

/**
 * The methods that may complete a multi-step authentication after `partialSuccessMethods`
 * (only "publickey" can be a first step): "password" for publickey+password (when password
 * authentication is enabled), "keyboard-interactive" for publickey+keyboard-interactive.
 */
export function getNextAuthMethods(
  user: User,
  partialSuccessMethods: readonly string[],
  isPasswordAuthEnabled: boolean,
): string[] {
  const out: string[] = [];
  if (partialSuccessMethods.length !== 1 || partialSuccessMethods[0] !== 'publickey') return out;
  for (const m of getAllowedLoginMethods(user)) {
    if (m === 'publickey+password' && isPasswordAuthEnabled) out.push('password');
    if (m === 'publickey+keyboard-interactive') out.push('keyboard-interactive');
  }
  return out;
}

/**
 * Whether `loginMethod` may be used. After a partial success, the second step is allowed when
 * it completes an allowed multi-step method even if the single method is denied.
 */
export function isLoginMethodAllowed(
  user: User,
  loginMethod: string,
  partialSuccessMethods: readonly string[] = [],
): boolean {
  const denied = deniedMethods(user);
  if (denied.length === 0) return true;
  if (partialSuccessMethods.length === 1) {
    if (getNextAuthMethods(user, partialSuccessMethods, true).includes(loginMethod)) return true;
  }
  return !denied.includes(loginMethod);
}

/**
 * True when a successful "publickey" step is only the first of a multi-step authentication:
 * every allowed SSH method is a multi-step one (TLS certificate methods are not considered).
 */
export function isPartialAuth(user: User, loginMethod: string): boolean {
  if (loginMethod !== 'publickey') return false;
  for (const m of getAllowedLoginMethods(user)) {
    if (m === 'TLSCertificate' || m === 'TLSCertificate+password') continue;
    if (!SSH_MULTI_STEP_METHODS.includes(m)) return false;
  }
  return true;
}

/** anything that can count a user's open sessions (ConnectionRegistry) */
export interface SessionCounter {
  countByUser(username: string): number;
}

export interface CheckLoginOptions {
  protocol: LoginProtocol;
  loginMethod: string;
  /** remote IP or address ("ip:port" accepted) */
  remoteIp: string;
  /** when given, max_sessions is enforced against the open sessions */
  registry?: SessionCounter;
  /** methods that already succeeded (multi-step SSH authentication) */
  partialSuccessMethods?: readonly string[];
  /** clock, for tests (ms since epoch) */
  now?: number;
}

/**
 * Checks every login condition of a user whose credentials were verified. Throws:
 * - AUTH_FAILED: disabled or expired account;
 * - PERMISSION_DENIED: login method, protocol or source address not allowed;
 * - CONNECTION_DENIED: max_sessions reached.
 */
export function checkLogin(user: User, o: CheckLoginOptions): void {
  const name = JSON.stringify(user.username ?? '');
  if (user.status !== 1) {
    throw new SftpgoError('AUTH_FAILED', `user ${name} is disabled`);
  }
  const exp = user.expiration_date ?? 0;
  const now = o.now ?? Date.now();
  if (exp > 0 && exp < now) {
    throw new SftpgoError(
      'AUTH_FAILED',
      `user ${name} is expired, expiration timestamp: ${exp} current timestamp: ${now}`,
    );
  }
  if (!isLoginMethodAllowed(user, o.loginMethod, o.partialSuccessMethods)) {
    throw new SftpgoError(
      'PERMISSION_DENIED',
      `login method ${o.loginMethod} is not allowed for user ${name}`,
    );
  }
  if ((user.filters?.denied_protocols ?? []).includes(o.protocol)) {
    throw new SftpgoError(
      'PERMISSION_DENIED',
      `protocol ${o.protocol} is not allowed for user ${name}`,
    );
  }
  if (!isLoginFromAddrAllowed(user, o.remoteIp)) {
    throw new SftpgoError(
      'PERMISSION_DENIED',
      `login for user ${name} is not allowed from this address: ${o.remoteIp}`,
    );
  }
  const max = user.max_sessions ?? 0;
  if (max > 0 && o.registry) {
    const open = o.registry.countByUser(user.username ?? '');
    if (open >= max) {
      throw new SftpgoError('CONNECTION_DENIED', `too many open sessions: ${open}/${max}`);
    }
  }
}
