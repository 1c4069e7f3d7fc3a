/**
 * What every protocol front end (sftpd, ftpd, webdavd, httpd) hands to the composition root
 * (src/service). service starts them in order, stops them in reverse, and asks each for its
 * status (for GET /api/v2/status and the startup summary).
 */
export interface ListeningAddress {
  address: string;
  port: number;
}

export interface ProtocolServer {
  readonly name: 'sftpd' | 'ftpd' | 'webdavd' | 'httpd';
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
