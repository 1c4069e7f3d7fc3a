import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteQueue, type PositionalWriter } from './write-queue.js';

class FakeWriter implements PositionalWriter {
  calls: { pos: number; lens: number[] }[] = [];
  data = Buffer.alloc(1024);
  private gates: (() => void)[] = [];
  failAt: number | undefined;
  hold = true;

  writev(pos: number, bufs: readonly Buffer[]): Promise<void> {
    this.calls.push({ pos, lens: bufs.map((b) => b.length) });
    return new Promise((resolve, reject) => {
      const run = (): void => {
        if (this.failAt === pos) {
          reject(new Error('disk on fire'));
          return;
        }
        let p = pos;
        for (const b of bufs) {
          b.copy(this.data, p);
          p += b.length;
        }
        resolve();
      };
      if (this.hold) this.gates.push(run);
      else run();
    });
  }

  release(): void {
    const g = this.gates.splice(0);
    for (const r of g) r();
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

void describe('WriteQueue', () => {
  void it('keeps one write in flight and merges contiguous writes', async () => {
    const w = new FakeWriter();
    const q = new WriteQueue(w);
    const ps = [
      q.write(0, Buffer.from('aa')),
      q.write(2, Buffer.from('bb')),
      q.write(4, Buffer.from('cc')),
      q.write(10, Buffer.from('zz')),
      q.write(12, Buffer.from('yy')),
    ];
    await tick();
    assert.deepEqual(w.calls, [{ pos: 0, lens: [2] }]);
    w.release();
    await tick();
    assert.deepEqual(w.calls[1], { pos: 2, lens: [2, 2] });
    w.release();
    await tick();
    assert.deepEqual(w.calls[2], { pos: 10, lens: [2, 2] });
    w.release();
    await Promise.all(ps);
    await q.drain();
    assert.equal(w.data.subarray(0, 6).toString(), 'aabbcc');
    assert.equal(w.data.subarray(10, 14).toString(), 'zzyy');
    assert.equal(q.batches, 3);
  });

  void it('caps a batch', async () => {
    const w = new FakeWriter();
    const q = new WriteQueue(w, { maxBatch: 2 });
    const ps = [0, 1, 2, 3, 4].map((i) => q.write(i, Buffer.from('x')));
    for (let i = 0; i < 5; i++) {
      await tick();
      w.release();
    }
    await Promise.all(ps);
    assert.deepEqual(
      w.calls.map((c) => c.lens.length),
      [1, 2, 2],
    );
  });

  void it('a failed write fails the queued ones and every later one', async () => {
    const w = new FakeWriter();
    w.hold = false;
    w.failAt = 4;
    const q = new WriteQueue(w);
    const a = q.write(0, Buffer.from('aaaa'));
    const b = q.write(4, Buffer.from('bbbb'));
    await a;
    await assert.rejects(b, /disk on fire/);
    await assert.rejects(q.write(8, Buffer.from('c')), /disk on fire/);
    await q.drain();
    assert.ok(q.error instanceof Error);
  });

  void it('fail() rejects pending writes; drain waits for the in-flight one', async () => {
    const w = new FakeWriter();
    const q = new WriteQueue(w);
    const first = q.write(0, Buffer.from('a'));
    const second = q.write(5, Buffer.from('b'));
    q.fail(new Error('aborted'));
    await assert.rejects(second, /aborted/);
    let drained = false;
    const d = q.drain().then(() => (drained = true));
    await tick();
    assert.equal(drained, false);
    w.release();
    await first;
    await d;
    assert.equal(drained, true);
  });
});
