/**
 * Data-provider actions (`data_provider.actions`), as upstream dataprovider.executeAction at
 * v2.1.2 (reference hooks-2.1.2.md §2): after a user is added, updated or deleted through the
 * public paths (REST API, restore/loaddata, the user API's own password and key changes) the
 * hook is told, in the background; its result is only logged. Users only: 2.1.2 has no actions
 * for admins or folders. Internal writes (last login, quota, users saved by the login hooks)
 * never notify.
 *
 * - program: argv `action username id status expiration_date home_dir uid gid`, environment
 *   SFTPGO_USER_ACTION and SFTPGO_USER (the rendered user JSON), killed after 15 s;
 * - HTTP: POST `<hook>?action=<op>` with the rendered user JSON, retried as every notification.
 */
import { errorText } from '../../errors/index.js';
import { HookTasks } from '../../util/hooks/tasks.js';
import type { HookHttpClient } from '../../util/hooks/http-client.js';
import { redactUrl } from '../../util/hooks/http-client.js';
import { isHttpHook, runProgram } from '../../util/hooks/program.js';
import type { ProviderLogger, User } from '../provider.js';
import { renderedUserObject } from './user-json.js';

export type ProviderAction = 'add' | 'update' | 'delete';

/** upstream's 15 s limit for the program variant */
export const PROVIDER_ACTION_TIMEOUT_MS = 15_000;

export interface ProviderActionsOptions {
  /** data_provider.actions */
  config: { readonly execute_on: readonly string[]; readonly hook: string };
  /** the hooks' HTTP client; an HTTP hook without one is logged and skipped */
  http?: HookHttpClient | undefined;
  logger?: ProviderLogger | undefined;
  /** the log sender, upstream's `dataprovider_<driver>` */
  sender: string;
  /** tests only */
  timeoutMs?: number;
}

export class ProviderActions {
  readonly #hook: string;
  readonly #on: ReadonlySet<string>;
  readonly #http: HookHttpClient | undefined;
  readonly #log: ProviderLogger | undefined;
  readonly #sender: string;
  readonly #timeoutMs: number;
  readonly #bg = new HookTasks();

  constructor(o: ProviderActionsOptions) {
    this.#hook = o.config.hook;
    this.#on = new Set(o.config.execute_on);
    this.#http = o.http;
    this.#log = o.logger;
    this.#sender = o.sender;
    this.#timeoutMs = o.timeoutMs ?? PROVIDER_ACTION_TIMEOUT_MS;
  }

  /** whether `op` is notified (a hook is set and execute_on lists it) */
  wants(op: ProviderAction): boolean {
    return this.#hook !== '' && this.#on.has(op);
  }

  /**
   * Notifies `op` in the background when wanted. `load` gives the user to send; for add and
   * update it re-reads the stored user (upstream's goroutine does the same), and a failure is
   * logged and nothing is sent.
   */
  notify(op: ProviderAction, load: () => Promise<User>): void {
    if (!this.wants(op)) return;
    this.#bg.run((signal) => this.#run(op, load, signal));
  }

  /** aborts the running notifications and waits for them (the provider is closing) */
  close(): Promise<void> {
    return this.#bg.close();
  }

  async #run(op: ProviderAction, load: () => Promise<User>, signal: AbortSignal): Promise<void> {
    let user: User;
    try {
      user = await load();
    } catch (e) {
      this.#log?.warn(
        { sender: this.#sender, err: e },
        `unable to get the user to notify for operation ${JSON.stringify(op)}: ${errorText(e)}`,
      );
      return;
    }
    const json = JSON.stringify(renderedUserObject(user));
    if (isHttpHook(this.#hook)) await this.#post(op, json, signal);
    else await this.#exec(op, user, json, signal);
  }

  async #post(op: ProviderAction, json: string, signal: AbortSignal): Promise<void> {
    const url = this.#hook;
    try {
      new URL(url);
    } catch (e) {
      this.#log?.warn(
        { sender: this.#sender, err: e },
        `Invalid http_notification_url ${JSON.stringify(url)} for operation ${JSON.stringify(op)}: ${errorText(e)}`,
      );
      return;
    }
    if (this.#http === undefined) {
      this.#log?.warn(
        { sender: this.#sender },
        `no HTTP client for the data provider actions, operation ${JSON.stringify(op)} not notified`,
      );
      return;
    }
    const started = Date.now();
    let status = 0;
    let err: unknown;
    try {
      const res = await this.#http.request({
        method: 'POST',
        url,
        query: { action: op },
        body: json,
        retryable: true,
        maxBody: 0,
        signal,
      });
      status = res.status;
    } catch (e) {
      err = e;
    }
    this.#log?.debug(
      { sender: this.#sender, elapsed_ms: Date.now() - started },
      `notified operation ${JSON.stringify(op)} to URL: ${redactUrl(url)} status code: ${status}, elapsed: ${Date.now() - started}ms err: ${err === undefined ? '<nil>' : errorText(err)}`,
    );
  }

  async #exec(op: ProviderAction, user: User, json: string, signal: AbortSignal): Promise<void> {
    const args = [
      op,
      user.username ?? '',
      String(user.id ?? 0),
      String(user.status ?? 0),
      String(user.expiration_date ?? 0),
      user.home_dir ?? '',
      String(user.uid ?? 0),
      String(user.gid ?? 0),
    ];
    const started = Date.now();
    let err: unknown;
    try {
      await runProgram(this.#hook, {
        args,
        env: { SFTPGO_USER_ACTION: op, SFTPGO_USER: json },
        timeoutMs: this.#timeoutMs,
        signal,
      });
    } catch (e) {
      err = e;
    }
    this.#log?.debug(
      { sender: this.#sender, elapsed_ms: Date.now() - started },
      `executed command ${JSON.stringify(this.#hook)} with arguments: [${args.join(' ')}], elapsed: ${Date.now() - started}ms, error: ${err === undefined ? '<nil>' : errorText(err)}`,
    );
  }
}
