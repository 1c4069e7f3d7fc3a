/**
 * The log file with size rotation (rotating-file-stream), backups named as upstream's lumberjack
 * does (`sftpgo-2021-10-10T10-10-10.000.log`, `.gz` when compressed), kept by count and by age.
 *
 * `reopen()` (SIGUSR1): when the file is still where we opened it, it is rotated now (upstream's
 * SIGUSR1); when something moved or deleted it (logrotate without copytruncate), a new file is
 * opened at the configured path and the old one is closed, so no line is lost or written to the
 * moved file.
 */
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { RotatingFileStream } from 'rotating-file-stream';
import { createStream } from 'rotating-file-stream';

export interface LogFileOptions {
  /** absolute path of the active log file */
  filePath: string;
  /** rotate when the file reaches this size; 0 = never by size */
  maxSizeMB: number;
  /** rotated files to keep; 0 = keep all (unless maxAgeDays prunes them) */
  maxBackups: number;
  /** delete rotated files older than this; 0 = no age limit */
  maxAgeDays: number;
  /** gzip rotated files */
  compress: boolean;
  /** non-fatal problems (rotation, pruning); defaults to process.emitWarning */
  onWarning?: (e: Error) => void;
  /**
   * where a line logged after close() goes (a transfer or connection that ends while the service
   * stops): standard error by default, so it is neither lost nor written to the ended stream
   */
  afterClose?: (line: string) => void;
}

export interface LogFile {
  /** what the logger writes to; always the current file */
  stream: { write(chunk: string): boolean };
  /** the current rotating stream (replaced by reopen() after a move) */
  readonly current: RotatingFileStream;
  /**
   * SIGUSR1: rotates the file when it is still in place ('rotated'), or opens a new one at the
   * path when it was moved or deleted ('reopened')
   */
  reopen(): Promise<'rotated' | 'reopened'>;
  /** flushes and closes the file */
  close(): Promise<void>;
}

function endStream(stream: RotatingFileStream): Promise<void> {
  return new Promise<void>((res) => {
    if (stream.writableFinished || stream.destroyed) {
      res();
      return;
    }
    stream.end(() => res());
  });
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}

/** lumberjack's backup time format: 2006-01-02T15-04-05.000, UTC */
function backupStamp(t: Date): string {
  return t.toISOString().replace(/Z$/, '').replace(/:/g, '-');
}

export function openLogFile(o: LogFileOptions): LogFile {
  const dir = dirname(o.filePath);
  const name = basename(o.filePath);
  const ext = extname(name);
  const stem = ext === '' ? name : name.slice(0, -ext.length);
  const warn = o.onWarning ?? ((e: Error): void => process.emitWarning(e));

  const generator = (time: number | Date, index?: number): string => {
    if (!time) return name;
    const t = typeof time === 'number' ? new Date(time) : time;
    const suffix = index !== undefined && index > 1 ? `-${index}` : '';
    return `${stem}-${backupStamp(t)}${suffix}${ext}`;
  };
  const opts: Parameters<typeof createStream>[1] = { path: dir, history: `.${name}.history` };
  if (o.maxSizeMB > 0) opts.size = `${o.maxSizeMB}M`;
  if (o.maxBackups > 0) opts.maxFiles = o.maxBackups;
  if (o.compress) opts.compress = 'gzip';

  const isBackup = (f: string): boolean =>
    f !== name && f.startsWith(`${stem}-`) && (f.endsWith(ext) || f.endsWith(`${ext}.gz`));
  /** keeps the newest maxBackups backups (their names sort by time) */
  const pruneByCount = async (): Promise<void> => {
    if (o.maxBackups <= 0) return;
    const backups = (await readdir(dir)).filter(isBackup).sort();
    for (const f of backups.slice(0, Math.max(0, backups.length - o.maxBackups))) {
      await unlink(join(dir, f));
    }
  };
  const pruneByAge = async (): Promise<void> => {
    const limit = Date.now() - o.maxAgeDays * 86_400_000;
    for (const f of await readdir(dir)) {
      if (!isBackup(f)) continue;
      const p = join(dir, f);
      if ((await stat(p)).mtimeMs < limit) await unlink(p);
    }
  };
  /** the inode of the file the current stream writes, recorded each time it opens one */
  let ino: number | undefined;
  const open = (): RotatingFileStream => {
    const stream = createStream(generator, opts);
    stream.on('open', () => {
      void inodeOf(o.filePath).then((i) => (ino = i));
    });
    stream.on('rotated', () => {
      if (o.maxAgeDays > 0)
        pruneByAge().catch((e: unknown) =>
          warn(new Error(`log backups pruning failed: ${String(e)}`, { cause: e })),
        );
    });
    stream.on('warning', (e: Error) => warn(e));
    stream.on('error', (e: Error) => warn(e));
    return stream;
  };
  let current = open();
  /** lines logged while the file is being moved (reopen) */
  let pending: string[] | undefined;
  let closed = false;
  const afterClose = o.afterClose ?? ((line: string): void => void process.stderr.write(line));

  return {
    stream: {
      write: (chunk: string) => {
        if (closed) {
          afterClose(chunk);
          return true;
        }
        if (pending === undefined) return current.write(chunk);
        pending.push(chunk);
        return true;
      },
    },
    get current() {
      return current;
    },
    async reopen() {
      const now = await inodeOf(o.filePath);
      const inPlace = now !== undefined && now === ino;
      const old = current;
      if (inPlace) {
        // rotating-file-stream has no public "rotate now": move the file to a backup name
        // ourselves, holding the lines logged meanwhile, then prune
        pending = [];
        try {
          await endStream(old);
          await rename(o.filePath, join(dir, generator(new Date())));
        } finally {
          current = open();
          const held = pending;
          pending = undefined;
          for (const c of held) current.write(c);
        }
        await pruneByCount().catch((e: unknown) =>
          warn(new Error(`log backups pruning failed: ${String(e)}`, { cause: e })),
        );
        return 'rotated';
      }
      current = open();
      await endStream(old);
      return 'reopened';
    },
    close: () => {
      closed = true;
      return endStream(current);
    },
  };
}
