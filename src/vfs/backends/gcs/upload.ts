/**
 * A streamed GCS upload (upstream GCSFs.Create: the SDK's resumable Writer behind a pipe): a
 * resumable session is started first (one POST: a missing bucket or a refused credential fails
 * the open), then the caller's bytes go through the SDK's resumable write stream as one PUT
 * (`Content-Range: bytes 0-*\/*`). Nothing is visible under the name until the PUT completes,
 * so a failed upload leaves the previous object (if any) as it was.
 *
 * Aborting is ours: in @google-cloud/storage 7.22.0 destroying the write stream stops feeding
 * the PUT but neither ends the request (the SDK destroys its resumable stream without an error,
 * so the request's AbortController never fires) nor the session. On failure or abort:
 * - the session is cancelled (DELETE of the session URI, which needs no credentials): GCS then
 *   drops what it received and ends the PUT;
 * - the upload's HTTP agent is destroyed, which ends the PUT on our side whatever the server
 *   does. Each upload has an agent of its own while it runs (see UploadAgents), so this cuts
 *   nothing else;
 * - when the abort came after GCS had already completed the object (between the last response
 *   and our `finish`), that generation is deleted, so a rejected `done` always means no new
 *   object.
 * `done` rejects only once that is done.
 */
import type { File } from '@google-cloud/storage';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { addAbortSignal, Writable } from 'node:stream';
import { SftpgoError } from '../../../errors/index.js';
import type { FsLogger, Upload } from '../../types.js';
import { meterUpload } from '../object-store.js';
import { gcsStatusOf, mapGcsError } from './errors.js';

/** how many idle agents a filesystem keeps for its next uploads */
const MAX_IDLE_AGENTS = 4;

/** the agent of one upload: node-fetch (under gaxios) takes one, or a function choosing one */
export interface UploadAgent {
  pick(url: URL): HttpAgent;
  destroy(): void;
}

function newAgent(): UploadAgent {
  let http: HttpAgent | undefined;
  let https: HttpsAgent | undefined;
  return {
    pick(url) {
      if (url.protocol === 'http:') return (http ??= new HttpAgent({ keepAlive: true }));
      return (https ??= new HttpsAgent({ keepAlive: true }));
    },
    destroy() {
      http?.destroy();
      https?.destroy();
    },
  };
}

/**
 * HTTP agents lent to one upload at a time. A finished upload gives its agent back with its
 * idle connections, so consecutive uploads reuse them; a failed one destroys it (and with it
 * the connections of that upload only).
 */
export class UploadAgents {
  private idle: UploadAgent[] = [];

  take(): UploadAgent {
    return this.idle.pop() ?? newAgent();
  }

  give(a: UploadAgent): void {
    if (this.idle.length < MAX_IDLE_AGENTS) this.idle.push(a);
    else a.destroy();
  }

  close(): void {
    for (const a of this.idle) a.destroy();
    this.idle = [];
  }
}

export interface GcsUploadInit {
  /** the object, with `agent` set on its requests (see GcsFs.openWrite) */
  file: File;
  /** the resumable session started for it */
  uri: string;
  agent: UploadAgent;
  agents: UploadAgents;
  /** client-visible path, for messages */
  display: string;
  /** deadline of the clean-up requests after a failure */
  cleanupTimeoutMs: number;
  signal?: AbortSignal;
  logger: FsLogger;
}

function abortedError(): SftpgoError {
  return new SftpgoError('ABORTED', 'upload aborted');
}

/**
 * Cancels a resumable session (DELETE of its URI; GCS answers 499). A session already gone or
 * finished is no error. Failures are logged: GCS expires an abandoned session after a week.
 */
export async function cancelSession(
  uri: string,
  display: string,
  timeoutMs: number,
  logger: FsLogger,
): Promise<void> {
  try {
    const res = await fetch(uri, {
      method: 'DELETE',
      headers: { 'content-length': '0' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    logger.warn(
      // mapped: SDK errors carry request headers (credentials) in enumerable fields
      { sender: 'vfs', file_path: display, err: mapGcsError(e, { op: 'cancel', display }) },
      'unable to cancel the resumable session of a failed GCS upload: it expires after a week',
    );
  }
}

export function startGcsUpload(init: GcsUploadInit): Upload {
  const { file, uri, agent, display } = init;
  const ctx = { op: 'upload', display };
  const sdk = file.createWriteStream({ uri, offset: 0, resumable: true, validation: 'crc32c' });
  // the generation GCS created, once a response says the object is complete
  let committed: string | undefined;
  sdk.on('response', (r: { status?: number; data?: { generation?: unknown } }) => {
    const status = r.status ?? 0;
    const gen = r.data?.generation;
    if (status >= 200 && status < 300 && (typeof gen === 'string' || typeof gen === 'number')) {
      committed = String(gen);
    }
  });
  const finished = new Promise<void>((resolve, reject) => {
    sdk.once('finish', resolve);
    sdk.once('error', reject);
  });
  // later errors of a stream already failed (or destroyed by us) need no handling
  sdk.on('error', () => undefined);

  /** open: still being written or completed by GCS; then exactly one of done / failed */
  let state: 'open' | 'done' | 'failed' = 'open';
  let failure: unknown;
  let aborted = false;
  let cleanup: Promise<void> = Promise.resolve();
  /** the first failure or abort: stops the SDK stream and undoes the upload, once */
  const fail = (e: unknown): Promise<void> => {
    if (state !== 'open') return cleanup;
    state = 'failed';
    failure = e;
    sdk.destroy(e instanceof Error ? e : abortedError());
    cleanup = (async () => {
      await cancelSession(uri, display, init.cleanupTimeoutMs, init.logger);
      agent.destroy();
      if (committed === undefined) return;
      try {
        await file.delete({ ifGenerationMatch: committed });
      } catch (err) {
        // already gone: the SDK removes an object whose checksum did not match, itself
        if (gcsStatusOf(err) === 404) return;
        init.logger.warn(
          { sender: 'vfs', file_path: display, err: mapGcsError(err, ctx) },
          'an upload aborted at its very end was completed by the storage backend and could not be removed',
        );
      }
    })();
    return cleanup;
  };
  const failureError = (): SftpgoError => {
    const e = failure;
    if (aborted && !SftpgoError.is(e) && (e as { name?: unknown } | null)?.name !== 'AbortError') {
      return new SftpgoError('ABORTED', `upload ${JSON.stringify(display)}: aborted`, { cause: e });
    }
    return mapGcsError(e, ctx);
  };

  // settles once the object is complete, or once a failed upload has been cleaned up
  const result: Promise<void> = finished.then(
    async () => {
      if (state === 'failed') {
        await cleanup;
        throw failureError();
      }
      state = 'done';
      init.agents.give(agent);
    },
    async (e: unknown) => {
      await fail(e);
      await cleanup;
      throw failureError();
    },
  );
  result.catch(() => undefined); // observed through `done`, `final` and `destroy`

  let bytes = 0;
  const done = result.then(() => ({ bytes }));
  done.catch(() => undefined); // callers may look at `stream` only

  const stream = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      sdk.write(chunk, (e) => cb(e ? mapGcsError(e, ctx) : null));
    },
    final(cb) {
      sdk.end();
      result.then(
        () => cb(),
        (e: unknown) => cb(e as Error),
      );
    },
    destroy(err, cb) {
      // after a completed upload (autoDestroy after 'finish') there is nothing to undo
      if (state !== 'open') {
        cb(err);
        return;
      }
      aborted = true;
      const settle = (): void => cb(err);
      fail(err ?? abortedError()).then(settle, settle);
    },
  });
  // a failed PUT ends the caller's writes with the error at once
  result.catch((e: unknown) => {
    if (!stream.destroyed) stream.destroy(e as Error);
  });
  if (init.signal) addAbortSignal(init.signal, stream);
  meterUpload('gcs', done, () => bytes);
  return { stream, done };
}
