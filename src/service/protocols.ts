/**
 * Loading the protocol front ends that exist in this build and reporting their status for
 * GET /api/v2/status. Protocols are imported lazily: a build (or a checkout) without one still
 * serves the others.
 */
import type { Schemas } from '../api/index.js';
import type { ProtocolServer } from '../common/server.js';
import type { Defender } from '../common/defender.js';
import type { Config } from '../config/index.js';
import type * as SftpdModuleNs from '../sftpd/index.js';
import { inactiveServicesStatus, type ServicesStatus } from '../httpd/index.js';

export type SshServiceStatus = Schemas['SSHServiceStatus'];

export type SftpdModule = typeof SftpdModuleNs;

/** a protocol server that can describe itself for /api/v2/status */
interface SelfDescribing {
  status(): SshServiceStatus;
}

function isSelfDescribing(s: unknown): s is SelfDescribing {
  return typeof (s as { status?: unknown }).status === 'function';
}

function isMissingModule(e: unknown, name: string): boolean {
  const err = e as { code?: unknown; message?: unknown; url?: unknown };
  return (
    err.code === 'ERR_MODULE_NOT_FOUND' &&
    typeof err.message === 'string' &&
    err.message.includes(`${name}/index`)
  );
}

/** the protocol module, or undefined when this build does not include it */
export async function loadProtocol<T>(name: 'sftpd' | 'ftpd' | 'webdavd'): Promise<T | undefined> {
  const specifier = `../${name}/index.js`;
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    if (isMissingModule(e, name)) return undefined;
    throw e;
  }
}

export function buildServicesStatus(
  config: Readonly<Config>,
  sftpd: ProtocolServer | undefined,
  defender?: Pick<Defender, 'enabled'>,
): Omit<ServicesStatus, 'data_provider'> {
  const status = inactiveServicesStatus();
  status.defender = { is_active: defender?.enabled ?? false };
  // FTP is not part of this build: inactive, with the configured passive range when configured
  if (config.ftpd.bindings.some((b) => b.port > 0)) {
    status.ftp = { ...status.ftp, passive_port_range: { ...config.ftpd.passive_port_range } };
  }
  status.ssh = { ...status.ssh, ssh_commands: [...config.sftpd.enabled_ssh_commands] };
  if (sftpd) {
    if (isSelfDescribing(sftpd)) {
      status.ssh = sftpd.status();
    } else {
      const bindings = config.sftpd.bindings.filter((b) => b.port > 0);
      status.ssh = {
        is_active: true,
        bindings: sftpd.addresses().map((a, i) => ({
          address: a.address,
          port: a.port,
          apply_proxy_config: bindings[i]?.apply_proxy_config ?? true,
        })),
        host_keys: [],
        ssh_commands: [...config.sftpd.enabled_ssh_commands],
      };
    }
  }
  return status;
}
