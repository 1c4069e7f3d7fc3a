/**
 * The checks every protocol runs when a client connects, before authentication (upstream
 * sftpd canAcceptConnection / httpd checkConnection at v2.1.2), and the reporting of failed
 * logins to the defender. Written once here so SSH, FTP, WebDAV and HTTP refuse the same hosts.
 *
 * Order, as upstream: banned host (defender, blocklist) -> CONNECTION_DENIED; then the rate
 * limiters of the protocol (which may delay) -> RATE_LIMITED when over the max wait; then the
 * post-connect hook, when configured (post-connect.ts) -> CONNECTION_DENIED.
 * The per-host connection limit is the ConnectionRegistry's acceptClient (callers run it first).
 */
import { SftpgoError } from '../errors/index.js';
import { metrics } from '../util/metrics.js';
import type { Defender, DefenderEvent } from './defender.js';
import type { PostConnectHook } from './post-connect.js';
import type { RateLimiters } from './ratelimiter.js';
import { silentLogger, type Logger, type LoginProtocol } from './types.js';
import { ipFromRemoteAddress } from './user-policy.js';

export const BANNED_MESSAGE = 'your IP address is banned';

export interface ConnectionGateOptions {
  defender: Defender;
  rateLimiters?: RateLimiters;
  logger?: Logger;
  /** common.post_connect_hook; absent when none is configured (nothing runs, nothing is awaited) */
  postConnect?: PostConnectHook | undefined;
}

export interface ConnectionCheckOptions {
  /**
   * run the post-connect hook too (default true); HTTP passes false for its requests and runs
   * it on its login endpoint only, as upstream
   */
  postConnect?: boolean;
}

/** the defender event of a failed login: unknown user -> user_not_found, anything else login_failed */
export function loginFailureEvent(err: unknown): DefenderEvent {
  if (SftpgoError.is(err, 'NOT_FOUND')) return 'user_not_found';
  if (SftpgoError.is(err, 'AUTH_FAILED') && SftpgoError.is((err as Error).cause, 'NOT_FOUND')) return 'user_not_found';
  return 'login_failed';
}

export class ConnectionGate {
  readonly defender: Defender;
  readonly rateLimiters: RateLimiters | undefined;
  /** the post-connect hook, undefined when none is configured */
  readonly postConnect: PostConnectHook | undefined;
  private readonly log: Logger;

  constructor(o: ConnectionGateOptions) {
    this.defender = o.defender;
    this.rateLimiters = o.rateLimiters;
    this.postConnect = o.postConnect;
    this.log = o.logger ?? silentLogger;
  }

  /**
   * Call once per new client connection (SSH/FTP socket, WebDAV/HTTP request). Throws
   * CONNECTION_DENIED for a banned or blocklisted host or a post-connect hook rejection,
   * RATE_LIMITED (RateLimitError, with retryAfterMs) when a rate limiter refuses; may wait up to
   * a limiter's max delay, or for the post-connect hook.
   */
  #stopping = false;

  /** the service is stopping (grace time): every new connection is refused from now on */
  refuseNewConnections(): void {
    this.#stopping = true;
  }

  async checkConnectionAllowed(
    ipOrAddress: string,
    protocol: LoginProtocol,
    o: ConnectionCheckOptions = {},
  ): Promise<void> {
    const ip = ipFromRemoteAddress(ipOrAddress);
    if (this.#stopping) {
      throw new SftpgoError('CONNECTION_DENIED', 'the service is stopping');
    }
    if (this.defender.isBanned(ip)) {
      this.log.debug({ sender: protocol, remote_addr: ip }, 'connection refused, IP is banned');
      throw new SftpgoError('CONNECTION_DENIED', BANNED_MESSAGE);
    }
    if (this.rateLimiters) {
      try {
        await this.rateLimiters.limit(protocol, ip);
      } catch (e) {
        this.log.debug({ sender: protocol, remote_addr: ip, err: e }, 'connection refused, rate limit exceeded');
        throw e;
      }
    }
    if (this.postConnect && o.postConnect !== false) await this.postConnect.check(ip, protocol);
  }

  /** a failed authentication from `ipOrAddress` (pass the provider's error to pick the score) */
  reportLoginFailure(ipOrAddress: string, err: unknown): void {
    this.defender.addEvent(ipFromRemoteAddress(ipOrAddress), loginFailureEvent(err));
  }

  /**
   * a client that went away (or timed out) without trying to authenticate: a defender event,
   * and sftpgo_no_auth_total
   */
  reportNoLoginTried(ipOrAddress: string): void {
    metrics.noAuthTried();
    this.defender.addEvent(ipFromRemoteAddress(ipOrAddress), 'no_login_tried');
  }

  /** too many connections from the host, or another limit violation */
  reportLimitExceeded(ipOrAddress: string): void {
    this.defender.addEvent(ipFromRemoteAddress(ipOrAddress), 'limit_exceeded');
  }
}
