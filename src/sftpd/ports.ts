/**
 * What the SSH front end needs from a protocol connection of src/common: the structural subset
 * of common's `Connection` the SFTP / SCP / SSH-command code calls (so unit tests can pass a
 * fake). Every method takes virtual paths, checks permissions, file patterns and quota itself
 * and throws SftpgoError.
 */
import type { WalkEntry, WalkOptions } from '../common/index.js';
import type { FileInfo, SetStatAttrs, StatVfs } from '../vfs/index.js';

export interface DownloadHandle {
  read(position: number, length: number): Promise<Buffer | null>;
  /** `releaseInBackground`: see DownloadTransfer.close */
  close(o?: { releaseInBackground?: boolean }): Promise<void>;
  abort(err?: unknown): Promise<void>;
  /** file size at open, when known */
  readonly fileSize: number | undefined;
  /** the file's attributes at open, when known */
  readonly info?: FileInfo | undefined;
}

export interface UploadHandle {
  /** settles once the bytes are written (never held back by the throttle) */
  write(position: number, data: Buffer): Promise<void>;
  /** ms to stop reading from the client to keep to the upload bandwidth (0: go on) */
  throttleDelay(): number;
  /** flushes the data written so far to stable storage */
  sync(): Promise<void>;
  /** waits for the data to be durable and commits; rejects with the transfer error */
  close(): Promise<void>;
  /** aborts; the outcome follows upload_mode. Never rejects. */
  abort(err?: unknown): Promise<void>;
}

/** truncate / append / inplace (positional writes into the existing content) / resume at offset */
export type UploadOpenMode = 'truncate' | 'append' | 'resume' | 'inplace';

export interface SessionConnection {
  readonly id: string;
  stat(vpath: string): Promise<FileInfo>;
  lstat(vpath: string): Promise<FileInfo>;
  /** stat of an open file: the permission checks of stat, then `info` (read at open) if given */
  statOpen(vpath: string, info?: FileInfo): Promise<FileInfo>;
  /** a directory listing (NOT_FOUND / not a directory / permission errors are thrown here) */
  list(vpath: string): Promise<AsyncIterableIterator<FileInfo>>;
  readlink(vpath: string): Promise<string>;
  /** the common tree walk (list permission, file patterns, symlinks never walked into) */
  walk(root: string, o?: WalkOptions): AsyncIterable<WalkEntry>;
  mkdir(vpath: string): Promise<void>;
  /** removes a file or symlink */
  remove(vpath: string): Promise<void>;
  /** removes an empty directory */
  rmdir(vpath: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** creates `link` pointing to `target` (a virtual path, relative to the link's directory when relative) */
  symlink(target: string, link: string): Promise<void>;
  setStat(vpath: string, attrs: SetStatAttrs): Promise<void>;
  statVfs(vpath: string): Promise<StatVfs>;
  openDownload(vpath: string, o?: { offset?: number }): Promise<DownloadHandle>;
  /** `openFlags`: what the pre-upload custom action reports (see common's UploadOptions) */
  openUpload(
    vpath: string,
    o?: {
      mode: UploadOpenMode;
      offset?: number;
      openFlags?: { existing: number; newFile?: number };
    },
  ): Promise<UploadHandle>;
}
