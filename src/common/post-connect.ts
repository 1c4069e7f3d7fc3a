/**
 * The post-connect hook (`common.post_connect_hook`), as upstream common.ExecutePostConnectHook
 * at v2.1.2 (reference hooks-2.1.2.md §8): asked about every new client before any
 * authentication, after the ban check, the connection limits and the rate limiters
 * (ConnectionGate runs it last). It fails closed: only a program exiting 0, or an HTTP 200,
 * accepts; a timeout, a crash, a bad URL or retries running out reject.
 *
 * - program: no arguments, environment SFTPGO_CONNECTION_IP and SFTPGO_CONNECTION_PROTOCOL,
 *   killed after 20 s;
 * - HTTP: GET `<hook>?ip=…&protocol=…` with the retrying client.
 *
 * A rejection is CONNECTION_DENIED with POST_CONNECT_DENIED as message; each protocol words it
 * as upstream does (FTP reply, WebDAV/HTTP 403, SSH closes the socket). It adds no defender
 * event and sends no post-login notification.
 */
import { errorText, SftpgoError } from '../errors/index.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { isHttpHook, runProgram } from '../util/hooks/program.js';
import { HookTasks } from '../util/hooks/tasks.js';
import type { LoginProtocol, Logger } from './types.js';

/** upstream's 20 s limit for the program variant */
export const POST_CONNECT_TIMEOUT_MS = 20_000;
export const POST_CONNECT_DENIED = 'access denied by post connect hook';

/** true for the rejection of the post-connect hook */
export function isPostConnectDenial(e: unknown): boolean {
  return SftpgoError.is(e, 'CONNECTION_DENIED') && e.message === POST_CONNECT_DENIED;
}

export interface PostConnectHookOptions {
  /** the hooks' HTTP client (required when the hook is a URL) */
  http?: HookHttpClient | undefined;
  logger: Logger;
  /** tests only */
  timeoutMs?: number;
}

export class PostConnectHook {
  readonly #hook: string;
  readonly #http: HookHttpClient | undefined;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #tasks = new HookTasks();

  /** `hook`: common.post_connect_hook (not empty) */
  constructor(hook: string, o: PostConnectHookOptions) {
    this.#hook = hook;
    this.#http = o.http;
    this.#log = o.logger;
    this.#timeoutMs = o.timeoutMs ?? POST_CONNECT_TIMEOUT_MS;
  }

  /** resolves when the hook accepts `ip`; rejects with CONNECTION_DENIED otherwise */
  async check(ip: string, protocol: LoginProtocol): Promise<void> {
    let why: string | undefined;
    try {
      why = await this.#tasks.track((signal) =>
        isHttpHook(this.#hook) ? this.#get(ip, protocol, signal) : this.#exec(ip, protocol, signal),
      );
    } catch (e) {
      why = `, error executing post connect hook: ${errorText(e)}`;
    }
    if (why === undefined) return;
    this.#log.warn(
      { sender: protocol, remote_addr: ip },
      `Login from ip ${JSON.stringify(ip)} denied${why}`,
    );
    throw new SftpgoError('CONNECTION_DENIED', POST_CONNECT_DENIED);
  }

  /** undefined when accepted, else the reason as upstream logs it */
  /** aborts the running checks (they reject) and waits for them; later checks reject */
  close(): Promise<void> {
    return this.#tasks.close();
  }

  async #get(
    ip: string,
    protocol: LoginProtocol,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    try {
      new URL(this.#hook);
    } catch {
      return `: invalid post connect hook ${JSON.stringify(this.#hook)}`;
    }
    if (this.#http === undefined) return ', error executing post connect hook: no HTTP client';
    try {
      const res = await this.#http.request({
        method: 'GET',
        url: this.#hook,
        query: { ip, protocol },
        retryable: true,
        maxBody: 0,
        signal,
      });
      return res.status === 200 ? undefined : `, post connect hook response code: ${res.status}`;
    } catch (e) {
      return `, error executing post connect hook: ${errorText(e)}`;
    }
  }

  async #exec(
    ip: string,
    protocol: LoginProtocol,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    try {
      await runProgram(this.#hook, {
        env: { SFTPGO_CONNECTION_IP: ip, SFTPGO_CONNECTION_PROTOCOL: protocol },
        timeoutMs: this.#timeoutMs,
        signal,
      });
      return undefined;
    } catch (e) {
      return `, connect hook error: ${errorText(e)}`;
    }
  }
}
