/**
 * A real S3 emulator for tests: s3rver 3.7.1, in-process, on an ephemeral 127.0.0.1 port with
 * its own temp directory. Credentials: access key "S3RVER" (s3rver refuses any other key with
 * InvalidAccessKeyId; it does not verify SigV4 signatures, so the secret is not checked).
 *
 * s3rver 3.7.1 lacks two multipart operations that S3 has and the backend relies on for
 * cleanup; this helper adds them in front of s3rver's own routes, over s3rver's own store of
 * pending uploads (`<dir>/<bucket>/._S3rver_uploads/<uploadId>/`):
 * - AbortMultipartUpload (`DELETE /bucket/key?uploadId=…`; s3rver answers 405);
 * - ListMultipartUploads (`GET /bucket?uploads`; s3rver answers NotImplemented).
 * It also records every request (method, path, query, Range) for tests that count them, and
 * can hold chosen requests for a while (`delay`) for tests that abort in the middle.
 *
 * And two fixes:
 * - s3rver reads `x-amz-copy-source` with decodeURI, which leaves %2B, %23, %3F, %26, %3D ...
 *   encoded, so CopyObject of a key with `+ # ? & =` finds no source (S3 decodes them all, and
 *   clients must encode them: `?` would start a versionId). The header is re-encoded with
 *   encodeURI, which decodeURI undoes exactly.
 * - s3rver encrypts its ListObjectsV2 continuation tokens with single DES
 * (`createCipheriv('des', …)`), which OpenSSL 3 (Node ≥ 17) keeps in its legacy provider, so any
 * listing longer than one page (1000 keys) fails with 500 InternalError. The helper makes that
 * one algorithm name mean 3DES with the 8-byte key repeated three times, which is the same
 * cipher (K1 = K2 = K3 reduces EDE to single DES): the tokens are byte for byte those s3rver
 * makes where DES is available. Nothing else (and nothing in src/) uses DES.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { ApiFilesystemConfig } from '../../src/api/index.js';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const S3RVER_KEY = 'S3RVER';
export const S3RVER_SECRET = 'S3RVER';

/** the subset of a koa context the added routes use */
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
  get(header: string): string;
  headers: Record<string, string | string[] | undefined>;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3rverInstance {
  middleware: Middleware[];
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (o: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  /** the Range header ("" when absent) */
  range: string;
  /** settles once s3rver has handled the request (even when the client went away meanwhile) */
  handled: Promise<void>;
}

export interface S3Emulator {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** s3rver's data directory */
  dir: string;
  /** every request received, in order (cleared by clearRequests) */
  requests: RecordedRequest[];
  /** requests matching `match` wait `ms` before s3rver handles them (undefined: none) */
  delay: { match(r: RecordedRequest): boolean; ms: number } | undefined;
  clearRequests(): void;
  /** an SDK client on the emulator, for setting up and checking objects behind the backend */
  client: S3Client;
  /** the pending multipart uploads of a bucket, read from s3rver's store */
  pendingUploads(bucket: string): Promise<{ key: string; uploadId: string }[]>;
  stop(): Promise<void>;
}

const UPLOADS_DIR = '._S3rver_uploads';

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function pendingUploads(
  dir: string,
  bucket: string,
): Promise<{ key: string; uploadId: string }[]> {
  const root = join(dir, bucket, UPLOADS_DIR);
  let ids: string[];
  try {
    ids = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: { key: string; uploadId: string }[] = [];
  for (const uploadId of ids) {
    out.push({ key: await readFile(join(root, uploadId, 'key'), 'utf8'), uploadId });
  }
  return out;
}

type Cipheriv = (algorithm: string, key: Buffer, iv: Buffer | null) => unknown;
const DES_PATCHED = Symbol.for('sftpgo-test.s3rver-des');

/** single DES through 3DES with K1 = K2 = K3 (see the module comment); once per process */
function enableSingleDes(require: NodeJS.Require): void {
  const crypto = require('node:crypto') as Record<string | symbol, unknown>;
  if (crypto[DES_PATCHED] === true) return;
  for (const name of ['createCipheriv', 'createDecipheriv']) {
    const original = crypto[name] as Cipheriv;
    crypto[name] = (algorithm: string, key: Buffer, iv: Buffer | null): unknown =>
      algorithm === 'des' && key.length === 8
        ? original('des-ede3-cbc', Buffer.concat([key, key, key]), iv)
        : original(algorithm, key, iv);
  }
  crypto[DES_PATCHED] = true;
}

/** CopyObject's source header as s3rver's decodeURI needs it (see the module comment) */
const copySourceFix: Middleware = (ctx, next) => {
  const source = ctx.headers['x-amz-copy-source'];
  if (typeof source === 'string')
    ctx.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
  return next();
};

/** the two multipart operations s3rver 3.7.1 lacks (see the module comment) */
function multipartRoutes(dir: string): Middleware {
  return async (ctx, next) => {
    // path-style: /bucket, /bucket/ (bucket operations) or /bucket/key
    const m = /^\/([^/]+)(\/.*)?$/.exec(ctx.path);
    const bucket = m?.[1];
    if (bucket === undefined) return next();
    const onBucket = (m?.[2] ?? '/') === '/';
    if (ctx.method === 'GET' && onBucket && 'uploads' in ctx.query) {
      const uploads = await pendingUploads(dir, bucket);
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEscape(bucket)}</Bucket><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
        uploads
          .map(
            (u) =>
              `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.uploadId}</UploadId></Upload>`,
          )
          .join('') +
        '</ListMultipartUploadsResult>';
      return;
    }
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && !onBucket && typeof uploadId === 'string') {
      const path = join(dir, bucket, UPLOADS_DIR, uploadId.replace(/[^0-9a-f]/g, ''));
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (!exists) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
          '<Message>The specified upload does not exist.</Message></Error>';
        return;
      }
      await rm(path, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next();
  };
}

export async function startS3rver(o: { buckets?: string[] } = {}): Promise<S3Emulator> {
  const require = createRequire(import.meta.url);
  enableSingleDes(require);
  const S3rver = require('s3rver') as S3rverClass;
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-s3rver-'));
  const srv = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: (o.buckets ?? []).map((name) => ({ name })),
  });
  const requests: RecordedRequest[] = [];
  const emulator: Pick<S3Emulator, 'delay'> = { delay: undefined };
  const record: Middleware = async (ctx, next) => {
    let settle = (): void => undefined;
    const r: RecordedRequest = {
      method: ctx.method,
      path: ctx.path,
      query: { ...ctx.query },
      range: ctx.get('range'),
      handled: new Promise<void>((resolve) => (settle = resolve)),
    };
    requests.push(r);
    try {
      const delay = emulator.delay;
      if (delay?.match(r)) await new Promise((resolve) => setTimeout(resolve, delay.ms));
      await next();
    } finally {
      settle();
    }
  };
  // koa composes its middleware when the server starts listening: these run first
  srv.middleware.unshift(record, copySourceFix, multipartRoutes(dir));
  let addr: { port: number };
  try {
    addr = await srv.run();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const rest: Omit<S3Emulator, 'delay'> = {
    endpoint,
    dir,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    client,
    pendingUploads: (bucket) => pendingUploads(dir, bucket),
    async stop() {
      client.destroy();
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return Object.assign(emulator, rest);
}

type S3ConfigFields = NonNullable<ApiFilesystemConfig['s3config']>;

/**
 * A provider 1 filesystem config on the emulator: region us-east-1, access key S3RVER and
 * the secret sent Plain (any secret works with s3rver); `extra` adds or overrides fields.
 */
export function s3FsConfig(
  s3: S3Emulator,
  bucket: string,
  extra: Partial<S3ConfigFields> = {},
): ApiFilesystemConfig {
  return {
    provider: 1,
    s3config: {
      bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      access_key: S3RVER_KEY,
      access_secret: { status: 'Plain', payload: S3RVER_SECRET },
      ...extra,
    },
  };
}
