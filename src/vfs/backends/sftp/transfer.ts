/**
 * The transfer path of the SFTP backend: reads and writes keep several requests in flight, as
 * ssh2's fastGet/fastPut and pkg/sftp's concurrent reads/writes do, so a transfer is not one
 * round trip per request. fastGet/fastPut themselves work on local file paths only, hence this
 * small queue over handle reads and writes.
 *
 * Requests are cut at the server's largest READ/WRITE payload (limits@openssh.com, or ssh2's
 * default): a larger one would be split by ssh2 into sequential requests.
 */
import { Readable, Writable } from 'node:stream';
import { SftpgoError } from '../../../errors/index.js';
import type { Upload } from '../../types.js';
import { mapSftpError } from './errors.js';
import type { Session } from './session.js';
import { maxReadLength, maxWriteLength } from './ssh2-internals.js';

/** how many bytes one transfer keeps in flight when the config sets no buffer (2 MiB) */
export const DEFAULT_WINDOW = 2 * 1024 * 1024;

export interface ReadOptions {
  /** several READ requests at once (false: disable_concurrent_reads) */
  concurrent: boolean;
  /** bytes in flight */
  window: number;
}

/** requests in flight for a window of bytes, at least one */
function slots(window: number, chunk: number): number {
  return Math.max(1, Math.floor(window / chunk));
}

/** ignores a rejection that is observed elsewhere (the promise is awaited later or dropped on purpose) */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Reads up to `length` bytes at `position` through concurrent READ requests; the result stops at
 * the first short reply (end of file, or a server answering less), null at the end of the file.
 */
export async function readAt(
  s: Session,
  h: Buffer,
  position: number,
  length: number,
  o: ReadOptions,
): Promise<Buffer | null> {
  if (length <= 0) return Buffer.alloc(0);
  const chunk = maxReadLength(s.sftp);
  const buf = Buffer.allocUnsafe(length);
  if (!o.concurrent || length <= chunk) {
    const n = await s.read(h, buf, 0, Math.min(length, chunk), position);
    if (n === 0) return null;
    return buf.subarray(0, n);
  }
  const max = slots(o.window, chunk);
  const got: number[] = [];
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && next < length) {
      const off = next;
      const len = Math.min(chunk, length - off);
      next += len;
      const n = await s.read(h, buf, off, len, position + off);
      got[off / chunk] = n;
      if (n < len) stop = true;
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < max && i * chunk < length; i++) workers.push(worker());
  await Promise.all(workers);
  let total = 0;
  for (let i = 0; i * chunk < length; i++) {
    const n = got[i];
    if (n === undefined) break;
    total += n;
    if (n < Math.min(chunk, length - i * chunk)) break;
  }
  if (total === 0) return null;
  return buf.subarray(0, total);
}

/** Writes all of `data` at `position`, its pieces as concurrent WRITE requests. */
export async function writeAt(
  s: Session,
  h: Buffer,
  position: number,
  data: Buffer,
): Promise<void> {
  const chunk = maxWriteLength(s.sftp);
  if (data.length <= chunk) {
    await s.write(h, data, 0, data.length, position);
    return;
  }
  const writes: Promise<void>[] = [];
  for (let off = 0; off < data.length; off += chunk) {
    writes.push(quiet(s.write(h, data, off, Math.min(chunk, data.length - off), position + off)));
  }
  await Promise.all(writes);
}

interface PendingRead {
  offset: number;
  /** bytes asked for; cut to the reply's length once it is known to be short */
  len: number;
  buf: Buffer;
  done: Promise<number>;
}

/** requests a read-ahead starts with after a seek; doubled on every read that continues */
const FIRST_DEPTH = 2;

/**
 * Sequential read-ahead over a remote handle: while reads follow each other, READ requests for
 * the bytes after them are kept in flight (up to `window` bytes, ramping up from two requests),
 * so a caller reading one block at a time still gets a pipelined transfer. A read elsewhere
 * drops the prefetch and starts again there. A short reply ends the read that met it (the end
 * of the file, or a server answering less) and realigns the requests after it.
 * Reads are served one at a time, in call order; the prefetch overlaps them.
 */
export class ReadAhead {
  private chunks: PendingRead[] = [];
  /** the offset after the last request issued */
  private next = 0;
  private eof = false;
  private depth = FIRST_DEPTH;
  private readonly chunk: number;
  private readonly max: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly s: Session,
    private readonly h: Buffer,
    o: ReadOptions,
  ) {
    this.chunk = maxReadLength(s.sftp);
    this.max = o.concurrent ? slots(o.window, this.chunk) : 1;
  }

  /** up to `length` bytes at `position`; null at the end of the file */
  read(position: number, length: number): Promise<Buffer | null> {
    const p = this.chain.then(() => this.readNow(position, length));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private restart(at: number): void {
    this.chunks = [];
    this.next = at;
    this.eof = false;
    this.depth = FIRST_DEPTH;
  }

  private fill(): void {
    const depth = Math.min(this.depth, this.max);
    while (!this.eof && this.chunks.length < depth) {
      const buf = Buffer.allocUnsafe(this.chunk);
      const done = quiet(this.s.read(this.h, buf, 0, this.chunk, this.next));
      this.chunks.push({ offset: this.next, len: this.chunk, buf, done });
      this.next += this.chunk;
    }
  }

  private async readNow(position: number, length: number): Promise<Buffer | null> {
    if (length <= 0) return Buffer.alloc(0);
    const start = this.chunks[0]?.offset ?? this.next;
    if (position < start || position > this.next) this.restart(position);
    else this.depth = Math.min(this.depth * 2, this.max);
    const out: Buffer[] = [];
    let pos = position;
    let want = length;
    while (want > 0) {
      this.fill();
      const c = this.chunks[0];
      if (!c) break;
      let n: number;
      try {
        n = await c.done;
      } catch (e) {
        this.restart(pos);
        throw e;
      }
      const short = n < c.len;
      if (short) {
        // the requests after this one start at the wrong offset: drop them
        this.chunks = [c];
        c.len = n;
        this.next = c.offset + n;
        if (n === 0) this.eof = true;
      }
      if (pos >= c.offset + c.len) {
        this.chunks.shift();
        if (short) break;
        continue;
      }
      const from = pos - c.offset;
      const take = Math.min(c.len - from, want);
      out.push(c.buf.subarray(from, from + take));
      pos += take;
      want -= take;
      if (from + take === c.len) this.chunks.shift();
      if (short) break;
    }
    if (out.length === 0) return null;
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

/**
 * A stream of a remote file from `start`, over a ReadAhead. `release` closes the handle when
 * the stream ends or is destroyed.
 */
export function readStream(
  s: Session,
  h: Buffer,
  start: number,
  o: ReadOptions & { display: string; release: () => Promise<void> },
): Readable {
  const ahead = new ReadAhead(s, h, o);
  const size = maxReadLength(s.sftp);
  let pos = start;
  return new Readable({
    highWaterMark: size,
    read() {
      ahead
        .read(pos, size)
        .then(async (buf) => {
          if (buf === null) {
            await o.release();
            this.push(null);
            return;
          }
          pos += buf.length;
          this.push(buf);
        })
        .catch((e: unknown) => this.destroy(mapSftpError(e, o.display, 'read')));
    },
    destroy(err, cb) {
      o.release().then(
        () => cb(err),
        (e: unknown) => cb(err ?? (e as Error)),
      );
    },
  });
}

/**
 * Why an upload ended early: its own SftpgoError (a failed write), ABORTED for an abort signal
 * or for the caller destroying the stream (a client that went away), with the reason as cause.
 */
function abortReason(err: Error | null, display: string): SftpgoError {
  if (SftpgoError.is(err)) return err;
  return new SftpgoError('ABORTED', `upload ${JSON.stringify(display)}: aborted`, {
    ...(err ? { cause: err } : {}),
  });
}

/** what a pipelined upload writes to */
export interface UploadTarget {
  /** client-visible path, for messages */
  display: string;
  write(position: number, data: Buffer): Promise<void>;
  /** after the last write: makes the file durable and visible */
  commit(): Promise<void>;
  /** after a failure or an abort: leaves the target as the backend's contract says */
  abort(): Promise<void>;
}

/**
 * A Writable that keeps up to `window` bytes of writes in flight: `write()` calls back as soon
 * as its data is queued while the window has room. `done` resolves after the last write was
 * acknowledged and `commit()` succeeded; destroying the stream (or a failed write) waits for the
 * writes in flight, then calls `abort()`.
 */
export function pipelinedUpload(target: UploadTarget, start: number, window: number): Upload {
  let pos = start;
  let bytes = 0;
  let inflightBytes = 0;
  let failed: unknown;
  const inflight = new Set<Promise<void>>();
  let waiter: (() => void) | undefined;
  let settled = false;
  let resolveDone!: (v: { bytes: number }) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<{ bytes: number }>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // callers may only look at `stream`; avoid an unhandled rejection for them
  done.catch(() => undefined);

  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const send = (data: Buffer): void => {
    const at = pos;
    pos += data.length;
    inflightBytes += data.length;
    const p: Promise<void> = target.write(at, data).then(
      () => {
        bytes += data.length;
      },
      (e: unknown) => {
        failed ??= e;
      },
    );
    const tracked = p.finally(() => {
      inflight.delete(tracked);
      inflightBytes -= data.length;
      wake();
    });
    inflight.add(tracked);
  };
  /** calls back once the window has room again (or a write failed) */
  const admit = (cb: (e?: Error | null) => void): void => {
    const check = (): void => {
      if (failed !== undefined) cb(mapSftpError(failed, target.display, 'write'));
      else if (inflightBytes < window) cb();
      else waiter = check;
    };
    check();
  };
  const drainAll = async (): Promise<void> => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };

  const stream = new Writable({
    highWaterMark: Math.min(window, 1024 * 1024),
    write(chunk: Buffer, _enc, cb) {
      if (failed !== undefined) {
        cb(mapSftpError(failed, target.display, 'write'));
        return;
      }
      send(chunk);
      admit(cb);
    },
    writev(chunks, cb) {
      if (failed !== undefined) {
        cb(mapSftpError(failed, target.display, 'write'));
        return;
      }
      for (const c of chunks) send(c.chunk as Buffer);
      admit(cb);
    },
    final(cb) {
      drainAll()
        .then(async () => {
          if (failed !== undefined) throw mapSftpError(failed, target.display, 'write');
          await target.commit();
          settled = true;
          resolveDone({ bytes });
        })
        .then(
          () => cb(),
          (e: unknown) => cb(mapSftpError(e, target.display, 'upload')),
        );
    },
    destroy(err, cb) {
      if (settled) {
        cb(err);
        return;
      }
      settled = true;
      const reason = abortReason(err, target.display);
      drainAll()
        .then(() => target.abort())
        .then(
          () => {
            rejectDone(reason);
            cb(err);
          },
          (e: unknown) => {
            rejectDone(reason);
            cb(err ?? (e as Error));
          },
        );
    },
  });
  return { stream, done };
}
