/**
 * multipart/form-data bodies of the web UIs (backup restore, file uploads), parsed as they
 * stream in with busboy: files are handed to `onFile` one at a time as readable streams and
 * never buffered whole here. Fields that come before the first file are verified (CSRF) by
 * `verify` before any file is processed, so the forms put their hidden token first.
 */
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { HttpError } from '../errors.js';
import type { WebCtx } from './kit.js';

export interface MultipartFile {
  /** the form field name */
  field: string;
  /** the file name the browser sent (untrusted: a base name is taken by the caller) */
  filename: string;
  mimeType: string;
}

export interface MultipartOptions {
  /** per file; a larger file makes the request fail with 413 */
  maxFileBytes?: number;
  maxFiles?: number;
  /** total size of the non-file fields */
  maxFieldBytes?: number;
  /** called with the fields seen so far, before the first file and at the end; throws to refuse */
  verify(fields: URLSearchParams): void;
  /**
   * consumes the stream fully (or destroys it); a rejection fails the request. The stream errors
   * when the file exceeds maxFileBytes or the request is cut: never commit what it gave then.
   */
  onFile(file: MultipartFile, stream: Readable, fields: URLSearchParams): Promise<void>;
}

const bad = (message: string, status = 400): HttpError =>
  new HttpError(status, message, { detail: message });

export async function readMultipart(ctx: WebCtx, o: MultipartOptions): Promise<URLSearchParams> {
  if (!ctx.is('multipart/form-data')) throw bad('expected a multipart/form-data form');
  const fields = new URLSearchParams();
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: ctx.req.headers,
      limits: {
        fileSize: o.maxFileBytes ?? Number.MAX_SAFE_INTEGER,
        files: o.maxFiles ?? 100,
        fieldSize: o.maxFieldBytes ?? 256 * 1024,
        fields: 1000,
        parts: 2000,
      },
    });
  } catch (e) {
    throw bad(`malformed multipart form: ${(e as Error).message}`);
  }
  let verified = false;
  let failure: unknown;
  // files one after another: busboy pauses the request while a file stream is not read
  let chain: Promise<void> = Promise.resolve();
  const fail = (e: unknown): void => {
    failure ??= e;
  };
  bb.on('field', (name, value, info) => {
    if (info.valueTruncated) fail(bad(`form field ${JSON.stringify(name)} is too large`, 413));
    else fields.append(name, value);
  });
  bb.on('file', (field, stream, info) => {
    if (failure === undefined && !verified) {
      try {
        o.verify(fields);
        verified = true;
      } catch (e) {
        fail(e);
      }
    }
    if (failure !== undefined) {
      stream.resume();
      return;
    }
    // a file over the limit fails its stream, so whatever onFile writes it into is aborted
    // (an upload must never be committed cut short)
    stream.on('limit', () => {
      const e = bad(`the file ${JSON.stringify(info.filename)} is larger than allowed`, 413);
      fail(e);
      stream.destroy(e);
    });
    chain = chain.then(async () => {
      if (failure !== undefined) {
        stream.resume();
        return;
      }
      try {
        await o.onFile(
          { field, filename: info.filename ?? '', mimeType: info.mimeType },
          stream,
          fields,
        );
      } catch (e) {
        fail(e);
        stream.resume();
      }
    });
  });
  bb.on('filesLimit', () => fail(bad('too many files in one request', 413)));
  bb.on('fieldsLimit', () => fail(bad('too many form fields', 413)));
  await new Promise<void>((resolve) => {
    bb.once('close', resolve);
    bb.once('error', (e) => {
      fail(bad(`malformed multipart form: ${(e as Error).message}`));
      ctx.req.unpipe(bb);
      ctx.req.resume();
      resolve();
    });
    ctx.req.once('aborted', () => {
      const e = bad('the upload was interrupted');
      fail(e);
      // the file being read errors too (busboy destroys it), so its onFile settles and
      // whatever it was writing is aborted, not left waiting for data that will never come
      bb.destroy(e);
      resolve();
    });
    ctx.req.pipe(bb);
  });
  await chain;
  if (failure !== undefined) throw failure;
  if (!verified) o.verify(fields);
  return fields;
}
