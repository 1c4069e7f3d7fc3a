/**
 * The block uploader of the Azure backend (upstream AzureBlobFs.handleMultipartUpload at
 * v2.1.2, storage-2.1.2.md §5): the written bytes are cut into `partSize` blocks, each staged
 * (Put Block) with upstream's block ids (base64 of an 8-byte little-endian counter starting at 1,
 * "AQAAAAAAAAA="), at most `concurrency` in flight; the end commits the block list (Put Block
 * List) with the Content-Type and the access tier, which is what makes the blob exist or
 * replaces it. An empty upload commits an empty list (an empty blob). Memory stays near
 * (concurrency + 1) × part size: a write waits while all the slots are busy.
 *
 * A failure (a block, or the caller destroying the stream or firing its signal) cancels the
 * blocks in flight and commits nothing: an existing blob keeps its content, and the staged
 * blocks stay uncommitted until the service expires them (a week on Azure), as upstream.
 *
 * Written by hand: the SDK's uploadStream neither takes upstream's block ids nor lets a
 * destroyed stream cancel the commit (it commits whatever the source yielded before ending).
 */
import { Writable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import { SftpgoError } from '../../../errors/index.js';
import type { Upload } from '../../types.js';
import { meterUpload } from '../object-store.js';
import { mapAzError } from './errors.js';

export interface BlockUploadOptions {
  /** block size in bytes */
  partSize: number;
  /** blocks staged in parallel */
  concurrency: number;
  contentType?: string;
  /** access tier: Hot, Cool, Archive */
  tier?: string;
  /** the client-visible path, for error messages */
  display: string;
  signal?: AbortSignal;
}

const MIB = 1024 * 1024;

/** upstream's block id: the little-endian 8-byte counter `n`, base64 */
export function blockId(n: number): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b.toString('base64');
}

export function startBlockUpload(blob: BlockBlobClient, o: BlockUploadOptions): Upload {
  const ac = new AbortController();
  /** a block's deadline, as upstream: (part size in MiB) minutes */
  const blockTimeoutMs = Math.max(1, Math.ceil(o.partSize / MIB)) * 60_000;
  const ids: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let bytes = 0;
  let failure: unknown;
  let settled = false;
  let resolveDone!: (v: { bytes: number }) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<{ bytes: number }>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // callers may only look at `stream`; avoid an unhandled rejection for them
  done.catch(() => undefined);

  const fail = (e: unknown): void => {
    if (failure !== undefined) return;
    failure = e;
    ac.abort();
  };
  const failureError = (): SftpgoError => mapAzError(failure, { op: 'upload', display: o.display });

  const stage = (block: Buffer): void => {
    const id = blockId(ids.length + 1);
    ids.push(id);
    const timeout = AbortSignal.timeout(blockTimeoutMs);
    const p = blob
      .stageBlock(id, block, block.length, { abortSignal: AbortSignal.any([ac.signal, timeout]) })
      .then(
        () => undefined,
        (e: unknown) => {
          fail(
            timeout.aborted && !ac.signal.aborted
              ? mapAzError(e, { op: 'upload', display: o.display, timedOut: true })
              : e,
          );
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  /** cuts the pending bytes into full blocks (all of them with `flush`), waiting for a free slot */
  const drain = async (flush: boolean): Promise<void> => {
    while (pendingLen >= o.partSize || (flush && pendingLen > 0)) {
      while (inFlight.size >= o.concurrency && failure === undefined) await Promise.race(inFlight);
      if (failure !== undefined) return;
      const all =
        pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingLen);
      const size = Math.min(o.partSize, pendingLen);
      stage(all.subarray(0, size));
      const rest = all.subarray(size);
      pending = rest.length > 0 ? [rest] : [];
      pendingLen = rest.length;
    }
  };

  const stream = new Writable({
    highWaterMark: Math.min(o.partSize, 4 * MIB),
    write(chunk: Buffer, _enc, cb) {
      if (failure !== undefined) {
        cb(failureError());
        return;
      }
      pending.push(chunk);
      pendingLen += chunk.length;
      bytes += chunk.length;
      if (pendingLen < o.partSize) {
        cb();
        return;
      }
      drain(false).then(
        () => cb(failure === undefined ? undefined : failureError()),
        (e: unknown) => cb(e as Error),
      );
    },
    final(cb) {
      (async () => {
        await drain(true);
        await Promise.all(inFlight);
        if (failure !== undefined) throw failureError();
        const timeout = AbortSignal.timeout(blockTimeoutMs);
        try {
          await blob.commitBlockList(ids, {
            abortSignal: AbortSignal.any([ac.signal, timeout]),
            ...(o.contentType !== undefined
              ? { blobHTTPHeaders: { blobContentType: o.contentType } }
              : {}),
            ...(o.tier !== undefined ? { tier: o.tier } : {}),
          });
        } catch (e) {
          throw mapAzError(e, {
            op: 'upload',
            display: o.display,
            timedOut: timeout.aborted && !ac.signal.aborted,
          });
        }
      })().then(
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
      // a failed block or commit explains itself; otherwise the caller ended the upload
      const why =
        failure !== undefined
          ? failureError()
          : SftpgoError.is(err)
            ? err
            : new SftpgoError('ABORTED', `upload ${JSON.stringify(o.display)}: aborted`, {
                cause: err ?? undefined,
              });
      fail(why);
      // the blocks in flight see the abort at once; wait for them so nothing runs after `done`
      void Promise.allSettled(inFlight).then(() => {
        rejectDone(why);
        cb(err);
      });
    },
  });
  meterUpload('az', done, () => bytes);
  return { stream, done };
}
