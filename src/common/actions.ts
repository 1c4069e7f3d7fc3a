/**
 * Custom actions (`common.actions`): the notifications of file operations SFTPGo 2.1.2 sends
 * to a hook (upstream common/actions.go), for every protocol. Connection and Transfer call the
 * notifier built here; nothing about actions is written anywhere else.
 *
 * - The hook is a program (argv `action username path target_path ssh_cmd`, the 12
 *   `SFTPGO_ACTION*` variables, killed after 30 s, exit 0 = success) or, when it starts with
 *   "http", a POST of the notification as JSON through the service's retryable hook client
 *   (success = a final status of 200).
 * - `pre-*` actions run before the operation and are awaited: a failure denies a download or
 *   an upload (fail closed; an action listed with no hook denies every such operation), and a
 *   successful `pre-delete` means the hook took the deletion over.
 * - The others are fire-and-forget, unless listed in `execute_sync`: the protocol's reply then
 *   waits for the hook. Their outcome is only logged.
 *
 * An action not in `execute_on` costs nothing: the service builds no notifier at all when the
 * list is empty, and Connection asks `has()` (a Set lookup) before building a notification.
 */
import { isAbsolute } from 'node:path';
import type { PROTOCOL_ACTIONS } from '../config/index.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { redactUrl } from '../util/hooks/http-client.js';
import { isHttpHook, runProgram } from '../util/hooks/program.js';
import type { Logger, Protocol } from './types.js';

export type ActionName = (typeof PROTOCOL_ACTIONS)[number];

/** Linux open(2) flag values, as upstream reports them in `open_flags` whatever the OS */
export const OPEN_FLAGS = Object.freeze({
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 64,
  O_EXCL: 128,
  O_TRUNC: 512,
  O_APPEND: 1024,
});

/** upstream's limit for a hook program */
export const ACTION_PROGRAM_TIMEOUT_MS = 30_000;

/** 1 ok, 0 error, 2 quota exceeded */
export type ActionStatus = 0 | 1 | 2;

/** One notification (upstream ActionNotification); empty strings and 0 where not applicable. */
export interface ActionNotification {
  action: ActionName;
  username: string;
  /** the filesystem path: absolute local path, object key, remote SFTP path */
  path: string;
  target_path: string;
  /** the SSH command's name (ssh_cmd) */
  ssh_cmd: string;
  file_size: number;
  /** the provider of the filesystem holding `path`: 0 local … 5 SFTP */
  fs_provider: number;
  bucket: string;
  endpoint: string;
  status: ActionStatus;
  protocol: Protocol;
  open_flags: number;
}

export interface ActionsConfig {
  execute_on: readonly string[];
  execute_sync: readonly string[];
  hook: string;
}

export interface ActionNotifierOptions {
  /** the service's hook HTTP client (the `http` section); needed for an HTTP hook */
  http?: HookHttpClient;
  /** how long a hook program may run before it is killed (default 30 s, as upstream) */
  programTimeoutMs?: number;
}

/**
 * The JSON body of the HTTP variant, byte for byte as upstream's encoder writes it: keys in
 * this order, the optional ones omitted when empty or 0, `<`, `>`, `&`, U+2028 and U+2029
 * escaped as \uXXXX and \b \f as \u0008 \u000c (Go's json.Encoder), a trailing newline.
 */
export function notificationJson(n: ActionNotification): string {
  const o: Record<string, string | number> = {
    action: n.action,
    username: n.username,
    path: n.path,
  };
  if (n.target_path !== '') o.target_path = n.target_path;
  if (n.ssh_cmd !== '') o.ssh_cmd = n.ssh_cmd;
  if (n.file_size !== 0) o.file_size = n.file_size;
  o.fs_provider = n.fs_provider;
  if (n.bucket !== '') o.bucket = n.bucket;
  if (n.endpoint !== '') o.endpoint = n.endpoint;
  o.status = n.status;
  o.protocol = n.protocol;
  if (n.open_flags !== 0) o.open_flags = n.open_flags;
  const json = JSON.stringify(o)
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    // escape pairs are scanned left to right, so an escaped backslash followed by "b" stays
    .replace(/\\([\s\S])/g, (m, c: string) => (c === 'b' ? '\\u0008' : c === 'f' ? '\\u000c' : m));
  return `${json}\n`;
}

/** the environment variables of the program variant (all 12, always set) */
export function notificationEnv(n: ActionNotification): Record<string, string> {
  return {
    SFTPGO_ACTION: n.action,
    SFTPGO_ACTION_USERNAME: n.username,
    SFTPGO_ACTION_PATH: n.path,
    SFTPGO_ACTION_TARGET: n.target_path,
    SFTPGO_ACTION_SSH_CMD: n.ssh_cmd,
    SFTPGO_ACTION_FILE_SIZE: String(n.file_size),
    SFTPGO_ACTION_FS_PROVIDER: String(n.fs_provider),
    SFTPGO_ACTION_BUCKET: n.bucket,
    SFTPGO_ACTION_ENDPOINT: n.endpoint,
    SFTPGO_ACTION_STATUS: String(n.status),
    SFTPGO_ACTION_PROTOCOL: n.protocol,
    SFTPGO_ACTION_OPEN_FLAGS: String(n.open_flags),
  };
}

/** the arguments of the program variant (empty strings kept) */
export function notificationArgs(n: ActionNotification): string[] {
  return [n.action, n.username, n.path, n.target_path, n.ssh_cmd];
}

function errText(e: unknown): string {
  if (e === undefined) return '<nil>';
  return e instanceof Error ? e.message : String(e);
}

export class ActionNotifier {
  readonly #on: ReadonlySet<string>;
  readonly #sync: ReadonlySet<string>;
  readonly #hook: string;
  readonly #http: HookHttpClient | undefined;
  readonly #timeoutMs: number;

  constructor(cfg: ActionsConfig, o: ActionNotifierOptions = {}) {
    this.#on = new Set(cfg.execute_on);
    this.#sync = new Set(cfg.execute_sync);
    this.#hook = cfg.hook;
    this.#http = o.http;
    this.#timeoutMs = o.programTimeoutMs ?? ACTION_PROGRAM_TIMEOUT_MS;
  }

  /** the action is in execute_on */
  has(action: ActionName): boolean {
    return this.#on.has(action);
  }

  /**
   * Runs the hook for `n` and resolves once it succeeded; rejects (after logging) when it
   * failed: not configured, no hook, a bad program path or URL, a non-zero exit, the time
   * limit, a transport error, exhausted retries, a status other than 200.
   */
  async run(n: ActionNotification, log: Logger): Promise<void> {
    if (!this.#on.has(n.action))
      throw new Error(`action ${JSON.stringify(n.action)} is not configured`);
    const hook = this.#hook;
    if (hook === '') {
      log.warn(
        { sender: n.protocol, action: n.action },
        'Unable to send notification, no hook is defined',
      );
      throw new Error('no hook is defined');
    }
    if (isHttpHook(hook)) await this.#post(hook, n, log);
    else await this.#exec(hook, n, log);
  }

  /**
   * A notification after the fact (every action but pre-*). Not awaited by default: the
   * returned promise is already resolved and the hook runs in the background; with the
   * action in execute_sync it settles when the hook is done. Never rejects: the outcome is
   * logged only.
   */
  notify(n: ActionNotification, log: Logger): Promise<void> {
    if (!this.#on.has(n.action)) return Promise.resolve();
    const done = this.run(n, log).catch(() => undefined);
    return this.#sync.has(n.action) ? done : Promise.resolve();
  }

  async #post(hook: string, n: ActionNotification, log: Logger): Promise<void> {
    try {
      new URL(hook);
    } catch (e) {
      log.warn(
        { sender: n.protocol, action: n.action },
        `Invalid hook ${JSON.stringify(redactUrl(hook))} for operation ${JSON.stringify(n.action)}: ${errText(e)}`,
      );
      throw e;
    }
    const http = this.#http;
    if (!http) throw new Error('no HTTP client for the actions hook');
    const started = Date.now();
    let status = 0;
    let err: unknown;
    try {
      const res = await http.request({
        method: 'POST',
        url: hook,
        body: notificationJson(n),
        retryable: true,
        maxBody: 0,
      });
      status = res.status;
      if (status !== 200) err = new Error(`unexpected status code ${status}, expected 200`);
    } catch (e) {
      err = e;
    }
    const elapsed = Date.now() - started;
    log.debug(
      { sender: n.protocol, action: n.action, status_code: status, elapsed_ms: elapsed },
      `notified operation ${JSON.stringify(n.action)} to URL: ${redactUrl(hook)} status code: ${status}, elapsed: ${elapsed}ms err: ${errText(err)}`,
    );
    if (err !== undefined) throw err;
  }

  async #exec(hook: string, n: ActionNotification, log: Logger): Promise<void> {
    if (!isAbsolute(hook)) {
      const msg = `invalid notification command ${JSON.stringify(hook)}`;
      log.warn(
        { sender: n.protocol, action: n.action },
        `unable to execute notification command: ${msg}`,
      );
      throw new Error(msg);
    }
    const args = notificationArgs(n);
    const started = Date.now();
    let err: unknown;
    try {
      await runProgram(hook, { args, env: notificationEnv(n), timeoutMs: this.#timeoutMs });
    } catch (e) {
      err = e;
    }
    const elapsed = Date.now() - started;
    log.debug(
      { sender: n.protocol, action: n.action, elapsed_ms: elapsed },
      `executed command ${JSON.stringify(hook)} with arguments: ${args.map((a) => JSON.stringify(a)).join(', ')}, elapsed: ${elapsed}ms, error: ${errText(err)}`,
    );
    if (err !== undefined) throw err;
  }
}

/** the notifier of `common.actions`, or undefined when no action is configured */
export function createActionNotifier(
  cfg: ActionsConfig,
  o: ActionNotifierOptions = {},
): ActionNotifier | undefined {
  return cfg.execute_on.length === 0 ? undefined : new ActionNotifier(cfg, o);
}
