/**
 * Uploads and downloads of one connection (upstream common/transfer.go), protocol-independent.
 *
 * Upload lifecycle: opened by Connection.openUpload (perms, patterns, quota and size limits
 * checked there), written with positional `write()` (merged by a per-transfer queue into
 * writev calls, one in flight) or through `writable()`, then `close()`d, which waits for the
 * data to be durable and commits it, or `abort()`ed. On error, the outcome follows
 * common.upload_mode: 0 keeps what was written, 1 (atomic) removes the temp file and leaves
 * the target untouched, 2 (atomic with resume) moves the partial file onto the target.
 * A quota overrun always removes the partial data (a resumed file is cut back to its
 * original size). Quota counters are updated once, at the end, from the final state.
 *
 * Flow control (DESIGN.md "Flow control"): `write()` settles as soon as the bytes are written,
 * never later; bandwidth throttling acts on READING from the client. A front end that reads
 * requests itself (SFTP) asks `throttleDelay()` after each write and stops consuming its
 * channel that long; the stream API (`writable()`) waits before accepting the next chunk.
 * Downloads wait before reading from storage, so throttled data is never held in memory.
 */
import { once, setMaxListeners } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { SftpgoError } from '../errors/index.js';
import { metrics } from '../util/metrics.js';
import {
  mapFsError,
  type FileHandle,
  type FileInfo,
  type SetStatAttrs,
  type Upload,
} from '../vfs/index.js';
import type { QuotaLease } from './quota-tracker.js';
import { Throttle } from './throttle.js';
import type { Logger, Protocol, TransferStatus, UploadMode } from './types.js';
import { UploadBuffers, type UploadBuffersOptions } from './upload-buffers.js';
import { WriteQueue } from './write-queue.js';

/** what a transfer needs from its connection */
export interface TransferHost {
  readonly id: string;
  readonly protocol: Protocol;
  readonly username: string;
  readonly log: Logger;
  /** updates the connection's last activity */
  touch(): void;
  nextTransferId(): number;
  removeTransfer(t: Transfer): void;
  /** applies a quota delta for a virtual path (folder / user rules, track_quota) */
  updateQuota(virtualPath: string, filesDelta: number, sizeDelta: number): Promise<void>;
  /** applies attributes received while the upload was open, once the file is in place */
  applyDeferredStat(virtualPath: string, attrs: SetStatAttrs): Promise<void>;
}

export type Transfer = UploadTransfer | DownloadTransfer;

export const ERR_QUOTA_EXCEEDED = 'denying write due to space limit';

export function quotaExceededError(): SftpgoError {
  return new SftpgoError('QUOTA_EXCEEDED', ERR_QUOTA_EXCEEDED);
}

function abortedError(): SftpgoError {
  return new SftpgoError('ABORTED', 'transfer aborted');
}

const STREAM_CHUNK = 256 * 1024;
const THROTTLED_STREAM_CHUNK = 64 * 1024;
/** what a read past the size known at open asks for (the file may have grown) */
const EOF_PROBE = 64 * 1024;

/** runs a transfer's end callback; its failure is logged, never thrown (finalize never rejects) */
async function settleEnd(
  host: TransferHost,
  sender: string,
  virtualPath: string,
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    host.log.warn(
      { sender, connection_id: host.id, file_path: virtualPath, err: e },
      'transfer end notification failed',
    );
  }
}

// ------------------------------------------------------------------ sinks and sources

/** where upload bytes go: a FileHandle (random access) or a sequential backend stream */
export interface UploadSink {
  /** the target changes only on commit */
  readonly atomic: boolean;
  /** a partial upload can be kept (files); object stores upload nothing on error */
  readonly resumable: boolean;
  /**
   * the sink may still hold a written Buffer after its write resolved (a backend stream buffers
   * chunks for its parts/blocks): the caller must not reuse the memory (UploadBuffers)
   */
  readonly retainsWrites: boolean;
  writev(position: number, data: readonly Buffer[]): Promise<void>;
  /** current size of the written file, when known */
  size(): Promise<number | undefined>;
  truncate(length: number): Promise<void>;
  /** flushes what was written to stable storage */
  sync(): Promise<void>;
  commit(): Promise<void>;
  discard(o?: { keepBytes?: number }): Promise<void>;
}

export function handleSink(h: FileHandle): UploadSink {
  return {
    atomic: h.atomic,
    resumable: true,
    // a FileHandle's write resolves once the bytes were handed to the OS or the remote server
    retainsWrites: false,
    writev: (p, d) => h.writev(p, d),
    size: async () => (await h.stat()).size,
    truncate: (n) => h.truncate(n),
    sync: () => h.sync(),
    commit: () => h.commit(),
    discard: (o) => h.discard(o),
  };
}

/**
 * A sequential-only sink over a streamed backend upload: atomic (object stores, atomic temp
 * files) unless the backend writes the target in place (`inPlace`: a direct encrypted upload,
 * whose abort leaves no file, so the quota must drop the overwritten one).
 */
export function streamSink(u: Upload, startOffset: number): UploadSink {
  let pos = startOffset;
  // stream errors surface through writes and `done`; without a listener they would crash the process
  u.stream.on('error', () => undefined);
  return {
    atomic: u.inPlace !== true,
    resumable: false,
    retainsWrites: true,
    async writev(position, data) {
      if (position !== pos) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          'non-sequential writes are not supported by this storage backend',
        );
      }
      for (const b of data) {
        pos += b.length;
        if (!u.stream.write(b)) await once(u.stream, 'drain');
      }
    },
    size: () => Promise.resolve(pos),
    truncate: () =>
      Promise.reject(
        new SftpgoError('OP_UNSUPPORTED', 'truncate is not supported by this storage backend'),
      ),
    // object stores make an upload durable when it is committed, not before
    sync: () =>
      Promise.reject(
        new SftpgoError('OP_UNSUPPORTED', 'fsync is not supported by this storage backend'),
      ),
    async commit() {
      u.stream.end();
      await u.done;
    },
    async discard() {
      u.stream.destroy(abortedError());
      await u.done.catch(() => undefined);
    },
  };
}

/** where download bytes come from */
export interface DownloadSource {
  read(position: number, length: number): Promise<Buffer | null>;
  close(): Promise<void>;
}

export function handleSource(h: FileHandle): DownloadSource {
  return { read: (p, l) => h.read(p, l), close: () => h.close() };
}

/** a forward jump up to this many bytes reads and drops them instead of reopening the stream */
const STREAM_SKIP_LIMIT = 1024 * 1024;

/**
 * A source over a backend's read streams (object stores, encrypted files, buffered remote
 * SFTP), which have no positional reads. Reads are served one at a time in arrival order, so a
 * client's pipelined in-order reads cost one stream. A read elsewhere (a client seeking, a
 * segmented downloader, a read repeated after a lost reply) drops up to 1 MiB ahead, or closes
 * the stream and opens a new one at that offset (a ranged GET on object stores).
 */
export function streamSource(
  open: (offset: number) => Promise<Readable>,
  first: Readable,
  startOffset: number,
): DownloadSource {
  let stream = first;
  let iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pos = startOffset;
  let pending: Buffer | null = null;
  let ended = false;
  let closed = false;

  const nextChunk = async (): Promise<Buffer | null> => {
    const chunk = pending;
    pending = null;
    if (chunk) return chunk;
    if (ended) return null;
    const n = await iterator.next();
    if (n.done) {
      ended = true;
      return null;
    }
    return n.value;
  };
  const seek = async (position: number): Promise<void> => {
    if (position > pos && position - pos <= STREAM_SKIP_LIMIT) {
      while (pos < position) {
        const chunk = await nextChunk();
        if (!chunk) return; // the file ends before `position`: the read answers EOF
        const skip = Math.min(chunk.length, position - pos);
        if (skip < chunk.length) pending = chunk.subarray(skip);
        pos += skip;
      }
      return;
    }
    stream.destroy();
    pending = null;
    ended = false;
    pos = position;
    stream = await open(position);
    iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  };
  const readNext = async (position: number, length: number): Promise<Buffer | null> => {
    if (closed) throw new SftpgoError('INVALID_INPUT', 'the download is closed');
    if (position !== pos) {
      await seek(position);
      if (position !== pos) return null;
    }
    // a full `length` unless the file ends: a short read makes SFTP clients ask again for the
    // rest after the reads they already sent further on, i.e. a seek back for every read
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      let chunk = await nextChunk();
      if (!chunk) break;
      if (chunk.length > length - got) {
        pending = chunk.subarray(length - got);
        chunk = chunk.subarray(0, length - got);
      }
      parts.push(chunk);
      got += chunk.length;
    }
    if (got === 0) return null;
    pos += got;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, got);
  };
  let chain: Promise<unknown> = Promise.resolve();
  return {
    read(position, length) {
      const p = chain.then(() => readNext(position, length));
      chain = p.catch(() => undefined);
      return p;
    },
    async close() {
      closed = true;
      stream.destroy();
    },
  };
}

// ------------------------------------------------------------------ upload

export type UploadOpenMode = 'truncate' | 'append' | 'resume' | 'inplace';

export interface UploadTransferInit {
  host: TransferHost;
  virtualPath: string;
  sink: UploadSink;
  mode: UploadOpenMode;
  uploadMode: UploadMode;
  isNewFile: boolean;
  /**
   * a failed upload leaves no data of its own, whatever uploadMode says (a whole-file upload:
   * a new file written in place is removed)
   */
  discardOnError?: boolean;
  /** size of the file before the upload (0 for a new file) */
  initialSize: number;
  /** writes below this offset are refused (resume) */
  minWriteOffset: number;
  /** max bytes this transfer may write (quota / max_upload_file_size), 0 = unlimited */
  maxWriteSize: number;
  /** where writable() starts */
  streamOffset: number;
  /** KB/s, 0 = unlimited */
  bandwidth: number;
  /**
   * the reservation against the user's or folder's quota (QuotaTracker), grown write by write
   * by the bytes this upload adds; absent when no quota limit applies
   */
  quota?: QuotaLease;
  /**
   * called once the upload is finalized, logged and out of the active list (the `upload`
   * custom action); close() and abort() wait for it. Absent when nothing listens.
   */
  onEnd?: (end: UploadEnd) => Promise<void>;
}

/** how an upload ended */
export interface UploadEnd {
  /** the transfer's error (the client's, the storage's, quota), or the commit's */
  error: SftpgoError | undefined;
  /** the size of the file the upload left in place; undefined when it discarded its data */
  size: number | undefined;
}

export class UploadTransfer {
  readonly type = 'upload' as const;
  readonly id: number;
  readonly virtualPath: string;
  readonly startTime: number;
  private readonly host: TransferHost;
  private readonly sink: UploadSink;
  private readonly queue: WriteQueue;
  private readonly throttle: Throttle;
  private readonly init: UploadTransferInit;
  private bytesReceived = 0;
  private minWriteOffset: number;
  private maxWriteSize: number;
  private writtenEnd = 0;
  /** end offset of the data covered by the quota reservation */
  private reservedEnd = 0;
  /** the client truncated the file while it was open (its size is no longer writtenEnd) */
  private truncated = false;
  private error: SftpgoError | undefined;
  private closeError: SftpgoError | undefined;
  private finalizing: Promise<void> | undefined;
  private deferred: SetStatAttrs | undefined;
  private stream: Writable | undefined;

  constructor(init: UploadTransferInit) {
    this.init = init;
    this.host = init.host;
    this.sink = init.sink;
    this.id = init.host.nextTransferId();
    this.virtualPath = init.virtualPath;
    this.startTime = Date.now();
    this.minWriteOffset = init.minWriteOffset;
    this.maxWriteSize = init.maxWriteSize;
    this.queue = new WriteQueue(this.sink);
    this.throttle = new Throttle(init.bandwidth);
  }

  /** bytes received so far */
  get size(): number {
    return this.bytesReceived;
  }

  /** true once close() or abort() started (or a write failed) */
  get closed(): boolean {
    return this.finalizing !== undefined;
  }

  status(): TransferStatus {
    return {
      operation_type: 'upload',
      path: this.virtualPath,
      start_time: this.startTime,
      size: this.bytesReceived,
    };
  }

  /**
   * Writes `data` at `position`. Concurrent calls are fine: contiguous writes are merged, one
   * batch in flight. Rejects with QUOTA_EXCEEDED ("denying write due to space limit") when the
   * quota or max_upload_file_size would be exceeded — the transfer is then aborted and the
   * partial data removed — and with the transfer's error once it failed or was aborted.
   * A write that fails the transfer settles only after the cleanup (upload_mode outcome,
   * quota) is done, so a client that reopens the file on the error sees it settled.
   */
  async write(position: number, data: Buffer): Promise<void> {
    this.host.touch();
    if (this.error) throw this.error;
    if (this.finalizing) throw new SftpgoError('INVALID_INPUT', 'the transfer is closed');
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new SftpgoError('INVALID_INPUT', `invalid write offset: ${position}`);
    }
    if (position < this.minWriteOffset) {
      const err = new SftpgoError(
        'INVALID_INPUT',
        `invalid write offset: ${position} minimum valid value: ${this.minWriteOffset}`,
      );
      await this.fail(err);
      throw err;
    }
    const end = position + data.length;
    if (
      (this.maxWriteSize > 0 && this.bytesReceived + data.length > this.maxWriteSize) ||
      (end > this.reservedEnd && !this.reserveQuota(end))
    ) {
      const err = quotaExceededError();
      await this.fail(err);
      throw err;
    }
    this.bytesReceived += data.length;
    try {
      await this.queue.write(position, data);
    } catch (e) {
      const err = this.error ?? mapFsError(e, this.virtualPath, 'write');
      await this.fail(err);
      throw err;
    }
    this.writtenEnd = Math.max(this.writtenEnd, position + data.length);
  }

  /**
   * Reserves quota for the file growing to `end` bytes: what the upload adds to the usage is
   * the growth beyond the original size (the whole file for a new or truncated one).
   */
  private reserveQuota(end: number): boolean {
    const q = this.init.quota;
    if (q) {
      const { mode, isNewFile, initialSize } = this.init;
      const base = isNewFile ? 0 : initialSize;
      const size = mode === 'truncate' || isNewFile ? end : Math.max(initialSize, end);
      if (!q.reserve(size - base)) return false;
    }
    this.reservedEnd = end;
    return true;
  }

  /**
   * How long (ms) the front end should stop reading upload data from its client so that this
   * transfer keeps to the user's upload bandwidth: 0 when unthrottled or behind the rate.
   * Applied to reading only; the replies to writes already done are never delayed.
   * `buffered`: bytes the front end received but did not write yet (UploadBuffers).
   */
  throttleDelay(buffered = 0): number {
    return this.throttle.delayFor(this.bytesReceived + buffered);
  }

  /** writes, then waits out the throttle before the stream accepts more (stream protocols) */
  private async writePaced(position: number, data: Buffer[]): Promise<void> {
    let at = position;
    await Promise.all(
      data.map((b) => {
        const p = this.write(at, b);
        at += b.length;
        return p;
      }),
    );
    const ms = this.throttleDelay();
    if (ms > 0) await sleep(ms);
  }

  /**
   * A Writable for stream protocols, writing sequentially from the open offset. Ending it
   * closes the transfer (its 'finish' comes after the data is durable); destroying it with an
   * error aborts the transfer.
   */
  writable(): Writable {
    if (this.stream) return this.stream;
    let pos = this.init.streamOffset;
    const w = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        const at = pos;
        pos += chunk.length;
        this.writePaced(at, [chunk]).then(() => cb(), cb);
      },
      writev: (chunks, cb) => {
        const bufs = chunks.map((c) => c.chunk as Buffer);
        const at = pos;
        for (const b of bufs) pos += b.length;
        this.writePaced(at, bufs).then(() => cb(), cb);
      },
      final: (cb) => {
        this.close().then(() => cb(), cb);
      },
      destroy: (err, cb) => {
        if (this.finalizing) {
          cb(err);
          return;
        }
        this.abort(err ? mapFsError(err, this.virtualPath) : abortedError()).then(
          () => cb(err),
          () => cb(err),
        );
      },
    });
    this.stream = w;
    return w;
  }

  /**
   * The upload's bytes gathered into a few reused buffers (UploadBuffers), written sequentially
   * from the open offset: for a front end that reads its socket into one fixed buffer. Close
   * the transfer once `finish()` resolved (abort it when that or the socket fails). undefined
   * when the sink keeps written chunks (object stores, encrypted files): use writable() then.
   */
  buffers(o?: UploadBuffersOptions): UploadBuffers | undefined {
    // a stream sink keeps chunks after their write (object-store parts): no reused memory
    if (this.sink.retainsWrites) return undefined;
    return new UploadBuffers(this, this.init.streamOffset, o);
  }

  /**
   * Writes the whole of `input` into the transfer and closes it (HTTP request bodies: WebDAV
   * PUT, web client uploads). Resolves once the data is committed. When either side fails —
   * the input errors or closes before its end (client gone, size limit), or a write is refused
   * (quota, max_upload_file_size) — the transfer is aborted (the outcome follows upload_mode)
   * and the promise rejects; the input is then drained, not destroyed, so whatever produces it
   * (an HTTP request, a multipart parser) can still finish and the error reply be sent.
   */
  consume(input: Readable): Promise<void> {
    const w = this.writable();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        const err = e instanceof Error ? e : new Error(String(e));
        input.unpipe(w);
        input.resume();
        if (!w.destroyed) w.destroy(err);
        this.abort(err).then(
          () => reject(err),
          () => reject(err),
        );
      };
      w.once('finish', () => {
        settled = true;
        resolve();
      });
      w.once('error', fail);
      input.once('error', fail);
      input.once('close', () => {
        if (!input.readableEnded) fail(new SftpgoError('ABORTED', 'the client aborted the upload'));
      });
      input.pipe(w);
    });
  }

  /**
   * Truncates the file being written (SFTP FSETSTAT/SETSTAT with a size while the handle is
   * open). Returns the size before truncation.
   */
  async truncate(size: number): Promise<number> {
    if (this.error) throw this.error;
    if (this.finalizing) throw new SftpgoError('INVALID_INPUT', 'the transfer is closed');
    await this.queue.drain();
    const before = (await this.sink.size()) ?? this.writtenEnd;
    await this.sink.truncate(size);
    if (before > size) this.bytesReceived = Math.max(0, this.bytesReceived - (before - size));
    this.truncated = true;
    this.minWriteOffset = Math.min(this.minWriteOffset, size);
    this.writtenEnd = Math.min(this.writtenEnd, size);
    if (size < this.reservedEnd) this.reserveQuota(size);
    return before;
  }

  /**
   * Flushes what was written so far to stable storage (SFTP fsync@openssh.com): waits for the
   * queued writes, then syncs the file (the temp file of an atomic upload).
   */
  async sync(): Promise<void> {
    if (this.error) throw this.error;
    if (this.finalizing) throw new SftpgoError('INVALID_INPUT', 'the transfer is closed');
    await this.queue.drain();
    if (this.error) throw this.error;
    try {
      await this.sink.sync();
    } catch (e) {
      throw mapFsError(e, this.virtualPath, 'sync');
    }
  }

  /** remembers attributes (mode, owner, times) to apply once the file is in place */
  deferStat(attrs: SetStatAttrs): void {
    this.deferred = { ...this.deferred, ...attrs };
  }

  /**
   * Finishes the upload: waits for the queued writes, commits (data durable, atomic temp
   * moved onto the target), updates quota counters. Rejects with the transfer error if the
   * transfer failed or was aborted. Idempotent.
   */
  async close(): Promise<void> {
    this.finalizing ??= this.finalize();
    await this.finalizing;
    if (this.error) throw this.error;
    if (this.closeError) throw this.closeError;
  }

  /**
   * Aborts the upload (connection closed, admin request, client error); the outcome follows
   * upload_mode. Resolves when the cleanup is done; never rejects.
   */
  abort(err: unknown = abortedError()): Promise<void> {
    return this.fail(SftpgoError.is(err) ? err : mapFsError(err, this.virtualPath));
  }

  private fail(err: SftpgoError): Promise<void> {
    if (!this.finalizing && !this.error) {
      this.error = err;
      this.queue.fail(err);
    }
    this.finalizing ??= this.finalize();
    return this.finalizing;
  }

  private async finalize(): Promise<void> {
    await this.queue.drain();
    const err = this.error;
    const { isNewFile, initialSize } = this.init;
    let kept: boolean | undefined;
    let finalSize = 0;
    try {
      if (!err) {
        finalSize = await this.measure();
        await this.sink.commit();
        kept = true;
      } else if (
        err.code === 'QUOTA_EXCEEDED' ||
        this.init.discardOnError === true ||
        !this.sink.resumable ||
        (this.sink.atomic && this.init.uploadMode !== 2)
      ) {
        // quota overrun, whole-file upload: no partial data; object stores: nothing uploaded;
        // atomic mode 1: target untouched
        const keepBytes =
          !this.sink.atomic && !isNewFile && this.isResume() ? initialSize : undefined;
        await this.sink.discard(keepBytes === undefined ? {} : { keepBytes });
        kept = false;
      } else {
        // direct writes keep what was written (mode 0); mode 2 moves the partial file onto the target
        finalSize = await this.measure();
        await this.sink.commit();
        kept = true;
      }
    } catch (e) {
      this.closeError = mapFsError(e, this.virtualPath, 'close');
      this.host.log.error(
        { sender: 'Upload', connection_id: this.host.id, file_path: this.virtualPath, err: e },
        'unable to finalize the upload',
      );
      if (kept === undefined && !err) {
        // the commit failed: try to leave no temp file behind
        await this.sink.discard().catch((de: unknown) => {
          this.host.log.warn(
            { sender: 'Upload', connection_id: this.host.id, file_path: this.virtualPath, err: de },
            'cleanup after a failed commit',
          );
        });
        kept = false;
      }
    }
    try {
      if (kept === true) {
        if (isNewFile) await this.host.updateQuota(this.virtualPath, 1, finalSize);
        else await this.host.updateQuota(this.virtualPath, 0, finalSize - initialSize);
        if (this.deferred) await this.host.applyDeferredStat(this.virtualPath, this.deferred);
      } else if (kept === false && !this.sink.atomic && !isNewFile && !this.isResume()) {
        // the overwritten file was removed together with the partial data
        await this.host.updateQuota(this.virtualPath, -1, -initialSize);
      }
    } catch (e) {
      this.host.log.warn(
        { sender: 'Upload', connection_id: this.host.id, file_path: this.virtualPath, err: e },
        'post-upload update failed',
      );
    }
    // after the final delta reached the provider, so the usage never looks smaller than it is
    this.init.quota?.release();
    this.host.removeTransfer(this);
    this.host.touch();
    const fields = {
      sender: 'Upload',
      connection_id: this.host.id,
      protocol: this.host.protocol,
      username: this.host.username,
      file_path: this.virtualPath,
      elapsed_ms: Date.now() - this.startTime,
      size_bytes: this.bytesReceived,
    };
    metrics.transferCompleted('upload', this.bytesReceived, !err && !this.closeError);
    if (err) this.host.log.warn({ ...fields, err }, 'upload failed');
    else this.host.log.info(fields, 'upload completed');
    const onEnd = this.init.onEnd;
    if (onEnd) {
      const end: UploadEnd = { error: err ?? this.closeError, size: kept ? finalSize : undefined };
      await settleEnd(this.host, 'Upload', this.virtualPath, () => onEnd(end));
    }
  }

  private isResume(): boolean {
    return this.init.mode === 'append' || this.init.mode === 'resume';
  }

  private async measure(): Promise<number> {
    // a file created or truncated at open and only written since, every write successful: its
    // size is known without a stat
    if (this.init.mode === 'truncate' && !this.truncated && !this.error) return this.writtenEnd;
    try {
      const s = await this.sink.size();
      if (s !== undefined) return s;
    } catch (e) {
      this.host.log.debug(
        { sender: 'Upload', connection_id: this.host.id, err: e },
        'size of the uploaded file unknown',
      );
    }
    const base = this.init.mode === 'truncate' || this.init.isNewFile ? 0 : this.init.initialSize;
    return Math.max(base, this.writtenEnd);
  }
}

// ------------------------------------------------------------------ download

export interface DownloadTransferInit {
  host: TransferHost;
  virtualPath: string;
  source: DownloadSource;
  /** where stream() starts */
  offset: number;
  /** KB/s, 0 = unlimited */
  bandwidth: number;
  /** file size at open, when known */
  fileSize?: number;
  /** the file's attributes at open, when known */
  info?: FileInfo;
  /**
   * called once the download is closed and logged, with the bytes sent and the error if any
   * (the `download` custom action); close() and abort() wait for it
   */
  onEnd?: (bytesSent: number, error: SftpgoError | undefined) => Promise<void>;
}

export class DownloadTransfer {
  readonly type = 'download' as const;
  readonly id: number;
  readonly virtualPath: string;
  readonly startTime: number;
  /** size of the file when it was opened */
  readonly fileSize: number | undefined;
  /** the file's attributes at open, when the backend had them (answers SFTP FSTAT) */
  readonly info: FileInfo | undefined;
  private readonly host: TransferHost;
  private readonly source: DownloadSource;
  private readonly throttle: Throttle;
  private readonly offset: number;
  private readonly onEnd: DownloadTransferInit['onEnd'];
  private bytesSent = 0;
  /** the file's size as far as we know (size at open, grown by what reads returned beyond it) */
  private sizeHint: number | undefined;
  /** bytes requested by reads that passed the throttle (pacing of concurrent reads) */
  private bytesScheduled = 0;
  /** ends throttle waits on abort/close; only throttled downloads have one (abort() is not free) */
  private readonly aborted: AbortController | undefined;
  private error: SftpgoError | undefined;
  private finalizing: Promise<void> | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(init: DownloadTransferInit) {
    this.host = init.host;
    this.source = init.source;
    this.id = init.host.nextTransferId();
    this.virtualPath = init.virtualPath;
    this.startTime = Date.now();
    this.offset = init.offset;
    this.onEnd = init.onEnd;
    this.throttle = new Throttle(init.bandwidth);
    this.aborted = this.throttle.enabled ? new AbortController() : undefined;
    // every throttled read waiting on the signal adds a listener, removed when its wait ends;
    // a pipelining client has up to the session's read-ahead limit of them (64 for OpenSSH)
    if (this.aborted) setMaxListeners(0, this.aborted.signal);
    this.fileSize = init.fileSize;
    this.sizeHint = init.fileSize;
    this.info = init.info;
  }

  get size(): number {
    return this.bytesSent;
  }

  get closed(): boolean {
    return this.finalizing !== undefined;
  }

  status(): TransferStatus {
    return {
      operation_type: 'download',
      path: this.virtualPath,
      start_time: this.startTime,
      size: this.bytesSent,
    };
  }

  /** reads up to `length` bytes at `position`; null at end of file */
  async read(position: number, length: number): Promise<Buffer | null> {
    this.host.touch();
    if (this.error) throw this.error;
    if (this.finalizing) throw new SftpgoError('INVALID_INPUT', 'the transfer is closed');
    if (
      !Number.isSafeInteger(position) ||
      position < 0 ||
      !Number.isSafeInteger(length) ||
      length < 0
    ) {
      throw new SftpgoError('INVALID_INPUT', 'invalid read request');
    }
    this.inFlight++;
    let buf: Buffer | null;
    let scheduled = 0;
    try {
      if (this.throttle.enabled) {
        // pace BEFORE reading from storage: a throttled download holds no data while it waits
        const before = this.bytesScheduled;
        this.bytesScheduled += length;
        scheduled = length;
        await this.throttle.wait(before, this.aborted?.signal);
      }
      buf = await this.source.read(position, this.readLength(position, length));
    } catch (e) {
      if (this.error) throw this.error;
      if (this.aborted?.signal.aborted) throw new SftpgoError('ABORTED', 'the transfer is closed');
      const err = mapFsError(e, this.virtualPath, 'read');
      // a refused request leaves the transfer usable; a failed read ends it
      if (err.code !== 'OP_UNSUPPORTED' && err.code !== 'INVALID_INPUT') this.error ??= err;
      throw err;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    }
    if (this.error) throw this.error;
    if (scheduled > 0) this.bytesScheduled -= scheduled - (buf?.length ?? 0);
    if (buf) {
      this.bytesSent += buf.length;
      if (this.sizeHint !== undefined && position + buf.length > this.sizeHint)
        this.sizeHint = position + buf.length;
    }
    return buf;
  }

  /**
   * How much to read at `position`: no more than what the file holds as far as we know, so a
   * 4 KiB file does not cost a 255 KiB buffer per READ (short reads are fine for every
   * protocol); past that, a bounded probe, since the file may have grown.
   */
  private readLength(position: number, length: number): number {
    if (this.sizeHint === undefined) return length;
    const left = this.sizeHint - position;
    return Math.min(length, left > 0 ? left : EOF_PROBE);
  }

  /**
   * The file from the open offset to `end` (exclusive; default: its end) as a stream, for
   * stream protocols (throttled, counted). Call close() once it has been consumed (or failed);
   * abort() makes it error.
   */
  stream(end = Number.POSITIVE_INFINITY): Readable {
    return this.streamFrom(end, undefined);
  }

  /**
   * stream(end), its first chunk read before it is returned (`head`: null at end of file):
   * for a protocol that looks at the content before it answers (WebDAV's content-type
   * sniffing of a GET) without reading it twice. Rejects when that read fails.
   */
  async peekStream(
    end = Number.POSITIVE_INFINITY,
  ): Promise<{ head: Buffer | null; stream: Readable }> {
    const at = this.offset;
    const head = at >= end ? null : await this.read(at, Math.min(this.streamChunk(), end - at));
    return { head, stream: this.streamFrom(end, head) };
  }

  /**
   * The file from the open offset to `end` written to `dest`, then `dest` ended; resolves once
   * it finished, rejects with the read error or `dest`'s (an error, a close before the end),
   * `dest` then destroyed. What `pipeline(stream(end), dest)` does, written out: a pipeline
   * costs a Readable, an async generator, an AbortController and the DOMException of its
   * abort() per transfer, felt when each transfer is a small file (FTP `mirror` of 4 KiB files).
   */
  async sendTo(dest: Writable, end = Number.POSITIVE_INFINITY): Promise<void> {
    let failure: { e: unknown } | undefined;
    let wake: (() => void) | undefined;
    const done = finished(dest, { readable: false });
    done.then(undefined, (e: unknown) => {
      failure ??= { e };
      wake?.();
    });
    const onDrain = (): void => wake?.();
    /** rethrows what ended `dest` (its error, or a close before the end) */
    const check = (): void => {
      if (failure) throw failure.e;
    };
    dest.on('drain', onDrain);
    try {
      for await (const chunk of this.chunks(end, undefined)) {
        check();
        if (!dest.write(chunk)) {
          if (!failure) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          check();
        }
      }
      check();
      dest.end();
      await done;
    } catch (e) {
      dest.destroy();
      throw e;
    } finally {
      dest.off('drain', onDrain);
    }
  }

  /** throttled: small chunks, so the pacing (which happens before each read) starts early */
  private streamChunk(): number {
    return this.throttle.enabled ? THROTTLED_STREAM_CHUNK : STREAM_CHUNK;
  }

  /** stream(end); `head`: its first chunk, already read (peekStream) */
  private streamFrom(end: number, head: Buffer | null | undefined): Readable {
    return Readable.from(this.chunks(end, head), {
      objectMode: false,
      highWaterMark: this.streamChunk(),
    });
  }

  /** the chunks of stream() and sendTo(), with one read ahead; `head`: the first one, read */
  private chunks(end: number, head: Buffer | null | undefined): AsyncGenerator<Buffer> {
    let pos = this.offset;
    const size = this.streamChunk();
    // one read ahead: the next chunk is read from storage while the consumer sends this one
    const readAt = (at: number): Promise<Buffer | null> | null => {
      if (at >= end) return null;
      const r = this.read(at, Math.min(size, end - at));
      r.catch(() => undefined); // seen when awaited; unawaited when the consumer stops early
      return r;
    };
    return (async function* (): AsyncGenerator<Buffer> {
      let next = head === undefined ? readAt(pos) : Promise.resolve(head);
      while (next) {
        const chunk = await next;
        if (chunk === null || chunk.length === 0) return;
        pos += chunk.length;
        next = readAt(pos);
        yield chunk;
      }
    })();
  }

  /**
   * Ends the download: closes the source, logs the transfer. Idempotent; never rejects.
   * `releaseInBackground`: settle once the transfer is counted and no longer listed, while the
   * source is still being closed and before the log line (a thread-pool round trip and a log
   * file write less before a protocol answers; both still happen, in the same order) — unless
   * a `download` action is configured: its notification must start (and with execute_sync,
   * end) before the protocol answers, as upstream's, so it keeps following the close.
   */
  async close(o: { releaseInBackground?: boolean } = {}): Promise<void> {
    this.finalizing ??= this.finalize(o.releaseInBackground === true);
    await this.finalizing;
  }

  /**
   * aborts the download; pending and future reads fail with `err`. Never rejects. Once close()
   * started (the download is complete) it changes nothing: the connection closing right after
   * a finished download must not record it as failed (log, download action).
   */
  abort(err: unknown = abortedError()): Promise<void> {
    if (this.finalizing) return this.finalizing;
    this.error ??= SftpgoError.is(err) ? err : mapFsError(err, this.virtualPath);
    this.aborted?.abort();
    this.finalizing ??= this.finalize();
    return this.finalizing;
  }

  private async finalize(releaseInBackground = false): Promise<void> {
    this.aborted?.abort(); // reads still waiting for the throttle end now
    if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
    const released = this.source.close().catch((e: unknown) => {
      this.host.log.warn(
        { sender: 'Download', connection_id: this.host.id, file_path: this.virtualPath, err: e },
        'close error',
      );
    });
    const elapsed = (): number => Date.now() - this.startTime;
    if (releaseInBackground && !this.onEnd) {
      // the protocol answers now; the log line (a write of the log file, as costly as the
      // close) follows the close, as it always did
      this.ended();
      void released.then(() => this.logEnd(elapsed()));
      return;
    }
    await released;
    this.ended();
    this.logEnd(elapsed());
    const onEnd = this.onEnd;
    if (onEnd) {
      const bytes = this.bytesSent;
      const error = this.error;
      await settleEnd(this.host, 'Download', this.virtualPath, () => onEnd(bytes, error));
    }
  }

  /** no longer listed nor counted as active */
  private ended(): void {
    this.host.removeTransfer(this);
    this.host.touch();
    metrics.transferCompleted('download', this.bytesSent, !this.error);
  }

  private logEnd(elapsedMs: number): void {
    const fields = {
      sender: 'Download',
      connection_id: this.host.id,
      protocol: this.host.protocol,
      username: this.host.username,
      file_path: this.virtualPath,
      elapsed_ms: elapsedMs,
      size_bytes: this.bytesSent,
    };
    if (this.error) this.host.log.warn({ ...fields, err: this.error }, 'download failed');
    else this.host.log.info(fields, 'download completed');
  }
}
