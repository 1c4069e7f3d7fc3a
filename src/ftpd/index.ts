/**
 * The FTP/FTPS front end: our own protocol layer on node:net / node:tls over common.Connection
 * (STYLE.md §A). `createFtpd` is what src/service wires into `sftpgo serve`.
 */
import type { FtpdConfig } from '../config/index.js';
import { FtpServer, type FTPServiceStatus, type FtpdDeps } from './server.js';

export type { FtpdDeps, FTPServiceStatus } from './server.js';
export { FtpServer, DATA_CONNECTION_TIMEOUT_MS } from './server.js';
export { FTP_REPLY, toFtpReply } from './reply-map.js';

/** Builds the FTP server for `ftpd` (not started: call `start()`). */
export function createFtpd(cfg: Readonly<FtpdConfig>, deps: FtpdDeps): FtpServer & { status(): FTPServiceStatus } {
  return new FtpServer(cfg, deps);
}
