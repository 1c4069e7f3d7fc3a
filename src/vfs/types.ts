/**
 * The one storage interface every backend implements and every protocol (through
 * src/common's Connection) uses. STYLE.md §D.
 *
 * Paths given to an `Fs` are POSIX, `/`-rooted and relative to the backend root ("/" is the
 * root itself). Backends normalize them again themselves (`..` cannot climb above the root,
 * NUL bytes are refused), so a caller cannot escape by construction.
 *
 * Every failure is an SftpgoError (src/errors) whose message never contains an absolute
 * server path; the native error is kept as `cause`.
 */
import type { Readable, Writable } from 'node:stream';

/**
 * Where a backend reports what needs an operator's attention (data left under a temporary
 * name, ...): the subset of pino it uses, so a pino logger or src/common's Logger passes as is.
 */
export interface FsLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Storage kinds, as the `provider` numbers of the REST API: 0 local, 1 s3, 2 gcs, 3 azblob, 4 crypt, 5 sftp. */
export type FsKind = 'local' | 's3' | 'gcs' | 'azblob' | 'crypt' | 'sftp';

/**
 * What a backend can do. Callers branch on these flags, never on `kind`. An optional method of
 * `Fs` is present if and only if its flag is true; calling an unsupported feature throws
 * OP_UNSUPPORTED, it never silently does nothing.
 */
export interface FsCapabilities {
  /** writes may continue an existing file (append / resume at an offset) */
  resume: boolean;
  /** uploads can go to a temp file that is renamed onto the target on commit */
  atomicUpload: boolean;
  /** positional reads and writes through `openFile` */
  randomAccess: boolean;
  /** symlink / readlink */
  symlinks: boolean;
  chmod: boolean;
  chown: boolean;
  chtimes: boolean;
  /** setStat({ size }) and FileHandle.truncate */
  truncate: boolean;
  /** statVfs */
  statvfs: boolean;
  /**
   * rename is one native, atomic operation for files and whole trees (local, crypt, SFTP).
   * false: the backend renames by copy + delete (object stores): files and empty directories
   * only, a non-empty directory is refused; callers must not expect atomicity.
   */
  rename: boolean;
  /**
   * directories are emulated by key prefixes and marker objects (S3, GCS, Azure): mkdir of an
   * existing path succeeds without doing anything, a missing directory lists as empty, removing
   * a missing directory succeeds, a prefix with objects below it is a directory (mtime = now).
   */
  emulatedDirs: boolean;
}

export interface FileInfo {
  /** base name ("/" for the root) */
  name: string;
  size: number;
  /** full POSIX mode including the file type bits (S_IFDIR, S_IFREG, S_IFLNK), as fs.Stats.mode */
  mode: number;
  mtime: Date;
  atime: Date;
  isDirectory: boolean;
  isSymlink: boolean;
  /** a regular file */
  isFile: boolean;
  uid: number;
  gid: number;
}

export interface Op {
  signal?: AbortSignal;
}

export interface OpenFlags {
  read?: boolean;
  write?: boolean;
  /** create the file when missing */
  create?: boolean;
  /** truncate an existing file to zero on open */
  truncate?: boolean;
  /** fail with ALREADY_EXISTS when the file exists */
  exclusive?: boolean;
  /**
   * informational: the caller will append to the existing content. Positional writes are
   * never turned into O_APPEND writes; it only changes how an atomic open prepares the temp
   * file (the existing file is moved, not copied).
   */
  append?: boolean;
}

export interface OpenFileOptions extends Op {
  /**
   * Write through a temp file that `commit()` moves onto the target (capability
   * atomicUpload). While the upload runs the target keeps its old content (truncate / in-place
   * opens) or is absent (append opens: the file is moved to the temp name and moved back on
   * discard).
   */
  atomic?: boolean;
  /** permission bits for a newly created file (default 0o666 & ~umask) */
  mode?: number;
}

/**
 * An open file for random access (SFTP, FTP REST, partial WebDAV ranges). Calls may overlap;
 * the backend does not serialize them — src/common's upload queue does.
 */
export interface FileHandle {
  /** path relative to the backend root, as given to openFile (normalized) */
  readonly path: string;
  readonly atomic: boolean;
  /** the file's attributes as of the open, when the backend had them anyway (saves a stat) */
  readonly openInfo?: FileInfo;
  /** reads up to `length` bytes at `position`; null at end of file */
  read(position: number, length: number): Promise<Buffer | null>;
  /** writes the whole buffer at `position` */
  write(position: number, data: Buffer): Promise<void>;
  /** writes the buffers back to back starting at `position` (one syscall when possible) */
  writev(position: number, data: readonly Buffer[]): Promise<void>;
  stat(): Promise<FileInfo>;
  truncate(length: number): Promise<void>;
  /** flushes data to stable storage */
  sync(): Promise<void>;
  /** closes the handle (idempotent). For atomic handles the temp file stays in place. */
  close(): Promise<void>;
  /**
   * Finishes a write: syncs (atomic handles always, before the rename; others when the backend
   * was built with fsync), closes, and for atomic handles moves the temp file onto the target.
   */
  commit(): Promise<void>;
  /**
   * Undoes a write and closes. Atomic: the temp file is removed and the target is left as it
   * was (an append open moves the original back, truncated to its original size).
   * Direct: the file is removed, or truncated back to `keepBytes` when given (resume).
   */
  discard(o?: { keepBytes?: number }): Promise<void>;
}

export interface SetStatAttrs {
  /** permission bits (type bits ignored) */
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: Date;
  mtime?: Date;
  /** truncate / extend to this size */
  size?: number;
}

/** statvfs@openssh.com fields */
export interface StatVfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

export interface Usage {
  files: number;
  bytes: number;
}

/** A streamed upload (stream protocols, object stores). */
export interface Upload {
  /** write the data and end() it; destroy(err) aborts and cleans up (temp file removed) */
  stream: Writable;
  /** resolves when the data is durable and visible at the target; rejects when aborted */
  done: Promise<{ bytes: number }>;
  /**
   * true when the upload writes the target directly: an existing file was truncated when the
   * upload opened, so an aborted upload leaves no file there. Absent or false: the target
   * changes only when `done` resolves (an atomic temp file, an object-store commit).
   */
  inPlace?: boolean;
}

export interface WriteStreamOptions extends Op {
  /** start writing at this offset of the existing file (capability resume) */
  offset?: number;
  /** truncate an existing file (default true when offset is 0 or absent) */
  truncate?: boolean;
  atomic?: boolean;
}

/** a path resolved by `Fs.resolveFile` */
export interface ResolvedFile {
  /** the file's attributes (symlinks followed); undefined when it does not exist */
  readonly info: FileInfo | undefined;
  /**
   * true when resolving showed the path's parent to be a directory (it held the file, or
   * answered that the file is missing from it); absent when not known
   */
  readonly parentIsDir?: boolean;
  /** `Fs.openFile` of the resolved path */
  openFile(flags: OpenFlags, o?: OpenFileOptions): Promise<FileHandle>;
}

/** a path looked at by `Fs.resolveLink` */
export interface ResolvedLink {
  /** the path's own attributes (lstat: a final symlink not followed); undefined when missing */
  readonly info: FileInfo | undefined;
  /** `Fs.setStat` of the looked path (which follows a final symlink, as setStat does) */
  setStat(attrs: SetStatAttrs, o?: Op): Promise<void>;
}

export interface Fs {
  readonly kind: FsKind;
  readonly capabilities: FsCapabilities;

  /** follows symlinks; throws NOT_FOUND (never returns null) */
  stat(p: string, o?: Op): Promise<FileInfo>;
  /** does not follow a final symlink */
  lstat(p: string, o?: Op): Promise<FileInfo>;
  /**
   * Lazily lists a directory (lstat semantics for the entries). Errors (NOT_FOUND, INVALID_INPUT
   * for a non directory, PERMISSION_DENIED) surface on the first `next()`.
   */
  list(dir: string, o?: Op): AsyncIterableIterator<FileInfo>;
  /** a stream of the file from `offset` (ranged read on object stores) */
  openRead(p: string, o?: Op & { offset?: number }): Promise<Readable>;
  /** a streamed write; see Upload */
  openWrite(p: string, o?: WriteStreamOptions): Promise<Upload>;
  /** positional access (capability randomAccess) */
  openFile?(p: string, flags: OpenFlags, o?: OpenFileOptions): Promise<FileHandle>;
  /**
   * Resolves `p` once for a stat followed by an open of the same path (an upload looks at the
   * existing file, then opens it): the same as `stat` then `openFile`, without resolving the
   * path a second time. Backends where resolving costs nothing leave it out.
   */
  resolveFile?(p: string, o?: Op): Promise<ResolvedFile>;
  /**
   * Resolves `p` once for an lstat followed by setStat calls on the same path (a SETSTAT or
   * MFMT decides the permission by what the path is, then changes it): the same as `lstat`
   * then `setStat`, without resolving the path a second time. Backends where resolving costs
   * nothing leave it out.
   */
  resolveLink?(p: string, o?: Op): Promise<ResolvedLink>;
  /** creates one directory; ALREADY_EXISTS / NOT_FOUND (parent missing) */
  mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void>;
  /**
   * Renames inside this backend with rename(2) semantics: an existing target file is
   * replaced, a file cannot replace a directory (INVALID_INPUT), a directory replaces only an
   * empty directory (NOT_EMPTY otherwise). Connection refuses renames onto directories before
   * calling this. Cross-device moves fall back to copy + delete.
   */
  rename(from: string, to: string, o?: Op): Promise<void>;
  /** removes a file or symlink, or an empty directory with `dir: true` (NOT_EMPTY otherwise) */
  remove(p: string, o?: Op & { dir?: boolean }): Promise<void>;
  /**
   * Creates `p` as a symlink whose content is `target`. Absolute targets, and relative targets
   * leading out of the root, are refused with PERMISSION_DENIED.
   */
  symlink?(target: string, p: string, o?: Op): Promise<void>;
  /** the link target as a root-relative absolute path ("/dir/file"); PERMISSION_DENIED when it points outside */
  readlink?(p: string, o?: Op): Promise<string>;
  /** chmod / chown / chtimes / truncate; a field whose capability is false throws OP_UNSUPPORTED */
  setStat?(p: string, attrs: SetStatAttrs, o?: Op): Promise<void>;
  /** files and bytes below `dir` (regular files only), for quota scans */
  usage(dir: string, o?: Op): Promise<Usage>;
  statVfs?(p: string, o?: Op): Promise<StatVfs>;
  /** the real location of `p` (symlinks resolved) as a root-relative absolute path */
  realpath(p: string, o?: Op): Promise<string>;
  /**
   * The backend's own name of `p` (upstream Fs.ResolvePath), for hooks that act on the storage
   * behind the server (custom actions): the absolute local path (local, crypt), the object key
   * (S3, GCS, Azure Blob), the remote path (SFTP). Lexical: nothing is accessed, symlinks are not
   * resolved. Never shown to clients (it holds server paths and bucket keys).
   */
  nativePath(p: string): string;
  /** releases clients / connections held by the backend */
  close(): Promise<void>;
}

// file type bits (fs.constants is platform dependent; these are the POSIX values)
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
