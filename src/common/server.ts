import type { CommonConfig, Config } from '../config/index.js';
import { proxyPolicyOf, type ProxyPolicy } from './proxy-protocol.js';
import { SftpgoError } from '../errors/index.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import type { Logger } from '../logger/index.js';
import type { MountTable, SecretDecrypter } from '../vfs/index.js';
import type { ActionNotifier } from './actions.js';
import type { ConnectionGate } from './connection-gate.js';
import type { PostLoginNotifier } from './post-login.js';
import type { ConnectionRegistry } from './registry.js';
import type { ConnectionConfig, TrackQuota } from './types.js';
import { createUserFs, userUsesSftpOf, type UserFsDeps } from './user-fs.js';

/**
 * What every protocol front end (sftpd, ftpd, webdavd, httpd) and the telemetry server hand to
 * the composition root (src/service). service starts them in order, stops them in reverse, and
 * asks each for its status (for GET /api/v2/status and the startup summary).
 */
export interface ListeningAddress {
  address: string;
  port: number;
}

export interface ProtocolServer {
  readonly name: 'sftpd' | 'ftpd' | 'webdavd' | 'httpd' | 'telemetry';
  /** binds every enabled binding; rejects (with a clear message) when one cannot be bound */
  start(): Promise<void>;
  /** closes the listeners and every active connection of this protocol */
  stop(): Promise<void>;
  /** the addresses actually bound (port 0 in config resolves to the real port here) */
  addresses(): ListeningAddress[];
  /**
   * SIGHUP: re-reads TLS certificates, keys, CAs and CRLs for new connections (live ones keep
   * theirs); rejects, keeping the current material, when a file is unreadable or invalid
   */
  reloadCertificates?(): Promise<void>;
}

/** what the SSH and FTP front ends are built from (src/service passes the running service's) */
export interface FrontEndDeps {
  configDir: string;
  /** root pino logger */
  logger: Logger;
  provider: DataProvider;
  /** the registry of active connections (service passes it as `connections`) */
  connections?: ConnectionRegistry;
  registry?: ConnectionRegistry;
  /** the whole configuration (common.* and data_provider.track_quota are read from it) */
  config?: Readonly<Config>;
  /** alternatively, the common section alone */
  commonConfig?: Readonly<CommonConfig>;
  /** data_provider.track_quota when `config` is not given (default 2, as the shipped json) */
  trackQuota?: TrackQuota;
  /** builds a user's mount table (tests may replace it) */
  createUserFs?: (user: User) => Promise<MountTable>;
  /** decrypts the secrets of filesystem configs (the service's KMS) */
  decryptSecret?: SecretDecrypter;
  /** this server's SSH host key fingerprints, for the SFTP backend's loop guard (UserFsDeps) */
  localHostKeyFingerprints?: () => readonly string[];
  /**
   * Defender + rate limiters (ConnectionGate), shared by every protocol: checked when a socket
   * is accepted, and told about failed authentications. Absent: no such checks.
   */
  gate?: ConnectionGate;
  /** the custom actions of common.actions (createActionNotifier); absent: none configured */
  actions?: ActionNotifier;
  /** the post-login hook, told about every login; absent when none is configured */
  postLogin?: PostLoginNotifier | undefined;
}

/**
 * The per-connection rules of `common.*` and `data_provider.track_quota`, as every front end
 * (SFTP, FTP, WebDAV, the REST API's user file operations) applies them.
 */
export function connectionConfigOf(
  common: Readonly<CommonConfig> | undefined,
  trackQuota: number = 2,
  actions?: ActionNotifier,
): ConnectionConfig {
  return {
    upload_mode: (common?.upload_mode ?? 0) as ConnectionConfig['upload_mode'],
    setstat_mode: (common?.setstat_mode ?? 0) as ConnectionConfig['setstat_mode'],
    track_quota: trackQuota as TrackQuota,
    ...(common?.temp_path ? { temp_path: common.temp_path } : {}),
    ...(common?.fsync_uploads ? { fsync_uploads: true } : {}),
    ...(actions ? { actions } : {}),
  };
}

/** the connection registry and connection rules of an SSH or FTP front end */
export function frontEndSettings(
  deps: FrontEndDeps,
  who: string,
): { registry: ConnectionRegistry; connConfig: ConnectionConfig; proxy: ProxyPolicy } {
  const registry = deps.connections ?? deps.registry;
  if (!registry) throw new SftpgoError('INTERNAL', `${who}: a connection registry is required`);
  const common = deps.config?.common ?? deps.commonConfig;
  const connConfig = connectionConfigOf(
    common,
    deps.config?.data_provider.track_quota ?? deps.trackQuota ?? 2,
    deps.actions,
  );
  // common.proxy_protocol / proxy_allowed, for the bindings with apply_proxy_config
  const proxy = proxyPolicyOf(common?.proxy_protocol ?? 0, common?.proxy_allowed ?? []);
  return { registry, connConfig, proxy };
}

/**
 * what building a user's filesystems needs from `common.*`, the KMS and the data provider (the
 * SFTP backend's loop guard), for every front end
 */
export function userFsDepsOf(
  connConfig: Pick<ConnectionConfig, 'temp_path' | 'fsync_uploads'>,
  o: Pick<FrontEndDeps, 'decryptSecret' | 'localHostKeyFingerprints'> & {
    provider?: Pick<DataProvider, 'getUser'>;
  } = {},
): UserFsDeps {
  return {
    ...(connConfig.temp_path ? { tempPath: connConfig.temp_path } : {}),
    ...(connConfig.fsync_uploads ? { fsync: true } : {}),
    ...(o.decryptSecret ? { decryptSecret: o.decryptSecret } : {}),
    ...(o.localHostKeyFingerprints ? { localHostKeyFingerprints: o.localHostKeyFingerprints } : {}),
    ...(o.provider ? { userUsesSftp: userUsesSftpOf(o.provider) } : {}),
  };
}

/** how a front end builds a user's mount table at login: the deps' factory or the backends */
export function userFsBuilder(
  deps: Pick<
    FrontEndDeps,
    'createUserFs' | 'decryptSecret' | 'localHostKeyFingerprints' | 'provider'
  >,
  connConfig: ConnectionConfig,
  logger: Logger,
): (user: User) => Promise<MountTable> {
  if (deps.createUserFs) return deps.createUserFs;
  const userFs = userFsDepsOf(connConfig, deps);
  return (user) => createUserFs(user, { ...userFs, logger });
}
