/**
 * POST /user/streamzip: a zip of files and folders generated on the fly (upstream
 * renderCompressedFiles / addZipEntry at v2.1.2), with yazl. Nothing is buffered: files are
 * opened one at a time through the user's Connection (permissions, file patterns, download
 * accounting) when the zip writer reaches them, the directory walk stays a bounded number of
 * entries ahead of the writer, and the socket's backpressure reaches the file reads.
 *
 * The content is the common walk's (src/common/walk.ts), skipping what it hides: directories
 * the user may not list, files the patterns deny or without download permission. Only
 * directories and regular files are included (symlinks found while walking are skipped, so a
 * link loop cannot make the walk endless; a requested path that is a link is followed). A
 * requested path that does not exist or is not allowed is refused before anything is sent.
 */
import { PassThrough, type Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { Connection } from '../common/connection.js';
import { SftpgoError } from '../errors/index.js';
import { normalizeVirtualPath, type FileInfo } from '../vfs/index.js';
import type { HttpdLogger } from './context.js';

/** how many file entries the walk may queue ahead of the zip writer */
const MAX_QUEUED = 16;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export interface ZipRequestEntry {
  path: string;
  info: FileInfo;
}

function isStrictlyBelow(parent: string, p: string): boolean {
  return parent === '/' ? p !== '/' : p.startsWith(`${parent}/`);
}

/**
 * Normalizes and checks the requested paths (each must exist and be visible to the user);
 * duplicates and paths inside another requested directory are dropped. Throws the mapped
 * SftpgoError (NOT_FOUND, PERMISSION_DENIED, INVALID_INPUT) before any byte is sent.
 */
export async function resolveZipRequest(conn: Connection, paths: readonly string[]): Promise<ZipRequestEntry[]> {
  const seen = new Set<string>();
  const entries: ZipRequestEntry[] = [];
  for (const raw of paths) {
    if (raw.includes('\0')) throw new SftpgoError('INVALID_INPUT', 'invalid path: NUL byte');
    const p = normalizeVirtualPath(raw);
    if (seen.has(p)) continue;
    seen.add(p);
    const info = p === '/' ? await conn.stat('/') : await conn.stat(p);
    entries.push({ path: p, info });
  }
  const dirs = entries.filter((e) => e.info.isDirectory).map((e) => e.path);
  return entries.filter((e) => !dirs.some((d) => d !== e.path && isStrictlyBelow(d, e.path)));
}

function entryName(p: string): string {
  return p.replace(/^\/+/, '');
}

export interface ZipStreamOptions {
  logger: HttpdLogger;
}

/**
 * Starts writing the zip of `entries` and returns its byte stream. The stream errors (and the
 * response is cut) when a file cannot be read mid-way; `done` settles when the zip is complete
 * or abandoned. Destroying the returned stream (client gone) stops the walk.
 */
export function createZipStream(conn: Connection, entries: readonly ZipRequestEntry[], o: ZipStreamOptions): { stream: Readable; done: Promise<void> } {
  const log = o.logger;
  const zip = new ZipFile();
  const out = new PassThrough();
  let stopped = false;
  let queued = 0;
  let wake: (() => void) | undefined;

  const stop = (err?: unknown): void => {
    if (stopped) return;
    stopped = true;
    wake?.();
    if (err !== undefined) {
      log.warn({ sender: 'HTTP', connection_id: conn.id, err }, 'zip stream aborted');
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  };
  zip.on('error', (e: unknown) => stop(e));
  const zipOut = zip.outputStream as unknown as Readable;
  zipOut.on('error', (e: unknown) => stop(e));
  zipOut.pipe(out);
  out.on('close', () => {
    // the consumer went away (or we are done): stop walking, release the zip writer
    if (!stopped) stop();
    zipOut.unpipe(out);
    zipOut.resume();
  });

  const skip = (path: string, reason: string): void => {
    log.debug({ sender: 'HTTP', connection_id: conn.id, file_path: path }, `zip entry skipped: ${reason}`);
  };

  const validName = (p: string): boolean => {
    if (p.includes('\\')) {
      log.warn({ sender: 'HTTP', connection_id: conn.id, file_path: p }, 'zip entry skipped: a backslash in the name');
      return false;
    }
    return true;
  };

  const addFile = async (p: string, info: FileInfo): Promise<void> => {
    queued++;
    zip.addReadStreamLazy(
      entryName(p),
      { mtime: info.mtime, mode: (info.mode & 0o7777) | S_IFREG },
      (cb: (err: unknown, s: NodeJS.ReadableStream) => void) => {
        queued--;
        wake?.();
        conn.openDownload(p).then(
          (t) => {
            const s = t.stream();
            s.on('error', (e: unknown) => {
              void t.close();
              stop(e);
            });
            s.on('close', () => void t.close());
            cb(null, s);
          },
          (e: unknown) => stop(e),
        );
      },
    );
    while (queued > MAX_QUEUED && !stopped) {
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  };

  /** one requested path, as the common walk presents it (what may not be seen is skipped) */
  const addEntry = async (req: ZipRequestEntry): Promise<void> => {
    const walk = conn.walk(req.path, {
      rootInfo: req.info,
      onDenied: 'skip',
      filePerm: 'download',
      onSkip: (p, reason) => skip(p, reason.message),
    });
    for await (const e of walk) {
      if (stopped) break;
      switch (e.type) {
        case 'dir':
          if (e.path !== '/' && validName(e.path))
            zip.addEmptyDirectory(entryName(e.path), { mtime: e.info.mtime, mode: (e.info.mode & 0o7777) | S_IFDIR });
          break;
        case 'file':
          if (validName(e.path)) await addFile(e.path, e.info);
          break;
        case 'dir-end':
          break;
        case 'symlink':
        case 'other':
          skip(e.path, 'not a regular file');
      }
    }
  };

  const done = (async () => {
    try {
      for (const e of entries) {
        if (stopped) break;
        await addEntry(e);
      }
      if (!stopped) zip.end();
    } catch (e) {
      stop(e);
    }
    await new Promise<void>((resolve) => {
      if (out.closed || out.destroyed) resolve();
      else out.once('close', () => resolve());
    });
  })();
  return { stream: out, done };
}
