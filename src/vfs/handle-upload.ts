/**
 * What every backend with file handles does for a streamed write (`Fs.openWrite`) on top of
 * `openFile`: the resume offset check, and what an aborted upload leaves behind.
 */
import { SftpgoError } from '../errors/index.js';
import type { FileHandle } from './types.js';

/**
 * Checks a resume `offset` against the size of the file `handle` opened and cuts what lies
 * after it. A bad offset (past the end) is the error thrown; nothing was written, so the handle
 * is undone without touching the file (a direct handle is only closed, never cut or extended;
 * an atomic one is moved back). An undo that fails goes to `onUndoError`.
 */
export async function resumeAt(
  handle: FileHandle,
  offset: number,
  onUndoError: (e: unknown) => void,
): Promise<void> {
  try {
    const size = (await handle.stat()).size;
    if (offset > size) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `invalid resume offset ${offset}: the file has ${size} bytes`,
      );
    }
    if (offset < size) await handle.truncate(offset);
  } catch (e) {
    await (handle.atomic ? handle.discard() : handle.close()).catch(onUndoError);
    throw e;
  }
}

/**
 * What an aborted streamed write does to `handle`: an atomic upload leaves the target as it
 * was; a direct one removes a file it wrote from scratch (created or truncated), cuts a resumed
 * file back to where it resumed, and leaves an in-place rewrite (truncate: false) as far as it got.
 */
export function abortedUpload(
  handle: FileHandle,
  o: { truncate: boolean; offset: number },
): () => Promise<void> {
  return () =>
    handle.atomic || o.truncate
      ? handle.discard()
      : o.offset > 0
        ? handle.discard({ keepBytes: o.offset })
        : handle.close();
}
