/**
 * The registry of active connections of one running service (upstream common.ActiveConnections
 * and clientsMap), instantiated by src/service and passed down: no globals.
 *
 * - add/remove/get/list/close of protocol connections (one per SFTP channel, SCP/SSH command,
 *   FTP control connection, WebDAV/HTTP request), with max_total_connections and per-user
 *   max_sessions enforced on add;
 * - per-host client tracking (acceptClient/releaseClient) with max_per_host_connections,
 *   checked when a network client connects, before authentication;
 * - an idle checker closing connections idle longer than common.idle_timeout.
 */
import { randomBytes } from 'node:crypto';
import { SftpgoError } from '../errors/index.js';
import { metrics } from '../util/metrics.js';
import { ipFromRemoteAddress } from './user-policy.js';
import {
  silentLogger,
  type ConnectionStatus,
  type Logger,
  type Protocol,
  type TransferStatus,
} from './types.js';
import { QuotaTracker } from './quota-tracker.js';

/** What the registry needs from a connection; `Connection` implements it. */
export interface ActiveConnection {
  readonly id: string;
  readonly protocol: Protocol;
  /** "" before authentication (FTP) */
  readonly username: string;
  /** the user's max_sessions (0 = unlimited) */
  readonly maxSessions: number;
  readonly remoteAddress: string;
  readonly clientVersion?: string | undefined;
  /** ms since epoch */
  readonly connectionTime: number;
  /** ms since epoch */
  readonly lastActivity: number;
  /** last command / method, "" when none */
  readonly command: string;
  activeTransfers(): TransferStatus[];
  /**
   * aborts the transfers and closes the protocol side; idempotent. `idle`: closed by the idle
   * checker (an FTP client that never logged in is then a "no_auth_tryed" login for post-login)
   */
  close(o?: { idle?: boolean }): Promise<void>;
}

/**
 * A network-level SSH connection that carries channels (each channel is an ActiveConnection
 * whose id contains `_<id>_`). Tracked only for the idle checker: an idle SSH connection without
 * a recently active channel is closed.
 */
export interface NetworkConnection {
  readonly id: string;
  /** ms since epoch */
  lastActivity(): number;
  close(): void;
}

export interface ConnectionRegistryOptions {
  /** common.max_total_connections, 0 = unlimited */
  maxTotalConnections?: number;
  /** common.max_per_host_connections, 0 = unlimited */
  maxPerHostConnections?: number;
  logger?: Logger;
  /** called when a host exceeds max_per_host_connections (defender score_limit_exceeded) */
  onHostLimitExceeded?: (ip: string) => void;
  /** clock (ms since epoch), for tests */
  now?: () => number;
}

export interface IdleCheckerOptions {
  /** how often to check, default min(60 s, timeout / 2) */
  intervalMs?: number;
}

/** FTP clients that never authenticate are dropped after this idle time (upstream idleLoginTimeout) */
export const IDLE_LOGIN_TIMEOUT_MS = 2 * 60 * 1000;

/** `SFTP_<base>_<n>`, `SCP_…`, `SSH_…`, `FTP_<server>_<client>`, `DAV_<xid>`, `HTTP_<xid>` */
export function newConnectionId(protocol: Protocol, base: string, n?: number | string): string {
  return n === undefined ? `${protocol}_${base}` : `${protocol}_${base}_${n}`;
}

/** a random 20 hex chars identifier (upstream uses xid for DAV/HTTP ids and temp names) */
export function newXid(): string {
  return randomBytes(10).toString('hex');
}

export class ConnectionRegistry {
  /** bytes and files of uploads in progress, per quota scope, for every connection here */
  readonly quota = new QuotaTracker();
  private readonly conns = new Map<string, ActiveConnection>();
  private readonly perUser = new Map<string, number>();
  private readonly clients = new Map<string, number>();
  private clientsTotal = 0;
  private readonly sshConns = new Map<string, NetworkConnection>();
  private idleTimer: NodeJS.Timeout | undefined;
  private idleTimeoutMs = 0;
  private readonly maxTotal: number;
  private readonly maxPerHost: number;
  private readonly log: Logger;
  private readonly onHostLimitExceeded: ((ip: string) => void) | undefined;
  private readonly now: () => number;

  constructor(o: ConnectionRegistryOptions = {}) {
    this.maxTotal = Math.max(0, o.maxTotalConnections ?? 0);
    this.maxPerHost = Math.max(0, o.maxPerHostConnections ?? 0);
    this.log = o.logger ?? silentLogger;
    this.onHostLimitExceeded = o.onHostLimitExceeded;
    this.now = o.now ?? Date.now;
  }

  // ---------------------------------------------------------------- connections

  /**
   * Registers a connection. Throws CONNECTION_DENIED when max_total_connections or the user's
   * max_sessions would be exceeded, ALREADY_EXISTS for a duplicate id.
   */
  add(conn: ActiveConnection): void {
    if (this.conns.has(conn.id)) {
      throw new SftpgoError('ALREADY_EXISTS', `connection ${conn.id} is already registered`);
    }
    if (this.maxTotal > 0 && this.conns.size >= this.maxTotal) {
      throw new SftpgoError(
        'CONNECTION_DENIED',
        `too many open connections: ${this.conns.size}/${this.maxTotal}`,
      );
    }
    const user = conn.username;
    if (user !== '' && conn.maxSessions > 0) {
      const open = this.perUser.get(user) ?? 0;
      if (open >= conn.maxSessions) {
        throw new SftpgoError(
          'CONNECTION_DENIED',
          `too many open sessions: ${open}/${conn.maxSessions}`,
        );
      }
    }
    this.conns.set(conn.id, conn);
    metrics.setActiveConnections(this.conns.size);
    if (user !== '') this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
    this.log.debug(
      {
        sender: conn.protocol,
        connection_id: conn.id,
        remote_addr: conn.remoteAddress,
        open_connections: this.conns.size,
      },
      'connection added',
    );
  }

  /** unregisters a connection (by object or id); unknown ids are ignored */
  remove(conn: ActiveConnection | string): boolean {
    const id = typeof conn === 'string' ? conn : conn.id;
    const c = this.conns.get(id);
    if (!c) return false;
    this.conns.delete(id);
    metrics.setActiveConnections(this.conns.size);
    if (c.username !== '') {
      const n = (this.perUser.get(c.username) ?? 1) - 1;
      if (n <= 0) this.perUser.delete(c.username);
      else this.perUser.set(c.username, n);
    }
    this.log.debug(
      { sender: c.protocol, connection_id: id, open_connections: this.conns.size },
      'connection removed',
    );
    return true;
  }

  get(id: string): ActiveConnection | undefined {
    return this.conns.get(id);
  }

  get size(): number {
    return this.conns.size;
  }

  /** open sessions of a user, every protocol */
  countByUser(username: string): number {
    return this.perUser.get(username) ?? 0;
  }

  /** the ConnectionStatus list of GET /api/v2/connections */
  list(): ConnectionStatus[] {
    const out: ConnectionStatus[] = [];
    for (const c of this.conns.values()) {
      const s: ConnectionStatus = {
        username: c.username,
        connection_id: c.id,
        remote_address: c.remoteAddress,
        connection_time: c.connectionTime,
        last_activity: c.lastActivity,
        protocol: c.protocol,
      };
      if (c.clientVersion) s.client_version = c.clientVersion;
      if (c.command) s.command = c.command;
      const t = c.activeTransfers();
      if (t.length > 0) s.active_transfers = t;
      out.push(s);
    }
    return out;
  }

  /**
   * Starts closing a connection: its transfers are aborted cleanly and the protocol's close
   * callback runs. Returns false when the id is unknown. Use closeAndWait to await completion.
   */
  close(id: string): boolean {
    const c = this.conns.get(id);
    if (!c) return false;
    void this.closeConn(c, 'close connection requested');
    return true;
  }

  /** like close(), resolving once the connection is closed */
  async closeAndWait(id: string): Promise<boolean> {
    const c = this.conns.get(id);
    if (!c) return false;
    await this.closeConn(c, 'close connection requested');
    return true;
  }

  /** closes every connection of a user (user updated with ?disconnect=1, deleted …); returns how many */
  async disconnectUser(username: string): Promise<number> {
    const victims = [...this.conns.values()].filter((c) => c.username === username);
    await Promise.all(victims.map((c) => this.closeConn(c, 'user disconnected')));
    return victims.length;
  }

  /** closes everything (service stop) */
  async closeAll(): Promise<void> {
    this.stopIdleChecker();
    await Promise.all([...this.conns.values()].map((c) => this.closeConn(c, 'service stopping')));
    for (const s of [...this.sshConns.values()]) this.closeNetwork(s, 'service stopping');
  }

  private closeConn(c: ActiveConnection, reason: string, idle = false): Promise<void> {
    return c.close(idle ? { idle } : undefined).then(
      () => {
        // a connection that did not unregister itself must not stay listed
        this.remove(c);
        this.log.debug({ sender: c.protocol, connection_id: c.id }, reason);
      },
      (e: unknown) => {
        this.remove(c);
        this.log.warn(
          { sender: c.protocol, connection_id: c.id, err: e },
          `${reason}: close error`,
        );
      },
    );
  }

  // ---------------------------------------------------------------- SSH network connections

  addSshConnection(c: NetworkConnection): void {
    this.sshConns.set(c.id, c);
  }

  removeSshConnection(id: string): void {
    this.sshConns.delete(id);
  }

  private closeNetwork(c: NetworkConnection, reason: string): void {
    this.sshConns.delete(c.id);
    try {
      c.close();
    } catch (e) {
      this.log.warn({ sender: 'SSH', connection_id: c.id, err: e }, `${reason}: close error`);
    }
  }

  // ---------------------------------------------------------------- per-host clients

  /**
   * Counts a new network client from `ip` (call when a socket is accepted, before auth).
   * Throws CONNECTION_DENIED, without counting it, when max_per_host_connections or
   * max_total_connections would be exceeded. Pair every successful call with releaseClient.
   */
  acceptClient(ipOrAddress: string): void {
    const ip = ipFromRemoteAddress(ipOrAddress);
    const fromHost = this.clients.get(ip) ?? 0;
    if (this.maxPerHost > 0 && fromHost >= this.maxPerHost) {
      this.log.debug(
        { sender: 'common', remote_addr: ip, active: fromHost, max: this.maxPerHost },
        'too many connections from host',
      );
      this.onHostLimitExceeded?.(ip);
      throw new SftpgoError(
        'CONNECTION_DENIED',
        `too many connections from this host: ${fromHost}/${this.maxPerHost}`,
      );
    }
    if (
      this.maxTotal > 0 &&
      (this.clientsTotal >= this.maxTotal || this.conns.size >= this.maxTotal)
    ) {
      throw new SftpgoError('CONNECTION_DENIED', `too many open connections: max ${this.maxTotal}`);
    }
    this.clients.set(ip, fromHost + 1);
    this.clientsTotal++;
  }

  /** forgets a client counted by acceptClient */
  releaseClient(ipOrAddress: string): void {
    const ip = ipFromRemoteAddress(ipOrAddress);
    const n = this.clients.get(ip);
    if (n === undefined) return;
    if (n <= 1) this.clients.delete(ip);
    else this.clients.set(ip, n - 1);
    this.clientsTotal = Math.max(0, this.clientsTotal - 1);
  }

  /** network clients, from one host or in total */
  clientCount(ipOrAddress?: string): number {
    if (ipOrAddress === undefined) return this.clientsTotal;
    return this.clients.get(ipFromRemoteAddress(ipOrAddress)) ?? 0;
  }

  // ---------------------------------------------------------------- idle checker

  /**
   * Closes connections idle for longer than `idleTimeoutMinutes` (fractions allowed; 0 or less
   * disables), checking every 60 s or less. Replaces a running checker. The timer does not keep
   * the process alive.
   */
  startIdleChecker(idleTimeoutMinutes: number, o: IdleCheckerOptions = {}): void {
    this.stopIdleChecker();
    if (!(idleTimeoutMinutes > 0)) return;
    this.idleTimeoutMs = idleTimeoutMinutes * 60_000;
    const interval =
      o.intervalMs ?? Math.max(10, Math.min(60_000, Math.floor(this.idleTimeoutMs / 2)));
    this.idleTimer = setInterval(() => {
      this.checkIdleConnections();
    }, interval);
    this.idleTimer.unref();
  }

  stopIdleChecker(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }

  /**
   * One idle check (what the timer runs). `timeoutMs` defaults to the checker's timeout;
   * returns the ids closed.
   */
  checkIdleConnections(now = this.now(), timeoutMs = this.idleTimeoutMs): string[] {
    const closed: string[] = [];
    if (!(timeoutMs > 0)) return closed;
    for (const s of [...this.sshConns.values()]) {
      if (now - s.lastActivity() <= timeoutMs) continue;
      const marker = `_${s.id}_`;
      const busy = [...this.conns.values()].some(
        (c) => c.id.includes(marker) && now - c.lastActivity <= timeoutMs,
      );
      if (!busy) {
        this.log.debug(
          { sender: 'SSH', connection_id: s.id, idle_ms: now - s.lastActivity() },
          'close idle SSH connection',
        );
        this.closeNetwork(s, 'idle');
        closed.push(s.id);
      }
    }
    for (const c of [...this.conns.values()]) {
      const idle = now - c.lastActivity;
      const unauthFtp = c.protocol === 'FTP' && c.username === '';
      if (idle > timeoutMs || (unauthFtp && idle > IDLE_LOGIN_TIMEOUT_MS)) {
        this.log.debug(
          { sender: c.protocol, connection_id: c.id, idle_ms: idle, username: c.username },
          'close idle connection',
        );
        void this.closeConn(c, 'idle connection closed', true);
        closed.push(c.id);
      }
    }
    return closed;
  }
}
