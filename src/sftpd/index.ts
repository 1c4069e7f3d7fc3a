/**
 * The SSH front end: SFTP subsystem, SCP and SSH commands over ssh2 (STYLE.md §6 / §A).
 * `createSftpd` is what src/service wires into `sftpgo serve`.
 */
import type { SftpdConfig } from '../config/index.js';
import { SftpServer, type SftpdDeps, type SshServiceStatus } from './server.js';

export type { SftpdDeps, SshServiceStatus } from './server.js';
export { SftpServer, resolveSshCommands } from './server.js';
export { SFTP_STATUS, SFTP_STATUS_CODE, toSftpStatus } from './status-map.js';
export { ssh2NativeCryptoAvailable } from './ssh2-internals.js';
export { SUPPORTED_SSH_COMMANDS } from './ssh-commands.js';

/** Builds the SSH server for `sftpd` (not started: call `start()`). */
export function createSftpd(cfg: Readonly<SftpdConfig>, deps: SftpdDeps): SftpServer & { status(): SshServiceStatus } {
  return new SftpServer(cfg, deps);
}
