import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { streamSource } from './transfer.js';

const DATA = Buffer.from(
  Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 0xff),
);

/** a backend's openRead: `chunk`-byte chunks from `offset`; counts the streams opened */
function backend(chunk = 65536): { open: (offset: number) => Promise<Readable>; opened: number[] } {
  const opened: number[] = [];
  return {
    opened,
    open(offset) {
      opened.push(offset);
      function* chunks(): Generator<Buffer> {
        for (let at = offset; at < DATA.length; at += chunk)
          yield DATA.subarray(at, Math.min(at + chunk, DATA.length));
      }
      return Promise.resolve(Readable.from(chunks()));
    },
  };
}

async function source(start = 0) {
  const b = backend();
  return { b, src: streamSource(b.open, await b.open(start), start) };
}

void describe('streamSource (downloads from backends without positional reads)', () => {
  void it('serves pipelined in-order reads from one stream', async () => {
    const { b, src } = await source();
    const reads = [0, 32768, 65536, 98304].map((p) => src.read(p, 32768));
    const got = await Promise.all(reads);
    assert.deepEqual(Buffer.concat(got.map((g) => g ?? Buffer.alloc(0))), DATA.subarray(0, 131072));
    assert.deepEqual(b.opened, [0]);
    await src.close();
  });

  void it('drops bytes for a short jump forward, reopens for a long one or a jump back', async () => {
    const { b, src } = await source();
    assert.deepEqual(await src.read(0, 10), DATA.subarray(0, 10));
    assert.deepEqual(await src.read(500_000, 100), DATA.subarray(500_000, 500_100));
    assert.deepEqual(b.opened, [0]);
    assert.deepEqual(await src.read(2_900_000, 100), DATA.subarray(2_900_000, 2_900_100));
    assert.deepEqual(await src.read(5, 20), DATA.subarray(5, 25));
    assert.deepEqual(b.opened, [0, 2_900_000, 5]);
    assert.deepEqual(await src.read(25, 10), DATA.subarray(25, 35));
    assert.equal(b.opened.length, 3);
    await src.close();
  });

  void it('fills every read from several smaller chunks, short only at the end of the file', async () => {
    const b = backend(16384 + 7);
    const src = streamSource(b.open, await b.open(0), 0);
    let pos = 0;
    for (;;) {
      const got = await src.read(pos, 32768);
      if (!got) break;
      if (pos + 32768 <= DATA.length) assert.equal(got.length, 32768);
      assert.deepEqual(got, DATA.subarray(pos, pos + got.length));
      pos += got.length;
    }
    assert.equal(pos, DATA.length);
    assert.deepEqual(b.opened, [0]);
  });

  void it('answers end of file at and past the end, and after a resume offset', async () => {
    const { src } = await source(DATA.length - 10);
    assert.deepEqual(await src.read(DATA.length - 10, 100), DATA.subarray(DATA.length - 10));
    assert.equal(await src.read(DATA.length, 100), null);
    assert.equal(await src.read(DATA.length + 5, 100), null);
    await src.close();
    await assert.rejects(src.read(0, 1), /closed/);
  });
});
