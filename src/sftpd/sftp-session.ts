/**
 * The SFTP v3 subsystem of one session channel, over ssh2's server-side SFTP parser.
 *
 * Every request is answered exactly once through `reply()`, which maps SftpgoError codes via
 * the exhaustive table in status-map.ts (STYLE.md §C rule 3). Protocol decisions mirror
 * upstream sftpd/handler.go at v2.1.2 on top of pkg/sftp's request server: OPEN flags select
 * download / truncate / append / resume, listings start with "." and "..", REMOVE refuses a
 * directory, SYMLINK takes its arguments in OpenSSH order, and open handles of a session that
 * ends are closed — uploads without a CLOSE are aborted (the outcome follows upload_mode).
 *
 * Performance (reference/ssh2-performance.md): WRITEs go to the upload's positional write
 * queue without being awaited one by one, replies of one event-loop turn leave in one socket
 * write (`batch`), and limits@openssh.com makes OpenSSH clients use 255 KiB requests.
 * fsync@openssh.com syncs an upload handle on request (uploads are not synced on CLOSE by
 * default, as OpenSSH's sftp-server; common.fsync_uploads changes that).
 */
import type { Attributes, InputAttributes, SFTPWrapper } from 'ssh2';
import { SftpgoError } from '../errors/index.js';
import type { Logger } from '../common/types.js';
import { OPEN_FLAGS } from '../common/actions.js';
import type { FileInfo, SetStatAttrs, StatVfs } from '../vfs/index.js';
import { normalizeVirtualPath } from '../vfs/index.js';
import { longname, toAttrs } from './attrs.js';
import type { DownloadHandle, SessionConnection, UploadHandle } from './ports.js';
import { SFTP_STATUS_CODE, toSftpStatus, type SftpStatusCode } from './status-map.js';
import {
  interceptSftpInit,
  sendExtendedReply,
  sendSftpData,
  sftpClientIsOpenSsh,
  sftpExitStatus,
  sftpInboundFlowControl,
  sftpOnWindowDrain,
  sftpUnsentBytes,
  sftpWritable,
} from './ssh2-internals.js';

/** SSH_FXF_* open flags */
const FXF_READ = 0x01;
const FXF_WRITE = 0x02;
const FXF_APPEND = 0x04;
const FXF_CREAT = 0x08;
const FXF_TRUNC = 0x10;
const FXF_EXCL = 0x20;

/**
 * The SFTP open flags as the pre-upload custom action reports them (upstream getOSOpenFlags,
 * Linux values): READ+WRITE → O_RDWR, WRITE → O_WRONLY, CREAT, TRUNC, EXCL; APPEND is dropped
 */
export function actionOpenFlags(flags: number): number {
  let os = 0;
  if ((flags & FXF_READ) !== 0 && (flags & FXF_WRITE) !== 0) os |= OPEN_FLAGS.O_RDWR;
  else if ((flags & FXF_WRITE) !== 0) os |= OPEN_FLAGS.O_WRONLY;
  if ((flags & FXF_CREAT) !== 0) os |= OPEN_FLAGS.O_CREAT;
  if ((flags & FXF_TRUNC) !== 0) os |= OPEN_FLAGS.O_TRUNC;
  if ((flags & FXF_EXCL) !== 0) os |= OPEN_FLAGS.O_EXCL;
  return os;
}

/** limits@openssh.com values, as OpenSSH's sftp-server */
export const SFTP_MAX_PACKET = 256 * 1024;
export const SFTP_MAX_READ_WRITE = SFTP_MAX_PACKET - 1024;

/**
 * Inbound flow control (DESIGN.md "Flow control"): the client's SSH window is no longer
 * refilled while WRITE data queued towards storage exceeds this bound, while the upload
 * throttle says the session is ahead of its rate, or while replies waiting for the client's
 * window exceed MAX_UNSENT_REPLY_BYTES (a client that never reads). Replies themselves are
 * never held back. Per session the memory is bounded by these plus one SSH window (2 MiB).
 */
export const MAX_PENDING_WRITE_BYTES = 4 * 1024 * 1024;
export const MAX_UNSENT_REPLY_BYTES = 4 * 1024 * 1024;
/** READ data being read or waiting for the client's window; more READs wait */
const MAX_READ_AHEAD_BYTES = 4 * 1024 * 1024;

/** READDIR batch bounds */
const DIR_BATCH_ENTRIES = 100;
const DIR_BATCH_BYTES = 64 * 1024;

export const SFTP_EXTENSIONS: ReadonlyArray<readonly [string, string]> = [
  ['posix-rename@openssh.com', '1'],
  ['statvfs@openssh.com', '2'],
  ['limits@openssh.com', '1'],
  ['fsync@openssh.com', '1'],
];

type Reply =
  | { kind: 'status'; code: SftpStatusCode; message?: string }
  | { kind: 'handle'; handle: Buffer }
  | { kind: 'data'; data: Buffer }
  | { kind: 'name'; names: { filename: string; longname: string; attrs: Attributes }[] }
  | { kind: 'attrs'; attrs: Attributes }
  | { kind: 'extended'; payload: Buffer };

const OK: Reply = { kind: 'status', code: SFTP_STATUS_CODE.OK };
const EOF: Reply = { kind: 'status', code: SFTP_STATUS_CODE.EOF };

interface DirState {
  readonly kind: 'dir';
  readonly vpath: string;
  /** entries waiting to be sent ("." / ".." first) */
  readonly pending: FileInfo[];
  iterator: AsyncIterator<FileInfo> | undefined;
  done: boolean;
  /** one READDIR at a time */
  busy: Promise<unknown>;
}

interface FileState {
  readonly kind: 'file';
  readonly vpath: string;
  readonly download?: DownloadHandle;
  readonly upload?: UploadHandle;
  /** opened READ|WRITE (reads on an upload handle are not supported) */
  readonly readable?: boolean;
  /** settles once the reply of the last READ asked on this handle has been sent */
  readReplies?: Promise<void>;
}

type HandleState = DirState | FileState;

export interface SftpSessionOptions {
  sftp: SFTPWrapper;
  conn: SessionConnection;
  log: Logger;
  /** called before any reply is sent, to batch socket writes of one event-loop turn */
  batch: () => void;
  /** called once the session ended (channel closed, handles released) */
  onEnd: () => void;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function dotEntry(name: string, now: Date): FileInfo {
  return {
    name,
    size: 0,
    mode: 0o040755,
    mtime: now,
    atime: now,
    isDirectory: true,
    isSymlink: false,
    isFile: false,
    uid: 0,
    gid: 0,
  };
}

function toSetStat(a: InputAttributes): SetStatAttrs {
  const out: SetStatAttrs = {};
  if (typeof a.mode === 'number') out.mode = a.mode & 0o7777;
  if (typeof a.uid === 'number' && typeof a.gid === 'number') {
    out.uid = a.uid;
    out.gid = a.gid;
  }
  if (a.atime !== undefined && a.mtime !== undefined) {
    out.atime = a.atime instanceof Date ? a.atime : new Date(Number(a.atime) * 1000);
    out.mtime = a.mtime instanceof Date ? a.mtime : new Date(Number(a.mtime) * 1000);
  }
  if (typeof a.size === 'number') out.size = a.size;
  return out;
}

function u64(values: readonly number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))), i * 8));
  return b;
}

export class SftpSession {
  private readonly sftp: SFTPWrapper;
  private readonly conn: SessionConnection;
  private readonly log: Logger;
  private readonly batch: () => void;
  private readonly onEnd: () => void;
  private readonly handles = new Map<number, HandleState>();
  private nextHandle = 1;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private ended = false;
  private pendingWriteBytes = 0;
  private readonly inbound: { resume(): void };
  /** ms timestamp until which the upload throttle wants the channel left unread */
  private throttledUntil = 0;
  private throttleTimer: NodeJS.Timeout | undefined;
  private readAheadBytes = 0;
  private readonly readWaiters: { len: number; resolve: () => void }[] = [];
  private readPoll: NodeJS.Timeout | undefined;

  constructor(o: SftpSessionOptions) {
    this.sftp = o.sftp;
    this.conn = o.conn;
    this.log = o.log;
    this.batch = o.batch;
    this.onEnd = o.onEnd;
    this.inbound = sftpInboundFlowControl(this.sftp, () => this.inboundBusy());
    sftpOnWindowDrain(this.sftp, () => {
      this.wakeReaders();
      this.maybeResumeInbound();
    });
    interceptSftpInit(this.sftp, SFTP_EXTENSIONS, (v) => this.log.debug({ client_version: v }, 'SFTP INIT'));
    this.register();
  }

  /** Ends the session from our side (registry close, service stop). */
  close(reason: string): Promise<void> {
    return this.finish(reason, false);
  }

  // ------------------------------------------------------------------ plumbing

  private register(): void {
    const s = this.sftp;
    s.on('OPEN', (id: number, filename: string, flags: number, attrs: InputAttributes) =>
      this.reply(id, 'open', () => this.open(filename, flags, attrs)),
    );
    s.on('READ', (id: number, handle: Buffer, offset: number, length: number) => this.replyRead(id, handle, offset, length));
    s.on('WRITE', (id: number, handle: Buffer, offset: number, data: Buffer) =>
      this.reply(id, 'write', () => this.write(handle, offset, data)),
    );
    s.on('CLOSE', (id: number, handle: Buffer) => this.reply(id, 'close', () => this.closeHandle(handle)));
    s.on('FSTAT', (id: number, handle: Buffer) => this.reply(id, 'fstat', () => this.fstat(handle)));
    s.on('FSETSTAT', (id: number, handle: Buffer, attrs: InputAttributes) =>
      this.reply(id, 'fsetstat', () => this.fsetstat(handle, attrs)),
    );
    s.on('OPENDIR', (id: number, path: string) => this.reply(id, 'opendir', () => this.opendir(path)));
    s.on('READDIR', (id: number, handle: Buffer) => this.reply(id, 'readdir', () => this.readdir(handle)));
    s.on('STAT', (id: number, path: string) => this.reply(id, 'stat', () => this.stat(path, false)));
    s.on('LSTAT', (id: number, path: string) => this.reply(id, 'lstat', () => this.stat(path, true)));
    s.on('SETSTAT', (id: number, path: string, attrs: InputAttributes) =>
      this.reply(id, 'setstat', () => this.setstat(path, attrs)),
    );
    s.on('REMOVE', (id: number, path: string) => this.reply(id, 'remove', () => this.remove(path)));
    s.on('RMDIR', (id: number, path: string) => this.reply(id, 'rmdir', () => this.rmdir(path)));
    s.on('MKDIR', (id: number, path: string, attrs: InputAttributes) => this.reply(id, 'mkdir', () => this.mkdir(path, attrs)));
    s.on('RENAME', (id: number, from: string, to: string) => this.reply(id, 'rename', () => this.rename(from, to)));
    s.on('REALPATH', (id: number, path: string) => this.reply(id, 'realpath', () => this.realpath(path)));
    s.on('READLINK', (id: number, path: string) => this.reply(id, 'readlink', () => this.readlink(path)));
    s.on('SYMLINK', (id: number, linkPath: string, targetPath: string) => {
      // pkg/sftp (upstream) always reads SYMLINK in OpenSSH's order (target first); ssh2 swaps
      // only for OpenSSH/dropbear clients, so swap back for the others.
      const [link, target] = sftpClientIsOpenSsh(s) ? [linkPath, targetPath] : [targetPath, linkPath];
      this.reply(id, 'symlink', () => this.symlink(link, target));
    });
    s.on('EXTENDED', (id: number, name: string, data: Buffer | undefined) =>
      this.reply(id, name, () => this.extended(name, data ?? Buffer.alloc(0))),
    );
    s.on('end', () => {
      void this.finish('client EOF', true);
    });
    s.on('close', () => {
      void this.finish('channel closed', false);
    });
    s.on('error', (e: unknown) => {
      this.log.warn({ err: e }, 'SFTP protocol error');
      void this.finish('protocol error', false);
    });
  }

  /** Runs `fn` and answers request `id` exactly once with its result or the mapped error. */
  /** runs a request and sends its reply; `sent` is called once the reply is on its way */
  private reply(id: number, op: string, fn: () => Promise<Reply> | Reply, sent?: () => void): void {
    this.inFlight++;
    let p: Promise<Reply> | Reply;
    try {
      p = fn();
    } catch (e) {
      p = Promise.reject(e);
    }
    if (p instanceof Promise) {
      p.then(
        (r) => {
          this.send(id, r);
          sent?.();
        },
        (e: unknown) => {
          this.sendError(id, op, e);
          sent?.();
        },
      );
    } else {
      this.send(id, p);
      sent?.();
    }
  }

  /**
   * READs of one handle run concurrently but are answered in the order they were asked:
   * OpenSSH's client stops tracking the contiguous part of a download at the first reply that
   * arrives out of order, and scp (which downloads "in place") then truncates the file there —
   * silently, with exit status 0. OpenSSH's own sftp-server answers in order.
   */
  private replyRead(id: number, h: Buffer, offset: number, length: number): void {
    const st = this.handles.get(h.length === 4 ? h.readUInt32BE(0) : -1);
    if (!st || st.kind !== 'file') {
      this.reply(id, 'read', () => this.read(h, offset, length));
      return;
    }
    const previous = st.readReplies;
    let release!: () => void;
    st.readReplies = new Promise<void>((resolve) => (release = resolve));
    this.reply(
      id,
      'read',
      async () => {
        try {
          return await this.read(h, offset, length);
        } finally {
          if (previous) await previous;
        }
      },
      release,
    );
  }

  private sendError(id: number, op: string, e: unknown): void {
    const st = toSftpStatus(e);
    if (SftpgoError.is(e) && e.code !== 'INTERNAL') this.log.debug({ op, err_code: e.code, error: e.message }, 'SFTP request failed');
    else this.log.error({ op, err: e }, 'SFTP request failed');
    this.send(id, { kind: 'status', code: st.code, message: st.message });
  }

  private send(id: number, r: Reply): void {
    try {
      if (!sftpWritable(this.sftp)) return;
      this.batch();
      const s = this.sftp;
      switch (r.kind) {
        case 'status':
          s.status(id, r.code, r.message);
          break;
        case 'handle':
          s.handle(id, r.handle);
          break;
        case 'data':
          sendSftpData(s, id, r.data);
          break;
        case 'name':
          s.name(id, r.names);
          break;
        case 'attrs':
          s.attrs(id, r.attrs);
          break;
        case 'extended':
          sendExtendedReply(s, id, r.payload);
          break;
      }
    } catch (e) {
      this.log.error({ err: e }, 'unable to send an SFTP reply');
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  private newHandle(state: HandleState): Buffer {
    const n = this.nextHandle++;
    this.handles.set(n, state);
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n >>> 0, 0);
    return b;
  }

  private handleId(h: Buffer): number {
    if (h.length !== 4) throw new SftpgoError('INVALID_INPUT', 'invalid handle');
    return h.readUInt32BE(0);
  }

  private fileState(h: Buffer): FileState {
    const st = this.handles.get(this.handleId(h));
    if (!st || st.kind !== 'file') throw new SftpgoError('INVALID_INPUT', 'invalid handle');
    return st;
  }

  private path(p: string): string {
    return normalizeVirtualPath(p);
  }

  // ------------------------------------------------------------------ files

  private async open(filename: string, flags: number, _attrs: InputAttributes): Promise<Reply> {
    const vpath = this.path(filename);
    const write = (flags & FXF_WRITE) !== 0 || (flags & FXF_APPEND) !== 0;
    if (!write) {
      const download = await this.conn.openDownload(vpath, { offset: 0 });
      return { kind: 'handle', handle: this.newHandle({ kind: 'file', vpath, download }) };
    }
    if ((flags & FXF_EXCL) !== 0 && (flags & FXF_CREAT) !== 0 && (await this.exists(vpath))) {
      throw new SftpgoError('ALREADY_EXISTS', `${JSON.stringify(vpath)} already exists`);
    }
    // upstream handler.go: no TRUNC on an existing file means resume (OpenSSH sets APPEND,
    // WinSCP does not); APPEND also forbids writes below the current size
    const mode = (flags & FXF_TRUNC) !== 0 ? 'truncate' : (flags & FXF_APPEND) !== 0 ? 'append' : 'inplace';
    const upload = await this.conn.openUpload(vpath, {
      mode,
      openFlags: { existing: actionOpenFlags(flags) },
    });
    return { kind: 'handle', handle: this.newHandle({ kind: 'file', vpath, upload, readable: (flags & FXF_READ) !== 0 }) };
  }

  /** SSH_FXF_EXCL: whether the path exists (a stat error other than NOT_FOUND lets openUpload decide) */
  private async exists(vpath: string): Promise<boolean> {
    try {
      await this.conn.lstat(vpath);
      return true;
    } catch (e) {
      if (!SftpgoError.is(e, 'NOT_FOUND')) this.log.debug({ err: e, file_path: vpath }, 'EXCL pre-check failed');
      return false;
    }
  }

  private async read(h: Buffer, offset: number, length: number): Promise<Reply> {
    const st = this.fileState(h);
    const len = Math.min(length, SFTP_MAX_READ_WRITE);
    if (!st.download) {
      throw new SftpgoError(st.readable ? 'OP_UNSUPPORTED' : 'PERMISSION_DENIED', 'the handle is not open for reading');
    }
    await this.acquireRead(len);
    try {
      const buf = await st.download.read(offset, len);
      if (buf === null || buf.length === 0) return EOF;
      return { kind: 'data', data: buf };
    } finally {
      this.readAheadBytes -= len;
      this.wakeReaders();
    }
  }

  /**
   * Outbound flow control: a READ starts only while the data being read plus the replies
   * waiting for the client's window stay under MAX_READ_AHEAD_BYTES (OpenSSH keeps 64 READs
   * of 255 KiB in flight; without this they would all be buffered here). Reserves `len`.
   */
  private async acquireRead(len: number): Promise<void> {
    if (this.readWaiters.length === 0 && this.canRead(len)) {
      this.readAheadBytes += len;
      return;
    }
    await new Promise<void>((resolve) => {
      this.readWaiters.push({ len, resolve });
      this.scheduleReadPoll();
    });
  }

  private canRead(len: number): boolean {
    return this.readAheadBytes + sftpUnsentBytes(this.sftp) + len <= MAX_READ_AHEAD_BYTES;
  }

  private wakeReaders(): void {
    while (this.readWaiters.length > 0) {
      const w = this.readWaiters[0] as { len: number; resolve: () => void };
      if (!this.ended && !this.canRead(w.len)) break;
      this.readWaiters.shift();
      this.readAheadBytes += w.len;
      w.resolve();
    }
    this.scheduleReadPoll();
  }

  /** a safety net: waiters are normally woken by a finished READ or the window drain hook */
  private scheduleReadPoll(): void {
    if (this.readPoll || this.readWaiters.length === 0) return;
    this.readPoll = setTimeout(() => {
      this.readPoll = undefined;
      this.wakeReaders();
    }, 20);
  }

  private write(h: Buffer, offset: number, data: Buffer): Promise<Reply> | Reply {
    const st = this.fileState(h);
    const upload = st.upload;
    if (!upload) throw new SftpgoError('PERMISSION_DENIED', 'the handle is not open for writing');
    const n = data.length;
    this.pendingWriteBytes += n;
    const done = (): void => {
      this.pendingWriteBytes -= n;
      this.maybeResumeInbound();
    };
    return upload.write(offset, data).then(
      () => {
        this.throttleInbound(upload.throttleDelay());
        done();
        return OK;
      },
      (e: unknown) => {
        done();
        throw e;
      },
    );
  }

  /** whether the client's window must not be refilled now (checked by ssh2 on each packet) */
  private inboundBusy(): boolean {
    return (
      this.pendingWriteBytes >= MAX_PENDING_WRITE_BYTES ||
      this.throttledUntil > Date.now() ||
      sftpUnsentBytes(this.sftp) >= MAX_UNSENT_REPLY_BYTES
    );
  }

  /** refills the client's window once every reason to hold it is gone (with hysteresis) */
  private maybeResumeInbound(): void {
    if (
      this.pendingWriteBytes < MAX_PENDING_WRITE_BYTES / 2 &&
      this.throttledUntil <= Date.now() &&
      sftpUnsentBytes(this.sftp) < MAX_UNSENT_REPLY_BYTES / 2
    ) {
      this.inbound.resume();
    }
  }

  /** stops consuming the channel for `ms` (the upload throttle is ahead of its rate) */
  private throttleInbound(ms: number): void {
    if (ms <= 0 || this.ended) return;
    const until = Date.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = undefined;
      this.maybeResumeInbound();
    }, ms + 1);
  }

  private async closeHandle(h: Buffer): Promise<Reply> {
    const id = this.handleId(h);
    const st = this.handles.get(id);
    if (!st) throw new SftpgoError('INVALID_INPUT', 'invalid handle');
    this.handles.delete(id);
    if (st.kind === 'dir') {
      await st.busy.catch(() => undefined);
      await st.iterator?.return?.();
      return OK;
    }
    if (st.upload) await st.upload.close();
    if (st.download) {
      // answered once the download is counted, while the file is still being closed and
      // before its log line (unless a download action must come first): the next OPEN of a
      // `get -r` waits for this reply. Replies to READs asked before the CLOSE leave first.
      await st.download.close({ releaseInBackground: true });
      await st.readReplies;
    }
    return OK;
  }

  private async fstat(h: Buffer): Promise<Reply> {
    const st = this.fileState(h);
    // a download handle answers from the attributes read at open, without a path lookup
    return { kind: 'attrs', attrs: toAttrs(await this.conn.statOpen(st.vpath, st.download?.info)) };
  }

  private async fsetstat(h: Buffer, attrs: InputAttributes): Promise<Reply> {
    const st = this.fileState(h);
    // for a file being uploaded on this connection, common defers mode/owner/times until the
    // upload is committed and applies a size change at once
    await this.conn.setStat(st.vpath, toSetStat(attrs));
    return OK;
  }

  // ------------------------------------------------------------------ directories

  private async opendir(p: string): Promise<Reply> {
    const vpath = this.path(p);
    const iterable = await this.conn.list(vpath);
    const iterator = iterable[Symbol.asyncIterator]();
    // surface NOT_FOUND / not-a-directory / permission errors on OPENDIR, as pkg/sftp does
    const first = await iterator.next();
    const now = new Date();
    const pending: FileInfo[] = [dotEntry('.', now)];
    if (vpath !== '/') pending.push(dotEntry('..', now));
    if (!first.done) pending.push(first.value);
    const state: DirState = {
      kind: 'dir',
      vpath,
      pending,
      iterator,
      done: first.done === true,
      busy: Promise.resolve(),
    };
    return { kind: 'handle', handle: this.newHandle(state) };
  }

  private readdir(h: Buffer): Promise<Reply> {
    const st = this.handles.get(this.handleId(h));
    if (!st || st.kind !== 'dir') throw new SftpgoError('INVALID_INPUT', 'invalid handle');
    const run = st.busy.then(() => this.nextDirBatch(st));
    st.busy = run.catch(() => undefined);
    return run;
  }

  private async nextDirBatch(st: DirState): Promise<Reply> {
    const names: { filename: string; longname: string; attrs: Attributes }[] = [];
    let bytes = 0;
    const now = Date.now();
    const push = (fi: FileInfo): void => {
      const ln = longname(fi, fi.name, now);
      names.push({ filename: fi.name, longname: ln, attrs: toAttrs(fi) });
      bytes += fi.name.length + ln.length + 64;
    };
    while (st.pending.length > 0 && names.length < DIR_BATCH_ENTRIES && bytes < DIR_BATCH_BYTES) {
      push(st.pending.shift() as FileInfo);
    }
    while (!st.done && st.iterator && names.length < DIR_BATCH_ENTRIES && bytes < DIR_BATCH_BYTES) {
      const n = await st.iterator.next();
      if (n.done) {
        st.done = true;
        break;
      }
      push(n.value);
    }
    if (names.length === 0) return EOF;
    return { kind: 'name', names };
  }

  // ------------------------------------------------------------------ path commands

  private async stat(p: string, lstat: boolean): Promise<Reply> {
    const vpath = this.path(p);
    const fi = lstat ? await this.conn.lstat(vpath) : await this.conn.stat(vpath);
    return { kind: 'attrs', attrs: toAttrs(fi) };
  }

  private async setstat(p: string, attrs: InputAttributes): Promise<Reply> {
    await this.conn.setStat(this.path(p), toSetStat(attrs));
    return OK;
  }

  private async remove(p: string): Promise<Reply> {
    try {
      await this.conn.remove(this.path(p));
    } catch (e) {
      // upstream answers a REMOVE of a directory with a plain SSH_FX_FAILURE
      if (SftpgoError.is(e, 'INVALID_INPUT')) throw new SftpgoError('CONFLICT', e.message, { cause: e });
      throw e;
    }
    return OK;
  }

  private async rmdir(p: string): Promise<Reply> {
    await this.conn.rmdir(this.path(p));
    return OK;
  }

  private async mkdir(p: string, _attrs: InputAttributes): Promise<Reply> {
    await this.conn.mkdir(this.path(p));
    return OK;
  }

  private async rename(from: string, to: string): Promise<Reply> {
    await this.conn.rename(this.path(from), this.path(to));
    return OK;
  }

  private realpath(p: string): Reply {
    const vpath = this.path(p === '' ? '.' : p);
    const now = new Date();
    const fi = dotEntry(vpath, now);
    return { kind: 'name', names: [{ filename: vpath, longname: vpath, attrs: toAttrs(fi) }] };
  }

  private async readlink(p: string): Promise<Reply> {
    const target = await this.conn.readlink(this.path(p));
    const now = new Date();
    const fi: FileInfo = { ...dotEntry(target, now), mode: 0o120777, isDirectory: false, isSymlink: true };
    return { kind: 'name', names: [{ filename: target, longname: target, attrs: toAttrs(fi) }] };
  }

  private async symlink(linkPath: string, targetPath: string): Promise<Reply> {
    await this.conn.symlink(this.path(targetPath), this.path(linkPath));
    return OK;
  }

  // ------------------------------------------------------------------ extensions

  private async extended(name: string, data: Buffer): Promise<Reply> {
    switch (name) {
      case 'posix-rename@openssh.com': {
        const { a, b } = readTwoStrings(data);
        await this.conn.rename(this.path(a), this.path(b));
        return OK;
      }
      case 'statvfs@openssh.com': {
        const { a } = readTwoStrings(data, 1);
        const v: StatVfs = await this.conn.statVfs(this.path(a));
        return {
          kind: 'extended',
          payload: u64([v.bsize, v.frsize, v.blocks, v.bfree, v.bavail, v.files, v.ffree, v.favail, v.fsid, v.flag, v.namemax]),
        };
      }
      case 'fsync@openssh.com': {
        // uploads are not synced on CLOSE unless common.fsync_uploads (or atomic, before the
        // rename): a client that wants a direct upload durable asks for it (OpenSSH `put -f`)
        const st = this.fileState(new DataReader(data).bytes());
        if (st.upload) await st.upload.sync();
        return OK;
      }
      case 'limits@openssh.com':
        return { kind: 'extended', payload: u64([SFTP_MAX_PACKET, SFTP_MAX_READ_WRITE, SFTP_MAX_READ_WRITE, 0]) };
      default:
        throw new SftpgoError('OP_UNSUPPORTED', `unsupported extension ${name}`);
    }
  }

  // ------------------------------------------------------------------ end of session

  private finishing: Promise<void> | undefined;

  /**
   * Releases every handle (uploads without CLOSE are aborted), then — on a client EOF — sends
   * exit-status 0 and closes the channel ourselves (ssh2 does not; without it `sftp -b` hangs
   * and scp exits 1). Idempotent.
   */
  private finish(reason: string, clientEof: boolean): Promise<void> {
    this.finishing ??= this.doFinish(reason, clientEof).catch((e: unknown) => {
      this.log.error({ err: e }, 'error ending the SFTP session');
    });
    return this.finishing;
  }

  private async doFinish(reason: string, clientEof: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.readPoll);
    clearTimeout(this.throttleTimer);
    this.wakeReaders();
    const states = [...this.handles.values()];
    this.handles.clear();
    const aborted = new SftpgoError('ABORTED', `transfer aborted: ${reason}`);
    await Promise.all(
      states.map(async (st) => {
        try {
          if (st.kind === 'dir') await st.iterator?.return?.();
          else if (st.upload) await st.upload.abort(aborted);
          else if (st.download) await st.download.close();
        } catch (e) {
          this.log.warn({ err: e, file_path: st.vpath }, `error releasing a handle: ${errorMessage(e)}`);
        }
      }),
    );
    if (this.inFlight > 0) {
      // requests already running answer (or are dropped on a closed channel) before we close
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    if (clientEof) sftpExitStatus(this.sftp, 0);
    try {
      this.sftp.end();
    } catch (e) {
      this.log.debug({ err: e }, 'SFTP channel already closed');
    }
    this.log.debug({ reason }, 'SFTP session ended');
    this.onEnd();
  }
}

class DataReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  bytes(): Buffer {
    if (this.pos + 4 > this.buf.length) throw new SftpgoError('INVALID_INPUT', 'malformed extended request');
    const len = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    if (this.pos + len > this.buf.length) throw new SftpgoError('INVALID_INPUT', 'malformed extended request');
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }
  string(): string {
    return this.bytes().toString('utf8');
  }
}

function readTwoStrings(data: Buffer, count = 2): { a: string; b: string } {
  const r = new DataReader(data);
  const a = r.string();
  const b = count > 1 ? r.string() : '';
  return { a, b };
}
