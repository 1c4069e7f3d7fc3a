import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { RateLimiter, RateLimiters, RateLimitError, retryAfterSeconds, type RateLimiterSettings } from './ratelimiter.js';

function cfg(over: Partial<RateLimiterSettings> = {}): RateLimiterSettings {
  return {
    average: 10,
    period: 1000,
    burst: 1,
    type: 2,
    protocols: ['SSH', 'FTP', 'DAV', 'HTTP'],
    generate_defender_events: false,
    entries_soft_limit: 2,
    entries_hard_limit: 3,
    ...over,
  };
}

/** a fake clock whose sleep advances the time */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; advance: (ms: number) => void; slept: number[] } {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
    advance: (ms) => (t += ms),
    slept,
  };
}

const isRateLimited = (e: unknown): boolean => SftpgoError.is(e, 'RATE_LIMITED') && e instanceof RateLimitError;

void describe('RateLimiter', () => {
  void it('computes the max wait as upstream', () => {
    assert.equal(new RateLimiter(cfg({ average: 10, period: 1000 })).maxDelayMs, 50);
    assert.equal(new RateLimiter(cfg({ average: 1, period: 1000 })).maxDelayMs, 500);
    assert.equal(new RateLimiter(cfg({ average: 1, period: 5000 })).maxDelayMs, 2500);
    assert.equal(new RateLimiter(cfg({ average: 1, period: 60_000 })).maxDelayMs, 10_000);
    assert.equal(new RateLimiter(cfg({ average: 3, period: 2000 })).maxDelayMs, 500);
  });

  void it('spends the burst, delays within the max wait, then refuses', () => {
    const t = fakeTime();
    // 10/s: one token every 100 ms, max wait 50 ms
    const l = new RateLimiter(cfg({ burst: 2 }), t);
    assert.equal(l.reserve('1.1.1.1'), 0);
    assert.equal(l.reserve('1.1.1.1'), 0);
    // the third request needs 100 ms > 50 ms: refused
    assert.throws(() => l.reserve('1.1.1.1'), (e: unknown) => isRateLimited(e) && (e as RateLimitError).retryAfterMs === 100);
    t.advance(60);
    // 60 ms later the token is 40 ms away: delayed
    assert.equal(Math.round(l.reserve('1.1.1.1')), 40);
    t.advance(40);
    // that token is spent now: the next one is 100 ms away again
    assert.throws(() => l.reserve('1.1.1.1'), (e: unknown) => isRateLimited(e) && Math.round((e as RateLimitError).retryAfterMs) === 100);
    // the refused requests gave their tokens back: 100 ms later one token is there at once
    t.advance(100);
    assert.equal(l.reserve('1.1.1.1'), 0);
  });

  void it('per-IP buckets are independent and trimmed between the soft and hard limits', () => {
    const t = fakeTime();
    const l = new RateLimiter(cfg({ average: 1, period: 10_000 }), t);
    assert.equal(l.reserve('10.0.0.1'), 0);
    assert.throws(() => l.reserve('10.0.0.1'), isRateLimited);
    assert.equal(l.reserve('10.0.0.2'), 0);
    t.advance(1);
    assert.equal(l.reserve('10.0.0.3'), 0);
    t.advance(1);
    assert.equal(l.trackedSources, 3);
    // a 4th source: the 3 buckets reach the hard limit, trimmed to the soft limit (2), oldest first
    assert.equal(l.reserve('10.0.0.4'), 0);
    assert.equal(l.trackedSources, 3);
    // 10.0.0.1 was the least recently active: it got a fresh bucket
    assert.equal(l.reserve('10.0.0.1'), 0);
  });

  void it('a global limiter shares one bucket between every source', () => {
    const t = fakeTime();
    const l = new RateLimiter(cfg({ type: 1, average: 1, period: 10_000 }), t);
    assert.equal(l.reserve('10.0.0.1'), 0);
    assert.throws(() => l.reserve('10.0.0.2'), isRateLimited);
    t.advance(10_000);
    assert.equal(l.reserve('10.0.0.2'), 0);
  });
});

void describe('RateLimiters', () => {
  void it('applies the limiters of the protocol, waits, refuses and reports defender events', async () => {
    const t = fakeTime();
    const events: string[] = [];
    const rl = new RateLimiters(
      [
        cfg({ average: 0 }), // disabled
        cfg({ average: 2, period: 1000, burst: 1, protocols: ['SSH'], generate_defender_events: true }),
        cfg({ average: 100, period: 1000, burst: 100, protocols: ['HTTP'], type: 1 }),
      ],
      { ...t, onLimitExceeded: (ip) => events.push(ip) },
    );
    assert.equal(rl.enabledFor('SSH'), true);
    assert.equal(rl.enabledFor('FTP'), false);
    await rl.limit('FTP', '1.2.3.4'); // no limiter: nothing happens
    await rl.limit('SSH', '1.2.3.4:5555');
    // 2/s: next token in 500 ms, max wait 250 ms
    await assert.rejects(rl.limit('SSH', '::ffff:1.2.3.4'), isRateLimited);
    assert.deepEqual(events, ['1.2.3.4']);
    t.advance(300);
    await rl.limit('SSH', '1.2.3.4');
    assert.equal(t.slept.length, 1);
    assert.equal(Math.round(t.slept[0] ?? 0), 200);
    for (let i = 0; i < 100; i++) await rl.limit('HTTP', `10.0.0.${i}`);
    await assert.rejects(rl.limit('HTTP', '10.9.9.9'), isRateLimited);
    // global limiters never report defender events
    assert.deepEqual(events, ['1.2.3.4']);
  });

  void it('retryAfterSeconds rounds up to whole seconds, at least 1', () => {
    assert.equal(retryAfterSeconds(new RateLimitError(100, 50)), 1);
    assert.equal(retryAfterSeconds(new RateLimitError(2500, 50)), 3);
    assert.equal(retryAfterSeconds(new Error('x')), 1);
  });
});
