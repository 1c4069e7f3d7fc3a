/**
 * Process signals for `sftpgo serve`: SIGTERM/SIGINT stop the servers gracefully and exit 0
 * (upstream exits at once); SIGHUP reloads the memory provider's dump, the defender's safelist
 * and blocklist and the TLS certificates (and CRLs) of the FTP, WebDAV, REST API and telemetry
 * listeners; SIGUSR1
 * rotates the log file, or opens a new one at the configured path when it was moved away (for
 * logrotate: `postrotate kill -USR1 <pid>`, no copytruncate). The handlers are installed before
 * the service starts, so a stop signal that arrives while it is starting stops it as soon as it
 * is up.
 */
import { errorSummary } from '../httpd/index.js';
import { startService, type RunningService, type StartServiceOptions } from './start.js';

export interface RunServiceOptions {
  /** how to end the process once stopped (default process.exit) */
  exit?: (code: number) => void;
  /**
   * run on SIGTERM/SIGINT before the servers stop (portable mode: the mDNS goodbye packets);
   * it should not reject, a rejection is logged and the stop goes on
   */
  beforeStop?: () => Promise<void>;
}

export async function runService(
  opts: StartServiceOptions,
  r: RunServiceOptions = {},
): Promise<RunningService> {
  const exit = r.exit ?? ((code: number) => process.exit(code));
  let svc: RunningService | undefined;
  let stopRequested: NodeJS.Signals | undefined;

  const stopAndExit = (s: RunningService, signal: NodeJS.Signals): void => {
    s.logger.info({ sender: 'service', signal }, 'received signal, stopping');
    (r.beforeStop?.() ?? Promise.resolve())
      .catch((e: unknown) => {
        s.logger.error({ sender: 'service', error: errorSummary(e) }, 'error before stopping');
      })
      .then(() => s.stop())
      .then(
        () => exit(0),
        (e: unknown) => {
          s.logger.error({ sender: 'service', error: errorSummary(e) }, 'error while stopping');
          exit(1);
        },
      );
  };
  const onStop = (signal: NodeJS.Signals): void => {
    remove();
    if (svc) stopAndExit(svc, signal);
    else stopRequested = signal;
  };
  const onHup = (): void => {
    const s = svc;
    if (!s) return;
    s.logger.info({ sender: 'service', signal: 'SIGHUP' }, 'SIGHUP received, reloading');
    s.reload().catch((e: unknown) => {
      s.logger.error(
        { sender: 'service', error: errorSummary(e) },
        'reload failed, the previous settings stay in force',
      );
    });
  };
  const onUsr1 = (): void => {
    const s = svc;
    if (!s) return;
    s.reopenLog().catch((e: unknown) => {
      s.logger.error(
        { sender: 'service', error: errorSummary(e) },
        'unable to rotate or reopen the log file',
      );
    });
  };
  const remove = (): void => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
    process.off('SIGUSR1', onUsr1);
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR1', onUsr1);

  try {
    svc = await startService(opts);
  } catch (e) {
    remove();
    throw e;
  }
  const started = svc;
  if (stopRequested !== undefined) stopAndExit(started, stopRequested);
  return {
    ...started,
    stop: async () => {
      remove();
      await started.stop();
    },
  };
}
