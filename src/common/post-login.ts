/**
 * The post-login hook (`data_provider.post_login_hook`, `post_login_scope`), as upstream
 * dataprovider.ExecutePostLoginHook at v2.1.2 (reference hooks-2.1.2.md §7): every protocol
 * tells it about each login that succeeded or failed; it runs in the background, its result is
 * only logged and cannot change the login. Scope 1 notifies failures only, 2 successes only,
 * anything else both.
 *
 * - program: no arguments, environment SFTPGO_LOGIND_USER (the rendered user JSON),
 *   SFTPGO_LOGIND_IP, SFTPGO_LOGIND_METHOD, SFTPGO_LOGIND_STATUS (1 ok, 0 failed),
 *   SFTPGO_LOGIND_PROTOCOL; killed after 20 s;
 * - HTTP: POST `<hook>?ip=…&login_method=…&protocol=…&status=1|0` with the rendered user JSON,
 *   retried as every notification.
 *
 * The user sent: on success the logged-in user with the login name as username; on a failure
 * the user the protocol knew, else the stored user of the login name (upstream sends the user
 * its failed check had loaded), else the zero-valued user with only the login name.
 */
import { errorText } from '../errors/index.js';
import { renderedUserObject } from '../dataprovider/hooks/user-json.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { HookTasks } from '../util/hooks/tasks.js';
import { metrics } from '../util/metrics.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { isHttpHook, runProgram } from '../util/hooks/program.js';
import type { LoginProtocol, Logger } from './types.js';

/** upstream's 20 s limit for the program variant */
export const POST_LOGIN_TIMEOUT_MS = 20_000;
/** the login method of a client that went away without trying to authenticate */
export const NO_AUTH_TRIED = 'no_auth_tryed';

export interface LoginEvent {
  protocol: LoginProtocol;
  /** the client's IP */
  ip: string;
  /** "password", "publickey", "keyboard-interactive", "publickey+password", ..., NO_AUTH_TRIED */
  method: string;
  /** the login name ("" when none was given) */
  username: string;
  /** success: the logged-in user; failure: the user known at that point, if any */
  user?: User | undefined;
  /** the failure; absent for a success */
  error?: unknown;
  /**
   * failure without a known user: send the zero-valued user with only `username` instead of
   * looking the login name up (no credentials, no authentication tried)
   */
  noLookup?: boolean;
}

export interface PostLoginNotifierOptions {
  /** data_provider.post_login_scope */
  scope: number;
  /** the hooks' HTTP client (required when the hook is a URL) */
  http?: HookHttpClient | undefined;
  /** looks up the stored user of a failed login */
  provider?: Pick<DataProvider, 'getUser'> | undefined;
  /** upstream logs these as the data provider (`dataprovider_<driver>`) */
  logger: Logger;
  /** tests only */
  timeoutMs?: number;
}

/**
 * One login result of any protocol, the one call each login site makes: counted in the login
 * metrics by method (upstream updateLoginMetrics: attempts, ok/ko, per method) and told to the
 * post-login hook when one is configured. A NO_AUTH_TRIED event is no login for the metrics
 * (ConnectionGate.reportNoLoginTried counts those in sftpgo_no_auth_total).
 */
export function reportLogin(notifier: PostLoginNotifier | undefined, e: LoginEvent): void {
  if (e.method !== NO_AUTH_TRIED) metrics.loginCompleted(e.method, e.error === undefined);
  notifier?.notify(e);
}

export class PostLoginNotifier {
  readonly #hook: string;
  readonly #scope: number;
  readonly #http: HookHttpClient | undefined;
  readonly #provider: Pick<DataProvider, 'getUser'> | undefined;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #bg = new HookTasks();

  /** `hook`: data_provider.post_login_hook (not empty) */
  constructor(hook: string, o: PostLoginNotifierOptions) {
    this.#hook = hook;
    this.#scope = o.scope;
    this.#http = o.http;
    this.#provider = o.provider;
    this.#log = o.logger;
    this.#timeoutMs = o.timeoutMs ?? POST_LOGIN_TIMEOUT_MS;
  }

  /** whether a login with this outcome is notified (the scope) */
  wants(success: boolean): boolean {
    if (this.#scope === 1) return !success;
    if (this.#scope === 2) return success;
    return true;
  }

  /** notifies `e` in the background when the scope includes it; never throws */
  notify(e: LoginEvent): void {
    const success = !('error' in e) || e.error === undefined;
    if (!this.wants(success)) return;
    this.#bg.run((signal) => this.#run(e, success, signal));
  }

  /** aborts the running notifications and waits for them (the service is stopping) */
  close(): Promise<void> {
    return this.#bg.close();
  }

  /** the user to send; undefined: the zero-valued one */
  async #userOf(e: LoginEvent, success: boolean): Promise<User | undefined> {
    if (e.user !== undefined) return { ...e.user, username: e.username };
    if (success || e.noLookup === true || e.username === '' || !this.#provider) return undefined;
    try {
      return { ...(await this.#provider.getUser(e.username)), username: e.username };
    } catch {
      // unknown user (or the provider failed): nothing was known about it
      return undefined;
    }
  }

  async #run(e: LoginEvent, success: boolean, signal: AbortSignal): Promise<void> {
    const json = JSON.stringify(renderedUserObject(await this.#userOf(e, success), e.username));
    const status = success ? '1' : '0';
    const started = Date.now();
    if (isHttpHook(this.#hook)) {
      let code = 0;
      let err: unknown;
      try {
        new URL(this.#hook);
      } catch {
        this.#log.debug({}, `Invalid post-login hook ${JSON.stringify(this.#hook)}`);
        return;
      }
      try {
        if (!this.#http) throw new Error('no HTTP client for hooks');
        const res = await this.#http.request({
          method: 'POST',
          url: this.#hook,
          query: { ip: e.ip, login_method: e.method, protocol: e.protocol, status },
          body: json,
          retryable: true,
          maxBody: 0,
          signal,
        });
        code = res.status;
      } catch (x) {
        err = x;
      }
      this.#log.debug(
        { elapsed_ms: Date.now() - started },
        `post login hook executed, response code: ${code}, elapsed: ${Date.now() - started}ms err: ${err === undefined ? '<nil>' : errorText(err)}`,
      );
      return;
    }
    let err: unknown;
    try {
      await runProgram(this.#hook, {
        env: {
          SFTPGO_LOGIND_USER: json,
          SFTPGO_LOGIND_IP: e.ip,
          SFTPGO_LOGIND_METHOD: e.method,
          SFTPGO_LOGIND_STATUS: status,
          SFTPGO_LOGIND_PROTOCOL: e.protocol,
        },
        timeoutMs: this.#timeoutMs,
        signal,
      });
    } catch (x) {
      err = x;
    }
    this.#log.debug(
      { elapsed_ms: Date.now() - started },
      `post login hook executed, elapsed ${Date.now() - started}ms err: ${err === undefined ? '<nil>' : errorText(err)}`,
    );
  }
}
