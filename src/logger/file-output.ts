/**
 * The log file with size rotation (rotating-file-stream), backups named as upstream's lumberjack
 * does (`sftpgo-2021-10-10T10-10-10.000.log`, `.gz` when compressed), kept by count and by age.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
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
}

export interface LogFile {
  stream: RotatingFileStream;
  /** flushes and closes the file */
  close(): Promise<void>;
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
  const stream = createStream(generator, opts);

  const isBackup = (f: string): boolean =>
    f !== name && f.startsWith(`${stem}-`) && (f.endsWith(ext) || f.endsWith(`${ext}.gz`));
  const pruneByAge = async (): Promise<void> => {
    const limit = Date.now() - o.maxAgeDays * 86_400_000;
    for (const f of await readdir(dir)) {
      if (!isBackup(f)) continue;
      const p = join(dir, f);
      if ((await stat(p)).mtimeMs < limit) await unlink(p);
    }
  };
  stream.on('rotated', () => {
    if (o.maxAgeDays > 0)
      pruneByAge().catch((e: unknown) =>
        warn(new Error(`log backups pruning failed: ${String(e)}`, { cause: e })),
      );
  });
  stream.on('warning', (e: Error) => warn(e));
  stream.on('error', (e: Error) => warn(e));

  return {
    stream,
    close: () =>
      new Promise<void>((res) => {
        if (stream.writableFinished || stream.destroyed) {
          res();
          return;
        }
        stream.end(() => res());
      }),
  };
}
