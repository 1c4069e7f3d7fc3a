/**
 * Authentication against the data provider, independent of where accounts are stored (upstream
 * dataprovider/dataprovider.go at v2.1.2: CheckUserAndPass, CheckUserAndPubKey,
 * CheckUserAndTLSCert, CheckKeyboardInteractiveAuth -> checkUserAndPass, checkUserAndPubKey,
 * checkUserAndTLSCertificate; CheckAdminAndPass -> Admin.checkUserAndPass and
 * Admin.CanLoginFromIP).
 *
 * Users log in through ONE entry, `authenticateUser(attempt)`, whatever the protocol (SSH, FTP,
 * WebDAV, the user REST API) and the method (password, public key, keyboard-interactive, TLS
 * certificate). It runs, in order (reference hooks-2.1.2.md §10):
 * 1. the account: the external auth hook when its scope covers the method, else the pre-login
 *    hook when set, else the stored user looked up by the login name; a user the hooks create
 *    or change is saved by an internal write (no data-provider actions, no disconnection);
 * 2. its status and expiration date;
 * 3. the credential check of the method: password -> the check password hook when its scope
 *    covers the protocol, then the stored hash; public key -> listed in public_keys; TLS
 *    certificate -> the certificate's CommonName is the username and the user has tls_username
 *    "CommonName"; keyboard-interactive -> the keyboard-interactive hook's exchange.
 * A hook that fails, hangs or answers garbage refuses the login (fail closed); a user's
 * filters.hooks opt out of external auth, pre-login and check password.
 * `checkAdminPassword` is the admins' entry, with the admin's IP allow-list.
 *
 * Every refusal is AUTH_FAILED; for an unknown account its `cause` is the NOT_FOUND error, so
 * the defender can tell "user not found" from a wrong password. A TLS certificate attempt for a
 * user that does not log in by certificate is METHOD_DISABLED: the front end then asks for the
 * password. Verified user passwords are kept in a PasswordCache when
 * data_provider.password_caching is on; whoever changes a user's credentials or status calls
 * `forgetUser`.
 */
import { BlockList, isIP } from 'node:net';
import { SftpgoError } from '../errors/index.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import {
  authorizedKeyMatches,
  fingerprintSha256,
  parseAuthorizedKey,
} from '../util/ssh-public-keys.js';
import {
  keyboardInteractiveAuth,
  type KeyboardInteractiveChallenge,
} from './hooks/keyboard-interactive.js';
import { isEmptyAnswer, type LoginHooks } from './hooks/login-hooks.js';
import { decodeOnto, goUserObject, rawUserJson } from './hooks/user-json.js';
import { PasswordCache, verifyPassword } from './passwords.js';
import type { Admin, User } from './provider.js';
import { isRecord, parseCidr, q, type JsonObject } from './validation/common.js';

/** where the authenticator reads accounts from (the provider's own getters) */
export interface AccountLookup {
  /** the stored user (password hash); throws NOT_FOUND */
  getUser(username: string): Promise<User>;
  /** the stored admin (password hash); throws NOT_FOUND */
  getAdmin(username: string): Promise<Admin>;
}

/** the login methods a credential check exists for (multi-step methods are their steps) */
export type UserLoginMethod = 'password' | 'publickey' | 'keyboard-interactive' | 'TLSCertificate';

/** the protocols users log in with, as the hooks name them */
export type UserLoginProtocol = 'SSH' | 'FTP' | 'DAV' | 'HTTP';

/** a verified TLS client certificate */
export interface LoginCertificate {
  /** PEM, with its newlines */
  pem: string;
  /** the subject's CommonName */
  commonName: string;
}

/** one login attempt of a user, from any protocol */
export interface LoginAttempt {
  /** the login name the client sent */
  username: string;
  method: UserLoginMethod;
  /** the client's IP address */
  ip: string;
  protocol: UserLoginProtocol;
  /** password (also the second step of publickey+password) */
  password?: string;
  /** publickey: the offered key as an authorized_keys line, `<type> <base64>` */
  publicKey?: string;
  /** TLSCertificate: the verified client certificate */
  tlsCert?: LoginCertificate;
  /** keyboard-interactive: sftpd.keyboard_interactive_auth_hook and the client to ask */
  keyboardInteractive?: { authHook: string; challenge: KeyboardInteractiveChallenge };
}

/**
 * The internal write of a user created (`stored` undefined) or changed by a login hook: full
 * validation, but no data-provider actions and no disconnection (ProviderCore.saveUserFromHook).
 */
export type HookUserWriter = (input: JsonObject, stored: User | undefined) => Promise<void>;

export interface AuthenticatorOptions {
  accounts: AccountLookup;
  /** data_provider.password_caching */
  passwordCaching: boolean;
  /** clock in ms (user expiration) */
  now: () => number;
  /** the configured login hooks; absent: none is set, nothing is run */
  hooks?: LoginHooks | undefined;
  /** where hook-created and hook-changed users are saved (needed with `hooks`) */
  saveUser?: HookUserWriter | undefined;
  /** the keyboard-interactive hook's HTTP client */
  hookHttp?: HookHttpClient | undefined;
  /** the keyboard-interactive program's time limit (tests) */
  keyboardInteractiveTimeoutMs?: number | undefined;
}

function authFailed(msg: string, cause?: unknown): SftpgoError {
  return new SftpgoError('AUTH_FAILED', msg, cause === undefined ? {} : { cause });
}

/** a hook failed: the login is refused; the message says which hook and why (not for clients) */
function hookFailed(what: string, e: unknown, started: number): SftpgoError {
  const why = e instanceof Error ? e.message : String(e);
  return new SftpgoError('AUTH_FAILED', `${what}: ${why}, elapsed: ${Date.now() - started} ms`, {
    cause: e,
    expose: false,
  });
}

/** an unknown user the hooks left unknown (empty answer): "user not found" for the defender */
function userNotFound(username: string): SftpgoError {
  return authFailed(
    'invalid credentials',
    new SftpgoError('NOT_FOUND', `username ${q(username)} does not exist`),
  );
}

/** the hook answer as a JSON object, or why not */
function parseAnswerObject(out: string): JsonObject {
  const v: unknown = JSON.parse(out);
  if (!isRecord(v)) throw new Error('not a JSON object');
  return v;
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

/** upstream User.CheckLoginConditions: enabled and not expired */
function checkUserStatus(user: User, now: number): void {
  const name = q(user.username ?? '');
  if (user.status !== 1) throw authFailed(`user ${name} is disabled`);
  const exp = user.expiration_date ?? 0;
  if (exp > 0 && exp < now) throw authFailed(`user ${name} is expired`);
}

/**
 * The offered key (an authorized_keys line) is one of the user's public keys, compared as
 * decoded key blobs with the parser that validated them at save.
 */
export function checkUserPublicKey(user: User, keyLine: string): void {
  const offered = parseAuthorizedKey(keyLine);
  if (!offered.ok) throw authFailed(`invalid public key: ${offered.error}`);
  const blob = offered.key.blob;
  if (!(user.public_keys ?? []).some((line) => authorizedKeyMatches(line, blob))) {
    throw authFailed(
      `the public key ${fingerprintSha256(blob)} is not allowed for user ${q(user.username ?? '')}`,
    );
  }
}

/**
 * External auth on a key login: the offered key joins the answered user's keys unless one of
 * them already is that key (upstream appends it unless a listed line is a prefix of it)
 */
function addPublicKey(user: JsonObject, keyLine: string): void {
  const keys = Array.isArray(user['public_keys']) ? (user['public_keys'] as unknown[]) : [];
  const offered = parseAuthorizedKey(keyLine);
  const listed =
    offered.ok &&
    keys.some((k) => typeof k === 'string' && authorizedKeyMatches(k, offered.key.blob));
  user['public_keys'] = listed ? keys : [...keys, keyLine];
}

/** upstream checkUserAndTLSCertificate (FTP and WebDAV) */
function checkUserCertificate(user: User, a: LoginAttempt): void {
  if (a.protocol !== 'FTP' && a.protocol !== 'DAV') {
    throw authFailed(`certificate authentication is not supported for protocol ${a.protocol}`);
  }
  const name = user.username ?? '';
  if (user.filters?.tls_username !== 'CommonName') {
    throw new SftpgoError(
      'METHOD_DISABLED',
      `TLS certificate login is not enabled for user ${q(name)}`,
    );
  }
  const cn = a.tlsCert?.commonName ?? '';
  if (cn !== name) throw authFailed(`CN ${q(cn)} does not match username ${q(name)}`);
}

export class Authenticator {
  readonly #accounts: AccountLookup;
  readonly #now: () => number;
  readonly #cache: PasswordCache | undefined;
  readonly #hooks: LoginHooks | undefined;
  readonly #saveUser: HookUserWriter | undefined;
  readonly #hookHttp: HookHttpClient | undefined;
  readonly #kbdTimeoutMs: number | undefined;

  constructor(o: AuthenticatorOptions) {
    this.#accounts = o.accounts;
    this.#now = o.now;
    this.#cache = o.passwordCaching ? new PasswordCache() : undefined;
    this.#hooks = o.hooks;
    this.#saveUser = o.saveUser;
    this.#hookHttp = o.hookHttp;
    this.#kbdTimeoutMs = o.keyboardInteractiveTimeoutMs;
  }

  /**
   * The one login entry of users (see the file comment). Returns the user to log in; throws
   * AUTH_FAILED (cause NOT_FOUND for an unknown user), METHOD_DISABLED for a certificate
   * attempt of a user without certificate login or a keyboard-interactive attempt without a
   * hook, or the store's error when it is down.
   */
  async authenticateUser(a: LoginAttempt): Promise<User> {
    if (a.method === 'keyboard-interactive' && !a.keyboardInteractive?.authHook) {
      throw new SftpgoError('METHOD_DISABLED', 'keyboard-interactive authentication is disabled');
    }
    const user = await this.#loginUser(a);
    checkUserStatus(user, this.#now());
    switch (a.method) {
      case 'password':
        await this.#checkPassword(user, a.password ?? '', a);
        break;
      case 'publickey':
        checkUserPublicKey(user, a.publicKey ?? '');
        break;
      case 'TLSCertificate':
        checkUserCertificate(user, a);
        break;
      case 'keyboard-interactive':
        await this.#keyboardInteractive(user, a);
        break;
    }
    return user;
  }

  /**
   * The stored credentials only, without the login hooks: for tools and tests. Protocol logins
   * go through authenticateUser.
   */
  async checkUserPassword(username: string, password: string): Promise<User> {
    const user = await lookup(() => this.#accounts.getUser(username));
    checkUserStatus(user, this.#now());
    await this.#checkPassword(user, password);
    return user;
  }

  /** step 1: external auth, pre-login or the stored user */
  #loginUser(a: LoginAttempt): Promise<User> {
    const h = this.#hooks;
    if (h?.externalAuthApplies(a.method)) return this.#externalAuth(h, a);
    if (h?.preLoginEnabled) return this.#preLogin(h, a);
    return lookup(() => this.#accounts.getUser(a.username));
  }

  /** the stored user, undefined when unknown; a store failure is thrown as is */
  async #findUser(username: string): Promise<User | undefined> {
    try {
      return await this.#accounts.getUser(username);
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /** saves a hook's user and reads it back by `readBack` (an unknown name: user not found) */
  async #save(input: JsonObject, stored: User | undefined, readBack: string): Promise<User> {
    if (this.#saveUser === undefined) throw new Error('no writer for users created by hooks');
    await this.#saveUser(input, stored);
    return lookup(() => this.#accounts.getUser(readBack));
  }

  /** upstream doExternalAuth */
  async #externalAuth(h: LoginHooks, a: LoginAttempt): Promise<User> {
    const started = Date.now();
    const stored = await this.#findUser(a.username);
    if (stored?.filters?.hooks?.external_auth_disabled === true) {
      h.debug(`external auth disabled for user ${q(a.username)}`);
      return stored;
    }
    const password = a.method === 'password' ? (a.password ?? '') : '';
    const keyLine = a.method === 'publickey' && a.publicKey ? `${a.publicKey.trim()}\n` : '';
    let out: string;
    try {
      out = await h.externalAuth({
        username: a.username,
        ip: a.ip,
        password,
        publicKey: keyLine,
        protocol: a.protocol,
        keyboardInteractive: a.method === 'keyboard-interactive',
        tlsCert: a.method === 'TLSCertificate' ? (a.tlsCert?.pem ?? '') : '',
        userJson: rawUserJson(stored, a.username),
      });
    } catch (e) {
      h.warn(`error getting external auth hook response: ${(e as Error).message}`);
      throw hookFailed('external auth error', e, started);
    }
    h.debug(`external auth completed, elapsed: ${Date.now() - started} ms`);
    if (isEmptyAnswer(out)) {
      if (stored === undefined) throw userNotFound(a.username);
      h.debug(
        `empty response from external hook, no modification requested for user ${q(a.username)} id: ${stored.id ?? 0}`,
      );
      return stored;
    }
    let user: JsonObject;
    try {
      user = parseAnswerObject(out);
    } catch (e) {
      throw hookFailed(
        'external auth error',
        new Error(`invalid external auth response: ${(e as Error).message}`, { cause: e }),
        started,
      );
    }
    const name = user['username'];
    if (typeof name !== 'string' || name === '') throw authFailed('invalid credentials');
    if (password !== '') user['password'] = password;
    if (keyLine !== '') addPublicKey(user, keyLine.trim());
    // the answer may name another account: several login names can map to one user
    const account = name === a.username ? stored : await this.#findUser(name);
    let saved: User;
    try {
      saved = await this.#save(user, account, name);
    } catch (e) {
      if (SftpgoError.is(e, 'AUTH_FAILED')) throw e;
      throw hookFailed('external auth error', e, started);
    }
    // the password was just set from what the client typed: no second hash check
    if (password !== '') this.#cache?.add(name, saved.password ?? '', password);
    return saved;
  }

  /** upstream executePreLoginHook */
  async #preLogin(h: LoginHooks, a: LoginAttempt): Promise<User> {
    const started = Date.now();
    const stored = await this.#findUser(a.username);
    if (stored?.filters?.hooks?.pre_login_disabled === true) {
      h.debug(`pre-login hook disabled for user ${q(a.username)}`);
      return stored;
    }
    let out: string;
    try {
      out = await h.preLogin({
        userJson: rawUserJson(stored, a.username),
        method: a.method,
        ip: a.ip,
        protocol: a.protocol,
      });
    } catch (e) {
      h.warn(`error getting pre-login hook response: ${(e as Error).message}`);
      throw hookFailed('pre-login hook error', e, started);
    }
    h.debug(`pre-login hook completed, elapsed: ${Date.now() - started} ms`);
    if (isEmptyAnswer(out)) {
      if (stored === undefined) throw userNotFound(a.username);
      h.debug(
        `empty response from pre-login hook, no modification requested for user ${q(a.username)} id: ${stored.id ?? 0}`,
      );
      return stored;
    }
    let patch: JsonObject;
    try {
      patch = parseAnswerObject(out);
    } catch (e) {
      const shown = out.length > 512 ? `${out.slice(0, 512)}…` : out;
      const msg = `invalid pre-login hook response ${JSON.stringify(shown)}, error: ${(e as Error).message}`;
      throw hookFailed('pre-login hook error', new Error(msg, { cause: e }), started);
    }
    // id, quota usage and last login stay the stored ones: the internal write keeps them
    const user = decodeOnto(goUserObject(stored, a.username), patch);
    let saved: User;
    try {
      // a new user is read back by the login name: another name in the answer fails the login
      saved = await this.#save(user, stored, stored?.username ?? a.username);
    } catch (e) {
      if (SftpgoError.is(e, 'AUTH_FAILED')) throw e;
      throw hookFailed('pre-login hook error', e, started);
    }
    h.debug(
      `user ${q(a.username)} ${stored === undefined ? 'added' : 'updated'} from pre-login hook response, id: ${stored?.id ?? 0}`,
    );
    return saved;
  }

  /**
   * upstream checkUserAndPass after the status checks: a stored password is required, then the
   * check password hook (when `a` gives the protocol it applies to), then the hash
   */
  async #checkPassword(
    user: User,
    password: string,
    a?: Pick<LoginAttempt, 'ip' | 'protocol'>,
  ): Promise<void> {
    const username = user.username ?? '';
    const hash = user.password ?? '';
    if (hash === '') throw authFailed('credentials cannot be null or empty');
    let toVerify = password;
    const h = this.#hooks;
    if (
      a !== undefined &&
      h?.checkPasswordApplies(a.protocol) === true &&
      user.filters?.hooks?.check_password_disabled !== true
    ) {
      const started = Date.now();
      let answer;
      try {
        answer = await h.checkPassword({ username, password, ip: a.ip, protocol: a.protocol });
      } catch (e) {
        const msg = (e as Error).message;
        h.debug(`check password hook executed, error: ${msg}, elapsed: ${Date.now() - started} ms`);
        h.warn(`error executing check password hook: ${msg}`);
        throw hookFailed('unable to check credentials, check password hook error', e, started);
      }
      h.debug(`check password hook executed, error: <nil>, elapsed: ${Date.now() - started} ms`);
      switch (answer.status) {
        case -1:
          break;
        case 1:
          h.debug('password accepted by check password hook');
          return;
        case 2:
          h.debug('partial success from check password hook');
          toVerify = answer.to_verify;
          break;
        default:
          h.debug(`password rejected by check password hook, status: ${answer.status}`);
          throw authFailed('invalid credentials');
      }
    }
    requireCredentials(toVerify, hash);
    if (this.#cache?.check(username, hash, toVerify) !== true) {
      await verify(toVerify, hash);
      this.#cache?.add(username, hash, toVerify);
    }
  }

  /** the keyboard-interactive hook's exchange (upstream doKeyboardInteractiveAuth) */
  async #keyboardInteractive(user: User, a: LoginAttempt): Promise<void> {
    const kbd = a.keyboardInteractive;
    if (!kbd)
      throw new SftpgoError('METHOD_DISABLED', 'keyboard-interactive authentication is disabled');
    const h = this.#hooks;
    await keyboardInteractiveAuth({
      authHook: kbd.authHook,
      http: this.#hookHttp,
      username: user.username ?? '',
      ip: a.ip,
      passwordHash: user.password ?? '',
      challenge: kbd.challenge,
      checkPassword: async (answer) => {
        checkUserStatus(user, this.#now());
        await this.#checkPassword(user, answer, a);
      },
      log: (level, msg) => (level === 'warn' ? h?.warn(msg) : h?.info(msg)),
      timeoutMs: this.#kbdTimeoutMs,
    });
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
