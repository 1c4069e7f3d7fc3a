/**
 * A GCS download (upstream GCSFs.Open: `NewRangeReader(offset, -1)`, opened synchronously): one
 * GET of the object's media from `offset`, with the SDK's credentials, returned once the
 * response has started, so a missing object fails here (NOT_FOUND), not on the first read.
 *
 * Written with fetch rather than the SDK's `File.createReadStream`, which cannot be cancelled
 * safely in @google-cloud/storage 7.22.0: when a read stream is destroyed before its end (a
 * client closing a file early, or seeking, which reopens the download at another offset) the
 * SDK calls `destroy()` on the keep-alive agent that teeny-request shares across the whole
 * process, cutting every other GCS request in flight (a concurrent download of another user then
 * ends early, truncated or hung); with that pool disabled, destroying the stream leaves the HTTP
 * response open instead. Here destroying the stream (or the caller's AbortSignal) cancels the
 * request and nothing else.
 *
 * A whole-object read is checked against the object's CRC32C (`x-goog-hash`), as the SDK does;
 * ranged reads cannot be.
 */
import { CRC32C } from '@google-cloud/storage';
import { addAbortSignal, pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { SftpgoError } from '../../../errors/index.js';
import { metrics } from '../../../util/metrics.js';
import { mapGcsError } from './errors.js';

export interface GcsReadInit {
  /** the object's media URL (`.../b/<bucket>/o/<name>`), without the query */
  url: string;
  /** the request headers carrying the credentials (none for an emulator) */
  authHeaders: () => Promise<Record<string, string>>;
  offset: number;
  /** client-visible path, for messages */
  display: string;
  /** deadline for the response to start; the body then streams as long as it takes */
  startTimeoutMs: number;
  signal?: AbortSignal;
}

const READ_HIGH_WATER_MARK = 256 * 1024;

/** the crc32c of an `x-goog-hash` header (`crc32c=...,md5=...`) */
function crc32cOf(header: string | null): string | undefined {
  for (const pair of (header ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === 'crc32c') return pair.slice(at + 1).trim();
  }
  return undefined;
}

export async function openGcsRead(init: GcsReadInit): Promise<Readable> {
  const { offset, display } = init;
  const ctx = { op: 'open', display };
  const request = new AbortController();
  const timer = setTimeout(() => request.abort(), init.startTimeoutMs);
  const onAbort = (): void => request.abort();
  init.signal?.addEventListener('abort', onAbort, { once: true });
  let res: Response;
  try {
    init.signal?.throwIfAborted();
    const auth = await init.authHeaders();
    res = await fetch(`${init.url}?alt=media`, {
      headers: { ...auth, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
      signal: request.signal,
    });
  } catch (e) {
    if (init.signal?.aborted) {
      throw new SftpgoError('ABORTED', `open ${JSON.stringify(display)}: operation aborted`, {
        cause: e,
      });
    }
    throw mapGcsError(e, { ...ctx, timedOut: request.signal.aborted });
  } finally {
    clearTimeout(timer);
    init.signal?.removeEventListener('abort', onAbort);
  }
  const discard = (): void => {
    res.body?.cancel().catch(() => undefined); // nothing to read: the connection is released
  };
  // at or past the end of the object
  if (res.status === 416) {
    discard();
    return Readable.from([]);
  }
  if (!res.ok) {
    discard();
    throw mapGcsError({ status: res.status }, ctx);
  }
  const stored = res.headers.get('x-goog-stored-content-encoding') ?? 'identity';
  if (offset > 0 && stored === 'gzip') {
    discard();
    throw new SftpgoError(
      'OP_UNSUPPORTED',
      `open ${JSON.stringify(display)}: range request is not possible for gzip content encoding, requested offset ${offset}`,
    );
  }
  // a 200 to a ranged request (an empty object): the bytes before `offset` are skipped here
  let skip = offset > 0 && res.status === 200 ? offset : 0;
  const expected =
    offset === 0 && stored === 'identity' && res.headers.get('content-encoding') !== 'gzip'
      ? crc32cOf(res.headers.get('x-goog-hash'))
      : undefined;
  const crc = expected === undefined ? undefined : new CRC32C();
  let bytes = 0;
  // read errors reach the caller mapped (the transform's destroy hook picks the error emitted);
  // destroying `out` cancels the request through the pipeline
  const out = new Transform({
    readableHighWaterMark: READ_HIGH_WATER_MARK,
    transform(chunk: Buffer, _enc, cb) {
      crc?.update(chunk);
      if (skip >= chunk.length) {
        skip -= chunk.length;
        cb();
        return;
      }
      const data = skip > 0 ? chunk.subarray(skip) : chunk;
      skip = 0;
      bytes += data.length;
      cb(null, data);
    },
    flush(cb) {
      if (crc && crc.toString() !== expected) {
        cb(
          new SftpgoError(
            'INTERNAL',
            `read ${JSON.stringify(display)}: the data received does not match the object's checksum`,
          ),
        );
        return;
      }
      cb();
    },
    destroy(err, cb) {
      cb(err ? mapGcsError(err, { op: 'read', display }) : null);
    },
  });
  const body = res.body
    ? Readable.fromWeb(res.body as ReadableStream<Uint8Array>, {
        highWaterMark: READ_HIGH_WATER_MARK,
      })
    : Readable.from([]);
  pipeline(body, out, (err) => {
    // failures reach the reader through `out`; for the metrics, a download ended early by the
    // reader is an error, as upstream counts a cancelled one
    metrics.cloudTransferCompleted('gcs', 'download', bytes, !err);
  });
  if (init.signal) addAbortSignal(init.signal, out);
  return out;
}
