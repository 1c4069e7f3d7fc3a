/**
 * SSH user authentication of one client connection (upstream sftpd/server.go at v2.1.2:
 * validatePasswordCredentials, validatePublicKeyCredentials, validateKeyboardInteractiveCredentials,
 * NextAuthMethodsCallback, MaxAuthTries, and x/crypto/ssh CertChecker).
 *
 * Methods: password (unless password_authentication is false), publickey (the user's
 * public_keys, compared as key blobs; OpenSSH user certificates signed by a trusted CA and —
 * as in 2.1.2 — also listed in public_keys), keyboard-interactive (only when
 * sftpd.keyboard_interactive_auth_hook is set, as in 2.1.2: the hook's questions, round after
 * round), and the multi-step publickey+password / publickey+keyboard-interactive through
 * partial success. Credentials are checked by the data provider's one login entry
 * (authenticateUser: login hooks included); every successful step then passes through common's
 * checkLogin. Every failure is logged as a `connection_failed` line (fail2ban's input) and
 * counts towards max_auth_tries. The login metrics and the post-login hook hear of every
 * password and keyboard-interactive result and of every public key that fails or logs in (not of
 * the first step of a multi-step login).
 */
import type { AuthContext, AuthenticationType, Connection as SshClient, KeyboardAuthContext, PasswordAuthContext, PublicKeyAuthContext } from 'ssh2';
import { checkLogin, getNextAuthMethods, isPartialAuth, type SessionCounter } from '../common/login.js';
import { reportLogin, type PostLoginNotifier } from '../common/post-login.js';
import type { LoginAttempt } from '../dataprovider/auth.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { logConnectionFailed, type Logger } from '../logger/index.js';
import type { MountTable } from '../vfs/index.js';
import {
  fingerprintSha256,
  isCertificateAlgo,
  parseCertificate,
  parsePublicKeyBlob,
  type SshCertificate,
  WireReader,
} from '../util/ssh-public-keys.js';
import { checkUserCertificate, verifyPlainSignature, verifySshSignature } from './ssh-keys.js';

export interface AuthSettings {
  passwordAuthentication: boolean;
  /** already resolved: 0 in config -> 6, negative -> Infinity */
  maxAuthTries: number;
  /** trusted user CA public key blobs */
  trustedUserCAs: readonly Buffer[];
  /** sftpd.keyboard_interactive_auth_hook, checked at start; '' = keyboard-interactive is off */
  keyboardInteractiveHook: string;
}

export interface AuthDeps {
  provider: Pick<DataProvider, 'authenticateUser'>;
  registry: SessionCounter;
  /** the root logger: connection_failed lines must carry no other bindings */
  rootLogger: Logger;
  /** this connection's logger */
  log: Logger;
  /**
   * Builds what the session needs (the user's mount table) before the client is told it is
   * authenticated, so channel requests can be served synchronously. A failure rejects the login.
   */
  prepare: (user: User) => Promise<MountTable>;
  /** [defender] told about every failed attempt (method as logged, the error of the failure) */
  onFailure?: (method: string, err: unknown) => void;
  /** the post-login hook; absent when none is configured */
  postLogin?: PostLoginNotifier | undefined;
}

export interface AuthResult {
  user: User;
  /** e.g. "publickey", "password", "publickey+password" */
  loginMethod: string;
  /** "SHA256:...", or the certificate description, for publickey logins */
  keyId?: string;
  mounts: MountTable;
}

/** resolves `sftpd.max_auth_tries` as upstream: 0 -> 6, negative -> unlimited */
export function effectiveMaxAuthTries(v: number): number {
  if (v === 0) return 6;
  if (v < 0) return Number.POSITIVE_INFINITY;
  return v;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SshAuthenticator {
  private partial: { username: string; user: User } | undefined;
  private failures = 0;
  private noneSeen = false;
  /** max_auth_tries reached: the connection is being closed, later requests are ignored */
  private disconnecting = false;
  private done: AuthResult | undefined;
  /** the check of the last offered key (see userForKey) */
  private lastKey: { username: string; line: string; user: Promise<User> } | undefined;

  constructor(
    private readonly client: SshClient,
    private readonly remoteIp: string,
    private readonly settings: AuthSettings,
    private readonly deps: AuthDeps,
  ) {}

  /** the successful authentication, once the client is ready */
  get result(): AuthResult | undefined {
    return this.done;
  }

  /** the ssh2 'authentication' listener; never throws, answers every context exactly once */
  handle(ctx: AuthContext): void {
    if (this.disconnecting) return;
    this.dispatch(ctx).catch((e: unknown) => {
      this.deps.log.error({ err: e }, 'unexpected authentication error');
      this.fail(ctx, ctx.method, ctx.username, e);
    });
  }

  private baseMethods(): AuthenticationType[] {
    const m: AuthenticationType[] = ['publickey'];
    if (this.settings.passwordAuthentication) m.push('password');
    if (this.settings.keyboardInteractiveHook) m.push('keyboard-interactive');
    return m;
  }

  private methodsLeft(): AuthenticationType[] {
    if (this.partial) {
      const next = getNextAuthMethods(this.partial.user, ['publickey'], this.settings.passwordAuthentication);
      return next.filter((m) => m !== 'keyboard-interactive' || this.settings.keyboardInteractiveHook) as AuthenticationType[];
    }
    return this.baseMethods();
  }

  private async dispatch(ctx: AuthContext): Promise<void> {
    if (this.partial && this.partial.username !== ctx.username) {
      this.fail(ctx, ctx.method, ctx.username, new Error('username changed during a multi-step authentication'));
      return;
    }
    switch (ctx.method) {
      case 'none':
        // an initial "none" probe is free, as in x/crypto/ssh
        if (!this.noneSeen && this.failures === 0) {
          this.noneSeen = true;
          ctx.reject(this.methodsLeft());
          return;
        }
        this.fail(ctx, 'none', ctx.username, new Error('no auth passed yet'));
        return;
      case 'password':
        return this.password(ctx);
      case 'keyboard-interactive':
        return this.keyboardInteractive(ctx);
      case 'publickey':
        return this.publicKey(ctx);
      case 'hostbased':
        this.fail(ctx, 'hostbased', ctx.username, new Error('hostbased authentication is not supported'));
        return;
    }
  }

  private secondStepMethod(single: 'password' | 'keyboard-interactive'): string {
    return this.partial ? `publickey+${single}` : single;
  }

  private async password(ctx: PasswordAuthContext): Promise<void> {
    const method = this.secondStepMethod('password');
    if (!this.settings.passwordAuthentication) {
      this.fail(ctx, method, ctx.username, new SftpgoError('METHOD_DISABLED', 'password authentication is disabled'));
      return;
    }
    let user: User;
    try {
      user = await this.deps.provider.authenticateUser(this.attempt(ctx.username, { method: 'password', password: ctx.password }));
      this.checkLogin(user, method);
    } catch (e) {
      this.fail(ctx, method, ctx.username, e);
      return;
    }
    await this.succeed(ctx, { user, loginMethod: method });
  }

  private async keyboardInteractive(ctx: KeyboardAuthContext): Promise<void> {
    const method = this.secondStepMethod('keyboard-interactive');
    const authHook = this.settings.keyboardInteractiveHook;
    if (!authHook) {
      this.fail(ctx, method, ctx.username, new SftpgoError('METHOD_DISABLED', 'keyboard-interactive authentication is disabled'));
      return;
    }
    let aborted = false;
    const challenge = (instruction: string, questions: string[], echos: boolean[]): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const onClose = (): void => reject(new Error('the client disconnected'));
        this.client.once('close', onClose);
        const prompts = questions.map((prompt, i) => ({ prompt, echo: echos[i] ?? false }));
        ctx.prompt(prompts, ctx.username, instruction, (answers: string[] | Error) => {
          this.client.off('close', onClose);
          if (answers instanceof Error) {
            // the client started another method: ssh2 already dropped this context
            aborted = true;
            reject(answers);
          } else resolve(answers);
        });
      });
    let user: User;
    try {
      user = await this.deps.provider.authenticateUser({
        ...this.attempt(ctx.username, { method: 'keyboard-interactive' }),
        keyboardInteractive: { authHook, challenge },
      });
      this.checkLogin(user, method);
    } catch (e) {
      if (aborted) {
        this.deps.log.debug({ error: message(e) }, 'keyboard-interactive aborted');
        return;
      }
      this.fail(ctx, method, ctx.username, e);
      return;
    }
    await this.succeed(ctx, { user, loginMethod: method });
  }

  private async publicKey(ctx: PublicKeyAuthContext): Promise<void> {
    const method = 'publickey';
    const blob = ctx.key.data;
    let cert: SshCertificate | undefined;
    let keyId: string;
    let user: User;
    try {
      if (isCertificateAlgo(ctx.key.algo)) {
        cert = parseCertificate(blob);
        checkUserCertificate(cert, { username: ctx.username, remoteIp: this.remoteIp, trustedCAs: this.settings.trustedUserCAs });
        keyId = `${fingerprintSha256(cert.publicKey.blob)}: ID: ${cert.keyId}, serial: ${cert.serial}, CA ${cert.type} ${fingerprintSha256(cert.signatureKey)}`;
      } else {
        keyId = fingerprintSha256(blob);
      }
      user = await this.userForKey(ctx.username, blob);
      if (!this.partialAfterKey(user)) this.checkLogin(user, method);
      if (ctx.signature && ctx.blob) {
        const ok = cert
          ? verifySshSignature(cert.publicKey, ctx.blob, ctx.signature)
          : verifyPlainSignature(parsePublicKeyBlob(blob), ctx.blob, ctx.signature, ctx.hashAlgo);
        if (!ok) throw new SftpgoError('AUTH_FAILED', 'public key signature verification failed');
      }
    } catch (e) {
      this.fail(ctx, method, ctx.username, e);
      return;
    }
    if (!ctx.signature) {
      // a query: the key would be accepted (PK_OK); the client now signs
      ctx.accept();
      return;
    }
    if (this.partialAfterKey(user)) {
      this.partial = { username: ctx.username, user };
      this.deps.log.debug({ username: ctx.username }, 'user authenticated with partial success');
      ctx.reject(this.methodsLeft(), true);
      return;
    }
    await this.succeed(ctx, { user, loginMethod: method, keyId });
  }

  private attempt(username: string, a: Pick<LoginAttempt, 'method' | 'password' | 'publicKey'>): LoginAttempt {
    return { username, ip: this.remoteIp, protocol: 'SSH', ...a };
  }

  /**
   * The user the offered key logs in, once per key: a client asks whether a key would do, then
   * signs with it, and both requests share one check (x/crypto/ssh caches it the same way).
   */
  private userForKey(username: string, blob: Buffer): Promise<User> {
    const line = `${new WireReader(blob).string()} ${blob.toString('base64')}`;
    const last = this.lastKey;
    if (last && last.username === username && last.line === line) return last.user;
    const user = this.deps.provider.authenticateUser(this.attempt(username, { method: 'publickey', publicKey: line }));
    this.lastKey = { username, line, user };
    return user;
  }

  /** true when the key is only the first step of a multi-step authentication */
  private partialAfterKey(user: User): boolean {
    return !this.partial && isPartialAuth(user, 'publickey');
  }

  private checkLogin(user: User, method: string): void {
    if (!user.home_dir || !user.home_dir.startsWith('/')) {
      throw new SftpgoError('PERMISSION_DENIED', `cannot login user with invalid home dir: ${JSON.stringify(user.home_dir ?? '')}`);
    }
    checkLogin(user, {
      protocol: 'SSH',
      loginMethod: method,
      remoteIp: this.remoteIp,
      registry: this.deps.registry,
      partialSuccessMethods: this.partial ? ['publickey'] : [],
    });
  }

  private async succeed(ctx: AuthContext, r: Omit<AuthResult, 'mounts'>): Promise<void> {
    if (this.client.authenticated) return;
    let mounts: MountTable;
    try {
      mounts = await this.deps.prepare(r.user);
    } catch (e) {
      this.fail(ctx, r.loginMethod, r.user.username ?? ctx.username, e);
      return;
    }
    this.done = { ...r, mounts };
    ctx.accept();
    reportLogin(this.deps.postLogin, { protocol: 'SSH', ip: this.remoteIp, method: r.loginMethod, username: ctx.username, user: r.user });
  }

  private fail(ctx: AuthContext, method: string, username: string, err: unknown): void {
    this.failures++;
    logConnectionFailed(this.deps.rootLogger, {
      client_ip: this.remoteIp,
      username,
      login_type: method,
      protocol: 'SSH',
      error: message(err),
    });
    this.deps.onFailure?.(method, err);
    // [metrics, post-login] as upstream, methods it never offers (none, hostbased, disabled ones) are not logins
    if (method !== 'none' && method !== 'hostbased' && !SftpgoError.is(err, 'METHOD_DISABLED')) {
      reportLogin(this.deps.postLogin, { protocol: 'SSH', ip: this.remoteIp, method, username, error: err });
    }
    try {
      ctx.reject(this.methodsLeft());
    } catch (e) {
      this.deps.log.debug({ err: e }, 'unable to reject the authentication request');
    }
    if (this.failures >= this.settings.maxAuthTries && !this.disconnecting) {
      this.disconnecting = true;
      this.deps.log.info({ failures: this.failures }, 'too many authentication failures, disconnecting');
      this.client.end();
    }
  }
}
