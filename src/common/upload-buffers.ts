/**
 * Upload bytes gathered into a few reused buffers, for front ends that read from a socket into
 * one fixed buffer (Node's `onread` option of `net.Socket`) instead of getting a fresh Buffer per
 * read.
 *
 * Why (bench/README.md, "Upload buffers and GC"): every socket read Node hands out as a
 * 'data' chunk is a new ArrayBuffer. V8 counts its bytes as external memory until a scavenge
 * frees it, and adds the external memory allocated since the last mark-compact to the old
 * generation's size when it decides whether to start one; with a small young generation a big
 * upload then starts a mark-compact of the whole old space every ~15 MiB. Reading into a fixed
 * buffer and copying into these allocates no ArrayBuffer per read.
 *
 * Flow control: at most `count` buffers of `size` bytes exist per upload (default 3 × 1 MiB,
 * within the 4 MiB of pending writes per session of docs/transfers.md); `push` returns false
 * when the next read might not fit, and `onDrain` is called once it would (a buffer was written)
 * and the upload's throttle allows reading again.
 *
 * Between uploads (`release()` once the upload is closed) the buffers go back to a pool shared
 * by all uploads (`uploadBufferPool`, a few MiB at most): a 1 MiB buffer allocated per upload
 * is external memory too, and a series of small uploads (an FTP `put -r` of 4 KiB files) then
 * started a mark-compact every ~15 files (bench/README.md, "Small-file uploads").
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** what the receiver needs from an upload (UploadTransfer) */
export interface BufferedUploadTarget {
  write(position: number, data: Buffer): Promise<void>;
  /** ms to stop reading for the upload's bandwidth limit, counting `buffered` bytes not written yet */
  throttleDelay(buffered: number): number;
}

/**
 * Buffers kept for reuse, up to `maxBytes` in all; `take` allocates when none of the size is
 * free. Only whole buffers from `take` (or allocUnsafeSlow) may be given back, and only once
 * nothing refers to their bytes any more.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private kept = 0;

  constructor(private readonly maxBytes: number) {}

  /** bytes held for reuse */
  get size(): number {
    return this.kept;
  }

  take(size: number): Buffer {
    const b = this.free.get(size)?.pop();
    if (!b) return Buffer.allocUnsafeSlow(size);
    this.kept -= size;
    return b;
  }

  give(b: Buffer): void {
    if (
      this.kept + b.length > this.maxBytes ||
      b.byteOffset !== 0 ||
      b.buffer.byteLength !== b.length
    )
      return;
    let list = this.free.get(b.length);
    if (!list) this.free.set(b.length, (list = []));
    list.push(b);
    this.kept += b.length;
  }
}

/** the pool of upload buffers and socket read buffers (a few MiB stay allocated once used) */
export const uploadBufferPool = new BufferPool(5 * 1024 * 1024);

export interface UploadBuffersOptions {
  /** buffers per upload (default 3) */
  count?: number;
  /** bytes per buffer, each written with one write (default 1 MiB) */
  size?: number;
  /** the largest read `push` is given (default 64 KiB): room for it is kept before reading on */
  maxRead?: number;
  /** where buffers come from and go back to on `release()` (default uploadBufferPool) */
  pool?: BufferPool;
}

export class UploadBuffers {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private cur: Buffer | undefined;
  private fill = 0;
  private pos: number;
  private inFlight = 0;
  private failure: unknown;
  private waiting = false;
  private sleeping = false;
  private idle: (() => void) | undefined;
  private readonly count: number;
  private readonly size: number;
  private readonly maxRead: number;
  private readonly pool: BufferPool;
  /** called when reading may go on after `push` returned false */
  onDrain: (() => void) | undefined;
  /** called once, with the first write error (the upload failed: stop reading) */
  onError: ((e: unknown) => void) | undefined;

  constructor(
    private readonly target: BufferedUploadTarget,
    startOffset: number,
    o: UploadBuffersOptions = {},
  ) {
    this.pos = startOffset;
    this.count = Math.max(2, o.count ?? 3);
    this.size = o.size ?? 1024 * 1024;
    this.maxRead = Math.min(o.maxRead ?? 64 * 1024, this.size);
    this.pool = o.pool ?? uploadBufferPool;
  }

  /** the first write error (the upload failed: stop reading) */
  get error(): unknown {
    return this.failure;
  }

  /**
   * Copies `data` (which the caller may reuse at once) into the buffers, writing each one that
   * fills up. Returns false when the caller must stop reading until `onDrain`.
   */
  push(data: Uint8Array): boolean {
    if (this.failure !== undefined) return false;
    let off = 0;
    while (off < data.length) {
      const cur = (this.cur ??= this.take());
      if (!cur) {
        // only when the caller read past a false return or beyond maxRead: keep the bytes
        this.cur = this.pool.take(this.size);
        this.allocated++;
        continue;
      }
      const n = Math.min(cur.length - this.fill, data.length - off);
      cur.set(data.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === cur.length) this.dispatch();
    }
    if (this.canRead()) return true;
    this.waiting = true;
    void this.resumeWhenReady();
    return false;
  }

  /** writes what is buffered and resolves once every write is done; rejects with a write error */
  async finish(): Promise<void> {
    if (this.failure === undefined && this.fill > 0) this.dispatch();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  private take(): Buffer | undefined {
    const b = this.free.pop();
    if (b) return b;
    if (this.allocated >= this.count) return undefined;
    this.allocated++;
    return this.pool.take(this.size);
  }

  /**
   * Gives the buffers back to the pool once the upload is closed (committed: no backend refers
   * to the written bytes any more) and nothing is pushed after. Does nothing while a write is in
   * flight or after a write error.
   */
  release(): void {
    if (this.inFlight > 0 || this.failure !== undefined) return;
    if (this.cur) this.free.push(this.cur);
    this.cur = undefined;
    this.fill = 0;
    for (const b of this.free.splice(0)) this.pool.give(b);
    this.allocated = 0;
  }

  /** room for one more read of up to maxRead bytes, and not throttled */
  private canRead(): boolean {
    if (this.failure !== undefined) return false;
    const room =
      (this.cur ? this.cur.length - this.fill : 0) +
      (this.free.length + Math.max(0, this.count - this.allocated)) * this.size;
    return room >= this.maxRead && this.target.throttleDelay(this.fill) === 0;
  }

  private dispatch(): void {
    const buf = this.cur as Buffer;
    const data = this.fill === buf.length ? buf : buf.subarray(0, this.fill);
    const at = this.pos;
    this.pos += this.fill;
    this.cur = undefined;
    this.fill = 0;
    this.inFlight++;
    this.target.write(at, data).then(
      () => this.written(buf),
      (e: unknown) => {
        const first = this.failure === undefined;
        if (first) this.failure = e;
        this.written(undefined);
        if (first) this.onError?.(e);
      },
    );
  }

  private written(buf: Buffer | undefined): void {
    this.inFlight--;
    if (buf && this.allocated <= this.count) this.free.push(buf);
    else if (buf) this.allocated--;
    if (this.inFlight === 0 && this.idle) {
      const r = this.idle;
      this.idle = undefined;
      r();
    }
    if (this.waiting) void this.resumeWhenReady();
  }

  /** calls onDrain once reading may go on; waits out the throttle (one sleeper at a time) */
  private async resumeWhenReady(): Promise<void> {
    if (this.sleeping) return;
    for (;;) {
      if (!this.waiting || this.failure !== undefined) return;
      const ms = this.target.throttleDelay(this.fill);
      if (ms <= 0) break;
      this.sleeping = true;
      await sleep(ms);
      this.sleeping = false;
    }
    // no room: the next written buffer calls again
    if (!this.canRead()) return;
    this.waiting = false;
    this.onDrain?.();
  }
}
