/**
 * The composition root of `sftpgo serve` (DESIGN.md, STYLE.md §A): config -> logger -> kms ->
 * data provider -> protocol servers, started in that order and stopped in reverse. Nothing here
 * is global: every call builds its own graph, so tests run several services in one process.
 *
 * Differences from upstream (service/service.go of SFTPGo 2.1.2):
 * - a configuration with only the HTTP server enabled starts (upstream refuses it);
 * - SIGINT/SIGTERM stop the servers gracefully before exiting 0 (see runService);
 * - configuration keys not implemented yet are never ignored silently: each set one is warned
 *   about, and those whose ignoring weakens security refuse the start (src/config/not-implemented.ts).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { ConnectionRegistry, type ProtocolServer, type TrackQuota } from '../common/index.js';
import type { TransferStatus } from '../common/types.js';
import { createActionNotifier, type ActionNotifier } from '../common/actions.js';
import { connectionConfigOf, userFsDepsOf } from '../common/server.js';
import { ConnectionGate } from '../common/connection-gate.js';
import { PostConnectHook } from '../common/post-connect.js';
import { PostLoginNotifier } from '../common/post-login.js';
import { runStartupHook } from '../common/startup-hook.js';
import { createDefender, type Defender } from '../common/defender.js';
import { QuotaScanRegistry } from '../common/quota-scan-registry.js';
import { RateLimiters } from '../common/ratelimiter.js';
import {
  checkNotImplemented,
  defaultConfigFor,
  formatRefusals,
  loadConfig,
  type Config,
} from '../config/index.js';
import {
  createProvider,
  ensureDefaultAdmin,
  memoryDumpFile,
  reloadMemoryDump,
  type SecretEncrypter,
} from '../dataprovider/index.js';
import type { DataProvider } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { createHttpd, errorSummary, isBindingEnabled, type HttpdServer } from '../httpd/index.js';
import type { ApiSecret } from '../api/index.js';
import { createKms, type Kms, type Secret as KmsSecret } from '../kms/index.js';
import type { SecretDecrypter } from '../vfs/index.js';
import { openRootLogger, type Logger } from '../logger/index.js';
import { HookTasks } from '../util/hooks/tasks.js';
import { createTelemetry, isTelemetryEnabled, type TelemetryServer } from '../telemetry/index.js';
import { HookHttpClient } from '../util/hooks/http-client.js';
import { loadInitialData, type LoaddataOptions } from './loaddata.js';
import { buildServicesStatus, PROTOCOLS, type ProtocolEntry, type RunningProtocol } from './protocols.js';
import { formatSummary } from './summary.js';

export interface TextSink {
  write(text: string): unknown;
}

export interface StartServiceOptions {
  /** `-c/--config-dir`; relative paths in the config resolve against it */
  configDir: string;
  /** `--config-file` */
  configFile?: string | undefined;
  /** where SFTPGO_* overrides and SFTPGO_DEFAULT_ADMIN_* come from; nothing when omitted */
  env?: Readonly<Record<string, string | undefined>>;
  /** `-l`: default "sftpgo.log", relative to the config dir; "" = standard output */
  logFilePath?: string | undefined;
  logVerbose?: boolean | undefined;
  logMaxSize?: number | undefined;
  logMaxBackups?: number | undefined;
  logMaxAge?: number | undefined;
  logCompress?: boolean | undefined;
  loaddataFrom?: string | undefined;
  loaddataMode?: number | undefined;
  loaddataScan?: number | undefined;
  loaddataClean?: boolean | undefined;
  /** the startup summary goes here (default: process.stderr) */
  summary?: TextSink | undefined;
  /**
   * Tests only (no flag sets it): shorter limits than upstream's fixed ones for hook programs,
   * so that a test of a hanging hook does not wait 30 s. `actions`: custom action programs (ms).
   */
  hookTimeouts?: { actions?: number } | undefined;
}

export interface RunningService {
  readonly config: Readonly<Config>;
  readonly configDir: string;
  readonly provider: DataProvider;
  readonly logger: Logger;
  /** started servers, in start order */
  readonly servers: readonly ProtocolServer[];
  readonly httpd: HttpdServer | undefined;
  /** the telemetry server (/healthz, /metrics, the profiler) when telemetry.bind_port > 0 */
  readonly telemetry: TelemetryServer | undefined;
  /** the active connections of every protocol */
  readonly connections: ConnectionRegistry;
  /** the running quota scans */
  readonly quotaScans: QuotaScanRegistry;
  /** banned hosts and scores (common.defender); its lists reload on SIGHUP */
  readonly defender: Defender;
  /** the pre-authentication checks every protocol runs (defender + rate limiters) */
  readonly gate: ConnectionGate;
  /** the custom actions of common.actions, given to every protocol; undefined when none */
  readonly actions: ActionNotifier | undefined;
  /**
   * SIGHUP: reloads what can change without a restart: the defender's safelist/blocklist and
   * the TLS material of every listener that has it (FTP/FTPS, WebDAV, the REST API, telemetry)
   */
  reload(): Promise<void>;
  /** SIGUSR1: rotates the log file, or opens a new one when it was moved away (logrotate) */
  reopenLog(): Promise<void>;
  /** stops the servers in reverse order, then closes the provider; idempotent */
  stop(): Promise<void>;
}

export const NOTHING_TO_DO = 'no service configured, nothing to do';

/** a protocol whose whole config section is reported as not implemented yet */
function sectionWarned(p: ProtocolEntry, warnings: readonly string[]): boolean {
  return warnings.some((w) => w.startsWith(`${p.name}.`));
}

function labelOf(server: RunningProtocol): string {
  return PROTOCOLS.find((p) => p.name === server.name)?.label ?? server.name;
}

function resolveLogPath(configDir: string, p: string | undefined): string {
  const v = p ?? 'sftpgo.log';
  if (v === '' || isAbsolute(v)) return v;
  return join(configDir, v);
}

/** the data provider's view of the KMS: encrypt Plain secrets on save, redact on output */
export function secretEncrypter(kms: Kms): SecretEncrypter {
  // the KMS marks an empty secret with status ""; the API shape has no such status
  const toApi = (s: KmsSecret): ApiSecret => {
    const { status, ...rest } = s;
    return status ? { ...rest, status } : rest;
  };
  return {
    encrypt: async (secret) => toApi(await kms.encrypt(secret)),
    redact: (secret) => toApi(kms.redact(secret)),
  };
}

/** what backends use to decrypt their credentials when a user's filesystems are built */
export function secretDecrypter(kms: Kms): SecretDecrypter {
  return (secret) => kms.decrypt({ ...secret, status: secret.status ?? '' });
}

export async function startService(o: StartServiceOptions): Promise<RunningService> {
  const configDir = resolve(o.configDir);
  const env = o.env ?? {};
  const loaded = loadConfig({
    configDir,
    env,
    ...(o.configFile ? { configFile: o.configFile } : {}),
  });
  const config = loaded.config;
  // keys accepted for compatibility but not implemented yet (src/config/not-implemented.ts):
  // refused before anything starts when ignoring them would weaken security, warned about else
  const notImplemented = checkNotImplemented(config, defaultConfigFor(configDir));
  if (notImplemented.refusals.length > 0) {
    throw new SftpgoError('INVALID_INPUT', formatRefusals(notImplemented.refusals, loaded.file));
  }
  const warnings = [...loaded.warnings, ...notImplemented.warnings];

  const httpdEnabled = config.httpd.bindings.some(isBindingEnabled);
  const enabledProtocols = PROTOCOLS.filter((p) => p.enabled(config));
  // enabled protocols not implemented yet are among notImplemented.warnings already
  if (!httpdEnabled && enabledProtocols.every((p) => sectionWarned(p, notImplemented.warnings))) {
    const why = notImplemented.warnings.map((w) => `\n  ${w}`).join('');
    throw new SftpgoError('INVALID_INPUT', `${NOTHING_TO_DO}${why}`);
  }

  const logFilePath = resolveLogPath(configDir, o.logFilePath);
  const rootLogger = openRootLogger({
    filePath: logFilePath,
    verbose: o.logVerbose ?? true,
    maxSizeMB: o.logMaxSize ?? 10,
    maxBackups: o.logMaxBackups ?? 5,
    maxAgeDays: o.logMaxAge ?? 28,
    compress: o.logCompress ?? false,
  });
  const logger = rootLogger.logger;
  if (loaded.file !== undefined) {
    logger.info({ sender: 'service', config_file: loaded.file }, 'configuration loaded from file');
  } else {
    logger.info(
      { sender: 'service', searched: loaded.searched },
      'no config file found, using the defaults and SFTPGO_* environment variables',
    );
  }
  for (const w of warnings) logger.warn({ sender: 'service' }, w);

  // the defender reads its safelist/blocklist files here: a bad list fails the start
  let defender: Defender;
  try {
    defender = await createDefender(config.common.defender, { logger: logger.child({ sender: 'defender' }) });
  } catch (e) {
    await rootLogger.close();
    throw e;
  }
  // the CA and client certificate files of the hooks' HTTP client are read now: a bad one fails the start
  let hookHttp: HookHttpClient;
  try {
    hookHttp = new HookHttpClient(config.http, configDir);
  } catch (e) {
    await rootLogger.close();
    throw new SftpgoError('INVALID_INPUT', `http: unable to load the hooks' HTTP client certificates: ${errorSummary(e)}`, { cause: e });
  }
  const actionsTimeout = o.hookTimeouts?.actions;
  const actions = createActionNotifier(config.common.actions, {
    http: hookHttp,
    ...(actionsTimeout !== undefined ? { programTimeoutMs: actionsTimeout } : {}),
  });
  const rateLimiters = new RateLimiters(config.common.rate_limiters, {
    onLimitExceeded: (ip) => defender.addEvent(ip, 'limit_exceeded'),
  });
  // the hooks: each exists only when configured, so an unused one costs nothing
  const postConnectHook = config.common.post_connect_hook;
  const postConnect = postConnectHook === '' ? undefined : new PostConnectHook(postConnectHook, { http: hookHttp, logger });
  const gate = new ConnectionGate({ defender, rateLimiters, logger: logger.child({ sender: 'connections' }), postConnect });
  // the startup hook, still running when the service stops: aborted and waited for
  const startupHooks = new HookTasks();
  const connections = new ConnectionRegistry({
    maxTotalConnections: config.common.max_total_connections,
    maxPerHostConnections: config.common.max_per_host_connections,
    logger: logger.child({ sender: 'connections' }),
    // as upstream: a host over max_per_host_connections collects score_limit_exceeded
    onHostLimitExceeded: (ip) => gate.reportLimitExceeded(ip),
  });
  const started: ProtocolServer[] = [];
  let provider: DataProvider | undefined;
  let quotaScans: QuotaScanRegistry | undefined;
  let postLogin: PostLoginNotifier | undefined;
  let stopped: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    for (const s of [...started].reverse()) {
      try {
        await s.stop();
      } catch (e) {
        logger.error({ sender: 'service', error: errorSummary(e), service: s.name }, 'error stopping service');
      }
    }
    started.length = 0;
    connections.stopIdleChecker();
    await connections.closeAll();
    await startupHooks.close();
    await postConnect?.close();
    await postLogin?.close();
    hookHttp.close();
    // running quota scans write to the provider: let them finish first
    await quotaScans?.idle();
    if (provider) {
      try {
        await provider.close();
      } catch (e) {
        logger.error({ sender: 'service', error: errorSummary(e) }, 'error closing the data provider');
      }
    }
    await rootLogger.close();
  };

  /**
   * common.grace_time: refuse new connections, wait up to that many seconds for the running
   * transfers to end, then log each one still running (it is cut by the stop that follows)
   */
  const drainTransfers = async (graceSeconds: number): Promise<void> => {
    const running = (): { username: string; connection_id: string; protocol: string; t: TransferStatus }[] =>
      connections.list().flatMap((c) =>
        (c.active_transfers ?? []).map((t) => ({ username: c.username, connection_id: c.connection_id, protocol: c.protocol, t })),
      );
    if (graceSeconds > 0 && running().length > 0) {
      gate.refuseNewConnections();
      logger.info({ sender: 'service', grace_time: graceSeconds, transfers: running().length }, 'waiting for the running transfers to end');
      const deadline = Date.now() + graceSeconds * 1000;
      while (running().length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const r of running()) {
      logger.warn(
        {
          sender: 'service',
          username: r.username,
          connection_id: r.connection_id,
          protocol: r.protocol,
          operation: r.t.operation_type,
          file_path: r.t.path,
          size_bytes: r.t.size,
        },
        'transfer cut by the service stop',
      );
    }
  };

  try {
    const kms = createKms(config.kms, configDir);
    // update_mode 0: createProvider runs pending migrations; 1: it refuses an outdated schema
    const p = await createProvider(config.data_provider, {
      configDir,
      logger,
      kms: secretEncrypter(kms),
      hookHttp,
    });
    provider = p;
    const postLoginHook = config.data_provider.post_login_hook;
    postLogin =
      postLoginHook === ''
        ? undefined
        : new PostLoginNotifier(postLoginHook, {
            scope: config.data_provider.post_login_scope,
            http: hookHttp,
            provider: p,
            // upstream logs the data provider's hooks as the provider
            logger: logger.child({ sender: `dataprovider_${p.driver}` }),
          });
    const connConfig = connectionConfigOf(config.common, config.data_provider.track_quota, actions);
    const decryptSecret = secretDecrypter(kms);
    // the SSH service loads its host keys when it starts; every protocol's logins (and quota
    // scans) then know them, so an SFTP backend pointing at this server as the same user, or as a
    // user that itself has an SFTP backend (looked up in the provider), is refused
    let sshHostKeys: readonly string[] = [];
    const localHostKeyFingerprints = (): readonly string[] => sshHostKeys;
    const userFs = userFsDepsOf(connConfig, {
      decryptSecret,
      localHostKeyFingerprints,
      provider: p,
    });
    const scans = new QuotaScanRegistry({
      provider: p,
      logger: logger.child({ sender: 'quota' }),
      userFs,
    });
    quotaScans = scans;
    await ensureDefaultAdmin(p, {
      createDefaultAdmin: config.data_provider.create_default_admin,
      env,
    });
    if (o.loaddataFrom) {
      const ld: LoaddataOptions = {
        file: o.loaddataFrom,
        mode: o.loaddataMode ?? 1,
        scanQuota: o.loaddataScan ?? 0,
        clean: o.loaddataClean ?? false,
      };
      await loadInitialData(ld, {
        provider: p,
        quotaScans: scans,
        trackQuota: config.data_provider.track_quota as TrackQuota,
        logger,
      });
    }

    const running: RunningProtocol[] = [];
    const unavailable: string[] = [];
    for (const entry of enabledProtocols) {
      const server = await entry.create({
        config,
        configDir,
        logger,
        provider: p,
        connections,
        gate,
        decryptSecret,
        localHostKeyFingerprints,
        hookHttp,
        ...(actions ? { actions } : {}),
        postLogin,
      });
      if (!server) {
        if (!sectionWarned(entry, warnings)) {
          unavailable.push(`${entry.label} is configured but not available in this build`);
        }
        continue;
      }
      await server.start();
      started.push(server);
      running.push(server);
      const status = server.status();
      if (status && 'host_keys' in status) sshHostKeys = (status.host_keys ?? []).flatMap((k) => (k.fingerprint ? [k.fingerprint] : []));
    }
    if (!httpdEnabled && running.length === 0) {
      throw new SftpgoError('INVALID_INPUT', `${NOTHING_TO_DO}${unavailable.map((u) => `\n  ${u}`).join('')}`);
    }
    let httpd: HttpdServer | undefined;
    if (httpdEnabled) {
      httpd = createHttpd(config.httpd, {
        provider: p,
        logger,
        configDir,
        servicesStatus: () => Promise.resolve(buildServicesStatus(config, running, defender)),
        disconnectUser: (username: string) => connections.disconnectUser(username),
        services: {
          defender,
          gate,
          connections,
          quotaScans: scans,
          trackQuota: config.data_provider.track_quota as TrackQuota,
          backupsPath: config.httpd.backups_path,
          connectionConfig: connConfig,
          userFs,
          hookHttp,
          ...(postLogin ? { postLogin } : {}),
        },
      });
      await httpd.start();
      started.push(httpd);
    }
    let telemetry: TelemetryServer | undefined;
    if (isTelemetryEnabled(config.telemetry)) {
      telemetry = createTelemetry(config.telemetry, {
        configDir,
        logger,
        checkProvider: () => p.checkAvailability(),
      });
      await telemetry.start();
      started.push(telemetry);
    }

    if (config.common.idle_timeout > 0) connections.startIdleChecker(config.common.idle_timeout);

    const adminCount = await p.countAdmins();
    const summary = formatSummary({
      config,
      configDir,
      configFile: loaded.file,
      searched: loaded.searched,
      logFilePath,
      httpd: httpd?.listeners(),
      protocols: running.map((r) => ({ label: labelOf(r), addresses: r.addresses() })),
      telemetry: (() => {
        const l = telemetry?.listener();
        return l && { ...l, profiler: config.telemetry.enable_profiler };
      })(),
      unavailable,
      adminCount,
      warnings,
    });
    (o.summary ?? process.stderr).write(summary);
    logger.info({ sender: 'service', services: started.map((s) => s.name) }, 'service started');
    // once per start, in the background; its result is only logged
    const startupHook = config.common.startup_hook;
    if (startupHook !== '') {
      const log = logger.child({ sender: 'common' });
      startupHooks.run((signal) => runStartupHook(startupHook, { http: hookHttp, logger: log, signal }));
    }

    return {
      config,
      configDir,
      provider: p,
      logger,
      servers: [...started],
      httpd,
      telemetry,
      connections,
      quotaScans: scans,
      defender,
      gate,
      actions,
      async reopenLog() {
        const done = await rootLogger.reopen();
        if (done !== undefined) logger.info({ sender: 'service', log_file: logFilePath }, `log file ${done}`);
      },
      async reload() {
        // a broken list or certificate keeps the previous one in force and is reported to the
        // caller; one failure does not stop the other reloads
        const failures: unknown[] = [];
        const dumpFile = memoryDumpFile(config.data_provider, configDir);
        if (dumpFile !== undefined && provider !== undefined) {
          try {
            await reloadMemoryDump(provider, dumpFile, logger);
          } catch (e) {
            logger.error({ sender: 'service', error: errorSummary(e) }, 'memory provider dump not reloaded, the previous data stay');
            failures.push(e);
          }
        }
        try {
          await defender.reload();
          logger.info({ sender: 'service' }, 'defender lists reloaded');
        } catch (e) {
          failures.push(e);
        }
        for (const s of [...running, ...(httpd ? [httpd] : []), ...(telemetry ? [telemetry] : [])]) {
          if (!s.reloadCertificates) continue;
          try {
            await s.reloadCertificates();
          } catch (e) {
            logger.error({ sender: 'service', service: s.name, error: errorSummary(e) }, 'TLS certificates not reloaded');
            failures.push(e);
          }
        }
        if (failures.length === 1) throw failures[0];
        if (failures.length > 1) throw new AggregateError(failures, failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; '));
      },
      stop() {
        stopped ??= (async () => {
          logger.info({ sender: 'service' }, 'stopping service');
          await drainTransfers(config.common.grace_time);
          await stopAll();
        })();
        return stopped;
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
