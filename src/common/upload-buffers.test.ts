import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BufferPool, UploadBuffers, type BufferedUploadTarget } from './upload-buffers.js';

/** an upload that records its writes; `hold` keeps them pending until release() */
class FakeUpload implements BufferedUploadTarget {
  writes: { pos: number; len: number }[] = [];
  data = Buffer.alloc(0);
  /** bytes whose write completed */
  done = 0;
  hold = false;
  failAt: number | undefined;
  delay = 0;
  private gates: (() => void)[] = [];

  write(pos: number, buf: Buffer): Promise<void> {
    this.writes.push({ pos, len: buf.length });
    return new Promise((resolve, reject) => {
      const run = (): void => {
        if (this.failAt === pos) {
          reject(new Error('quota exceeded'));
          return;
        }
        const end = pos + buf.length;
        if (this.data.length < end)
          this.data = Buffer.concat([this.data, Buffer.alloc(end - this.data.length)]);
        buf.copy(this.data, pos);
        this.done += buf.length;
        resolve();
      };
      if (this.hold) this.gates.push(run);
      else setImmediate(run);
    });
  }

  throttleDelay(): number {
    return this.delay;
  }

  release(): void {
    for (const r of this.gates.splice(0)) r();
  }

  get pending(): number {
    return this.gates.length;
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** pushes `src` in reads of `read` bytes through one reused read buffer, as a socket's onread does */
function pushAll(ub: UploadBuffers, src: Buffer, read: number): void {
  const readBuf = Buffer.alloc(read);
  for (let off = 0; off < src.length; off += read) {
    const n = src.copy(readBuf, 0, off, off + read);
    ub.push(readBuf.subarray(0, n));
    readBuf.fill(0); // the caller reuses its buffer at once
  }
}

void describe('UploadBuffers', () => {
  void it('writes the bytes in order, one write per full buffer, the rest on finish', async () => {
    const up = new FakeUpload();
    const ub = new UploadBuffers(up, 100, { size: 1000, maxRead: 300 });
    const src = randomBytes(2500);
    pushAll(ub, src, 300);
    await ub.finish();
    assert.deepEqual(up.writes, [
      { pos: 100, len: 1000 },
      { pos: 1100, len: 1000 },
      { pos: 2100, len: 500 },
    ]);
    assert.deepEqual(up.data.subarray(100), src);
  });

  void it('asks to stop reading while its buffers are all being written, and to go on after', async () => {
    const up = new FakeUpload();
    up.hold = true;
    const ub = new UploadBuffers(up, 0, { count: 2, size: 1000, maxRead: 300 });
    let drains = 0;
    ub.onDrain = () => drains++;
    const read = Buffer.alloc(300, 1);
    const answers: boolean[] = [];
    for (let i = 0; i < 6; i++) answers.push(ub.push(read));
    // 1800 bytes: the first buffer is written, the second has 200 left, less than a read
    assert.deepEqual(answers, [true, true, true, true, true, false]);
    assert.equal(up.pending, 1);
    assert.equal(drains, 0);
    up.release();
    await tick();
    assert.equal(drains, 1);
    up.hold = false;
    await ub.finish();
    assert.deepEqual(
      up.writes.map((w) => w.len),
      [1000, 800],
    );
  });

  void it('never holds more than its buffers while the caller keeps to the answers', async () => {
    const up = new FakeUpload();
    up.hold = true;
    const ub = new UploadBuffers(up, 0, { count: 3, size: 1024, maxRead: 256 });
    const src = randomBytes(20 * 1024);
    let off = 0;
    let maxHeld = 0;
    const feed = (): void => {
      while (off < src.length) {
        const go = ub.push(src.subarray(off, off + 256));
        off += 256;
        maxHeld = Math.max(maxHeld, off - up.done);
        if (!go) return;
      }
    };
    ub.onDrain = feed;
    feed();
    while (off < src.length || up.pending > 0) {
      assert.ok(up.pending <= 3, `${up.pending} buffers written at once`);
      up.release();
      await tick();
    }
    await ub.finish();
    assert.deepEqual(up.data, src);
    assert.ok(maxHeld <= 3 * 1024, `held ${maxHeld} bytes`);
  });

  void it('reports the first write error, stops reading and rejects finish', async () => {
    const up = new FakeUpload();
    up.failAt = 1000;
    const ub = new UploadBuffers(up, 0, { size: 1000, maxRead: 500 });
    const errors: unknown[] = [];
    ub.onError = (e) => errors.push(e);
    pushAll(ub, randomBytes(2000), 500);
    await tick();
    await tick();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /quota exceeded/);
    assert.equal(ub.push(Buffer.alloc(10)), false);
    await assert.rejects(ub.finish(), /quota exceeded/);
  });

  void it('asks to stop reading while the upload is throttled', async () => {
    const up = new FakeUpload();
    up.delay = 5;
    const ub = new UploadBuffers(up, 0, { size: 1000, maxRead: 100 });
    let drained = false;
    const done = new Promise<void>((resolve) => {
      ub.onDrain = () => {
        drained = true;
        resolve();
      };
    });
    assert.equal(ub.push(Buffer.alloc(100)), false);
    assert.equal(drained, false);
    up.delay = 0;
    await done;
    assert.equal(drained, true);
    await ub.finish();
    assert.deepEqual(up.writes, [{ pos: 0, len: 100 }]);
  });

  void it('gives its buffers back to the pool on release, and the next upload takes them', async () => {
    const pool = new BufferPool(4000);
    const up = new FakeUpload();
    const ub = new UploadBuffers(up, 0, { size: 1000, maxRead: 100, pool });
    const src = randomBytes(1500);
    pushAll(ub, src, 100);
    await ub.finish();
    assert.equal(pool.size, 0);
    ub.release();
    assert.equal(pool.size, 2000);
    const up2 = new FakeUpload();
    const ub2 = new UploadBuffers(up2, 0, { size: 1000, maxRead: 100, pool });
    const src2 = randomBytes(300);
    pushAll(ub2, src2, 100);
    assert.equal(pool.size, 1000);
    await ub2.finish();
    assert.deepEqual(up.data, src);
    assert.deepEqual(up2.data, src2);
  });

  void it('keeps its buffers out of the pool while a write is in flight or after a write error', async () => {
    const pool = new BufferPool(10_000);
    const up = new FakeUpload();
    up.hold = true;
    const ub = new UploadBuffers(up, 0, { size: 1000, maxRead: 100, pool });
    pushAll(ub, randomBytes(1000), 100);
    assert.equal(up.pending, 1);
    ub.release();
    assert.equal(pool.size, 0);
    up.release();
    await ub.finish();
    const failing = new FakeUpload();
    failing.failAt = 0;
    const ub2 = new UploadBuffers(failing, 0, { size: 1000, maxRead: 100, pool });
    pushAll(ub2, randomBytes(1000), 100);
    await assert.rejects(ub2.finish(), /quota exceeded/);
    ub2.release();
    assert.equal(pool.size, 0);
  });

  void it('pool: keeps at most its byte limit and only whole buffers', () => {
    const pool = new BufferPool(2048);
    pool.give(Buffer.allocUnsafeSlow(1024));
    pool.give(Buffer.allocUnsafeSlow(1024));
    pool.give(Buffer.allocUnsafeSlow(1024));
    assert.equal(pool.size, 2048);
    const small = new BufferPool(2048);
    small.give(Buffer.allocUnsafeSlow(1024).subarray(0, 512));
    assert.equal(small.size, 0);
    const a = pool.take(1024);
    assert.equal(a.length, 1024);
    assert.equal(pool.size, 1024);
    assert.equal(pool.take(512).length, 512);
    assert.equal(pool.size, 1024);
  });
});
