/**
 * Shared types of the protocol-independent core.
 */
import type { Schemas } from '../api/index.js';
import type { DataProvider } from '../dataprovider/provider.js';
import type { ActionNotifier } from './actions.js';

/** Connection protocols, as upstream common/common.go (connection ids and listings use them). */
export type Protocol = 'SFTP' | 'SCP' | 'SSH' | 'FTP' | 'DAV' | 'HTTP';
export const PROTOCOLS: readonly Protocol[] = ['SFTP', 'SCP', 'SSH', 'FTP', 'DAV', 'HTTP'];

/** Protocol families of `filters.denied_protocols` (SSH covers SFTP, SCP and SSH commands). */
export type LoginProtocol = 'SSH' | 'FTP' | 'DAV' | 'HTTP';

/** the login protocol family of a connection protocol */
export function loginProtocolOf(p: Protocol): LoginProtocol {
  switch (p) {
    case 'SFTP':
    case 'SCP':
    case 'SSH':
      return 'SSH';
    case 'FTP':
      return 'FTP';
    case 'DAV':
      return 'DAV';
    case 'HTTP':
      return 'HTTP';
  }
}

export type LoginMethod = Schemas['LoginMethods'];
export type Permission = Schemas['Permission'];

/** One active transfer, as listed by GET /api/v2/connections. */
export interface TransferStatus {
  operation_type: 'upload' | 'download';
  path: string;
  /** ms since epoch */
  start_time: number;
  /** bytes transferred so far */
  size: number;
}

/** One active connection, as listed by GET /api/v2/connections (ConnectionStatus of the spec). */
export interface ConnectionStatus {
  username: string;
  connection_id: string;
  client_version?: string;
  remote_address: string;
  /** ms since epoch */
  connection_time: number;
  /** ms since epoch */
  last_activity: number;
  protocol: Protocol;
  active_transfers?: TransferStatus[];
  command?: string;
}

/**
 * The structured logger the core writes to: the subset of pino's API it uses, so a pino
 * logger (or a child) can be passed as is, and tests can pass a silent one.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

/** The quota counters of the data provider, all the core needs from it. */
export type QuotaStore = Pick<
  DataProvider,
  'updateUserQuota' | 'updateFolderQuota' | 'getUserUsedQuota' | 'getFolderUsedQuota'
>;

/** 0 direct writes, 1 atomic (temp file + rename), 2 atomic and keep the partial file on error */
export type UploadMode = 0 | 1 | 2;
/** 0 execute setstat, 1 ignore it silently, 2 ignore it where the backend cannot do it */
export type SetstatMode = 0 | 1 | 2;
/** 0 quota tracking off, 1 always, 2 only for users with quota limits (folders always) */
export type TrackQuota = 0 | 1 | 2;

/** The per-connection slice of the configuration (common.* and data_provider.track_quota). */
export interface ConnectionConfig {
  upload_mode: UploadMode;
  setstat_mode: SetstatMode;
  track_quota: TrackQuota;
  /** common.temp_path, used when the user's filesystem is built (createUserFs) */
  temp_path?: string;
  /** common.fsync_uploads: fsync every upload before it is reported complete (createUserFs) */
  fsync_uploads?: boolean;
  /** common.actions, built once by the service; absent when no action is configured */
  actions?: ActionNotifier;
}
