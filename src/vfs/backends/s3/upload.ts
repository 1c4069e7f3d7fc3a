/**
 * A streamed S3 upload (upstream S3Fs.Create: s3manager.Uploader behind a pipe): the caller
 * writes into `stream`; @aws-sdk/lib-storage's Upload turns the bytes into one PutObject (less
 * than one part) or a multipart upload of `partSize` parts, `queueSize` at a time, buffered in
 * memory (about (queueSize + 1) × partSize per upload). Nothing is visible under the key until
 * the upload completes, so a failed or aborted upload leaves the previous object (if any) as it
 * was.
 *
 * Cleanup is ours, not lib-storage's (`leavePartsOnError: true`): lib-storage aborts a
 * multipart upload only after every part in flight has finished, keeps reading the body after
 * one part failed, and would send the abort with the request options of the failed upload. Here:
 * - the first failure (a part, the caller's `stream.destroy(err)`, the caller's AbortSignal)
 *   cancels the parts in flight and ends the body, so lib-storage stops at once;
 * - CreateMultipartUpload and CompleteMultipartUpload are never cancelled midway (a cancelled
 *   create could leave an upload whose id we never learn);
 * - the multipart upload is then aborted with a fresh deadline, and `done` rejects only after
 *   that, so when it rejects no object and no multipart upload is left (a failed abort is
 *   logged with the key and upload id: a bucket lifecycle rule removes such leftovers).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload as ManagedUpload } from '@aws-sdk/lib-storage';
import { once } from 'node:events';
import { addAbortSignal, PassThrough, Writable } from 'node:stream';
import { SftpgoError } from '../../../errors/index.js';
import type { FsLogger, Upload } from '../../types.js';
import { meterUpload } from '../object-store.js';
import { mapS3Error } from './errors.js';

export interface S3UploadInit {
  client: S3Client;
  bucket: string;
  key: string;
  /** client-visible path, for messages */
  display: string;
  partSize: number;
  queueSize: number;
  contentType?: string;
  storageClass?: string;
  /** deadline of the abort of a failed multipart upload */
  abortTimeoutMs: number;
  signal?: AbortSignal;
  logger: FsLogger;
}

/**
 * Commands that must run to their end once sent (see the module comment), by class name: the
 * SDK copy lib-storage loads is not always ours (CJS and ESM builds), so instanceof could miss.
 */
const NEVER_CANCELLED = new Set([
  CreateMultipartUploadCommand.name,
  CompleteMultipartUploadCommand.name,
]);

function abortedError(): SftpgoError {
  return new SftpgoError('ABORTED', 'upload aborted');
}

export function startS3Upload(init: S3UploadInit): Upload {
  const { client, bucket, key, display } = init;
  const ctx = { op: 'upload', display };
  const body = new PassThrough({ highWaterMark: 256 * 1024 });
  // destroying the body is how a failure stops lib-storage's reads; its error is reported
  // through `done`, and a body no longer read by anyone must not crash the process with it
  body.on('error', () => undefined);
  const parts = new AbortController();
  let failure: unknown;
  const fail = (e: unknown): void => {
    if (failure !== undefined) return;
    failure = e;
    parts.abort();
    body.destroy(e instanceof Error ? e : abortedError());
  };
  // lib-storage sends every request through `client.send`; this view adds the cancellation of
  // part uploads and notices the first failing request
  const sender = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (command: object, options?: object) => {
        const cancellable = !NEVER_CANCELLED.has(command.constructor.name);
        const opts = cancellable ? { ...options, abortSignal: parts.signal } : options;
        return (target.send as (c: object, o?: object) => Promise<unknown>)(command, opts).catch(
          (e: unknown) => {
            fail(e);
            throw e;
          },
        );
      };
    },
  });
  const managed = new ManagedUpload({
    client: sender,
    params: {
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(init.contentType ? { ContentType: init.contentType } : {}),
      ...(init.storageClass ? { StorageClass: init.storageClass as StorageClass } : {}),
    },
    partSize: init.partSize,
    queueSize: init.queueSize,
    leavePartsOnError: true,
  });

  const abortMultipart = async (): Promise<void> => {
    const uploadId = managed.uploadId;
    if (uploadId === undefined) return;
    try {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
        { abortSignal: AbortSignal.timeout(init.abortTimeoutMs) },
      );
    } catch (e) {
      init.logger.warn(
        { sender: 'vfs', file_path: display, key, upload_id: uploadId, err: e },
        'unable to abort a failed multipart upload: its parts stay stored until a bucket lifecycle rule removes them',
      );
    }
  };

  // settles once the object is complete, or once a failed upload has been cleaned up
  const result: Promise<void> = managed.done().then(
    () => undefined,
    async (e: unknown) => {
      await abortMultipart();
      throw failure ?? e;
    },
  );
  result.catch(() => undefined); // observed through `done`, `final` and `destroy`

  let bytes = 0;
  let destroyed = false;
  /** the caller (destroy, signal) ended the upload before anything failed */
  let callerAborted = false;
  const done: Promise<{ bytes: number }> = result.then(
    () => {
      if (destroyed) {
        // aborted after the last byte was handed over: S3 completed it, the object is in place
        init.logger.warn(
          { sender: 'vfs', file_path: display, key },
          'an upload aborted at its very end was completed by the storage backend',
        );
        throw abortedError();
      }
      return { bytes };
    },
    (e: unknown) => {
      if (callerAborted && !SftpgoError.is(e)) {
        throw new SftpgoError('ABORTED', `upload ${JSON.stringify(display)}: aborted`, {
          cause: e,
        });
      }
      throw mapS3Error(e, ctx);
    },
  );
  done.catch(() => undefined); // callers may look at `stream` only

  const stream = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (body.write(chunk)) cb();
      else once(body, 'drain').then(() => cb(), cb);
    },
    final(cb) {
      body.end();
      result.then(
        () => cb(),
        (e: unknown) => cb(mapS3Error(e, ctx)),
      );
    },
    destroy(err, cb) {
      destroyed = true;
      if (failure === undefined) callerAborted = true;
      fail(err ?? abortedError());
      result.then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
  // a failed part ends the caller's writes with the error at once
  result.catch((e: unknown) => {
    if (!stream.destroyed) stream.destroy(mapS3Error(e, ctx));
  });
  if (init.signal) addAbortSignal(init.signal, stream);
  meterUpload('s3', done, () => bytes);
  return { stream, done };
}
