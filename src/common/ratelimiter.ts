/**
 * Rate limiting (upstream common/ratelimiter.go at v2.1.2, on golang.org/x/time/rate): every
 * enabled `common.rate_limiters[]` entry (average > 0) is a token bucket refilled at
 * `average / period` tokens per second holding at most `burst` tokens, either one bucket for
 * everybody (type 1) or one per client IP (type 2, kept between entries_soft_limit and
 * entries_hard_limit buckets). A request takes one token; when none is left it is delayed until
 * one is due, up to a maximum wait (period/2 when the rate is below 1/s, else 1/(2·rate) s,
 * never more than 10 s); beyond that it is refused with RATE_LIMITED, and a per-IP limiter with
 * `generate_defender_events` reports a `limit_exceeded` event.
 *
 * No globals: src/service builds one RateLimiters per running service. Clock and sleep are
 * injectable so the tests never wait.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { RateLimiterConfig } from '../config/index.js';
import { SftpgoError } from '../errors/index.js';
import type { LoginProtocol } from './types.js';
import { ipFromRemoteAddress } from './user-policy.js';

export type RateLimiterSettings = Pick<
  RateLimiterConfig,
  'average' | 'period' | 'burst' | 'type' | 'protocols' | 'generate_defender_events' | 'entries_soft_limit' | 'entries_hard_limit'
>;

/** RATE_LIMITED with the time after which a new attempt may succeed */
export class RateLimitError extends SftpgoError {
  /** ms until a token is available */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, maxDelayMs: number) {
    super(
      'RATE_LIMITED',
      `rate limit exceeded, wait time to respect rate ${Math.ceil(retryAfterMs)}ms, max wait time allowed ${Math.ceil(maxDelayMs)}ms`,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

/** the Retry-After value (whole seconds, at least 1) of a refused request */
export function retryAfterSeconds(e: unknown): number {
  const ms = (e as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1;
}

export interface RateLimiterOptions {
  /** clock in ms since epoch */
  now?: () => number;
  /** how to wait (default: a timer) */
  sleep?: (ms: number) => Promise<void>;
}

/** A token bucket (the subset of x/time/rate.Limiter upstream uses: Reserve, Delay, Cancel). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerMs: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private advance(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerMs);
      this.last = now;
    }
  }

  /** takes one token; returns the ms to wait before the token is really available (0 = now) */
  reserve(now: number): number {
    this.advance(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : -this.tokens / this.ratePerMs;
  }

  /** gives back a reserved token that will not be used */
  cancel(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}

/** One configured limiter. */
export class RateLimiter {
  readonly protocols: readonly string[];
  readonly perSource: boolean;
  readonly generateDefenderEvents: boolean;
  /** longest accepted wait, ms */
  readonly maxDelayMs: number;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly global: TokenBucket | undefined;
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastActivity: number }>();
  private readonly softLimit: number;
  private readonly hardLimit: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(cfg: RateLimiterSettings, o: RateLimiterOptions = {}) {
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => delay(ms));
    this.protocols = [...new Set(cfg.protocols)];
    this.perSource = cfg.type === 2;
    this.generateDefenderEvents = cfg.generate_defender_events;
    this.burst = Math.max(1, cfg.burst);
    const perSecond = (cfg.average * 1000) / cfg.period;
    this.ratePerMs = perSecond / 1000;
    const maxDelay = perSecond < 1 ? cfg.period / 2 : Math.floor(1000 / (Math.trunc(perSecond) * 2));
    this.maxDelayMs = Math.min(maxDelay, 10_000);
    this.softLimit = cfg.entries_soft_limit;
    this.hardLimit = cfg.entries_hard_limit;
    this.global = this.perSource ? undefined : new TokenBucket(this.ratePerMs, this.burst, this.now());
  }

  private bucketFor(source: string, now: number): TokenBucket {
    const known = this.buckets.get(source);
    if (known) {
      known.lastActivity = now;
      return known.bucket;
    }
    if (this.buckets.size >= this.hardLimit) {
      const excess = this.buckets.size - this.softLimit;
      const oldest = [...this.buckets].sort((a, b) => a[1].lastActivity - b[1].lastActivity).slice(0, excess);
      for (const [k] of oldest) this.buckets.delete(k);
    }
    const bucket = new TokenBucket(this.ratePerMs, this.burst, now);
    this.buckets.set(source, { bucket, lastActivity: now });
    return bucket;
  }

  /** per-IP buckets kept in memory */
  get trackedSources(): number {
    return this.buckets.size;
  }

  /**
   * Takes a token for `source`. Returns the ms the caller must wait (≤ maxDelayMs); throws
   * RateLimitError (and gives the token back) when the wait would be longer.
   */
  reserve(source: string): number {
    const now = this.now();
    const bucket = this.global ?? this.bucketFor(source, now);
    const wait = bucket.reserve(now);
    if (wait > this.maxDelayMs) {
      bucket.cancel();
      throw new RateLimitError(wait, this.maxDelayMs);
    }
    return wait;
  }

  /** reserve() then sleep for the delay */
  async wait(source: string): Promise<void> {
    const ms = this.reserve(source);
    if (ms > 0) await this.sleep(ms);
  }
}

export interface RateLimitersOptions extends RateLimiterOptions {
  /** a per-IP limiter with generate_defender_events refused `ip` (wire to the defender) */
  onLimitExceeded?: (ip: string) => void;
}

/** Every enabled limiter of the configuration, by protocol (upstream LimitRate). */
export class RateLimiters {
  private readonly byProtocol = new Map<string, RateLimiter[]>();
  private readonly onLimitExceeded: ((ip: string) => void) | undefined;

  constructor(cfgs: readonly RateLimiterSettings[], o: RateLimitersOptions = {}) {
    this.onLimitExceeded = o.onLimitExceeded;
    for (const cfg of cfgs) {
      if (!(cfg.average > 0) || cfg.protocols.length === 0) continue;
      const limiter = new RateLimiter(cfg, o);
      for (const p of limiter.protocols) {
        const list = this.byProtocol.get(p) ?? [];
        list.push(limiter);
        this.byProtocol.set(p, list);
      }
    }
  }

  /** whether any limiter applies to the protocol */
  enabledFor(protocol: LoginProtocol): boolean {
    return (this.byProtocol.get(protocol)?.length ?? 0) > 0;
  }

  /**
   * Waits until every limiter of the protocol allows one more request from `ipOrAddress`.
   * Throws RateLimitError (code RATE_LIMITED) when one of them would need a longer wait than
   * it accepts.
   */
  async limit(protocol: LoginProtocol, ipOrAddress: string): Promise<void> {
    const limiters = this.byProtocol.get(protocol);
    if (!limiters) return;
    const ip = ipFromRemoteAddress(ipOrAddress);
    for (const l of limiters) {
      try {
        await l.wait(ip);
      } catch (e) {
        if (l.perSource && l.generateDefenderEvents && SftpgoError.is(e, 'RATE_LIMITED')) this.onLimitExceeded?.(ip);
        throw e;
      }
    }
  }
}
