import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HookTasks } from './tasks.js';

/** a task that runs until its signal aborts, then settles as `outcome` says */
function untilAborted(
  outcome: 'resolve' | 'reject',
  log: string[],
): (signal: AbortSignal) => Promise<string> {
  return (signal) =>
    new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => {
        log.push('aborted');
        if (outcome === 'resolve') resolve('done');
        else reject(new Error('killed'));
      });
    });
}

void describe('HookTasks', () => {
  void test('track gives the task result; close aborts running tasks and waits for them', async () => {
    const t = new HookTasks();
    assert.equal(await t.track(() => Promise.resolve(42)), 42);
    const log: string[] = [];
    const a = t.track(untilAborted('resolve', log));
    const b = t.track(untilAborted('reject', log));
    t.run(async (signal) => {
      await untilAborted('reject', log)(signal);
    });
    await t.close();
    assert.deepEqual(log, ['aborted', 'aborted', 'aborted']);
    assert.equal(await a, 'done');
    await assert.rejects(b, /killed/);
  });

  void test('after close, track rejects without running the task and run does nothing', async () => {
    const t = new HookTasks();
    await t.close();
    let ran = false;
    await assert.rejects(
      t.track(() => {
        ran = true;
        return Promise.resolve();
      }),
      /shutting down/,
    );
    t.run(() => {
      ran = true;
      return Promise.resolve();
    });
    assert.equal(ran, false);
  });
});
