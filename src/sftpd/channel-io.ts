/**
 * Pull-style reading from, and backpressure-aware writing to, an SSH exec channel.
 *
 * The reader pauses the channel stream when more than `highWaterMark` bytes are buffered, so
 * ssh2 stops refilling the client's window: an upload cannot outrun the storage.
 */
import type { Readable, Writable } from 'node:stream';

export class ChannelReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly highWaterMark = 4 * 1024 * 1024,
  ) {
    stream.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.buffered += b.length;
      if (this.buffered >= this.highWaterMark) stream.pause();
      this.notify();
    });
    stream.on('end', () => {
      this.ended = true;
      this.notify();
    });
    stream.on('close', () => {
      this.ended = true;
      this.notify();
    });
    stream.on('error', (e: Error) => {
      this.failure = e;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async waitData(): Promise<boolean> {
    while (this.buffered === 0) {
      if (this.failure) throw this.failure;
      if (this.ended) return false;
      await new Promise<void>((r) => (this.wake = r));
    }
    return true;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let out: Buffer;
    if (first.length <= n) {
      this.chunks.shift();
      out = first;
    } else {
      out = first.subarray(0, n);
      this.chunks[0] = first.subarray(n);
    }
    this.buffered -= out.length;
    if (this.buffered < this.highWaterMark / 2 && this.stream.isPaused()) this.stream.resume();
    return out;
  }

  /** up to `max` bytes (at least 1), or null at end of stream */
  async read(max: number): Promise<Buffer | null> {
    if (!(await this.waitData())) return null;
    return this.take(max);
  }

  /** one byte, or null at end of stream */
  async readByte(): Promise<number | null> {
    const b = await this.read(1);
    return b === null ? null : (b[0] as number);
  }

  /**
   * A line without its "\n", or null when the stream ends before any byte. Throws when the
   * line is longer than `max` or the stream ends mid-line.
   */
  async readLine(max = 64 * 1024): Promise<string | null> {
    const parts: Buffer[] = [];
    let len = 0;
    for (;;) {
      if (!(await this.waitData())) {
        if (len === 0) return null;
        throw new Error('unexpected end of stream');
      }
      const head = this.chunks[0] as Buffer;
      const nl = head.indexOf(0x0a);
      if (nl >= 0) {
        parts.push(this.take(nl));
        this.take(1);
        return Buffer.concat(parts).toString('utf8');
      }
      const b = this.take(head.length);
      parts.push(b);
      len += b.length;
      if (len > max) throw new Error('protocol line too long');
    }
  }

  /** the rest of the stream, up to `max` bytes (excess is read and dropped) */
  async readAll(max: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let len = 0;
    for (;;) {
      const b = await this.read(64 * 1024);
      if (b === null) return Buffer.concat(parts);
      if (len < max) {
        parts.push(b.subarray(0, max - len));
        len += Math.min(b.length, max - len);
      }
    }
  }
}

/** writes `data`, waiting for 'drain' when the channel's buffer is full */
export async function writeChannel(w: Writable, data: Buffer | string): Promise<void> {
  if (w.destroyed || w.writableEnded) throw new Error('the channel is closed');
  if (w.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      w.off('drain', onDrain);
      w.off('close', onClose);
      w.off('error', onError);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the channel is closed'));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    w.on('drain', onDrain);
    w.on('close', onClose);
    w.on('error', onError);
  });
}
