/**
 * SFTP backend (provider 5): the files live on a remote SFTP server (upstream vfs/sftpfs.go,
 * storage-2.1.2.md §6). One SSH connection + SFTP session per Fs, opened by `create()`; when it
 * drops, the next operation reconnects (read-only metadata operations that were cut by the drop
 * are retried once on the new session); `close()` ends it.
 *
 * `buffer_size` 0: `openFile` hands out remote handles (random access, resume, append, atomic
 * uploads through a temp file in the target's remote directory). `buffer_size` > 0: streamed
 * transfers only, uploads always truncate (upstream quirk), no resume / atomic / random access.
 * Both keep several READ/WRITE requests in flight (./transfer.ts).
 *
 * Prefix jail: with a `prefix` other than "/", the real location of every path is computed on
 * the server (REALPATH; dangling symlinks followed by hand; a missing path through its deepest
 * existing ancestor) and a location outside the prefix's real path is refused with
 * PERMISSION_DENIED. Operations on a link itself (lstat, remove, rename, readlink, symlink)
 * check the parent directory instead, and the operation then runs on the resolved real path.
 * Upstream only reads a final symlink one level; a directory symlink in the middle of a path
 * is caught here too.
 *
 * Rename: rename(2) semantics as the Fs interface says. posix-rename@openssh.com when the server
 * offers it; otherwise plain SSH_FXP_RENAME, and when that fails because the target exists
 * (OpenSSH and most servers refuse to overwrite) the target file, or empty directory, is removed
 * and the rename retried — not atomic then.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import ssh2 from 'ssh2';
import type { ApiSecret } from '../../../api/index.js';
import { SftpgoError } from '../../../errors/index.js';
import { abortedUpload, resumeAt } from '../../handle-upload.js';
import { joinVirtual, normalizeVirtualPath } from '../../path.js';
import type { CreateFsOptions, FilesystemConfig } from '../../registry.js';
import {
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  type FileHandle,
  type FileInfo,
  type Fs,
  type FsCapabilities,
  type FsLogger,
  type Op,
  type OpenFileOptions,
  type OpenFlags,
  type SetStatAttrs,
  type StatVfs,
  type Upload,
  type Usage,
  type WriteStreamOptions,
} from '../../types.js';
import {
  connectionLost,
  isStatus,
  mapSftpError,
  SFTP_STATUS,
  sftpStatus,
  statusError,
} from './errors.js';
import { cleanPrefix, climbsAboveRoot, fromRemote, isInside, parseEndpoint } from './paths.js';
import { openSession, type Attributes, type Session, type SessionConfig } from './session.js';
import {
  DEFAULT_WINDOW,
  pipelinedUpload,
  ReadAhead,
  readAt,
  readStream,
  writeAt,
  type ReadOptions,
  type UploadTarget,
} from './transfer.js';

const OPEN = ssh2.utils.sftp.OPEN_MODE;
const TEMP_PREFIX = '.sftpgo-upload.';
const MAX_LINK_DEPTH = 40;
const MIB = 1024 * 1024;
/** ssh2's handshake timeout: a remote that never answers fails the login instead of hanging it */
const READY_TIMEOUT_MS = 20_000;

const NO_LOGGER: FsLogger = Object.freeze({ warn: () => undefined, error: () => undefined });

export interface SftpFsSettings {
  endpoint: string;
  username: string;
  password?: string;
  /** PEM (or OpenSSH format), unencrypted */
  privateKey?: string;
  fingerprints?: readonly string[];
  /** remote directory serving as "/" (default "/") */
  prefix?: string;
  disableConcurrentReads?: boolean;
  /** MiB; > 0 selects streamed transfers (upstream's buffered mode), 0..16 */
  bufferSize?: number;
  /** the virtual mount point, used only to name paths in messages */
  displayPrefix?: string;
  /** create the prefix remotely (mkdir -p) when connecting (upstream CheckRootPath) */
  createRoot?: boolean;
  logger?: FsLogger;
  /** the user this filesystem serves (logs, loop guard) */
  localUsername?: string;
  connectionId?: string;
  /** this SFTPGo's own host key fingerprints (loop guard) */
  localHostKeyFingerprints?: readonly string[];
  /** whether a local user has an SFTP backend (loop guard: nested local SFTP filesystems) */
  userUsesSftp?: (username: string) => Promise<boolean>;
  /** cancels the first connection */
  signal?: AbortSignal;
}

interface Resolved {
  /** normalized root-relative path */
  rel: string;
  /** the remote path the operation runs on (symlinks resolved where the jail needed it) */
  remote: string;
  /** client-visible path for messages */
  display: string;
}

function toInfo(a: Attributes, name: string): FileInfo {
  // a server may omit permissions: a regular file then, as pkg/sftp assumes
  const mode = typeof a.mode === 'number' ? a.mode : S_IFREG | 0o644;
  const type = mode & S_IFMT;
  return {
    name,
    size: a.size ?? 0,
    mode,
    mtime: new Date((a.mtime ?? 0) * 1000),
    atime: new Date((a.atime ?? 0) * 1000),
    isDirectory: type === S_IFDIR,
    isSymlink: type === S_IFLNK,
    isFile: type === S_IFREG,
    uid: a.uid ?? 0,
    gid: a.gid ?? 0,
  };
}

function baseName(rel: string): string {
  return rel === '/' ? '/' : posix.basename(rel);
}

function aborted(signal: AbortSignal, display: string, op: string): SftpgoError {
  return new SftpgoError('ABORTED', `${op} ${JSON.stringify(display)}: operation aborted`, {
    cause: signal.reason,
  });
}

/** `p`, or an ABORTED rejection as soon as `signal` fires (the request itself still completes) */
function abortable<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  display: string,
  op: string,
): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(aborted(signal, display, op));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted(signal, display, op));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A rename the server refused without saying why: FAILURE (OpenSSH: the target exists, is a
 * directory, is not empty), or OP_UNSUPPORTED (SFTPGo refuses a rename onto a directory).
 */
function isRefusal(e: unknown): boolean {
  return isStatus(e, SFTP_STATUS.FAILURE) || isStatus(e, SFTP_STATUS.OP_UNSUPPORTED);
}

/** a lost connection (no SFTP status): the request may be retried on a new session */
function isConnectionLoss(e: unknown): boolean {
  if (SftpgoError.is(e)) return e.code === 'BACKEND_UNAVAILABLE';
  return sftpStatus(e) === undefined;
}

export class SftpFs implements Fs {
  readonly kind = 'sftp' as const;
  readonly capabilities: FsCapabilities;
  /** present when randomAccess (buffer_size 0) */
  readonly openFile?: (p: string, flags: OpenFlags, o?: OpenFileOptions) => Promise<FileHandle>;
  /** present when the server offers statvfs@openssh.com */
  readonly statVfs?: (p: string, o?: Op) => Promise<StatVfs>;

  private readonly prefix: string;
  private readonly displayPrefix: string;
  private readonly buffered: boolean;
  private readonly readOpts: ReadOptions;
  private readonly window: number;
  private readonly logger: FsLogger;
  private readonly sessionConfig: SessionConfig;
  private live: Session | undefined;
  private connecting: Promise<Session> | undefined;
  private closed = false;
  /** the real path of the prefix, per session */
  private readonly roots = new WeakMap<Session, string>();

  private constructor(s: SftpFsSettings, sessionConfig: SessionConfig, first: Session) {
    this.prefix = cleanPrefix(s.prefix);
    this.displayPrefix = normalizeVirtualPath(s.displayPrefix ?? '/');
    this.buffered = (s.bufferSize ?? 0) > 0;
    this.window = this.buffered ? (s.bufferSize ?? 0) * MIB : DEFAULT_WINDOW;
    this.readOpts = { concurrent: s.disableConcurrentReads !== true, window: this.window };
    this.logger = s.logger ?? NO_LOGGER;
    this.sessionConfig = sessionConfig;
    this.live = first;
    const statvfs = first.hasExtension('statvfs@openssh.com', '2');
    this.capabilities = Object.freeze({
      resume: !this.buffered,
      atomicUpload: !this.buffered,
      randomAccess: !this.buffered,
      symlinks: true,
      chmod: true,
      chown: true,
      chtimes: true,
      truncate: true,
      statvfs,
      rename: true,
      emulatedDirs: false,
    });
    if (!this.buffered) this.openFile = (p, flags, o) => this.openHandle(p, flags, o);
    if (statvfs) this.statVfs = (p, o) => this.doStatVfs(p, o);
  }

  /** connects (the first session) and builds the filesystem */
  static async connect(s: SftpFsSettings): Promise<SftpFs> {
    const { host, port } = parseEndpoint(s.endpoint);
    if (!s.username)
      throw new SftpgoError('INVALID_INPUT', 'invalid SFTP fs config: username cannot be empty');
    if (!s.password && !s.privateKey) {
      throw new SftpgoError('INVALID_INPUT', 'invalid SFTP fs config: credentials cannot be empty');
    }
    if (s.privateKey) {
      const parsed = ssh2.utils.parseKey(s.privateKey);
      // the parser's message never contains the key
      if (parsed instanceof Error) {
        throw new SftpgoError('INVALID_INPUT', 'invalid SFTP fs config: invalid private key', {
          cause: parsed,
        });
      }
    }
    const bufferSize = s.bufferSize ?? 0;
    if (!Number.isInteger(bufferSize) || bufferSize < 0 || bufferSize > 16) {
      throw new SftpgoError(
        'INVALID_INPUT',
        'invalid SFTP fs config: invalid buffer_size, valid range is 0-16',
      );
    }
    const logFields: Record<string, unknown> = {
      sender: `sftpfs ${JSON.stringify(s.endpoint)}`,
      ...(s.connectionId ? { connection_id: s.connectionId } : {}),
      ...(s.localUsername ? { username: s.localUsername } : {}),
      mount_path: s.displayPrefix ?? '/',
    };
    const config: SessionConfig = {
      host,
      port,
      username: s.username,
      ...(s.password ? { password: s.password } : {}),
      ...(s.privateKey ? { privateKey: s.privateKey } : {}),
      fingerprints: s.fingerprints ?? [],
      localHostKeyFingerprints: s.localHostKeyFingerprints ?? [],
      forbiddenUsernames: s.localUsername ? [s.localUsername] : [],
      // the target user too, when it uses an SFTP backend itself (asked if the key is ours)
      ...(s.userUsesSftp ? { userUsesSftp: s.userUsesSftp } : {}),
      logger: s.logger ?? NO_LOGGER,
      logFields,
      readyTimeout: READY_TIMEOUT_MS,
    };
    // the session may end before the filesystem exists: `ref` is filled right after
    const ref: { fs?: SftpFs } = {};
    const first = await openSession(config, {
      ...(s.signal ? { signal: s.signal } : {}),
      onClose: (x) => ref.fs?.dropped(x),
    });
    const fs = new SftpFs(s, config, first);
    ref.fs = fs;
    if (!first.alive) fs.dropped(first);
    if (s.createRoot && fs.prefix !== '/') await fs.createPrefix(first);
    return fs;
  }

  // ---------------------------------------------------------------- session

  private dropped(s: Session): void {
    if (this.live === s) this.live = undefined;
  }

  private async session(): Promise<Session> {
    if (this.closed) {
      throw new SftpgoError('BACKEND_UNAVAILABLE', 'the SFTP filesystem is closed');
    }
    if (this.live?.alive) return this.live;
    this.live = undefined;
    this.connecting ??= (async () => {
      try {
        const s = await openSession(this.sessionConfig, { onClose: (x) => this.dropped(x) });
        if (this.closed) {
          await s.end();
          throw new SftpgoError('BACKEND_UNAVAILABLE', 'the SFTP filesystem is closed');
        }
        this.live = s;
        return s;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /**
   * Runs `fn` on the current session. `retry`: a read-only request cut by a dropped connection
   * runs once more on a new session.
   */
  private async run<T>(fn: (s: Session) => Promise<T>, retry: boolean): Promise<T> {
    const s = await this.session();
    try {
      return await fn(s);
    } catch (e) {
      if (!retry || s.alive || !isConnectionLoss(e)) throw e;
      return fn(await this.session());
    }
  }

  private async createPrefix(s: Session): Promise<void> {
    try {
      await this.mkdirAll(s, this.prefix);
    } catch (e) {
      this.logger.warn(
        { ...this.sessionConfig.logFields, err: e },
        'unable to create the prefix directory on the remote SFTP server',
      );
    }
  }

  // ---------------------------------------------------------------- path safety

  private display(rel: string): string {
    return joinVirtual(this.displayPrefix, rel);
  }

  /** the real path of the prefix (its symlinks resolved), once per session */
  private async root(s: Session): Promise<string> {
    const cached = this.roots.get(s);
    if (cached !== undefined) return cached;
    const r = await this.walk(s, '/', this.prefix.split('/'), true);
    this.roots.set(s, r);
    return r;
  }

  /**
   * Resolves the symlinks of `base` + `parts` the way the kernel would, asking the server
   * (LSTAT, READLINK): `base` is a real directory, `parts` are path segments ("..", "." and link
   * targets included). REALPATH is not used: pkg/sftp servers (upstream SFTPGo, this server)
   * answer it lexically. Each run of plain names costs one round trip (its prefixes are
   * LSTATed in parallel). A missing component ends the walk: nothing below it can be a link,
   * the rest is joined as is. `followLast` false leaves a final link unresolved.
   */
  private async walk(
    s: Session,
    base: string,
    parts: string[],
    followLast: boolean,
  ): Promise<string> {
    let resolved = base;
    let todo = parts.filter((x) => x !== '' && x !== '.');
    let links = 0;
    while (todo.length > 0) {
      if (todo[0] === '..') {
        resolved = posix.dirname(resolved);
        todo = todo.slice(1);
        continue;
      }
      let n = 0;
      while (n < todo.length && todo[n] !== '..') n++;
      // the final component of a non-following resolution is taken as it is
      const count = n === todo.length && !followLast ? n - 1 : n;
      if (count === 0) {
        resolved = posix.join(resolved, todo[0] as string);
        todo = todo.slice(1);
        continue;
      }
      const paths: string[] = [];
      let cur = resolved;
      for (let i = 0; i < count; i++) paths.push((cur = posix.join(cur, todo[i] as string)));
      const stats = await Promise.all(paths.map((x) => this.lstatOrNone(s, x)));
      let i = 0;
      for (; i < count; i++) {
        const st = stats[i];
        if (st === undefined) {
          const rest = todo.slice(i + 1);
          // the OS would fail on ".." below a missing directory: so does this
          if (rest.includes('..')) throw statusError(SFTP_STATUS.NO_SUCH_FILE, 'No such file');
          return posix.join(paths[i] as string, ...rest);
        }
        if ((st.mode & S_IFMT) === S_IFLNK) break;
      }
      if (i === count) {
        resolved = paths[count - 1] as string;
        todo = todo.slice(count);
        continue;
      }
      if (++links > MAX_LINK_DEPTH) {
        throw new SftpgoError('INVALID_INPUT', 'too many levels of symbolic links');
      }
      const target = await s.readlink(paths[i] as string);
      resolved = target.startsWith('/') ? '/' : i === 0 ? resolved : (paths[i - 1] as string);
      todo = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...todo.slice(i + 1)];
    }
    return resolved;
  }

  /**
   * Normalizes `p` and maps it to the remote path the operation runs on, refusing locations
   * outside the prefix. `follow`: the final component is resolved too (stat, open, list, ...);
   * otherwise only its parent is (lstat, remove, rename, readlink, symlink).
   */
  private async resolve(s: Session, p: string, follow: boolean): Promise<Resolved> {
    const rel = normalizeVirtualPath(p);
    const display = this.display(rel);
    if (this.prefix === '/') return { rel, remote: rel, display };
    let root: string;
    let remote: string;
    try {
      root = await this.root(s);
      remote = rel === '/' ? root : await this.walk(s, root, rel.split('/'), follow);
    } catch (e) {
      throw mapSftpError(e, display);
    }
    if (!isInside(remote, root)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        `access to ${JSON.stringify(display)} is not allowed: it leads outside the root directory`,
      );
    }
    return { rel, remote, display };
  }

  /** the root-relative path of a real remote path, undefined when outside the prefix */
  private async relativeOf(s: Session, real: string): Promise<string | undefined> {
    if (this.prefix === '/') return real;
    const root = await this.root(s);
    if (isInside(real, root)) return fromRemote(root, real);
    if (isInside(real, this.prefix)) return fromRemote(this.prefix, real);
    return undefined;
  }

  // ---------------------------------------------------------------- refining FAILURE

  /** the attributes of `remote` without following a final link, undefined when missing */
  private async lstatOrNone(s: Session, remote: string): Promise<Attributes | undefined> {
    try {
      return await s.lstat(remote);
    } catch (e) {
      if (isStatus(e, SFTP_STATUS.NO_SUCH_FILE)) return undefined;
      throw e;
    }
  }

  private async statOrNone(s: Session, remote: string): Promise<Attributes | undefined> {
    try {
      return await s.stat(remote);
    } catch (e) {
      if (isStatus(e, SFTP_STATUS.NO_SUCH_FILE)) return undefined;
      throw e;
    }
  }

  /**
   * After a generic FAILURE, asks the server what the path is and returns the specific error
   * (`classify` returns undefined to keep the mapped FAILURE). Never a check before acting:
   * the operation was attempted first.
   */
  private async refine(
    s: Session,
    e: unknown,
    r: Resolved,
    op: string,
    classify: (st: Attributes | undefined) => SftpgoError | undefined,
    follow = false,
  ): Promise<SftpgoError> {
    const mapped = mapSftpError(e, r.display, op);
    if (!isStatus(e, SFTP_STATUS.FAILURE)) return mapped;
    try {
      const st = follow ? await this.statOrNone(s, r.remote) : await this.lstatOrNone(s, r.remote);
      return classify(st) ?? mapped;
    } catch {
      // the refinement is best effort: the original failure stands
      return mapped;
    }
  }

  // ---------------------------------------------------------------- Fs

  async stat(p: string, o?: Op): Promise<FileInfo> {
    const rel = normalizeVirtualPath(p);
    const work = this.run(async (s) => {
      const r = await this.resolve(s, rel, true);
      try {
        return toInfo(await s.stat(r.remote), baseName(r.rel));
      } catch (e) {
        throw mapSftpError(e, r.display);
      }
    }, true);
    return abortable(work, o?.signal, this.display(rel), 'stat');
  }

  async lstat(p: string, o?: Op): Promise<FileInfo> {
    const rel = normalizeVirtualPath(p);
    const work = this.run(async (s) => {
      const r = await this.resolve(s, rel, false);
      try {
        return toInfo(await s.lstat(r.remote), baseName(r.rel));
      } catch (e) {
        throw mapSftpError(e, r.display);
      }
    }, true);
    return abortable(work, o?.signal, this.display(rel), 'lstat');
  }

  async *list(dir: string, o?: Op): AsyncIterableIterator<FileInfo> {
    const rel = normalizeVirtualPath(dir);
    const signal = o?.signal;
    const opened = this.run(async (s) => {
      const r = await this.resolve(s, rel, true);
      try {
        return { s, r, h: await s.opendir(r.remote) };
      } catch (e) {
        // OpenSSH answers NO_SUCH_FILE for a file (ENOTDIR)
        if (isStatus(e, SFTP_STATUS.NO_SUCH_FILE) || isStatus(e, SFTP_STATUS.FAILURE)) {
          const st = await this.statOrNone(s, r.remote).catch(() => undefined);
          if (st && (st.mode & S_IFMT) !== S_IFDIR) {
            throw new SftpgoError(
              'INVALID_INPUT',
              `list ${JSON.stringify(r.display)}: not a directory`,
              { cause: e },
            );
          }
        }
        throw mapSftpError(e, r.display, 'list');
      }
    }, true);
    const { s, r, h } = await abortable(opened, signal, this.display(rel), 'list');
    try {
      for (;;) {
        if (signal?.aborted) throw aborted(signal, r.display, 'list');
        let batch;
        try {
          batch = await abortable(s.readdir(h), signal, r.display, 'list');
        } catch (e) {
          throw mapSftpError(e, r.display, 'list');
        }
        if (batch === null) return;
        for (const entry of batch) {
          if (signal?.aborted) throw aborted(signal, r.display, 'list');
          yield toInfo(entry.attrs, entry.filename);
        }
      }
    } finally {
      if (s.alive) {
        await s.close(h).catch((e: unknown) => {
          // the listing is over either way; a handle the server failed to close is its concern
          this.logger.warn(
            { ...this.sessionConfig.logFields, err: e },
            'unable to close a remote directory handle',
          );
        });
      }
    }
  }

  private checkOffset(offset: number | undefined, what: string): number {
    const n = offset ?? 0;
    if (!Number.isSafeInteger(n) || n < 0)
      throw new SftpgoError('INVALID_INPUT', `invalid ${what} offset`);
    return n;
  }

  /** opens `r.remote` with SFTP `flags`; FAILURE refined (existing file, directory) */
  private async openRemote(s: Session, r: Resolved, flags: number, mode?: number): Promise<Buffer> {
    try {
      return await s.open(r.remote, flags, mode === undefined ? undefined : { mode });
    } catch (e) {
      throw await this.refine(
        s,
        e,
        r,
        'open',
        (st) => {
          if (!st) return undefined;
          if ((st.mode & S_IFMT) === S_IFDIR) {
            return new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`, {
              cause: e,
            });
          }
          if (flags & OPEN.EXCL) {
            return new SftpgoError(
              'ALREADY_EXISTS',
              `open ${JSON.stringify(r.display)}: file exists`,
              { cause: e },
            );
          }
          return undefined;
        },
        true,
      );
    }
  }

  /** closes a handle whose open failed half-way; the error being reported is the other one */
  private closeQuietly(s: Session, h: Buffer): Promise<void> {
    if (!s.alive) return Promise.resolve();
    return s.close(h).catch((e: unknown) => {
      this.logger.warn(
        { ...this.sessionConfig.logFields, err: e },
        'unable to close a remote file handle',
      );
    });
  }

  async openRead(p: string, o?: Op & { offset?: number }): Promise<Readable> {
    const offset = this.checkOffset(o?.offset, 'read');
    const rel = normalizeVirtualPath(p);
    const signal = o?.signal;
    if (signal?.aborted) throw aborted(signal, this.display(rel), 'open');
    const s = await this.session();
    const r = await abortable(this.resolve(s, rel, true), signal, this.display(rel), 'open');
    const h = await this.openRemote(s, r, OPEN.READ);
    try {
      const st = await s.fstat(h);
      if ((st.mode & S_IFMT) === S_IFDIR) {
        throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
      }
    } catch (e) {
      await this.closeQuietly(s, h);
      throw mapSftpError(e, r.display, 'open');
    }
    const stream = readStream(s, h, offset, {
      ...this.readOpts,
      display: r.display,
      release: once(() => this.closeQuietly(s, h)),
    });
    if (signal) addAbortSignal(signal, stream);
    return stream;
  }

  private async openHandle(p: string, flags: OpenFlags, o?: OpenFileOptions): Promise<FileHandle> {
    const rel = normalizeVirtualPath(p);
    if (o?.signal?.aborted) throw aborted(o.signal, this.display(rel), 'open');
    const s = await this.session();
    const r = await abortable(this.resolve(s, rel, true), o?.signal, this.display(rel), 'open');
    const writing = flags.write === true;
    const atomic = writing && o?.atomic === true;
    let sftpFlags = 0;
    if (flags.read || !writing) sftpFlags |= OPEN.READ;
    if (writing) sftpFlags |= OPEN.WRITE;
    if (!atomic) {
      if (flags.create) sftpFlags |= OPEN.CREAT;
      if (flags.exclusive) sftpFlags |= OPEN.EXCL;
      if (flags.truncate && writing) sftpFlags |= OPEN.TRUNC;
      if (writing && (flags.exclusive || !flags.create)) {
        // asked first: pkg/sftp servers (upstream SFTPGo, this server) ignore EXCL and create
        // on any write open; servers that honour the flags still catch a change in between
        const st = await this.lstatOrNone(s, r.remote).catch(() => undefined);
        if (st && flags.exclusive) {
          throw new SftpgoError('ALREADY_EXISTS', `open ${JSON.stringify(r.display)}: file exists`);
        }
        if (!st && !flags.create && !flags.exclusive) {
          throw new SftpgoError(
            'NOT_FOUND',
            `open ${JSON.stringify(r.display)}: no such file or directory`,
          );
        }
      }
      const h = await this.openRemote(s, r, sftpFlags, flags.create ? o?.mode : undefined);
      let openInfo: FileInfo | undefined;
      if (!writing) {
        try {
          const st = toInfo(await s.fstat(h), baseName(r.rel));
          if (st.isDirectory) {
            throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
          }
          openInfo = st;
        } catch (e) {
          await this.closeQuietly(s, h);
          throw mapSftpError(e, r.display, 'open');
        }
      }
      return new SftpFileHandle(this.handleDeps(), s, h, {
        path: r.rel,
        display: r.display,
        remote: r.remote,
        writing,
        ...(openInfo ? { openInfo } : {}),
      });
    }
    return this.openAtomic(s, r, flags, sftpFlags, o);
  }

  private handleDeps(): HandleDeps {
    return {
      readOpts: this.readOpts,
      logger: this.logger,
      logFields: this.sessionConfig.logFields,
      renameOver: (s, from, to) => this.renameOver(s, from, to),
    };
  }

  /**
   * An atomic write: a temp file in the target's remote directory, moved onto the target by
   * commit(). Truncating opens start empty; appends move the file aside and back; in-place
   * writes work on a copy.
   */
  private async openAtomic(
    s: Session,
    r: Resolved,
    flags: OpenFlags,
    sftpFlags: number,
    o?: OpenFileOptions,
  ): Promise<FileHandle> {
    let existing: Attributes | undefined;
    try {
      existing = await this.statOrNone(s, r.remote);
    } catch (e) {
      throw mapSftpError(e, r.display, 'open');
    }
    if (existing && (existing.mode & S_IFMT) === S_IFDIR) {
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    }
    if (!existing && !flags.create) {
      throw new SftpgoError(
        'NOT_FOUND',
        `open ${JSON.stringify(r.display)}: no such file or directory`,
      );
    }
    if (existing && flags.exclusive) {
      throw new SftpgoError('ALREADY_EXISTS', `open ${JSON.stringify(r.display)}: file exists`);
    }
    const temp = posix.join(
      posix.dirname(r.remote),
      `${TEMP_PREFIX}${randomBytes(10).toString('hex')}.${posix.basename(r.remote)}`,
    );
    let kind: AtomicKind = 'fresh';
    let originalSize = 0;
    try {
      if (existing && !flags.truncate && flags.append) {
        // resume: move the file aside, append to it, move it back on commit or discard
        await s.rename(r.remote, temp);
        kind = 'moved';
        originalSize = existing.size;
      }
    } catch (e) {
      throw mapSftpError(e, r.display, 'open');
    }
    let h: Buffer | undefined;
    try {
      const tflags = kind === 'fresh' ? sftpFlags | OPEN.CREAT | OPEN.EXCL : sftpFlags;
      h = await s.open(temp, tflags, o?.mode === undefined ? undefined : { mode: o.mode });
      if (existing && kind === 'fresh' && !flags.truncate) {
        // in-place writes: work on a copy so the original stays intact until commit
        kind = 'copied';
        await this.copyInto(s, r.remote, h);
      }
    } catch (e) {
      const err = mapSftpError(e, r.display, 'open');
      if (h) await this.closeQuietly(s, h);
      if (kind === 'moved') {
        await this.restoreMoved(s, temp, r, err);
      } else if (h) {
        await s.unlink(temp).catch((ue: unknown) => {
          this.logger.warn(
            { ...this.sessionConfig.logFields, err: ue },
            'unable to remove a remote temp file after a failed open',
          );
        });
      }
      throw err;
    }
    return new SftpFileHandle(this.handleDeps(), s, h, {
      path: r.rel,
      display: r.display,
      remote: r.remote,
      writing: true,
      atomic: { temp, kind, originalSize },
    });
  }

  /** copies the remote file `from` into the open handle `to` (no server-side copy in SFTP v3) */
  private async copyInto(s: Session, from: string, to: Buffer): Promise<void> {
    const src = await s.open(from, OPEN.READ);
    try {
      let pos = 0;
      for (;;) {
        const data = await readAt(s, src, pos, this.window, this.readOpts);
        if (data === null) return;
        await writeAt(s, to, pos, data);
        pos += data.length;
      }
    } finally {
      await this.closeQuietly(s, src);
    }
  }

  /** puts a file moved aside back under its name; when that fails an operator must know */
  private async restoreMoved(
    s: Session,
    temp: string,
    r: Resolved,
    failure: SftpgoError,
  ): Promise<void> {
    try {
      await s.rename(temp, r.remote);
    } catch (e) {
      this.logger.error(
        { ...this.sessionConfig.logFields, file_path: r.remote, temp_path: temp, err: e, failure },
        `unable to move ${JSON.stringify(temp)} back to ${JSON.stringify(r.remote)}: the file is left under the temporary name`,
      );
      throw new SftpgoError(
        'INTERNAL',
        `${failure.message}; the existing file was moved aside for the upload and could not be put back under its name`,
        { cause: e },
      );
    }
  }

  async openWrite(p: string, o?: WriteStreamOptions): Promise<Upload> {
    const offset = this.checkOffset(o?.offset, 'write');
    const rel = normalizeVirtualPath(p);
    const display = this.display(rel);
    if (o?.signal?.aborted) throw aborted(o.signal, display, 'open');
    if (this.buffered) {
      if (offset > 0 || o?.atomic) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          offset > 0
            ? 'resuming uploads is not supported by this storage backend'
            : 'atomic uploads are not supported by this storage backend',
        );
      }
      return this.openBufferedWrite(rel, o?.signal);
    }
    const truncate = o?.truncate ?? offset === 0;
    const handle = await this.openHandle(
      rel,
      { write: true, create: true, truncate, append: offset > 0 },
      { atomic: o?.atomic === true, ...(o?.signal ? { signal: o.signal } : {}) },
    );
    if (offset > 0) {
      await resumeAt(handle, offset, (de: unknown) => {
        this.logger.warn(
          { ...this.sessionConfig.logFields, err: de },
          'unable to discard an upload after a bad resume offset',
        );
      });
    }
    const target: UploadTarget = {
      display,
      write: (at, data) => handle.write(at, data),
      commit: () => handle.commit(),
      abort: abortedUpload(handle, { truncate, offset }),
    };
    const up = pipelinedUpload(target, offset, this.window);
    if (o?.signal) addAbortSignal(o.signal, up.stream);
    return up;
  }

  /** buffer_size > 0: always O_WRONLY|O_CREAT|O_TRUNC (upstream ignores the client's flags) */
  private async openBufferedWrite(rel: string, signal: AbortSignal | undefined): Promise<Upload> {
    const s = await this.session();
    const r = await abortable(this.resolve(s, rel, true), signal, this.display(rel), 'open');
    const h = await this.openRemote(s, r, OPEN.WRITE | OPEN.CREAT | OPEN.TRUNC);
    const target: UploadTarget = {
      display: r.display,
      write: async (at, data) => {
        try {
          await writeAt(s, h, at, data);
        } catch (e) {
          throw mapSftpError(e, r.display, 'write');
        }
      },
      commit: async () => {
        try {
          await s.close(h);
        } catch (e) {
          throw mapSftpError(e, r.display, 'close');
        }
      },
      // upstream keeps the bytes written so far; an upload that did not complete leaves no
      // file here (the contract of every backend: the old content or nothing)
      abort: async () => {
        await this.closeQuietly(s, h);
        if (!s.alive) return;
        await s.unlink(r.remote).catch((e: unknown) => {
          if (!isStatus(e, SFTP_STATUS.NO_SUCH_FILE)) throw mapSftpError(e, r.display, 'remove');
        });
      },
    };
    // the remote file was truncated at open: an aborted upload leaves no file there
    const up: Upload = { ...pipelinedUpload(target, 0, this.window), inPlace: true };
    if (signal) addAbortSignal(signal, up.stream);
    return up;
  }

  private async mkdirAll(s: Session, remote: string): Promise<void> {
    let err: unknown;
    try {
      await s.mkdir(remote);
      return;
    } catch (e) {
      err = e;
    }
    if (isStatus(err, SFTP_STATUS.NO_SUCH_FILE)) {
      const parent = posix.dirname(remote);
      if (parent === remote) throw err;
      await this.mkdirAll(s, parent);
      try {
        await s.mkdir(remote);
        return;
      } catch (e) {
        err = e;
      }
    }
    // it may exist already (created concurrently, or FAILURE for EEXIST): fine if a directory
    const st = await this.statOrNone(s, remote);
    if (st && (st.mode & S_IFMT) === S_IFDIR) return;
    throw err;
  }

  async mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void> {
    const rel = normalizeVirtualPath(p);
    if (o?.signal?.aborted) throw aborted(o.signal, this.display(rel), 'mkdir');
    const s = await this.session();
    const r = await this.resolve(s, rel, false);
    const attrs = o?.mode === undefined ? undefined : { mode: o.mode };
    try {
      if (o?.recursive) await this.mkdirAll(s, r.remote);
      else await s.mkdir(r.remote, attrs);
    } catch (e) {
      throw await this.refine(s, e, r, 'mkdir', (st) =>
        st
          ? new SftpgoError('ALREADY_EXISTS', `mkdir ${JSON.stringify(r.display)}: file exists`, {
              cause: e,
            })
          : undefined,
      );
    }
  }

  /**
   * rename(2) semantics over SFTP: posix-rename@openssh.com when offered; otherwise
   * SSH_FXP_RENAME, and when the target exists, remove it (a file or an empty directory) and
   * rename again.
   */
  private async renameOver(s: Session, from: string, to: string): Promise<void> {
    const posixRename = s.hasExtension('posix-rename@openssh.com', '1');
    try {
      if (posixRename) await s.posixRename(from, to);
      else await s.rename(from, to);
      return;
    } catch (e) {
      if (!isRefusal(e)) throw e;
      const [src, dst] = await Promise.all([this.lstatOrNone(s, from), this.lstatOrNone(s, to)]);
      if (!src || !dst) throw e;
      const srcDir = (src.mode & S_IFMT) === S_IFDIR;
      const dstDir = (dst.mode & S_IFMT) === S_IFDIR;
      // what rename(2) refuses (a file onto a directory and back): the caller maps it; and
      // posix-rename replaced a file target itself, so its failure is about something else
      if (srcDir !== dstDir || (posixRename && !dstDir)) throw e;
      try {
        // an empty directory target is replaced (a non-empty one fails here: NOT_EMPTY above)
        if (dstDir) await s.rmdir(to);
        else await s.unlink(to);
      } catch {
        // the original refusal is the error to classify
        throw e;
      }
    }
    await s.rename(from, to);
  }

  async rename(from: string, to: string, o?: Op): Promise<void> {
    const relFrom = normalizeVirtualPath(from);
    const relTo = normalizeVirtualPath(to);
    if (o?.signal?.aborted) throw aborted(o.signal, this.display(relFrom), 'rename');
    const s = await this.session();
    const rf = await this.resolve(s, relFrom, false);
    const rt = await this.resolve(s, relTo, false);
    if (rf.rel === '/' || rt.rel === '/') {
      throw new SftpgoError('PERMISSION_DENIED', 'renaming the root directory is not allowed');
    }
    try {
      await this.renameOver(s, rf.remote, rt.remote);
    } catch (e) {
      if (!isRefusal(e)) {
        // NO_SUCH_FILE names the source unless it exists: then the target's directory is missing
        const missingTarget =
          isStatus(e, SFTP_STATUS.NO_SUCH_FILE) &&
          (await this.lstatOrNone(s, rf.remote).then(
            (st) => st !== undefined,
            () => false,
          ));
        throw mapSftpError(e, missingTarget ? rt.display : rf.display, 'rename');
      }
      let src: Attributes | undefined;
      let dst: Attributes | undefined;
      try {
        [src, dst] = await Promise.all([
          this.lstatOrNone(s, rf.remote),
          this.lstatOrNone(s, rt.remote),
        ]);
      } catch {
        // best effort: the original failure is reported
      }
      const isDir = (a: Attributes | undefined): boolean =>
        a !== undefined && (a.mode & S_IFMT) === S_IFDIR;
      if (src && isDir(dst)) {
        throw isDir(src)
          ? new SftpgoError(
              'NOT_EMPTY',
              `rename ${JSON.stringify(rf.display)}: the target directory is not empty`,
              { cause: e },
            )
          : new SftpgoError(
              'INVALID_INPUT',
              `rename ${JSON.stringify(rf.display)}: the target is a directory`,
              { cause: e },
            );
      }
      if (isDir(src) && dst) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `rename ${JSON.stringify(rf.display)}: the target is not a directory`,
          { cause: e },
        );
      }
      throw mapSftpError(e, rf.display, 'rename');
    }
  }

  async remove(p: string, o?: Op & { dir?: boolean }): Promise<void> {
    const rel = normalizeVirtualPath(p);
    if (o?.signal?.aborted) throw aborted(o.signal, this.display(rel), 'remove');
    const s = await this.session();
    const r = await this.resolve(s, rel, false);
    if (r.rel === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    try {
      if (o?.dir) await s.rmdir(r.remote);
      else await s.unlink(r.remote);
    } catch (e) {
      throw await this.refine(s, e, r, 'remove', (st) => {
        if (!st) return undefined;
        const dir = (st.mode & S_IFMT) === S_IFDIR;
        if (o?.dir && dir) {
          return new SftpgoError(
            'NOT_EMPTY',
            `remove ${JSON.stringify(r.display)}: directory not empty`,
            { cause: e },
          );
        }
        if (!o?.dir && dir) {
          return new SftpgoError(
            'INVALID_INPUT',
            `remove ${JSON.stringify(r.display)}: is a directory`,
            { cause: e },
          );
        }
        return undefined;
      });
    }
  }

  async symlink(target: string, p: string, o?: Op): Promise<void> {
    if (typeof target !== 'string' || target === '' || target.includes('\0')) {
      throw new SftpgoError('INVALID_INPUT', 'invalid symlink target');
    }
    if (target.startsWith('/')) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        'symlinks with an absolute target are not allowed',
      );
    }
    const rel = normalizeVirtualPath(p);
    if (o?.signal?.aborted) throw aborted(o.signal, this.display(rel), 'symlink');
    if (rel === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'the root directory cannot be a symlink');
    if (climbsAboveRoot(posix.dirname(rel), target)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        'the symlink target leads outside the root directory',
      );
    }
    const s = await this.session();
    const r = await this.resolve(s, rel, false);
    // the target goes to the server as an absolute remote path, as upstream sends it: pkg/sftp
    // servers (upstream SFTPGo, this server) take a relative target as relative to "/"
    const abs = posix.resolve(posix.dirname(r.remote), target);
    if (this.prefix !== '/') {
      let real: string;
      try {
        real = await this.walk(s, '/', abs.split('/'), true);
      } catch (e) {
        throw mapSftpError(e, r.display, 'symlink');
      }
      if (!isInside(real, await this.root(s))) {
        throw new SftpgoError(
          'PERMISSION_DENIED',
          'the symlink target leads outside the root directory',
        );
      }
    }
    try {
      await s.symlink(abs, r.remote);
    } catch (e) {
      throw await this.refine(s, e, r, 'symlink', (st) =>
        st
          ? new SftpgoError('ALREADY_EXISTS', `symlink ${JSON.stringify(r.display)}: file exists`, {
              cause: e,
            })
          : undefined,
      );
    }
  }

  async readlink(p: string, o?: Op): Promise<string> {
    const rel = normalizeVirtualPath(p);
    const work = this.run(async (s) => {
      const r = await this.resolve(s, rel, false);
      let target: string;
      try {
        target = await s.readlink(r.remote);
      } catch (e) {
        throw mapSftpError(e, r.display, 'readlink');
      }
      const abs = posix.resolve(posix.dirname(r.remote), target);
      const inside = await this.relativeOf(s, abs);
      if (inside === undefined) {
        throw new SftpgoError(
          'PERMISSION_DENIED',
          `the target of ${JSON.stringify(r.display)} is outside the root directory`,
        );
      }
      return inside;
    }, true);
    return abortable(work, o?.signal, this.display(rel), 'readlink');
  }

  async setStat(p: string, attrs: SetStatAttrs, o?: Op): Promise<void> {
    const rel = normalizeVirtualPath(p);
    if (o?.signal?.aborted) throw aborted(o.signal, this.display(rel), 'setstat');
    if (attrs.size !== undefined && (!Number.isSafeInteger(attrs.size) || attrs.size < 0)) {
      throw new SftpgoError('INVALID_INPUT', 'invalid size');
    }
    const s = await this.session();
    const r = await this.resolve(s, rel, true);
    try {
      // one SETSTAT per attribute group, as upstream's client sends them (Truncate, Chmod,
      // Chown, Chtimes): SFTPGo servers apply only the first group of a SETSTAT
      if (attrs.size !== undefined) await s.setstat(r.remote, { size: attrs.size });
      if (attrs.mode !== undefined) await s.setstat(r.remote, { mode: attrs.mode & 0o7777 });
      const halfOwner = (attrs.uid === undefined) !== (attrs.gid === undefined);
      const halfTimes = (attrs.atime === undefined) !== (attrs.mtime === undefined);
      // SFTP sets uid+gid and atime+mtime as pairs: complete a half pair from the file
      const cur = halfOwner || halfTimes ? await s.stat(r.remote) : undefined;
      if (attrs.uid !== undefined || attrs.gid !== undefined) {
        await s.setstat(r.remote, {
          uid: attrs.uid ?? cur?.uid ?? 0,
          gid: attrs.gid ?? cur?.gid ?? 0,
        });
      }
      if (attrs.atime !== undefined || attrs.mtime !== undefined) {
        await s.setstat(r.remote, {
          atime: attrs.atime ?? new Date((cur?.atime ?? 0) * 1000),
          mtime: attrs.mtime ?? new Date((cur?.mtime ?? 0) * 1000),
        });
      }
    } catch (e) {
      throw mapSftpError(e, r.display, 'setstat');
    }
  }

  async usage(dir: string, o?: Op): Promise<Usage> {
    const rel = normalizeVirtualPath(dir);
    const signal = o?.signal;
    const s = await this.session();
    const r = await abortable(this.resolve(s, rel, true), signal, this.display(rel), 'usage');
    let files = 0;
    let bytes = 0;
    const stack = [r.remote];
    while (stack.length > 0) {
      if (signal?.aborted) throw aborted(signal, r.display, 'usage');
      const cur = stack.pop() as string;
      let h: Buffer;
      try {
        h = await s.opendir(cur);
      } catch (e) {
        // a subdirectory removed while scanning no longer counts
        if (cur !== r.remote && isStatus(e, SFTP_STATUS.NO_SUCH_FILE)) continue;
        throw mapSftpError(e, r.display, 'usage');
      }
      try {
        for (;;) {
          const batch = await s.readdir(h);
          if (batch === null) break;
          for (const e of batch) {
            const type = (e.attrs.mode ?? 0) & S_IFMT;
            if (type === S_IFDIR) stack.push(posix.join(cur, e.filename));
            else if (type === S_IFREG) {
              files++;
              bytes += e.attrs.size ?? 0;
            }
          }
        }
      } catch (e) {
        throw mapSftpError(e, r.display, 'usage');
      } finally {
        await this.closeQuietly(s, h);
      }
    }
    return { files, bytes };
  }

  private async doStatVfs(p: string, o?: Op): Promise<StatVfs> {
    const rel = normalizeVirtualPath(p);
    const work = this.run(async (s) => {
      const r = await this.resolve(s, rel, true);
      if (!s.hasExtension('statvfs@openssh.com', '2')) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          'statvfs is not supported by the remote SFTP server',
        );
      }
      try {
        const v = await s.statvfs(r.remote);
        return {
          bsize: Number(v.f_bsize),
          frsize: Number(v.f_frsize),
          blocks: Number(v.f_blocks),
          bfree: Number(v.f_bfree),
          bavail: Number(v.f_bavail),
          files: Number(v.f_files),
          ffree: Number(v.f_ffree),
          favail: Number(v.f_favail),
          fsid: Number(v.f_sid),
          flag: Number(v.f_flag),
          namemax: Number(v.f_namemax),
        };
      } catch (e) {
        throw mapSftpError(e, r.display, 'statvfs');
      }
    }, true);
    return abortable(work, o?.signal, this.display(rel), 'statvfs');
  }

  /** the remote path below the prefix (lexical: remote symlinks are not resolved) */
  nativePath(p: string): string {
    const rel = normalizeVirtualPath(p);
    return this.prefix === '/' ? rel : posix.join(this.prefix, rel);
  }

  async realpath(p: string, o?: Op): Promise<string> {
    const rel = normalizeVirtualPath(p);
    const work = this.run(async (s) => {
      const r = await this.resolve(s, rel, true);
      if (this.prefix !== '/') return (await this.relativeOf(s, r.remote)) ?? '/';
      try {
        return posix.normalize(await s.realpath(r.remote));
      } catch (e) {
        throw mapSftpError(e, r.display, 'realpath');
      }
    }, true);
    return abortable(work, o?.signal, this.display(rel), 'realpath');
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.connecting?.catch(() => undefined);
    const s = this.live ?? (await pending);
    this.live = undefined;
    if (s) await s.end();
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

type AtomicKind = 'fresh' | 'copied' | 'moved';

interface HandleDeps {
  readOpts: ReadOptions;
  logger: FsLogger;
  logFields: Readonly<Record<string, unknown>>;
  renameOver(s: Session, from: string, to: string): Promise<void>;
}

interface HandleInit {
  path: string;
  display: string;
  /** the target's remote path */
  remote: string;
  writing: boolean;
  atomic?: { temp: string; kind: AtomicKind; originalSize: number };
  openInfo?: FileInfo;
}

/** A remote file handle (buffer_size 0): positional reads and writes, pipelined. */
class SftpFileHandle implements FileHandle {
  readonly path: string;
  readonly atomic: boolean;
  readonly openInfo: FileInfo | undefined;
  private closed = false;
  private finished = false;
  private readonly ahead: ReadAhead | undefined;

  constructor(
    private readonly deps: HandleDeps,
    private readonly s: Session,
    private readonly h: Buffer,
    private readonly init: HandleInit,
  ) {
    this.path = init.path;
    this.atomic = init.atomic !== undefined;
    this.openInfo = init.openInfo;
    this.ahead = init.writing ? undefined : new ReadAhead(s, h, deps.readOpts);
  }

  private err(e: unknown, op: string): SftpgoError {
    return mapSftpError(e, this.init.display, op);
  }

  private usable(op: string): void {
    if (this.closed)
      throw new SftpgoError(
        'INVALID_INPUT',
        `${op} ${JSON.stringify(this.init.display)}: the file is closed`,
      );
    if (!this.s.alive) throw connectionLost();
  }

  async read(position: number, length: number): Promise<Buffer | null> {
    this.usable('read');
    try {
      // read-only handles prefetch what follows a read; a handle that also writes must see
      // its own writes, so it reads exactly what is asked
      if (this.ahead) return await this.ahead.read(position, length);
      return await readAt(this.s, this.h, position, length, this.deps.readOpts);
    } catch (e) {
      throw this.err(e, 'read');
    }
  }

  async write(position: number, data: Buffer): Promise<void> {
    this.usable('write');
    try {
      await writeAt(this.s, this.h, position, data);
    } catch (e) {
      throw this.err(e, 'write');
    }
  }

  async writev(position: number, data: readonly Buffer[]): Promise<void> {
    this.usable('write');
    const writes: Promise<void>[] = [];
    let pos = position;
    for (const b of data) {
      const p = writeAt(this.s, this.h, pos, b);
      p.catch(() => undefined);
      writes.push(p);
      pos += b.length;
    }
    try {
      await Promise.all(writes);
    } catch (e) {
      throw this.err(e, 'write');
    }
  }

  async stat(): Promise<FileInfo> {
    this.usable('stat');
    try {
      return toInfo(await this.s.fstat(this.h), baseName(this.path));
    } catch (e) {
      throw this.err(e, 'stat');
    }
  }

  async truncate(length: number): Promise<void> {
    this.usable('truncate');
    try {
      await this.s.fsetstat(this.h, { size: length });
    } catch (e) {
      throw this.err(e, 'truncate');
    }
  }

  async sync(): Promise<void> {
    this.usable('sync');
    if (!this.s.hasExtension('fsync@openssh.com', '1')) {
      throw new SftpgoError('OP_UNSUPPORTED', 'fsync is not supported by the remote SFTP server');
    }
    try {
      await this.s.fsync(this.h);
    } catch (e) {
      throw this.err(e, 'sync');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.s.alive) return;
    try {
      await this.s.close(this.h);
    } catch (e) {
      throw this.err(e, 'close');
    }
  }

  async commit(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const a = this.init.atomic;
    // atomic: the data should be on disk before the rename makes it the file, where the
    // server can tell (fsync@openssh.com); upstream does not sync remote uploads at all
    if (a && !this.closed && this.s.alive && this.s.hasExtension('fsync@openssh.com', '1'))
      await this.sync();
    if (!this.closed && !this.s.alive) throw connectionLost();
    await this.close();
    if (!a) return;
    try {
      await this.deps.renameOver(this.s, a.temp, this.init.remote);
    } catch (e) {
      throw this.err(e, 'commit');
    }
  }

  async discard(o?: { keepBytes?: number }): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const a = this.init.atomic;
    try {
      if (a?.kind === 'moved') {
        if (!this.closed && this.s.alive) await this.s.fsetstat(this.h, { size: a.originalSize });
        await this.close();
        if (!this.s.alive) throw connectionLost();
        await this.s.rename(a.temp, this.init.remote).catch((e: unknown) => {
          this.deps.logger.error(
            { ...this.deps.logFields, file_path: this.init.remote, temp_path: a.temp, err: e },
            `unable to move ${JSON.stringify(a.temp)} back to ${JSON.stringify(this.init.remote)}: the file is left under the temporary name`,
          );
          throw e;
        });
        return;
      }
      if (!a && o?.keepBytes !== undefined) {
        if (!this.closed && this.s.alive) await this.s.fsetstat(this.h, { size: o.keepBytes });
        await this.close();
        return;
      }
      await this.close();
      if (!this.s.alive) return;
      await this.s.unlink(a ? a.temp : this.init.remote).catch((e: unknown) => {
        // already gone: the goal (no partial file) is reached
        if (!isStatus(e, SFTP_STATUS.NO_SUCH_FILE)) throw e;
      });
    } catch (e) {
      throw this.err(e, 'discard');
    }
  }
}

function secretText(secret: ApiSecret | undefined): boolean {
  return secret !== undefined && (secret.payload ?? '') !== '';
}

/** the SFTP backend's settings out of a filesystem config and the registry's options */
export async function sftpSettingsOf(
  config: FilesystemConfig,
  o: CreateFsOptions,
): Promise<SftpFsSettings> {
  const c = config.sftpconfig ?? {};
  const decrypt = async (
    secret: ApiSecret | undefined,
    what: string,
  ): Promise<string | undefined> => {
    if (!secretText(secret)) return undefined;
    const sec = secret as ApiSecret;
    if (o.decryptSecret) {
      try {
        return await o.decryptSecret(sec);
      } catch (e) {
        throw new SftpgoError('INTERNAL', `unable to decrypt the SFTP ${what}`, { cause: e });
      }
    }
    if (sec.status === 'Plain') return sec.payload;
    throw new SftpgoError(
      'INTERNAL',
      `the SFTP ${what} is encrypted and no KMS is available to decrypt it`,
    );
  };
  const password = await decrypt(c.password, 'password');
  const privateKey = await decrypt(c.private_key, 'private key');
  return {
    endpoint: c.endpoint ?? '',
    username: c.username ?? '',
    ...(password ? { password } : {}),
    ...(privateKey ? { privateKey } : {}),
    fingerprints: c.fingerprints ?? [],
    prefix: cleanPrefix(c.prefix),
    disableConcurrentReads: c.disable_concurrent_reads === true,
    bufferSize: c.buffer_size ?? 0,
    ...(o.displayPrefix !== undefined ? { displayPrefix: o.displayPrefix } : {}),
    ...(o.createRoot !== undefined ? { createRoot: o.createRoot } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    ...(o.username !== undefined ? { localUsername: o.username } : {}),
    ...(o.connectionId !== undefined ? { connectionId: o.connectionId } : {}),
    ...(o.localHostKeyFingerprints !== undefined
      ? { localHostKeyFingerprints: o.localHostKeyFingerprints }
      : {}),
    ...(o.userUsesSftp !== undefined ? { userUsesSftp: o.userUsesSftp } : {}),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
  };
}

/** registry entry (src/vfs/registry.ts): provider 5 */
export async function create(config: FilesystemConfig, o: CreateFsOptions): Promise<Fs> {
  return SftpFs.connect(await sftpSettingsOf(config, o));
}
