/**
 * `sftpgo startsubsys` (upstream cmd/startsubsys.go at v2.1.2): OpenSSH's sshd authenticated an
 * OS user and runs us as its `Subsystem sftp`; we serve that user's SFTPGo account on
 * stdin/stdout. The account is the data provider's user named like the OS user, created when
 * missing; its rules apply as for `serve` (src/sftpd/subsystem.ts).
 *
 * As upstream:
 * - an sqlite provider is replaced by a private in-memory one (sftpgo-ts's `memory` driver: an
 *   in-memory SQLite database through the same TypeORM provider), so every session starts with
 *   no account and creates it; PostgreSQL / MySQL are used as configured and shared with `serve`;
 * - a missing user is created with the permissions `{"/": ["*"]}` and the home
 *   `<base-home-dir>/<username>` when --base-home-dir is given, the OS user's home otherwise;
 * - an existing user's home is set to the OS user's home (not `<base-home-dir>/<username>`)
 *   unless --preserve-home;
 * - common.idle_timeout is not applied (sshd manages the session); no login checks run (status,
 *   expiration, IP filters, denied protocols: sshd did the authentication) and no login hook.
 *
 * Differences, on purpose:
 * - the new user's password is a random secret that is never logged (upstream uses the
 *   connection id, which every log line of the session carries);
 * - the new user is enabled (upstream leaves the status at 0, disabled, as a side effect);
 * - a relative --base-home-dir is a usage error (upstream silently uses the OS home instead);
 * - the remote address is read from SSH_CLIENT / SSH_CONNECTION (upstream logs an empty one);
 * - logs go to standard error (as upstream; sshd forwards it to the client, which prints it) or
 *   to the file of --log-file-path (ours, not rotated: several sessions append to it);
 *   --log-to-journald is refused: sftpgo-ts has no journald transport.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, normalize } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createActionNotifier } from '../common/actions.js';
import { ConnectionRegistry } from '../common/registry.js';
import { newXid } from '../common/registry.js';
import { connectionConfigOf, userFsBuilder } from '../common/server.js';
import {
  checkNotImplemented,
  defaultConfigFor,
  formatRefusals,
  loadConfig,
  type Config,
} from '../config/index.js';
import { createProvider } from '../dataprovider/index.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { createKms } from '../kms/index.js';
import { openRootLogger, type Logger } from '../logger/index.js';
import { serveSubsystemConnection } from '../sftpd/subsystem.js';
import { HookHttpClient } from '../util/hooks/http-client.js';
import { VERSION } from '../util/version.js';
import { secretDecrypter, secretEncrypter } from './start.js';

export interface SubsystemOptions {
  configDir: string;
  configFile?: string | undefined;
  /** SFTPGO_* overrides, and sshd's SSH_CLIENT / SSH_CONNECTION */
  env: Readonly<Record<string, string | undefined>>;
  /** -p: keep an existing user's home */
  preserveHome: boolean;
  /** -d: absolute, or "" */
  baseHomeDir: string;
  /** -v */
  logVerbose: boolean;
  /** -l (sftpgo-ts): "" = standard error; relative to the config dir */
  logFilePath: string;
  /** the OS user running the process (os.userInfo()) */
  osUser: { username: string; homedir: string };
  input: Readable;
  output: Writable;
  /** where the logs go when logFilePath is "" (default process.stderr) */
  stderr?: { write(s: string): unknown };
  /** SIGTERM / SIGHUP / SIGINT wiring (default: the process's); returns the unsubscribe */
  onSignal?: (stop: () => void) => () => void;
}

/** the data provider of subsystem mode: sqlite becomes a private in-memory database */
export function subsystemProviderConfig(dp: Config['data_provider']): Omit<
  Config['data_provider'],
  'driver'
> & {
  driver: Config['data_provider']['driver'] | 'memory';
} {
  if (dp.driver !== 'sqlite') return dp;
  return { ...dp, driver: 'memory', name: '', prefer_database_credentials: true, update_mode: 0 };
}

/** what to do with the provider's user before serving it */
export type SubsystemUserPlan =
  { action: 'add'; user: User } | { action: 'update'; user: User } | { action: 'keep'; user: User };

export interface SubsystemUserInput {
  username: string;
  /** the OS user's home directory */
  osHome: string;
  /** absolute, or "" */
  baseHomeDir: string;
  preserveHome: boolean;
  /** the password of a new user */
  password: string;
}

/** Go's filepath.Clean for the paths here: normalized, no trailing separator */
function cleanPath(p: string): string {
  const n = normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** upstream's user handling in cmd/startsubsys.go: pure, `existing` as the provider has it */
export function planSubsystemUser(
  existing: User | undefined,
  o: SubsystemUserInput,
): SubsystemUserPlan {
  const osHome = cleanPath(o.osHome);
  if (existing !== undefined) {
    if (o.preserveHome || existing.home_dir === osHome) return { action: 'keep', user: existing };
    return { action: 'update', user: { ...existing, home_dir: osHome } };
  }
  return {
    action: 'add',
    user: {
      username: o.username,
      status: 1,
      home_dir: o.baseHomeDir !== '' ? cleanPath(join(o.baseHomeDir, o.username)) : osHome,
      password: o.password,
      // (the generated User type declares permissions as Record<string, never>; addUser validates them)
      permissions: { '/': ['*'] } as unknown as User['permissions'],
    },
  };
}

/**
 * The SSH client's address as sshd exports it: SSH_CONNECTION "ip port localip localport",
 * or SSH_CLIENT "ip port localport"; 127.0.0.1 when neither is set (run by hand).
 */
export function clientAddressFromEnv(env: Readonly<Record<string, string | undefined>>): {
  remoteAddress: string;
  localAddress: string | undefined;
} {
  const join2 = (ip: string, port: string | undefined): string =>
    port === undefined || port === '' ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  const conn = (env.SSH_CONNECTION ?? '').trim().split(/\s+/);
  if (conn.length === 4 && conn[0]) {
    return { remoteAddress: join2(conn[0], conn[1]), localAddress: join2(conn[2] ?? '', conn[3]) };
  }
  const client = (env.SSH_CLIENT ?? '').trim().split(/\s+/);
  if (client[0]) return { remoteAddress: join2(client[0], client[1]), localAddress: undefined };
  return { remoteAddress: '127.0.0.1', localAddress: undefined };
}

async function ensureUser(
  provider: DataProvider,
  o: SubsystemUserInput,
  log: Logger,
): Promise<User> {
  let existing: User | undefined;
  try {
    existing = await provider.getUser(o.username);
  } catch (e) {
    if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
  }
  const plan = planSubsystemUser(existing, o);
  switch (plan.action) {
    case 'keep':
      return plan.user;
    case 'update':
      log.debug(
        { home_dir: plan.user.home_dir },
        `home dir of user ${JSON.stringify(o.username)} updated`,
      );
      return provider.updateUser(o.username, plan.user);
    case 'add':
      log.debug(
        { home_dir: plan.user.home_dir },
        `home dir for new user ${JSON.stringify(o.username)}`,
      );
      return provider.addUser(plan.user);
  }
}

function processSignals(stop: () => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of signals) process.on(s, stop);
  return () => {
    for (const s of signals) process.off(s, stop);
  };
}

/**
 * Runs one subsystem session. Resolves to the exit code: 0 when the client ended the session
 * (EOF), 1 otherwise. Throws (before anything is read from the input) on a bad configuration,
 * an unreachable provider or a user that cannot be created.
 */
export async function runSubsystem(o: SubsystemOptions): Promise<number> {
  if (o.baseHomeDir !== '' && !isAbsolute(o.baseHomeDir)) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `--base-home-dir must be an absolute path, got ${JSON.stringify(o.baseHomeDir)}`,
    );
  }
  const loaded = loadConfig({
    configDir: o.configDir,
    env: o.env,
    ...(o.configFile ? { configFile: o.configFile } : {}),
  });
  const config = loaded.config;
  const notImplemented = checkNotImplemented(config, defaultConfigFor(o.configDir));
  if (notImplemented.refusals.length > 0) {
    throw new SftpgoError('INVALID_INPUT', formatRefusals(notImplemented.refusals, loaded.file));
  }
  const logFile =
    o.logFilePath === '' || isAbsolute(o.logFilePath)
      ? o.logFilePath
      : join(o.configDir, o.logFilePath);
  const stderr = o.stderr ?? process.stderr;
  const root = openRootLogger({
    verbose: o.logVerbose,
    ...(logFile !== ''
      ? { filePath: logFile, maxSizeMB: 0, maxBackups: 0, maxAgeDays: 0 }
      : { stream: { write: (s: string) => stderr.write(s) } }),
  });
  const id = newXid();
  const log = root.logger.child({ sender: 'startsubsys', connection_id: id });
  const hookHttp = new HookHttpClient(config.http, o.configDir);
  let provider: DataProvider | undefined;
  try {
    log.info(
      {},
      `starting SFTPGo ${VERSION} as subsystem, user ${JSON.stringify(o.osUser.username)} home dir ${JSON.stringify(o.osUser.homedir)} ` +
        `config dir ${JSON.stringify(o.configDir)} base home dir ${JSON.stringify(o.baseHomeDir)}`,
    );
    for (const w of [...loaded.warnings, ...notImplemented.warnings]) log.warn({}, w);
    const dp = subsystemProviderConfig(config.data_provider);
    if (dp.driver !== config.data_provider.driver) {
      log.debug(
        {},
        `data provider ${JSON.stringify(config.data_provider.driver)} not supported in subsystem mode, using "memory"`,
      );
    }
    const kms = createKms(config.kms, o.configDir);
    provider = await createProvider(dp, {
      configDir: o.configDir,
      logger: root.logger,
      kms: secretEncrypter(kms),
      hookHttp,
    });
    const user = await ensureUser(
      provider,
      {
        username: o.osUser.username,
        osHome: o.osUser.homedir,
        baseHomeDir: o.baseHomeDir,
        preserveHome: o.preserveHome,
        password: randomBytes(32).toString('base64url'),
      },
      log,
    );
    const actions = createActionNotifier(config.common.actions, { http: hookHttp });
    const connConfig = connectionConfigOf(config.common, config.data_provider.track_quota, actions);
    const registry = new ConnectionRegistry({
      maxTotalConnections: config.common.max_total_connections,
      maxPerHostConnections: config.common.max_per_host_connections,
      logger: root.logger.child({ sender: 'connections' }),
    });
    // idle connections are managed by sshd: no idle checker (common.idle_timeout forced to 0)
    const addr = clientAddressFromEnv(o.env);
    const session = await serveSubsystemConnection({
      user,
      id,
      input: o.input,
      output: o.output,
      remoteAddress: addr.remoteAddress,
      ...(addr.localAddress !== undefined ? { localAddress: addr.localAddress } : {}),
      logger: root.logger,
      provider,
      registry,
      connConfig,
      buildFs: userFsBuilder({ provider, decryptSecret: secretDecrypter(kms) }, connConfig, log),
    });
    const unsubscribe = (o.onSignal ?? processSignals)(() => {
      log.info({}, 'signal received, closing the session');
      void session.close();
    });
    const code = await session.done.finally(unsubscribe);
    if (code === 0) log.info({}, 'serving subsystem finished');
    else log.warn({}, 'serving subsystem finished with error');
    return code;
  } catch (e) {
    log.error({ err: e }, 'subsystem not started');
    throw e;
  } finally {
    hookHttp.close();
    await provider
      ?.close()
      .catch((e: unknown) => log.warn({ err: e }, 'error closing the data provider'));
    await root.close();
  }
}
