/**
 * Local filesystem backend (provider 0), rooted at a directory (upstream vfs/osfs.go).
 *
 * Escapes are impossible by construction:
 * - every path is normalized as a virtual path first (`..` cannot climb above "/", NUL refused);
 * - before every operation the real location is computed: `fs.realpath` of the path, or of its
 *   deepest existing ancestor (dangling symlinks are followed by hand), and a location outside
 *   the real root is refused with PERMISSION_DENIED. Operations that act on a link itself
 *   (lstat, remove, rename, readlink, symlink creation) check the parent directory instead;
 * - the operation then runs on the resolved real path, and files are opened with O_NOFOLLOW,
 *   so a final component swapped for a symlink after the check fails instead of escaping
 *   (the remaining race — an intermediate directory swapped between check and use — is the
 *   same as upstream's, which also checks the realpath before each operation);
 * - symlink creation refuses absolute targets and relative targets that resolve outside.
 */
import { randomBytes } from 'node:crypto';
import { constants as C, lstat as lstatCb, type Dir, type Dirent, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle as NodeFileHandle } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { SftpgoError } from '../../../errors/index.js';
import { errnoCode, mapFsError, throwIfAborted } from '../../errors.js';
import { abortedUpload, resumeAt } from '../../handle-upload.js';
import { joinVirtual, normalizeVirtualPath } from '../../path.js';
import type { CreateFsOptions, FilesystemConfig } from '../../registry.js';
import type {
  FileHandle,
  FileInfo,
  Fs,
  FsCapabilities,
  FsLogger,
  ResolvedFile,
  ResolvedLink,
  Op,
  OpenFileOptions,
  OpenFlags,
  SetStatAttrs,
  StatVfs,
  Upload,
  Usage,
  WriteStreamOptions,
} from '../../types.js';

export interface LocalFsOptions {
  /** absolute server directory serving as "/" */
  root: string;
  /** the virtual mount point, used only to name paths in error messages */
  displayPrefix?: string;
  /** absolute directory for atomic-upload temp files (common.temp_path); default: beside the target */
  tempDir?: string;
  /**
   * fsync every upload before it is reported complete (default false). Atomic uploads are
   * always synced before the rename, so a crash never leaves a truncated file under the final
   * name; a direct write is as durable as the OS makes it (OpenSSH and upstream do the same).
   */
  fsync?: boolean;
  /** create the root directory (mkdir -p) on first access when it is missing */
  createRoot?: boolean;
  /** owner for created files and directories when running as root (0/undefined: unchanged) */
  uid?: number;
  gid?: number;
  /**
   * errors that need an operator: a file moved aside for a resume that could not be put back.
   * Without one they are not logged, but the operation still fails with an error.
   */
  logger?: FsLogger;
  /**
   * what usage() counts for a regular file of `diskSize` bytes (default: the on-disk size); the
   * encrypted backend counts plaintext sizes
   */
  usageSize?: (diskSize: number) => number;
  /**
   * tests: replaces node:fs/promises `open` for files opened by openFile (direct, and the temp
   * file of atomic writes), to simulate failures or observe syncs
   */
  openFileFn?: typeof fsp.open;
}

const CAPABILITIES: FsCapabilities = Object.freeze({
  resume: true,
  atomicUpload: true,
  randomAccess: true,
  symlinks: true,
  chmod: true,
  chown: true,
  chtimes: true,
  truncate: true,
  statvfs: true,
  rename: true,
  emulatedDirs: false,
});

const MAX_LINK_DEPTH = 40;
const LIST_BATCH = 128;
const TEMP_PREFIX = '.sftpgo-upload.';
/** tries to put a moved-aside file back under its name before giving up (user data at stake) */
const MOVE_BACK_ATTEMPTS = 3;
const MOVE_BACK_DELAY_MS = 50;

const NO_LOGGER: FsLogger = Object.freeze({ warn: () => undefined, error: () => undefined });

/**
 * An upload that will be synced before it completes (atomic, or `fsync`) starts writing its
 * data back every BACKGROUND_SYNC_BYTES while it is received, so the final sync, which the
 * client waits for after its last byte, has at most a few dozen MiB left instead of everything
 * the kernel had not written back yet (up to gigabytes, seconds on a slow disk): 1 GiB WebDAV
 * PUT on our test VM, final fdatasync 390 ms → 6–8 ms; throughput unchanged there
 * (bench/README.md, "Background syncs").
 */
const BACKGROUND_SYNC_BYTES = 32 * 1024 * 1024;
/**
 * Background syncs running in the process at once: each holds a thread-pool thread until the
 * disk answers, and every session's file system calls share that pool. A handle whose turn
 * comes while the limit is reached tries again after its next write.
 */
const MAX_BACKGROUND_SYNCS = 1;
let backgroundSyncs = 0;

interface ResolvedPath {
  /** normalized path relative to the root */
  rel: string;
  /** real absolute path the operation runs on */
  real: string;
  /** client-visible path for messages */
  display: string;
  /** the last component (links followed) was found missing while resolving */
  missing?: boolean;
  /** the attributes of what the path designates (links followed), when resolving read them */
  stats?: Stats;
  /** resolving showed the path's parent to be a directory (see realOf's `found.parentDir`) */
  parentDir?: boolean;
}

/** what realOf learnt on the way */
interface Found {
  /** the last component (links followed) does not exist */
  missing: boolean;
  /** its attributes (links followed), when realOf read them */
  stats?: Stats;
  /** realpath found the whole path (no missing tail) */
  exists?: boolean;
  /**
   * the parent of the path as asked is a directory: lstat found the path, or found it missing
   * (ENOENT, not ENOTDIR) while the parent's realpath succeeded
   */
  parentDir?: boolean;
}

function toInfo(st: Stats, name: string): FileInfo {
  return {
    name,
    size: st.size,
    mode: st.mode,
    mtime: st.mtime,
    atime: st.atime,
    isDirectory: st.isDirectory(),
    isSymlink: st.isSymbolicLink(),
    isFile: st.isFile(),
    uid: st.uid,
    gid: st.gid,
  };
}

/**
 * The lstat of each entry of `dir` (a real, absolute path), in the entries' order: a Stats, or
 * the error of that one call. fs.lstat's callback form under a single promise: fs/promises'
 * lstat costs a promise and its reaction per entry, ~40 % more CPU for a listing of 100 files
 * than this (bench/README.md, WebDAV PROPFIND). The calls run at once on the thread pool, as
 * Promise.all of them did.
 */
function lstatAll(dir: string, entries: Dirent[]): Promise<(Stats | Error)[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out = new Array<Stats | Error>(entries.length);
  return new Promise((resolve) => {
    let left = entries.length;
    if (left === 0) resolve(out);
    entries.forEach((d, i) => {
      lstatCb(`${prefix}${d.name}`, (err, st) => {
        out[i] = err ?? st;
        if (--left === 0) resolve(out);
      });
    });
  });
}

/**
 * Up to `max` entries of an open directory (fewer at its end, none past it) under one promise:
 * Dir.read's callback form, which hands out the entries it buffered on the next tick, where
 * the promise form costs a promise per entry.
 */
function readEntries(handle: Dir, max: number): Promise<Dirent[]> {
  return new Promise((resolve, reject) => {
    const out: Dirent[] = [];
    const read = (): void => {
      try {
        handle.read(next);
      } catch (e) {
        // closed meanwhile (ERR_DIR_CLOSED is thrown, not passed to the callback)
        reject(e as Error);
      }
    };
    const next = (err: Error | null, d: Dirent | null): void => {
      if (err) reject(err);
      else if (d === null) resolve(out);
      else if (out.push(d) >= max) resolve(out);
      else read();
    };
    read();
  });
}

function relName(rel: string): string {
  return rel === '/' ? '/' : path.posix.basename(rel);
}

export class LocalFs implements Fs {
  readonly kind = 'local' as const;
  readonly capabilities: FsCapabilities = CAPABILITIES;
  private readonly rootDir: string;
  private readonly displayPrefix: string;
  private readonly tempDir: string | undefined;
  private readonly fsync: boolean;
  private readonly uid: number;
  private readonly gid: number;
  private readonly createRoot: boolean;
  private readonly logger: FsLogger;
  private readonly openFileFn: typeof fsp.open;
  private readonly usageSize: (diskSize: number) => number;
  private realRoot: string | undefined;

  constructor(o: LocalFsOptions) {
    if (!path.isAbsolute(o.root)) {
      throw new SftpgoError(
        'INVALID_INPUT',
        'the root of a local filesystem must be an absolute path',
      );
    }
    if (o.tempDir !== undefined && o.tempDir !== '' && !path.isAbsolute(o.tempDir)) {
      throw new SftpgoError('INVALID_INPUT', 'temp_path must be an absolute path');
    }
    this.rootDir = path.resolve(o.root);
    this.displayPrefix = o.displayPrefix ?? '/';
    this.tempDir = o.tempDir ? path.resolve(o.tempDir) : undefined;
    this.fsync = o.fsync ?? false;
    this.uid = o.uid ?? 0;
    this.gid = o.gid ?? 0;
    this.createRoot = o.createRoot ?? false;
    this.logger = o.logger ?? NO_LOGGER;
    this.openFileFn = o.openFileFn ?? fsp.open;
    this.usageSize = o.usageSize ?? ((n) => n);
  }

  // ---------------------------------------------------------------- path safety

  private display(rel: string): string {
    return joinVirtual(normalizeVirtualPath(this.displayPrefix), rel);
  }

  /** the real path of the root; cached once it exists */
  private async root(): Promise<string> {
    if (this.realRoot !== undefined) return this.realRoot;
    try {
      this.realRoot = await fsp.realpath(this.rootDir);
    } catch (e) {
      if (!this.createRoot || errnoCode(e) !== 'ENOENT')
        throw mapFsError(e, this.display('/'), 'root directory');
      try {
        await fsp.mkdir(this.rootDir, { recursive: true });
        await this.chownIfNeeded(this.rootDir);
        this.realRoot = await fsp.realpath(this.rootDir);
      } catch (e2) {
        throw mapFsError(e2, this.display('/'), 'create root directory');
      }
    }
    return this.realRoot;
  }

  private inside(real: string, root: string): boolean {
    if (root === path.sep) return true;
    return real === root || real.startsWith(root + path.sep);
  }

  /**
   * The real location `abs` designates: realpath when it exists; otherwise the real path of
   * its deepest existing ancestor joined with the missing tail, following dangling symlinks.
   * `found.missing` is set when the last component turned out not to exist at all.
   * `withStats`: lstat the last component and realpath its parent at once (one thread-pool
   * round trip whether the file exists or not) and leave what it designates in `found.stats`
   * — the caller wants its attributes anyway (stat, the look before an upload); without it an
   * existing path costs one realpath only.
   */
  private async realOf(abs: string, depth = 0, found?: Found, withStats = false): Promise<string> {
    if (depth > MAX_LINK_DEPTH) {
      const err = Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
      throw err;
    }
    if (!withStats) {
      try {
        const real = await fsp.realpath(abs);
        if (found) found.exists = true;
        return real;
      } catch (e) {
        const code = errnoCode(e);
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      }
    }
    const parent = path.dirname(abs);
    // ask about the last component and the parent at once, one thread-pool round trip instead
    // of two in a row (the parent's answer is used only when the last component is not a link)
    const parentFound: Found = { missing: false };
    let absent: 'ENOENT' | 'ENOTDIR' | undefined;
    const [link, parentReal] = await Promise.allSettled([
      fsp.lstat(abs).then(
        (st): Stats | 'missing' => st,
        (e: unknown): 'missing' => {
          const code = errnoCode(e);
          if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
          absent = code;
          return 'missing';
        },
      ),
      parent === abs ? Promise.resolve(abs) : this.realOf(parent, depth + 1, parentFound),
    ]);
    if (link.status === 'rejected') throw link.reason;
    const st = link.value;
    // the path as asked (not a link's target): lstat found it, or found only it missing in an
    // existing parent (a parent that is not a directory gives ENOTDIR)
    if (found && depth === 0 && parent !== abs)
      found.parentDir = st !== 'missing' || (absent === 'ENOENT' && parentFound.exists === true);
    if (st !== 'missing' && st.isSymbolicLink()) {
      const target = await fsp.readlink(abs);
      return this.realOf(path.resolve(path.dirname(abs), target), depth + 1, found, withStats);
    }
    if (found && st === 'missing') found.missing = true;
    if (found && st !== 'missing') found.stats = st;
    if (parent === abs) return abs;
    if (parentReal.status === 'rejected') throw parentReal.reason;
    return path.join(parentReal.value, path.basename(abs));
  }

  /**
   * Normalizes `p`, computes its real location and refuses it when outside the root.
   * `follow`: the final component is resolved too (stat, open, list, chmod …); otherwise only
   * its parent is (lstat, remove, rename, symlink, readlink). `withStats` (with `follow`): see
   * realOf; the result then carries `stats` when the path exists.
   */
  private async resolve(p: string, follow: boolean, withStats = false): Promise<ResolvedPath> {
    const rel = normalizeVirtualPath(p);
    const display = this.display(rel);
    const root = await this.root();
    const abs = absOf(rel, root);
    let real: string;
    const found: Found = { missing: false };
    try {
      if (rel === '/') real = follow ? await this.realOf(root, 0, found, withStats) : root;
      else if (follow) real = await this.realOf(abs, 0, found, withStats);
      else real = path.join(await this.realOf(path.dirname(abs)), path.basename(abs));
    } catch (e) {
      throw mapFsError(e, display);
    }
    if (!this.inside(real, root)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        `access to ${JSON.stringify(display)} is not allowed: it leads outside the root directory`,
      );
    }
    const parentDir = found.parentDir === true ? { parentDir: true } : {};
    if (found.missing) return { rel, real, display, missing: true, ...parentDir };
    return found.stats
      ? { rel, real, display, stats: found.stats, ...parentDir }
      : { rel, real, display, ...parentDir };
  }

  private toRootRelative(real: string, root: string): string {
    const r = path.relative(root, real);
    return r === '' ? '/' : `/${r.split(path.sep).join('/')}`;
  }

  private async chownIfNeeded(real: string): Promise<void> {
    if ((this.uid <= 0 && this.gid <= 0) || process.getuid?.() !== 0) return;
    await fsp.lchown(real, this.uid > 0 ? this.uid : -1, this.gid > 0 ? this.gid : -1);
  }

  // ---------------------------------------------------------------- Fs

  async stat(p: string, _o?: Op): Promise<FileInfo> {
    const r = await this.resolve(p, true, true);
    // resolving already found it missing (a new upload's pre-check) or read its attributes
    if (r.missing)
      throw mapFsError(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }), r.display);
    try {
      return toInfo(r.stats ?? (await fsp.stat(r.real)), relName(r.rel));
    } catch (e) {
      throw mapFsError(e, r.display);
    }
  }

  async resolveFile(p: string, _o?: Op): Promise<ResolvedFile> {
    const r = await this.resolve(p, true, true);
    let info: FileInfo | undefined;
    if (!r.missing) {
      try {
        info = toInfo(r.stats ?? (await fsp.stat(r.real)), relName(r.rel));
      } catch (e) {
        const err = mapFsError(e, r.display);
        if (!SftpgoError.is(err, 'NOT_FOUND')) throw err;
      }
    }
    return {
      info,
      // the root's parent is outside what the caller sees
      ...(r.parentDir === true && r.rel !== '/' ? { parentIsDir: true } : {}),
      openFile: (flags, o) => this.openResolved(r, flags, o),
    };
  }

  async lstat(p: string, _o?: Op): Promise<FileInfo> {
    const { r, stats } = await this.lstatResolved(p);
    return toInfo(stats, relName(r.rel));
  }

  async resolveLink(p: string, _o?: Op): Promise<ResolvedLink> {
    let looked: { r: ResolvedPath; stats: Stats };
    try {
      looked = await this.lstatResolved(p);
    } catch (e) {
      if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
      return { info: undefined, setStat: (attrs) => this.setStat(p, attrs) };
    }
    const { r, stats } = looked;
    return {
      info: toInfo(stats, relName(r.rel)),
      // not a symlink: the resolved parent joined with the name is where setStat's own
      // resolution (following a final link) would lead, already checked to be inside the root
      setStat: (attrs) =>
        stats.isSymbolicLink() ? this.setStat(p, attrs) : this.setStatAt(r, attrs),
    };
  }

  /**
   * The lstat of `p` with its parent resolved: the lstat runs alongside the resolution of the
   * parent (one thread-pool round trip instead of two in a row); its answer is used only once
   * the parent is known to be inside the root.
   */
  private async lstatResolved(p: string): Promise<{ r: ResolvedPath; stats: Stats }> {
    const rel = normalizeVirtualPath(p);
    const root = await this.root();
    const early = fsp.lstat(absOf(rel, root));
    early.catch(() => undefined);
    const r = await this.resolve(p, false);
    try {
      return { r, stats: await early };
    } catch (e) {
      throw mapFsError(e, r.display);
    }
  }

  async *list(dir: string, o?: Op): AsyncIterableIterator<FileInfo> {
    const r = await this.resolve(dir, true);
    let handle: Dir;
    try {
      handle = await fsp.opendir(r.real, { bufferSize: LIST_BATCH });
    } catch (e) {
      throw mapFsError(e, r.display, 'list');
    }
    try {
      for (;;) {
        throwIfAborted(o?.signal);
        const batch = await readEntries(handle, LIST_BATCH);
        if (batch.length === 0) return;
        const stats = await lstatAll(r.real, batch);
        for (let i = 0; i < batch.length; i++) {
          const st = stats[i] as Stats | Error;
          const name = (batch[i] as Dirent).name;
          if (!(st instanceof Error)) yield toInfo(st, name);
          // removed between readdir and lstat: the entry no longer exists, skip it
          else if (errnoCode(st) !== 'ENOENT')
            throw mapFsError(st, path.posix.join(r.display, name));
        }
      }
    } catch (e) {
      throw mapFsError(e, r.display, 'list');
    } finally {
      await handle.close().catch((e: unknown) => {
        // already closed by the runtime: nothing left to release
        if (errnoCode(e) !== 'ERR_DIR_CLOSED') throw e;
      });
    }
  }

  async openRead(p: string, o?: Op & { offset?: number }): Promise<Readable> {
    const offset = o?.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid read offset');
    const r = await this.resolve(p, true);
    let fh: NodeFileHandle;
    try {
      fh = await fsp.open(r.real, C.O_RDONLY | C.O_NOFOLLOW);
    } catch (e) {
      throw mapFsError(e, r.display, 'open');
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory())
        throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    } catch (e) {
      await fh.close();
      throw mapFsError(e, r.display, 'open');
    }
    const stream = fh.createReadStream({
      start: offset,
      autoClose: true,
      highWaterMark: 256 * 1024,
    });
    if (o?.signal) addAbortSignal(o.signal, stream);
    return stream;
  }

  async openFile(p: string, flags: OpenFlags, o?: OpenFileOptions): Promise<FileHandle> {
    throwIfAborted(o?.signal);
    return this.openResolved(await this.resolve(p, true), flags, o);
  }

  private async openResolved(
    r: ResolvedPath,
    flags: OpenFlags,
    o?: OpenFileOptions,
  ): Promise<FileHandle> {
    throwIfAborted(o?.signal);
    const writing = flags.write === true;
    const atomic = writing && o?.atomic === true;
    let numeric = C.O_NOFOLLOW;
    numeric |= flags.read && writing ? C.O_RDWR : writing ? C.O_WRONLY : C.O_RDONLY;
    if (!atomic) {
      if (flags.create) numeric |= C.O_CREAT;
      if (flags.exclusive) numeric |= C.O_EXCL;
      if (flags.truncate && writing) numeric |= C.O_TRUNC;
      let fh: NodeFileHandle;
      try {
        fh = await this.openFileFn(r.real, numeric, o?.mode ?? 0o666);
      } catch (e) {
        throw mapFsError(e, r.display, 'open');
      }
      let st: Stats | undefined;
      try {
        // opening a directory for writing already failed with EISDIR: only a read-only open
        // needs the fstat (which the caller gets as openInfo)
        if (!writing) {
          st = await fh.stat();
          if (st.isDirectory())
            throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
        }
        if (flags.create) await this.chownIfNeeded(r.real);
      } catch (e) {
        await fh.close();
        throw mapFsError(e, r.display, 'open');
      }
      return new LocalFileHandle(fh, {
        path: r.rel,
        display: r.display,
        real: r.real,
        writing,
        fsync: this.fsync,
        // a read-only open: what the stat said still holds for the caller's first look
        ...(st ? { openInfo: toInfo(st, relName(r.rel)) } : {}),
      });
    }
    return this.openAtomic(r, flags, o);
  }

  private async openAtomic(
    r: ResolvedPath,
    flags: OpenFlags,
    o?: OpenFileOptions,
  ): Promise<FileHandle> {
    let existing: Stats | undefined;
    // a replacing upload (create + truncate) looks only to refuse a directory, which resolving
    // the path already saw (missing, or its stats): no second look. A directory made after it
    // fails the final rename, as one made while the data is written always did.
    const seen = flags.create === true && flags.truncate === true && !flags.exclusive;
    if (seen && r.missing) existing = undefined;
    else if (seen && r.stats) existing = r.stats;
    else {
      try {
        existing = await fsp.stat(r.real);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw mapFsError(e, r.display, 'open');
      }
    }
    if (existing?.isDirectory())
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(r.display)} is a directory`);
    if (!existing && !flags.create)
      throw new SftpgoError(
        'NOT_FOUND',
        `open ${JSON.stringify(r.display)}: no such file or directory`,
      );
    if (existing && flags.exclusive)
      throw new SftpgoError('ALREADY_EXISTS', `open ${JSON.stringify(r.display)}: file exists`);

    const dir = this.tempDir ?? path.dirname(r.real);
    const temp = path.join(
      dir,
      `${TEMP_PREFIX}${randomBytes(10).toString('hex')}.${path.basename(r.real)}`,
    );
    const rw = (flags.read ? C.O_RDWR : C.O_WRONLY) | C.O_NOFOLLOW;
    let kind: AtomicKind = 'fresh';
    let originalSize = 0;
    try {
      if (existing && !flags.truncate && flags.append) {
        // resume: move the file aside, append to it, move it back on commit or discard
        await moveFile(r.real, temp);
        kind = 'moved';
        originalSize = existing.size;
      } else if (existing && !flags.truncate) {
        // in-place writes: work on a copy so the original stays intact until commit
        await fsp.copyFile(r.real, temp, C.COPYFILE_EXCL);
        kind = 'copied';
      }
    } catch (e) {
      throw mapFsError(e, r.display, 'open');
    }
    let fh: NodeFileHandle | undefined;
    try {
      fh = await this.openFileFn(
        temp,
        kind === 'fresh' ? rw | C.O_CREAT | C.O_EXCL : rw,
        o?.mode ?? 0o666,
      );
      await this.chownIfNeeded(temp);
    } catch (e) {
      const err = mapFsError(e, r.display, 'open');
      if (fh) {
        await fh.close().catch((ce: unknown) => {
          this.logger.warn(
            { sender: 'vfs', file_path: temp, err: ce },
            'unable to close a temp file after a failed open',
          );
        });
      }
      // the user's file is only under `temp` now: it must go back, or an operator must know
      if (kind === 'moved') await restoreMovedFile(temp, r.real, this.logger, err.message, err);
      else if (kind === 'copied' || fh) {
        // a copy, or a fresh file created before chown failed: nothing of the user's in it
        await fsp.unlink(temp).catch((ue: unknown) => {
          this.logger.warn(
            { sender: 'vfs', file_path: temp, err: ue },
            'unable to remove a temp file after a failed open',
          );
        });
      }
      throw err;
    }
    return new LocalFileHandle(fh, {
      path: r.rel,
      display: r.display,
      real: r.real,
      writing: true,
      fsync: this.fsync,
      atomic: { temp, kind, originalSize },
      logger: this.logger,
    });
  }

  async openWrite(p: string, o?: WriteStreamOptions): Promise<Upload> {
    const offset = o?.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid write offset');
    const truncate = o?.truncate ?? offset === 0;
    const handle = await this.openFile(
      p,
      { write: true, create: true, truncate, append: offset > 0 },
      { atomic: o?.atomic === true, ...(o?.signal ? { signal: o.signal } : {}) },
    );
    if (offset > 0) {
      // a file that could not be moved back was already logged as an ERROR by restoreMovedFile
      await resumeAt(handle, offset, (de: unknown) => {
        this.logger.warn(
          { sender: 'vfs', file_path: handle.path, err: de },
          'unable to discard an upload after a bad resume offset',
        );
      });
    }
    const undo = abortedUpload(handle, { truncate, offset });
    return streamUpload(handle, offset, undo, o?.signal);
  }

  async mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void> {
    const r = await this.resolve(p, false);
    try {
      await fsp.mkdir(r.real, { recursive: o?.recursive === true, mode: o?.mode ?? 0o777 });
      await this.chownIfNeeded(r.real);
    } catch (e) {
      throw mapFsError(e, r.display, 'mkdir');
    }
  }

  async rename(from: string, to: string, _o?: Op): Promise<void> {
    const rf = await this.resolve(from, false);
    const rt = await this.resolve(to, false);
    if (rf.rel === '/' || rt.rel === '/') {
      throw new SftpgoError('PERMISSION_DENIED', 'renaming the root directory is not allowed');
    }
    try {
      await moveFile(rf.real, rt.real);
    } catch (e) {
      // ENOENT names the source unless it exists: then the target's directory is what is missing
      const missingTarget =
        (e as NodeJS.ErrnoException).code === 'ENOENT' &&
        (await fsp.lstat(rf.real).then(
          () => true,
          () => false,
        ));
      throw mapFsError(e, missingTarget ? rt.display : rf.display, 'rename');
    }
  }

  async remove(p: string, o?: Op & { dir?: boolean }): Promise<void> {
    const r = await this.resolve(p, false);
    if (r.rel === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    try {
      if (o?.dir) await fsp.rmdir(r.real);
      else await fsp.unlink(r.real);
    } catch (e) {
      throw mapFsError(e, r.display, 'remove');
    }
  }

  async symlink(target: string, p: string, _o?: Op): Promise<void> {
    if (typeof target !== 'string' || target === '' || target.includes('\0')) {
      throw new SftpgoError('INVALID_INPUT', 'invalid symlink target');
    }
    if (target.startsWith('/')) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        'symlinks with an absolute target are not allowed',
      );
    }
    const r = await this.resolve(p, false);
    if (r.rel === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'the root directory cannot be a symlink');
    const root = await this.root();
    let targetReal: string;
    try {
      targetReal = await this.realOf(path.resolve(path.dirname(r.real), target));
    } catch (e) {
      throw mapFsError(e, r.display, 'symlink');
    }
    if (!this.inside(targetReal, root)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        'the symlink target leads outside the root directory',
      );
    }
    try {
      await fsp.symlink(target, r.real);
    } catch (e) {
      throw mapFsError(e, r.display, 'symlink');
    }
  }

  async readlink(p: string, _o?: Op): Promise<string> {
    const r = await this.resolve(p, false);
    const root = await this.root();
    let target: string;
    try {
      target = await fsp.readlink(r.real);
    } catch (e) {
      throw mapFsError(e, r.display, 'readlink');
    }
    const abs = path.resolve(path.dirname(r.real), target);
    if (!this.inside(abs, root)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        `the target of ${JSON.stringify(r.display)} is outside the root directory`,
      );
    }
    return this.toRootRelative(abs, root);
  }

  async setStat(p: string, attrs: SetStatAttrs, _o?: Op): Promise<void> {
    await this.setStatAt(await this.resolve(p, true), attrs);
  }

  private async setStatAt(r: ResolvedPath, attrs: SetStatAttrs): Promise<void> {
    try {
      if (attrs.size !== undefined) {
        if (!Number.isSafeInteger(attrs.size) || attrs.size < 0)
          throw new SftpgoError('INVALID_INPUT', 'invalid size');
        await fsp.truncate(r.real, attrs.size);
      }
      if (attrs.mode !== undefined) await fsp.chmod(r.real, attrs.mode & 0o7777);
      if (attrs.uid !== undefined || attrs.gid !== undefined) {
        await fsp.chown(r.real, attrs.uid ?? -1, attrs.gid ?? -1);
      }
      if (attrs.atime !== undefined || attrs.mtime !== undefined) {
        let { atime, mtime } = attrs;
        if (atime === undefined || mtime === undefined) {
          const st = await fsp.stat(r.real);
          atime ??= st.atime;
          mtime ??= st.mtime;
        }
        await fsp.utimes(r.real, atime, mtime);
      }
    } catch (e) {
      throw mapFsError(e, r.display, 'setstat');
    }
  }

  async usage(dir: string, o?: Op): Promise<Usage> {
    const r = await this.resolve(dir, true);
    let files = 0;
    let bytes = 0;
    const stack = [r.real];
    while (stack.length > 0) {
      throwIfAborted(o?.signal);
      const cur = stack.pop() as string;
      let entries: Dirent[];
      try {
        entries = await fsp.readdir(cur, { withFileTypes: true });
      } catch (e) {
        // a subdirectory removed while scanning no longer counts
        if (cur !== r.real && errnoCode(e) === 'ENOENT') continue;
        throw mapFsError(e, r.display, 'usage');
      }
      for (const d of entries) {
        const full = path.join(cur, d.name);
        if (d.isDirectory()) stack.push(full);
        else if (d.isFile()) {
          try {
            bytes += this.usageSize((await fsp.lstat(full)).size);
            files++;
          } catch (e) {
            // removed while scanning: not counted
            if (errnoCode(e) !== 'ENOENT') throw mapFsError(e, r.display, 'usage');
          }
        }
      }
    }
    return { files, bytes };
  }

  async statVfs(p: string, _o?: Op): Promise<StatVfs> {
    const r = await this.resolve(p, true);
    try {
      const s = await fsp.statfs(r.real);
      return {
        bsize: s.bsize,
        frsize: s.bsize,
        blocks: s.blocks,
        bfree: s.bfree,
        bavail: s.bavail,
        files: s.files,
        ffree: s.ffree,
        favail: s.ffree,
        fsid: 0,
        flag: 0,
        namemax: 255,
      };
    } catch (e) {
      throw mapFsError(e, r.display, 'statvfs');
    }
  }

  nativePath(p: string): string {
    const rel = normalizeVirtualPath(p);
    return rel === '/' ? this.rootDir : path.join(this.rootDir, ...rel.split('/').filter(Boolean));
  }

  async realpath(p: string, _o?: Op): Promise<string> {
    const r = await this.resolve(p, true);
    return this.toRootRelative(r.real, await this.root());
  }

  async close(): Promise<void> {
    // nothing is held between operations
  }
}

/** rename(2), falling back to copy + delete across devices */
/** the absolute path of a normalized root-relative path, symlinks not resolved */
function absOf(rel: string, root: string): string {
  return rel === '/' ? root : path.join(root, ...rel.split('/').filter(Boolean));
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
  } catch (e) {
    if (errnoCode(e) !== 'EXDEV') throw e;
    const st = await fsp.lstat(from);
    if (st.isDirectory()) {
      await fsp.cp(from, to, {
        recursive: true,
        preserveTimestamps: true,
        verbatimSymlinks: true,
        errorOnExist: true,
        force: false,
      });
      await fsp.rm(from, { recursive: true });
    } else {
      await fsp.copyFile(from, to);
      await fsp.utimes(to, st.atime, st.mtime);
      await fsp.unlink(from);
    }
  }
}

/**
 * Puts a file that was moved aside (resume of an atomic upload) back under its name, retrying a
 * few times. When it still fails the file exists only under `temp`: logs an ERROR naming both
 * paths for an operator and throws an INTERNAL error (no server path in its message: it starts
 * with `context`) whose cause is the last move error. `failure`, when the move-back follows an
 * error, goes to the log.
 */
async function restoreMovedFile(
  temp: string,
  real: string,
  logger: FsLogger,
  context: string,
  failure?: unknown,
): Promise<void> {
  let last: unknown;
  for (let attempt = 1; attempt <= MOVE_BACK_ATTEMPTS; attempt++) {
    try {
      await moveFile(temp, real);
      return;
    } catch (e) {
      last = e;
      if (attempt < MOVE_BACK_ATTEMPTS) await sleep(MOVE_BACK_DELAY_MS * attempt);
    }
  }
  logger.error(
    {
      sender: 'vfs',
      file_path: real,
      temp_path: temp,
      attempts: MOVE_BACK_ATTEMPTS,
      err: last,
      ...(failure !== undefined ? { failure } : {}),
    },
    `unable to move ${JSON.stringify(temp)} back to ${JSON.stringify(real)}: the file is left under the temporary name`,
  );
  throw new SftpgoError(
    'INTERNAL',
    `${context}; the existing file was moved aside for the upload and could not be put back under its name`,
    { cause: last },
  );
}

type AtomicKind = 'fresh' | 'copied' | 'moved';

interface HandleInit {
  path: string;
  display: string;
  real: string;
  writing: boolean;
  fsync: boolean;
  atomic?: { temp: string; kind: AtomicKind; originalSize: number };
  logger?: FsLogger;
  openInfo?: FileInfo;
}

class LocalFileHandle implements FileHandle {
  readonly path: string;
  readonly atomic: boolean;
  readonly openInfo: FileInfo | undefined;
  private closed = false;
  private finished = false;
  /** synced before it completes: written data is synced in the background as it comes */
  private readonly willSync: boolean;
  /** bytes written since the last background sync started */
  private unsynced = 0;
  private backgroundSync: Promise<void> | undefined;
  /**
   * the error of a background sync: reported by the final sync (Linux reports a writeback
   * error once per file description; the final fdatasync could succeed after it)
   */
  private syncError: unknown;

  constructor(
    private readonly fh: NodeFileHandle,
    private readonly init: HandleInit,
  ) {
    this.path = init.path;
    this.atomic = init.atomic !== undefined;
    this.openInfo = init.openInfo;
    this.willSync = init.writing && (init.fsync || init.atomic !== undefined);
  }

  /** counts written bytes and starts a background sync when their turn has come */
  private written(bytes: number): void {
    if (!this.willSync) return;
    this.unsynced += bytes;
    if (
      this.unsynced < BACKGROUND_SYNC_BYTES ||
      this.backgroundSync !== undefined ||
      backgroundSyncs >= MAX_BACKGROUND_SYNCS ||
      this.closed
    )
      return;
    this.unsynced = 0;
    backgroundSyncs++;
    this.backgroundSync = this.fh.datasync().then(
      () => {
        backgroundSyncs--;
        this.backgroundSync = undefined;
      },
      (e: unknown) => {
        backgroundSyncs--;
        this.backgroundSync = undefined;
        this.syncError ??= e;
      },
    );
  }

  private err(e: unknown, op: string): SftpgoError {
    return mapFsError(e, this.init.display, op);
  }

  async read(position: number, length: number): Promise<Buffer | null> {
    if (length <= 0) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(length);
    try {
      const { bytesRead } = await this.fh.read(buf, 0, length, position);
      if (bytesRead === 0) return null;
      return bytesRead < length ? buf.subarray(0, bytesRead) : buf;
    } catch (e) {
      throw this.err(e, 'read');
    }
  }

  async write(position: number, data: Buffer): Promise<void> {
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await this.fh.write(data, off, data.length - off, position + off);
        off += bytesWritten;
      }
    } catch (e) {
      throw this.err(e, 'write');
    }
    this.written(data.length);
  }

  async writev(position: number, data: readonly Buffer[]): Promise<void> {
    if (data.length === 1) return this.write(position, data[0] as Buffer);
    let total = 0;
    for (const b of data) total += b.length;
    let written: number;
    try {
      written = (await this.fh.writev(data as Buffer[], position)).bytesWritten;
    } catch (e) {
      throw this.err(e, 'write');
    }
    if (written === total) {
      this.written(total);
      return;
    }
    this.written(written);
    // short write: finish the rest buffer by buffer
    let pos = position;
    for (const b of data) {
      if (written >= b.length) {
        written -= b.length;
        pos += b.length;
        continue;
      }
      const rest = b.subarray(written);
      await this.write(pos + written, rest);
      pos += b.length;
      written = 0;
    }
  }

  async stat(): Promise<FileInfo> {
    try {
      return toInfo(await this.fh.stat(), relName(this.path));
    } catch (e) {
      throw this.err(e, 'stat');
    }
  }

  async truncate(length: number): Promise<void> {
    try {
      await this.fh.truncate(length);
    } catch (e) {
      throw this.err(e, 'truncate');
    }
  }

  async sync(): Promise<void> {
    try {
      await this.backgroundSync;
      if (this.syncError !== undefined) throw this.syncError;
      await this.fh.datasync();
    } catch (e) {
      throw this.err(e, 'sync');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // never close the descriptor under a running fdatasync
      await this.backgroundSync;
      await this.fh.close();
    } catch (e) {
      throw this.err(e, 'close');
    }
  }

  async commit(): Promise<void> {
    if (this.finished) return;
    // atomic: the data must be on disk before the rename makes it the file (crash safety); a
    // failed sync leaves the handle to discard() (temp file removed, a moved-aside file put back)
    if (this.willSync && !this.closed) await this.sync();
    this.finished = true;
    await this.close();
    const a = this.init.atomic;
    if (!a) return;
    try {
      await moveFile(a.temp, this.init.real);
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
        if (!this.closed) await this.fh.truncate(a.originalSize);
        await this.close();
        await restoreMovedFile(
          a.temp,
          this.init.real,
          this.init.logger ?? NO_LOGGER,
          `discard ${JSON.stringify(this.init.display)}`,
        );
        return;
      }
      if (!a && o?.keepBytes !== undefined) {
        if (!this.closed) await this.fh.truncate(o.keepBytes);
        await this.close();
        return;
      }
      await this.close();
      await fsp.unlink(a ? a.temp : this.init.real).catch((e: unknown) => {
        // already gone: the goal (no partial file) is reached
        if (errnoCode(e) !== 'ENOENT') throw e;
      });
    } catch (e) {
      throw this.err(e, 'discard');
    }
  }
}

/** a Writable over a FileHandle: sequential writes from `offset`, commit on end, `undo` on destroy */
function streamUpload(
  handle: FileHandle,
  offset: number,
  undo: () => Promise<void>,
  signal?: AbortSignal,
): Upload {
  let pos = offset;
  let bytes = 0;
  let settled = false;
  let resolveDone!: (v: { bytes: number }) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<{ bytes: number }>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // callers may only look at `stream`; avoid an unhandled rejection for them
  done.catch(() => undefined);
  const stream = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      const at = pos;
      pos += chunk.length;
      handle.write(at, chunk).then(() => {
        bytes += chunk.length;
        cb();
      }, cb);
    },
    writev(chunks, cb) {
      const bufs = chunks.map((c) => c.chunk as Buffer);
      const at = pos;
      const len = bufs.reduce((n, b) => n + b.length, 0);
      pos += len;
      handle.writev(at, bufs).then(() => {
        bytes += len;
        cb();
      }, cb);
    },
    final(cb) {
      handle.commit().then(
        () => {
          settled = true;
          resolveDone({ bytes });
          cb();
        },
        (e: unknown) => cb(e as Error),
      );
    },
    destroy(err, cb) {
      if (settled) {
        cb(err);
        return;
      }
      settled = true;
      const reason = err ?? new SftpgoError('ABORTED', 'upload aborted');
      undo().then(
        () => {
          rejectDone(mapFsError(reason, handle.path));
          cb(err);
        },
        (e: unknown) => {
          rejectDone(mapFsError(reason, handle.path));
          cb((err ?? e) as Error);
        },
      );
    },
  });
  if (signal) addAbortSignal(signal, stream);
  return { stream, done };
}

/** the local backend's options out of the registry's (the fields a local root uses) */
export function localOptionsOf(o: CreateFsOptions): LocalFsOptions {
  return {
    root: o.root,
    ...(o.displayPrefix !== undefined ? { displayPrefix: o.displayPrefix } : {}),
    ...(o.tempDir ? { tempDir: o.tempDir } : {}),
    ...(o.fsync !== undefined ? { fsync: o.fsync } : {}),
    ...(o.createRoot !== undefined ? { createRoot: o.createRoot } : {}),
    ...(o.uid !== undefined ? { uid: o.uid } : {}),
    ...(o.gid !== undefined ? { gid: o.gid } : {}),
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
  };
}

/** registry entry (src/vfs/registry.ts): provider 0 */
export function create(_config: FilesystemConfig, o: CreateFsOptions): Promise<Fs> {
  return Promise.resolve(new LocalFs(localOptionsOf(o)));
}
