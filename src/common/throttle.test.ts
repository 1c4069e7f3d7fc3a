import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Throttle } from './throttle.js';

void describe('Throttle', () => {
  void it('computes the wait from the wanted rate (injected clock)', () => {
    let now = 1_000_000;
    const t = new Throttle(100, () => now); // 100 KB/s
    assert.equal(t.delayFor(0), 0);
    assert.equal(t.delayFor(50_000), 500);
    now += 200;
    assert.equal(t.delayFor(50_000), 300);
    now += 1000;
    assert.equal(t.delayFor(50_000), 0);
  });

  void it('is disabled at 0', () => {
    const t = new Throttle(0);
    assert.equal(t.enabled, false);
    assert.equal(t.delayFor(1e9), 0);
  });
});
