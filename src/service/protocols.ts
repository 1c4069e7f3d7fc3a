/**
 * The file-transfer front ends of `sftpgo serve` (SFTP, FTP, WebDAV), wired from ONE list: each
 * registers how to tell it is enabled, how to load and build it, and which entry of
 * GET /api/v2/status it describes. start.ts starts the enabled ones in list order and stops them
 * in reverse; /api/v2/status and the startup summary read the same list.
 *
 * Protocol modules are imported lazily: a build (or a checkout) without one still serves the
 * others, and a server whose config enables only SFTP never loads the FTP code.
 */
import type { Schemas } from '../api/index.js';
import type { ActionNotifier } from '../common/actions.js';
import type { ConnectionGate } from '../common/connection-gate.js';
import type { PostLoginNotifier } from '../common/post-login.js';
import type { Defender } from '../common/defender.js';
import type { ConnectionRegistry } from '../common/registry.js';
import type { ProtocolServer } from '../common/server.js';
import type { SecretDecrypter } from '../vfs/index.js';
import type { Config } from '../config/index.js';
import type { DataProvider } from '../dataprovider/provider.js';
import type { Logger } from '../logger/index.js';
import type * as SftpdModuleNs from '../sftpd/index.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { inactiveServicesStatus, type ServicesStatus } from '../httpd/index.js';

export type SshServiceStatus = Schemas['SSHServiceStatus'];

/** what every protocol server is built from */
export interface ProtocolDeps {
  config: Readonly<Config>;
  configDir: string;
  /** root logger */
  logger: Logger;
  provider: DataProvider;
  /** the active connections of every protocol */
  connections: ConnectionRegistry;
  /** defender + rate limiters, checked on accept and told about failed logins */
  gate: ConnectionGate;
  /** decrypts the secrets of filesystem configs (the service's KMS) */
  decryptSecret?: SecretDecrypter;
  /** the SSH service's host key fingerprints once it has started (SFTP backend loop guard) */
  localHostKeyFingerprints?: () => readonly string[];
  /** the one HTTP client of every HTTP hook (the `http` section) */
  hookHttp?: HookHttpClient;
  /** the custom actions of common.actions; absent when none is configured */
  actions?: ActionNotifier;
  /** the post-login hook; absent when none is configured */
  postLogin?: PostLoginNotifier | undefined;
}

/** the keys of GET /api/v2/status that describe a file-transfer front end */
type StatusKey = 'ssh' | 'ftp' | 'webdav';

/** a built protocol server that describes itself for /api/v2/status */
export interface RunningProtocol<K extends StatusKey = StatusKey> extends ProtocolServer {
  status(): ServicesStatus[K];
}

export interface ProtocolEntry<K extends StatusKey = StatusKey> {
  readonly name: 'sftpd' | 'ftpd' | 'webdavd';
  /** how the startup summary names it */
  readonly label: string;
  readonly statusKey: K;
  /** at least one binding would listen */
  enabled(config: Readonly<Config>): boolean;
  /** the server, built (not started); undefined when this build does not include the module */
  create(deps: ProtocolDeps): Promise<RunningProtocol<K> | undefined>;
}

function isMissingModule(e: unknown, name: string): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return (
    err.code === 'ERR_MODULE_NOT_FOUND' &&
    typeof err.message === 'string' &&
    err.message.includes(`${name}/index`)
  );
}

/** the protocol module, or undefined when this build does not include it */
async function loadModule<T>(name: ProtocolEntry['name']): Promise<T | undefined> {
  // a computed specifier: the module may not exist in this checkout, and TypeScript must not
  // resolve it statically
  const specifier = `../${name}/index.js`;
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    if (isMissingModule(e, name)) return undefined;
    throw e;
  }
}

const hasPort = (bindings: readonly { port: number }[]): boolean => bindings.some((b) => b.port > 0);

type SftpdModule = typeof SftpdModuleNs;

interface FtpdModule {
  createFtpd(cfg: Readonly<Config['ftpd']>, deps: ProtocolDeps): RunningProtocol<'ftp'>;
}

interface WebdavdModule {
  createWebdavd(cfg: Readonly<Config['webdavd']>, deps: ProtocolDeps): RunningProtocol<'webdav'>;
}

const sftpd: ProtocolEntry<'ssh'> = {
  name: 'sftpd',
  label: 'SFTP',
  statusKey: 'ssh',
  enabled: (c) => hasPort(c.sftpd.bindings),
  async create(deps) {
    const mod = await loadModule<SftpdModule>('sftpd');
    return mod?.createSftpd(deps.config.sftpd, deps);
  },
};

const ftpd: ProtocolEntry<'ftp'> = {
  name: 'ftpd',
  label: 'FTP',
  statusKey: 'ftp',
  enabled: (c) => hasPort(c.ftpd.bindings),
  async create(deps) {
    const mod = await loadModule<FtpdModule>('ftpd');
    return mod?.createFtpd(deps.config.ftpd, deps);
  },
};

const webdavd: ProtocolEntry<'webdav'> = {
  name: 'webdavd',
  label: 'WebDAV',
  statusKey: 'webdav',
  enabled: (c) => hasPort(c.webdavd.bindings),
  async create(deps) {
    const mod = await loadModule<WebdavdModule>('webdavd');
    return mod?.createWebdavd(deps.config.webdavd, deps);
  },
};

/** every file-transfer front end, in start order */
export const PROTOCOLS: readonly ProtocolEntry[] = [sftpd, ftpd, webdavd];

/** GET /api/v2/status without data_provider: the running servers describe themselves */
export function buildServicesStatus(
  config: Readonly<Config>,
  running: readonly RunningProtocol[],
  defender?: Pick<Defender, 'enabled'>,
): Omit<ServicesStatus, 'data_provider'> {
  const status = inactiveServicesStatus();
  status.defender = { is_active: defender?.enabled ?? false };
  // as upstream, an inactive service still reports the configuration that is known statically
  status.ssh = { ...status.ssh, ssh_commands: [...config.sftpd.enabled_ssh_commands] };
  if (hasPort(config.ftpd.bindings)) {
    status.ftp = { ...status.ftp, passive_port_range: { ...config.ftpd.passive_port_range } };
  }
  for (const entry of PROTOCOLS) {
    const server = running.find((s) => s.name === entry.name);
    if (server) Object.assign(status, { [entry.statusKey]: server.status() });
  }
  return status;
}
