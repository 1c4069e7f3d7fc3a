/**
 * Per-transfer positional write queue (reference/ssh2-performance.md §5–6): at most one write
 * in flight; while it runs new writes queue up, and when it completes the queued writes that are
 * contiguous (in arrival order) are merged into one positional writev. Writes are never awaited
 * one by one by the producer: each enqueue returns a promise settled when its bytes are written.
 * The data Buffers are kept as given (no copy) until written.
 */

export interface PositionalWriter {
  writev(position: number, data: readonly Buffer[]): Promise<void>;
}

interface Pending {
  pos: number;
  buf: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueOptions {
  /** max writes merged into one writev (default 64) */
  maxBatch?: number;
  /** max bytes merged into one writev (default 8 MiB) */
  maxBatchBytes?: number;
}

export class WriteQueue {
  private readonly pending: Pending[] = [];
  private inFlight = false;
  private failure: unknown;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  /** number of writev calls issued (observability, tests) */
  batches = 0;

  constructor(
    private readonly writer: PositionalWriter,
    o: WriteQueueOptions = {},
  ) {
    this.maxBatch = o.maxBatch ?? 64;
    this.maxBatchBytes = o.maxBatchBytes ?? 8 * 1024 * 1024;
  }

  /** the first write error, after which every write is refused with it */
  get error(): unknown {
    return this.failure;
  }

  get idle(): boolean {
    return !this.inFlight && this.pending.length === 0;
  }

  /** queues `buf` at `pos`; settles when written (or rejects with the write error) */
  write(pos: number, buf: Buffer): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ pos, buf, resolve, reject });
      if (!this.inFlight) this.pump();
    });
  }

  /** makes every queued and future write fail with `err` (the in-flight one completes) */
  fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
    const dropped = this.pending.splice(0);
    for (const p of dropped) p.reject(this.failure);
    this.notifyIdle();
  }

  /** resolves once nothing is queued or in flight (never rejects) */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    if (!this.idle) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private pump(): void {
    const first = this.pending.shift();
    if (!first) {
      this.notifyIdle();
      return;
    }
    const batch: Pending[] = [first];
    let end = first.pos + first.buf.length;
    let bytes = first.buf.length;
    while (batch.length < this.maxBatch) {
      const next = this.pending[0];
      if (!next || next.pos !== end || bytes + next.buf.length > this.maxBatchBytes) break;
      this.pending.shift();
      batch.push(next);
      end += next.buf.length;
      bytes += next.buf.length;
    }
    this.inFlight = true;
    this.batches++;
    this.writer
      .writev(
        first.pos,
        batch.map((p) => p.buf),
      )
      .then(
        () => {
          for (const p of batch) p.resolve();
        },
        (e: unknown) => {
          if (this.failure === undefined) this.failure = e;
          for (const p of batch) p.reject(e);
          for (const p of this.pending.splice(0)) p.reject(e);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }
}
