/**
 * Authentication against the data provider, independent of where accounts are stored (upstream
 * dataprovider/dataprovider.go at v2.1.2: CheckUserAndPass -> checkUserAndPass,
 * CheckAdminAndPass -> Admin.checkUserAndPass and Admin.CanLoginFromIP).
 *
 * One entry per login method, so the login hooks (external auth, pre-login, check-password) can
 * wrap exactly these:
 * - `checkUserPassword`: a user's password (SSH password and keyboard-interactive, FTP, WebDAV,
 *   the user REST API);
 * - `checkAdminPassword`: an admin's password, with the admin's IP allow-list.
 *
 * Every refusal is AUTH_FAILED; for an unknown account its `cause` is the NOT_FOUND error, so
 * the defender can tell "user not found" from a wrong password. Verified user passwords are kept
 * in a PasswordCache when data_provider.password_caching is on; whoever changes a user's
 * credentials or status calls `forgetUser`.
 */
import { BlockList, isIP } from 'node:net';
import { SftpgoError } from '../errors/index.js';
import { PasswordCache, verifyPassword } from './passwords.js';
import type { Admin, User } from './provider.js';
import { parseCidr, q } from './validation/common.js';

/** where the authenticator reads accounts from (the provider's own getters) */
export interface AccountLookup {
  /** the stored user (password hash); throws NOT_FOUND */
  getUser(username: string): Promise<User>;
  /** the stored admin (password hash); throws NOT_FOUND */
  getAdmin(username: string): Promise<Admin>;
}

export interface AuthenticatorOptions {
  accounts: AccountLookup;
  /** data_provider.password_caching */
  passwordCaching: boolean;
  /** clock in ms (user expiration) */
  now: () => number;
}

function authFailed(msg: string, cause?: unknown): SftpgoError {
  return new SftpgoError('AUTH_FAILED', msg, cause === undefined ? {} : { cause });
}

/** an unknown account is an authentication failure whose cause is the NOT_FOUND error */
async function lookup<T>(get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (e) {
    if (SftpgoError.is(e, 'NOT_FOUND')) throw authFailed('invalid credentials', e);
    throw e;
  }
}

function requireCredentials(password: string, hash: string): void {
  if (hash === '' || password === '') throw authFailed('credentials cannot be null or empty');
}

async function verify(password: string, hash: string): Promise<void> {
  if (!(await verifyPassword(password, hash))) throw authFailed('invalid credentials');
}

/** upstream Admin.CanLoginFromIP: an empty allow-list allows every address */
export function ipAllowed(ip: string, allowList: readonly string[]): boolean {
  if (allowList.length === 0) return true;
  const family = isIP(ip);
  if (family === 0) return false;
  const bl = new BlockList();
  for (const c of allowList) {
    const p = parseCidr(c);
    if (p !== undefined) bl.addSubnet(p.address, p.prefix, p.family);
  }
  return bl.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

export class Authenticator {
  readonly #accounts: AccountLookup;
  readonly #now: () => number;
  readonly #cache: PasswordCache | undefined;

  constructor(o: AuthenticatorOptions) {
    this.#accounts = o.accounts;
    this.#now = o.now;
    this.#cache = o.passwordCaching ? new PasswordCache() : undefined;
  }

  /**
   * Returns the user when it is enabled, not expired and the password matches its stored hash;
   * throws AUTH_FAILED otherwise.
   */
  async checkUserPassword(username: string, password: string): Promise<User> {
    const user = await lookup(() => this.#accounts.getUser(username));
    if (user.status !== 1) throw authFailed(`user ${q(username)} is disabled`);
    const exp = user.expiration_date ?? 0;
    if (exp > 0 && exp < this.#now()) throw authFailed(`user ${q(username)} is expired`);
    const hash = user.password ?? '';
    requireCredentials(password, hash);
    if (this.#cache?.check(username, hash, password) !== true) {
      await verify(password, hash);
      this.#cache?.add(username, hash, password);
    }
    return user;
  }

  /**
   * Returns the admin when it is enabled and the password matches; throws AUTH_FAILED otherwise.
   * When `ip` is given, the admin's filters.allow_list is enforced.
   */
  async checkAdminPassword(username: string, password: string, ip?: string): Promise<Admin> {
    const admin = await lookup(() => this.#accounts.getAdmin(username));
    if (admin.status !== 1) throw authFailed(`admin ${q(username)} is disabled`);
    const hash = admin.password ?? '';
    requireCredentials(password, hash);
    await verify(password, hash);
    if (ip !== undefined && !ipAllowed(ip, admin.filters?.allow_list ?? [])) {
      throw authFailed(`login from IP ${ip} not allowed`);
    }
    return admin;
  }

  /** drops the cached verification of `username`: its credentials or status changed, or it is gone */
  forgetUser(username: string): void {
    this.#cache?.remove(username);
  }

  /** drops every cached verification (the provider is closing) */
  clear(): void {
    this.#cache?.clear();
  }
}
