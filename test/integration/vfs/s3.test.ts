/**
 * The S3 backend (provider 1) against a real emulator (s3rver, test/helpers/s3rver.ts): the
 * object-store quirks of storage-2.1.2.md §9, error mapping, multipart uploads and their abort,
 * ranged reads, paged listings, key_prefix isolation, and the core's handling of emulated
 * directories through a Connection.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection, createUserFs, silentLogger } from '../../../src/common/index.js';
import { SftpgoError } from '../../../src/errors/index.js';
import { S3Fs, create, type S3FsOptions } from '../../../src/vfs/backends/s3/index.js';
import { createFs, type Fs, type Upload } from '../../../src/vfs/index.js';
import { freePort } from '../../helpers/server.js';
import {
  s3FsConfig,
  S3RVER_KEY,
  S3RVER_SECRET,
  startS3rver,
  type RecordedRequest,
  type S3Emulator,
} from '../../helpers/s3rver.js';
import { code, FakeQuotaStore, names } from '../common/helpers.js';

const BUCKET = 'sftpgo-test';
const MIB = 1024 * 1024;

let s3: S3Emulator;
let seq = 0;
/** a key prefix of its own for each test: tests share one bucket */
let prefix: string;
const opened: Fs[] = [];

before(async () => {
  s3 = await startS3rver({ buckets: [BUCKET, 'other-bucket'] });
});
after(async () => {
  await Promise.all(opened.map((f) => f.close()));
  await s3.stop();
});
beforeEach(() => {
  prefix = `t${++seq}/`;
});

function options(extra: Partial<S3FsOptions> = {}): S3FsOptions {
  return {
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    keyPrefix: prefix,
    ...extra,
  };
}

function newFs(extra: Partial<S3FsOptions> = {}): S3Fs {
  const fs = new S3Fs(options(extra));
  opened.push(fs);
  return fs;
}

async function put(key: string, body: string | Buffer, contentType?: string): Promise<void> {
  await s3.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: body,
      ContentLength: Buffer.byteLength(body),
      ...(contentType ? { ContentType: contentType } : {}),
    }),
  );
}

async function objectText(key: string): Promise<string> {
  const r = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return r.Body ? r.Body.transformToString() : '';
}

async function objectExists(key: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw e;
  }
}

async function write(fs: Fs, p: string, data: Buffer | string): Promise<Upload> {
  const up = await fs.openWrite(p);
  up.stream.end(data);
  return up;
}

async function upload(fs: Fs, p: string, data: Buffer | string): Promise<void> {
  const up = await write(fs, p, data);
  await up.done;
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function readAll(fs: Fs, p: string, offset?: number): Promise<Buffer> {
  const r = await fs.openRead(p, offset === undefined ? {} : { offset });
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** writes `data` into an upload honouring backpressure, without ending it */
async function feed(up: Upload, data: Buffer, chunk = 256 * 1024): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) {
    if (!up.stream.write(data.subarray(i, i + chunk))) await once(up.stream, 'drain');
  }
}

void describe('S3 backend: directories and quirks (storage-2.1.2.md §9)', () => {
  void it('mkdir writes a marker object and succeeds on an existing file or directory (quirk 1)', async () => {
    const fs = newFs();
    await fs.mkdir('/d');
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}d/` }),
    );
    assert.equal(head.ContentType, 'application/x-directory');
    assert.equal(head.ContentLength, 0);
    const st = await fs.stat('/d');
    assert.equal(st.isDirectory, true);
    assert.equal(st.mode & 0o777, 0o755);

    await upload(fs, '/f.txt', 'x');
    s3.clearRequests();
    await fs.mkdir('/d');
    await fs.mkdir('/f.txt');
    assert.equal(
      s3.requests.filter((r) => r.method === 'PUT').length,
      0,
      'nothing is written for an existing path',
    );
    assert.equal((await fs.stat('/f.txt')).isFile, true);
  });

  void it('lists a missing directory as empty and removes it without error (quirk 3)', async () => {
    const fs = newFs();
    assert.deepEqual(await names(fs.list('/nope')), []);
    await fs.remove('/nope', { dir: true });
    await assert.rejects(fs.stat('/nope'), code('NOT_FOUND', /stat "\/nope": no such file/));
  });

  void it('sees directories made of key prefixes only, with mtime now and size 0 (quirk 4)', async () => {
    const fs = newFs();
    await put(`${prefix}a/b/c.txt`, 'abc');
    // s3rver lists a common prefix only for a key one level below it (real S3 for any depth)
    await put(`${prefix}a/x.txt`, 'x');
    await put(`${prefix}top.bin`, '12345');
    const before = Date.now() - 1000;
    assert.equal((await fs.stat('/a/b')).isDirectory, true);
    const st = await fs.stat('/a');
    assert.equal(st.isDirectory, true);
    assert.equal(st.size, 0);
    assert.ok(st.mtime.getTime() >= before, 'an implicit directory reports the current time');
    const root: Record<string, { dir: boolean; size: number }> = {};
    for await (const e of fs.list('/')) root[e.name] = { dir: e.isDirectory, size: e.size };
    assert.deepEqual(root, { a: { dir: true, size: 0 }, 'top.bin': { dir: false, size: 5 } });
    assert.deepEqual(await names(fs.list('/a')), ['b', 'x.txt']);
    assert.deepEqual(await names(fs.list('/a/b')), ['c.txt']);
    const f = await fs.stat('/a/b/c.txt');
    assert.equal(f.isFile, true);
    assert.equal(f.size, 3);
    assert.equal(f.mode & 0o777, 0o644);
  });

  void it('refuses to rename or remove a non-empty directory, as upstream (quirk 2)', async () => {
    const fs = newFs({ displayPrefix: '/vdir' });
    await put(`${prefix}full/x`, 'x');
    await assert.rejects(
      fs.rename('/full', '/moved'),
      code('NOT_EMPTY', /^cannot rename non empty directory: "\/vdir\/full"$/),
    );
    await assert.rejects(
      fs.remove('/full', { dir: true }),
      code('NOT_EMPTY', /^cannot remove non empty directory: "\/vdir\/full"$/),
    );
    assert.equal(await objectText(`${prefix}full/x`), 'x');
  });

  void it('renames files (copy + delete, content type kept) and empty directories', async () => {
    const fs = newFs();
    await upload(fs, '/a b é.json', '{"k":1}');
    await fs.rename('/a b é.json', '/renamed é.json');
    assert.equal(await objectExists(`${prefix}a b é.json`), false);
    assert.equal(await objectText(`${prefix}renamed é.json`), '{"k":1}');
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}renamed é.json` }),
    );
    assert.equal(head.ContentType, 'application/json');

    await upload(fs, '/other', 'old');
    await fs.rename('/renamed é.json', '/other');
    assert.equal(await objectText(`${prefix}other`), '{"k":1}', 'an existing target is replaced');

    await fs.mkdir('/empty');
    await fs.rename('/empty', '/empty2');
    assert.equal(await objectExists(`${prefix}empty/`), false);
    assert.equal(await objectExists(`${prefix}empty2/`), true);
    assert.equal((await fs.stat('/empty2')).isDirectory, true);
    await assert.rejects(fs.rename('/missing', '/x'), code('NOT_FOUND'));
  });

  void it('refuses to rename an object over 5 GiB before sending anything (quirk 8)', async () => {
    class Huge extends S3Fs {
      override stat(p: string): ReturnType<S3Fs['stat']> {
        return super.stat(p).then((i) => ({ ...i, size: 5 * 1024 * MIB + 1 }));
      }
    }
    const fs = new Huge(options());
    opened.push(fs);
    await upload(fs, '/big', 'x');
    s3.clearRequests();
    await assert.rejects(fs.rename('/big', '/big2'), code('OP_UNSUPPORTED', /larger than 5 GiB/));
    assert.equal(s3.requests.filter((r) => r.method === 'PUT').length, 0);
  });

  void it('removes files and empty directory markers', async () => {
    const fs = newFs();
    await upload(fs, '/f', 'x');
    await fs.mkdir('/d');
    await fs.remove('/f');
    await fs.remove('/d', { dir: true });
    assert.equal(await objectExists(`${prefix}f`), false);
    assert.equal(await objectExists(`${prefix}d/`), false);
    await assert.rejects(fs.remove('/'), code('PERMISSION_DENIED'));
  });

  void it('declares the capabilities of an object store and has no optional methods', () => {
    const fs = newFs();
    assert.deepEqual(fs.capabilities, {
      resume: false,
      atomicUpload: false,
      randomAccess: false,
      symlinks: false,
      chmod: false,
      chown: false,
      chtimes: false,
      truncate: false,
      statvfs: false,
      rename: false,
      emulatedDirs: true,
    });
    const optional = fs as Partial<Fs>;
    assert.equal(optional.openFile, undefined);
    assert.equal(optional.symlink, undefined);
    assert.equal(optional.setStat, undefined);
    assert.equal(optional.statVfs, undefined);
  });
});

void describe('S3 backend: reads', () => {
  void it('fails a read of a missing object at open, not on the first read (unlike upstream quirk 5)', async () => {
    const fs = newFs();
    await assert.rejects(fs.openRead('/missing'), code('NOT_FOUND', /open "\/missing"/));
    await assert.rejects(fs.openRead('/'), code('INVALID_INPUT'));
  });

  void it('reads from an offset with a ranged GET; at or past the end the stream is empty', async () => {
    const fs = newFs();
    await upload(fs, '/r.txt', 'hello world');
    s3.clearRequests();
    assert.equal((await readAll(fs, '/r.txt', 6)).toString(), 'world');
    assert.equal((await readAll(fs, '/r.txt')).toString(), 'hello world');
    assert.equal((await readAll(fs, '/r.txt', 11)).length, 0);
    assert.equal((await readAll(fs, '/r.txt', 100)).length, 0);
    assert.deepEqual(
      s3.requests.filter((r) => r.method === 'GET').map((r) => r.range),
      ['bytes=6-', '', 'bytes=11-', 'bytes=100-'],
    );
  });

  void it('stops the request when the reader destroys the stream', async () => {
    const fs = newFs();
    const data = randomBytes(3 * MIB);
    await upload(fs, '/big.bin', data);
    const r = await fs.openRead('/big.bin');
    const first = (await r[Symbol.asyncIterator]().next()).value as Buffer;
    assert.ok(first.length > 0);
    r.destroy();
    await once(r, 'close');
    // the backend still serves the next reader
    assert.equal(sha(await readAll(fs, '/big.bin', MIB)), sha(data.subarray(MIB)));
  });
});

void describe('S3 backend: uploads', () => {
  void it('uploads ~20 MiB as a multipart upload of 5 MiB parts, byte-exact', async () => {
    const fs = (await create(
      s3FsConfig(s3, BUCKET, { key_prefix: prefix, upload_part_size: 5, upload_concurrency: 3 }),
      { root: '/unused', decryptSecret: (s) => Promise.resolve(s.payload ?? '') },
    )) as S3Fs;
    opened.push(fs);
    const data = randomBytes(20 * MIB + 123);
    s3.clearRequests();
    const up = await fs.openWrite('/big.bin');
    await feed(up, data);
    up.stream.end();
    assert.deepEqual(await up.done, { bytes: data.length });
    const parts = s3.requests
      .filter((r) => r.method === 'PUT' && typeof r.query.partNumber === 'string')
      .map((r) => Number(r.query.partNumber))
      .sort((a, b) => a - b);
    assert.deepEqual(parts, [1, 2, 3, 4, 5], '4 full parts of 5 MiB and the rest');
    assert.equal((await fs.stat('/big.bin')).size, data.length);
    assert.equal(sha(await readAll(fs, '/big.bin')), sha(data));
    assert.equal(sha(await readAll(fs, '/big.bin', 7 * MIB + 5)), sha(data.subarray(7 * MIB + 5)));
    assert.deepEqual(await s3.pendingUploads(BUCKET), []);
  });

  void it('uploads small and empty files in one request, with the content type of the extension', async () => {
    const fs = newFs({ storageClass: 'STANDARD' });
    await upload(fs, '/e.json', '');
    await upload(fs, '/s.txt', 'small');
    assert.equal((await fs.stat('/e.json')).size, 0);
    assert.equal(await objectText(`${prefix}s.txt`), 'small');
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}e.json` }),
    );
    assert.equal(head.ContentType, 'application/json');
    await assert.rejects(fs.openWrite('/s.txt', { offset: 2 }), code('OP_UNSUPPORTED'));
    await assert.rejects(fs.openWrite('/'), code('INVALID_INPUT'));
  });

  void it('an aborted multipart upload leaves no object and no multipart upload', async () => {
    const fs = newFs();
    const up = await fs.openWrite('/aborted.bin');
    up.stream.on('error', () => undefined);
    await feed(up, randomBytes(12 * MIB));
    // let lib-storage start the multipart upload and send parts
    for (
      let i = 0;
      i < 200 && !s3.requests.some((r) => typeof r.query.partNumber === 'string');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(
      s3.requests.some((r) => typeof r.query.partNumber === 'string'),
      'a part was sent before the abort',
    );
    up.stream.destroy(new SftpgoError('ABORTED', 'client went away'));
    await assert.rejects(up.done, code('ABORTED', 'client went away'));
    assert.equal(await objectExists(`${prefix}aborted.bin`), false);
    const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(listed.Uploads ?? [], []);
    assert.deepEqual(await s3.pendingUploads(BUCKET), []);
  });

  void it('an upload aborted while its multipart upload is being created leaves none', async () => {
    const fs = newFs();
    const isCreate = (r: RecordedRequest): boolean => r.method === 'POST' && 'uploads' in r.query;
    s3.delay = { match: isCreate, ms: 400 };
    try {
      const up = await fs.openWrite('/held.bin');
      up.stream.on('error', () => undefined);
      await feed(up, randomBytes(6 * MIB));
      for (let i = 0; i < 200 && !s3.requests.some(isCreate); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(s3.requests.some(isCreate), 'the multipart upload is being created');
      up.stream.destroy(new SftpgoError('ABORTED', 'client went away'));
      await assert.rejects(up.done, code('ABORTED'));
    } finally {
      s3.delay = undefined;
    }
    // the server finished creating it whatever the client did; the backend waited for the
    // creation's answer, so it knew the upload id and aborted the upload
    await Promise.all(s3.requests.filter(isCreate).map((r) => r.handled));
    assert.deepEqual(await s3.pendingUploads(BUCKET), []);
    assert.equal(await objectExists(`${prefix}held.bin`), false);
  });

  void it("an upload aborted through the caller's signal keeps the previous object", async () => {
    const fs = newFs();
    await upload(fs, '/keep.txt', 'previous');
    const ac = new AbortController();
    const up = await fs.openWrite('/keep.txt', { signal: ac.signal });
    up.stream.on('error', () => undefined);
    await feed(up, randomBytes(6 * MIB));
    ac.abort();
    await assert.rejects(up.done, code('ABORTED'));
    assert.equal(await objectText(`${prefix}keep.txt`), 'previous');
    assert.deepEqual(await s3.pendingUploads(BUCKET), []);
  });

  void it("a caller's own error ending an upload is reported as ABORTED, with it as the cause", async () => {
    const fs = newFs();
    const up = await fs.openWrite('/plain-error.bin');
    up.stream.on('error', () => undefined);
    await feed(up, randomBytes(1000));
    const cause = new Error('socket closed');
    up.stream.destroy(cause);
    await assert.rejects(up.done, (e: unknown) => {
      assert.ok(SftpgoError.is(e, 'ABORTED'), String(e));
      assert.equal(e.cause, cause);
      return true;
    });
    assert.equal(await objectExists(`${prefix}plain-error.bin`), false);
  });

  void it('a failing upload (missing bucket) ends the writer with the mapped error', async () => {
    const fs = newFs({ bucket: 'no-such-bucket' });
    const up = await fs.openWrite('/x.bin');
    const streamError = once(up.stream, 'error');
    up.stream.end(Buffer.alloc(1000));
    await assert.rejects(
      up.done,
      code('NOT_FOUND', /upload "\/x.bin": the storage bucket does not exist/),
    );
    const [err] = (await streamError) as [unknown];
    assert.ok(SftpgoError.is(err, 'NOT_FOUND'));
  });
});

void describe('S3 backend: listings, usage, key prefix', () => {
  void it('lists 2,000 entries across pages (s3rver pages at 1000) and counts them for quota', async () => {
    const fs = newFs();
    const data = Buffer.from('0123456789');
    const keys = Array.from(
      { length: 2000 },
      (_, i) => `${prefix}many/f${String(i).padStart(4, '0')}`,
    );
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => put(k, data)));
    }
    await put(`${prefix}many/sub/inner`, 'abc');
    await put(`${prefix}many/marker/`, '', 'application/x-directory');
    s3.clearRequests();
    const seen = new Map<string, boolean>();
    for await (const e of fs.list('/many')) {
      assert.equal(seen.has(e.name), false, `${e.name} listed once`);
      seen.set(e.name, e.isDirectory);
    }
    assert.equal(seen.size, 2002);
    assert.equal(seen.get('f1999'), false);
    assert.equal(seen.get('sub'), true);
    assert.equal(seen.get('marker'), true);
    const listCalls = s3.requests.filter((r) => r.method === 'GET' && r.query['list-type'] === '2');
    assert.ok(listCalls.length >= 2, 'more than one page');
    assert.ok(listCalls.slice(1).every((r) => typeof r.query['continuation-token'] === 'string'));
    // usage: every object but directory markers, across pages too
    assert.deepEqual(await fs.usage('/many'), { files: 2001, bytes: 20_003 });
    assert.deepEqual(await fs.usage('/'), { files: 2001, bytes: 20_003 });
  });

  void it('keeps each key_prefix to itself', async () => {
    const p1 = `${prefix}p1/`;
    const p2 = `${prefix}p2/`;
    const a = newFs({ keyPrefix: p1 });
    const b = newFs({ keyPrefix: p2 });
    await upload(a, '/same.txt', 'from a');
    await upload(b, '/same.txt', 'from b');
    await put(`${prefix}outside.txt`, 'outside');
    assert.equal(await objectText(`${p1}same.txt`), 'from a');
    assert.equal(await objectText(`${p2}same.txt`), 'from b');
    assert.deepEqual(await names(a.list('/')), ['same.txt']);
    assert.equal((await readAll(b, '/same.txt')).toString(), 'from b');
    // ".." cannot climb out of the prefix: the path is normalized first
    await assert.rejects(a.stat('/../p2/same.txt'), code('NOT_FOUND'));
    await assert.rejects(a.openRead('../../outside.txt'), code('NOT_FOUND'));
    assert.deepEqual(await a.usage('/'), { files: 1, bytes: 6 });
    // the root of a prefixed filesystem is a directory without any request
    s3.clearRequests();
    assert.equal((await a.stat('/')).isDirectory, true);
    assert.equal(s3.requests.length, 0);
  });
});

void describe('S3 backend: errors', () => {
  void it('maps a missing bucket and a missing key to NOT_FOUND, without naming the bucket', async () => {
    const fs = newFs({ bucket: 'no-such-bucket', keyPrefix: '' });
    await assert.rejects(fs.stat('/'), code('NOT_FOUND'));
    const listErr = await fs
      .list('/dir')
      .next()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(SftpgoError.is(listErr, 'NOT_FOUND'));
    assert.doesNotMatch(listErr.message, /no-such-bucket|127\.0\.0\.1/);
    await assert.rejects(
      newFs().stat('/missing'),
      code('NOT_FOUND', /^stat "\/missing": no such file or directory$/),
    );
    await assert.rejects(newFs().openRead('/missing'), code('NOT_FOUND'));
  });

  void it('maps an unknown access key to PERMISSION_DENIED (s3rver checks the key, not the secret)', async () => {
    const fs = newFs({
      credentials: { accessKeyId: 'WRONG-KEY', secretAccessKey: 'not-a-secret' },
    });
    for (const op of [() => fs.stat('/x'), () => fs.list('/').next(), () => fs.openRead('/x')]) {
      await assert.rejects(op(), (e: unknown) => {
        assert.ok(SftpgoError.is(e, 'PERMISSION_DENIED'), String(e));
        assert.doesNotMatch(e.message, /WRONG-KEY|not-a-secret|sftpgo-test/);
        return true;
      });
    }
  });

  void it('maps an unreachable endpoint to BACKEND_UNAVAILABLE', async () => {
    const port = await freePort();
    const fs = newFs({ endpoint: `http://127.0.0.1:${port}` });
    await assert.rejects(fs.stat('/x'), code('BACKEND_UNAVAILABLE'));
  });

  void it("honours the caller's AbortSignal", async () => {
    const fs = newFs();
    const signal = AbortSignal.abort();
    await assert.rejects(fs.stat('/x', { signal }), code('ABORTED'));
    await assert.rejects(fs.list('/', { signal }).next(), code('ABORTED'));
    await assert.rejects(fs.usage('/', { signal }), code('ABORTED'));
    await assert.rejects(fs.mkdir('/d', { signal }), code('ABORTED'));
    await assert.rejects(fs.openRead('/x', { signal }), code('ABORTED'));
    await assert.rejects(fs.openWrite('/x', { signal }), code('ABORTED'));
  });

  void it('decrypts the access secret with the KMS, and refuses to start without one', async () => {
    const config = s3FsConfig(s3, BUCKET, {
      key_prefix: prefix,
      access_secret: { status: 'Secretbox', payload: 'encrypted' },
    });
    const seen: string[] = [];
    const fs = await createFs(config, {
      root: '/unused',
      decryptSecret: (s) => {
        seen.push(s.payload ?? '');
        return Promise.resolve(S3RVER_SECRET);
      },
    });
    opened.push(fs);
    assert.equal(fs.kind, 's3');
    assert.deepEqual(seen, ['encrypted']);
    await upload(fs, '/k.txt', 'ok');
    await assert.rejects(createFs(config, { root: '/unused' }), code('INTERNAL', /no KMS/));
    await assert.rejects(
      createFs(config, {
        root: '/unused',
        signal: AbortSignal.abort(),
        decryptSecret: () => Promise.resolve('x'),
      }),
      code('ABORTED'),
    );
  });
});

void describe('S3 backend through a Connection', () => {
  async function connect(setstatMode: 0 | 1 | 2 = 0): Promise<Connection> {
    const user = {
      username: 'alice',
      status: 1,
      home_dir: '/nonexistent/alice',
      permissions: { '/': ['*'] },
      filesystem: s3FsConfig(s3, BUCKET, { key_prefix: prefix }),
      virtual_folders: [{ name: 'vf', mapped_path: '/nonexistent/vf', virtual_path: '/a/b/vf' }],
    } as unknown as Parameters<typeof createUserFs>[0];
    const mounts = await createUserFs(user, {
      decryptSecret: (s) => Promise.resolve(s.payload ?? ''),
      createFs: async (cfg, o) => {
        const fs = await createFs(cfg, o);
        opened.push(fs);
        return fs;
      },
    });
    return new Connection({
      id: `SFTP_s3_${seq}`,
      protocol: 'SFTP',
      user,
      mounts,
      remoteAddress: '127.0.0.1:1',
      logger: silentLogger,
      provider: new FakeQuotaStore(),
      config: { upload_mode: 1, setstat_mode: setstatMode, track_quota: 1 },
    });
  }

  void it('login creates nothing in the bucket (no mount-point parents) and no local home', async () => {
    s3.clearRequests();
    const c = await connect();
    assert.deepEqual(
      s3.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
      [],
      'nothing written at login',
    );
    assert.deepEqual(await names(await c.list('/a/b')), ['vf']);
  });

  void it('uploads and downloads through openWrite/openRead, seeking with a ranged reopen', async () => {
    const c = await connect();
    const data = randomBytes(3 * MIB);
    const t = await c.openUpload('/file.bin');
    await t.write(0, data.subarray(0, MIB));
    await t.write(MIB, data.subarray(MIB));
    await t.close();
    const d = await c.openDownload('/file.bin');
    const at = 2 * MIB + 17;
    assert.equal(sha((await d.read(at, 1000)) as Buffer), sha(data.subarray(at, at + 1000)));
    await d.close();
    await assert.rejects(c.openUpload('/file.bin', { mode: 'append' }), code('OP_UNSUPPORTED'));
  });

  void it('rmdir of a missing directory succeeds; renaming onto a directory is refused; chmod follows setstat_mode (quirks 2, 3, 9)', async () => {
    const c = await connect(0);
    await c.rmdir('/never-existed');
    await c.mkdir('/d1');
    await c.mkdir('/d2');
    await assert.rejects(c.rename('/d1', '/d2'), code('OP_UNSUPPORTED'));
    await c.rename('/d1', '/d3');
    assert.equal((await c.stat('/d3')).isDirectory, true);
    await assert.rejects(c.setStat('/d3', { mode: 0o700 }), code('OP_UNSUPPORTED'));
    const lenient = await connect(2);
    await lenient.setStat('/d3', { mode: 0o700 });
  });
});
