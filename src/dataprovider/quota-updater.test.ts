import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayedQuotaUpdater, type QuotaKind, type QuotaTimers } from './quota-updater.js';

/** timers fired by hand: `fire()` runs the scheduled callback and awaits its flush */
class ManualTimers implements QuotaTimers {
  scheduled: { fn: () => Promise<void>; ms: number; id: number } | undefined;
  #next = 0;
  sets = 0;
  set(fn: () => Promise<void>, ms: number): unknown {
    this.sets++;
    this.scheduled = { fn, ms, id: ++this.#next };
    return this.#next;
  }
  clear(handle: unknown): void {
    if (this.scheduled?.id === handle) this.scheduled = undefined;
  }
  /** the delay of the scheduled flush (a method: assertions must not narrow `scheduled`) */
  delay(): number | undefined {
    return this.scheduled?.ms;
  }
  async fire(): Promise<void> {
    const s = this.scheduled;
    assert.ok(s !== undefined, 'a flush is scheduled');
    this.scheduled = undefined;
    await s.fn();
  }
}

type Call = [QuotaKind, string, number, number];

function setup(o: { fail?: (kind: QuotaKind, name: string) => unknown } = {}) {
  const timers = new ManualTimers();
  const calls: Call[] = [];
  const errors: Call[] = [];
  const u = new DelayedQuotaUpdater({
    delaySeconds: 2,
    timers,
    store: (kind, name, size, files) => {
      const err = o.fail?.(kind, name);
      if (err !== undefined) return Promise.reject(err as Error);
      calls.push([kind, name, size, files]);
      return Promise.resolve();
    },
    isPermanentError: (e) => (e as Error).message === 'gone',
    onError: (kind, name) => errors.push([kind, name, 0, 0]),
  });
  return { u, timers, calls, errors };
}

void describe('DelayedQuotaUpdater', () => {
  void test('rejects a non-positive delay', () => {
    const store = () => Promise.resolve();
    assert.throws(() => new DelayedQuotaUpdater({ delaySeconds: 0, store }), RangeError);
    assert.throws(() => new DelayedQuotaUpdater({ delaySeconds: -1, store }), RangeError);
  });

  void test('accumulates per kind and name; a zero sum drops the entry', () => {
    const { u } = setup();
    u.add('user', 'a', 10, 1);
    u.add('user', 'a', 5, 2);
    u.add('folder', 'a', 7, 1);
    u.add('user', 'b', 0, 0);
    assert.deepEqual(u.pending('user', 'a'), { size: 15, files: 3 });
    assert.deepEqual(u.pending('folder', 'a'), { size: 7, files: 1 });
    assert.deepEqual(u.pending('user', 'b'), { size: 0, files: 0 });
    assert.equal(u.size(), 2);
    u.add('user', 'a', -15, -3);
    assert.equal(u.size('user'), 0);
    assert.deepEqual(u.pending('user', 'a'), { size: 0, files: 0 });
  });

  void test('negative deltas are kept', () => {
    const { u } = setup();
    u.add('folder', 'f', -100, -2);
    assert.deepEqual(u.pending('folder', 'f'), { size: -100, files: -2 });
  });

  void test('pending() returns a copy', () => {
    const { u } = setup();
    u.add('user', 'a', 1, 1);
    const p = u.pending('user', 'a');
    p.size = 99;
    assert.deepEqual(u.pending('user', 'a'), { size: 1, files: 1 });
  });

  void test('reset drops the pending delta of that name only', () => {
    const { u } = setup();
    u.add('user', 'a', 1, 1);
    u.add('user', 'b', 2, 2);
    u.add('folder', 'a', 3, 3);
    u.reset('user', 'a');
    assert.deepEqual(u.pending('user', 'a'), { size: 0, files: 0 });
    assert.deepEqual(u.pending('user', 'b'), { size: 2, files: 2 });
    assert.deepEqual(u.pending('folder', 'a'), { size: 3, files: 3 });
  });

  void test('flush writes one delta per pending name, users then folders', async () => {
    const { u, calls } = setup();
    u.add('folder', 'f', 4, 1);
    u.add('user', 'a', 1, 1);
    u.add('user', 'a', 2, 1);
    u.add('user', 'b', -3, -1);
    await u.flush();
    assert.deepEqual(calls, [
      ['user', 'a', 3, 2],
      ['user', 'b', -3, -1],
      ['folder', 'f', 4, 1],
    ]);
    assert.equal(u.size(), 0);
    await u.flush();
    assert.equal(calls.length, 3, 'nothing left to write');
  });

  void test('deltas added while a write is in flight stay pending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: Call[] = [];
    const u = new DelayedQuotaUpdater({
      delaySeconds: 1,
      timers: new ManualTimers(),
      store: async (kind, name, size, files) => {
        calls.push([kind, name, size, files]);
        await gate;
      },
    });
    u.add('user', 'a', 10, 1);
    const f = u.flush();
    await Promise.resolve();
    u.add('user', 'a', 5, 1);
    release();
    await f;
    assert.deepEqual(calls, [['user', 'a', 10, 1]]);
    assert.deepEqual(u.pending('user', 'a'), { size: 5, files: 1 });
  });

  void test('a reset during an in-flight write is not undone by the flush', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const u = new DelayedQuotaUpdater({
      delaySeconds: 1,
      timers: new ManualTimers(),
      store: () => gate,
    });
    u.add('user', 'a', 10, 1);
    const f = u.flush();
    await Promise.resolve();
    u.reset('user', 'a');
    u.add('user', 'a', 3, 1);
    release();
    await f;
    assert.deepEqual(u.pending('user', 'a'), { size: 3, files: 1 });
  });

  void test('a failed write keeps its delta, a permanent failure drops it', async () => {
    const { u, calls, errors } = setup({
      fail: (_kind, name) =>
        name === 'down' ? new Error('db down') : name === 'deleted' ? new Error('gone') : undefined,
    });
    u.add('user', 'down', 1, 1);
    u.add('user', 'deleted', 2, 2);
    u.add('user', 'ok', 3, 3);
    await u.flush();
    assert.deepEqual(calls, [['user', 'ok', 3, 3]]);
    assert.deepEqual(
      errors.map((e) => e[1]),
      ['down', 'deleted'],
    );
    assert.deepEqual(u.pending('user', 'down'), { size: 1, files: 1 });
    assert.deepEqual(u.pending('user', 'deleted'), { size: 0, files: 0 });
    assert.deepEqual(u.pending('user', 'ok'), { size: 0, files: 0 });
  });

  void test('concurrent flushes are serialized and write each delta once', async () => {
    const { u, calls } = setup();
    u.add('user', 'a', 1, 1);
    await Promise.all([u.flush(), u.flush(), u.flush()]);
    assert.deepEqual(calls, [['user', 'a', 1, 1]]);
  });

  void test('the loop flushes every delaySeconds, rescheduling after each flush', async () => {
    const { u, timers, calls } = setup();
    assert.equal(timers.scheduled, undefined, 'nothing scheduled before start');
    u.start();
    u.start();
    assert.equal(timers.sets, 1, 'start is idempotent');
    assert.equal(timers.delay(), 2000);
    u.add('user', 'a', 1, 1);
    await timers.fire();
    assert.deepEqual(calls, [['user', 'a', 1, 1]]);
    assert.equal(timers.delay(), 2000, 'rescheduled');
    u.add('folder', 'f', 2, 1);
    await timers.fire();
    assert.deepEqual(calls[1], ['folder', 'f', 2, 1]);
    u.stop();
    assert.equal(timers.scheduled, undefined, 'stop clears the timer');
    u.add('user', 'a', 5, 5);
    assert.deepEqual(u.pending('user', 'a'), { size: 5, files: 5 }, 'stop keeps pending deltas');
  });

  void test('the loop goes on after a failed write', async () => {
    let fail = true;
    const { u, timers, calls } = setup({
      fail: () => (fail ? new Error('db down') : undefined),
    });
    u.start();
    u.add('user', 'a', 1, 1);
    await timers.fire();
    assert.equal(calls.length, 0);
    assert.ok(timers.scheduled !== undefined, 'rescheduled after the failure');
    fail = false;
    await timers.fire();
    assert.deepEqual(calls, [['user', 'a', 1, 1]]);
    u.stop();
  });

  void test('the real timers do not keep the process alive', () => {
    const u = new DelayedQuotaUpdater({ delaySeconds: 3600, store: () => Promise.resolve() });
    u.start();
    u.stop();
  });
});
