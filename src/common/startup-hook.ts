/**
 * The startup hook (`common.startup_hook`), as upstream common.Initialize/executeStartupHook at
 * v2.1.2 (reference hooks-2.1.2.md §9): run once per start, in the background; its result is only
 * logged.
 *
 * - program: no arguments, no extra environment, killed after 60 s;
 * - HTTP: GET to the URL with the retrying client; any status is accepted.
 */
import { errorText } from '../errors/index.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { isHttpHook, runProgram } from '../util/hooks/program.js';
import type { Logger } from './types.js';

/** upstream's 60 s limit for the program variant */
export const STARTUP_HOOK_TIMEOUT_MS = 60_000;

export interface StartupHookOptions {
  /** the hooks' HTTP client (required when the hook is a URL) */
  http?: HookHttpClient | undefined;
  /** upstream logs with sender `common` */
  logger: Logger;
  /** aborts the hook (service stop) */
  signal?: AbortSignal;
  /** tests only */
  timeoutMs?: number;
}

/** runs `hook` (not empty) once; resolves when it is over, never rejects */
export async function runStartupHook(hook: string, o: StartupHookOptions): Promise<void> {
  const started = Date.now();
  if (isHttpHook(hook)) {
    try {
      new URL(hook);
    } catch {
      o.logger.warn({}, `Invalid startup hook ${JSON.stringify(hook)}`);
      return;
    }
    try {
      if (!o.http) throw new Error('no HTTP client for hooks');
      const res = await o.http.request({
        method: 'GET',
        url: hook,
        retryable: true,
        maxBody: 0,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      o.logger.debug(
        { elapsed_ms: Date.now() - started },
        `Startup hook executed, elapsed: ${Date.now() - started}ms, response code: ${res.status}`,
      );
    } catch (e) {
      o.logger.warn({ err: e }, `Error executing startup hook: ${errorText(e)}`);
    }
    return;
  }
  let err: unknown;
  try {
    await runProgram(hook, {
      timeoutMs: o.timeoutMs ?? STARTUP_HOOK_TIMEOUT_MS,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (e) {
    err = e;
  }
  o.logger.debug(
    { elapsed_ms: Date.now() - started },
    `Startup hook executed, elapsed: ${Date.now() - started}ms, error: ${err === undefined ? '<nil>' : errorText(err)}`,
  );
}
