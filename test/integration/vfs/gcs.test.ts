/**
 * The GCS backend (provider 2) against the GCS JSON API emulator (test/helpers/gcs-emulator.ts),
 * reached through STORAGE_EMULATOR_HOST as the server reaches one: what the VFS contract does not
 * pin. Upstream's GCS quirks (storage-2.1.2.md §4, §9), the objects it writes (markers, content
 * types, storage class), error mapping (a missing bucket, an endpoint refusing every request, an
 * unreachable one), aborted uploads and downloads ending their requests without disturbing
 * others, key_prefix isolation, the directory markers SFTPGo 2.1.0 and older wrote, and the
 * credentials through the registry.
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { SftpgoError, type ErrorCode } from '../../../src/errors/index.js';
import { GcsFs, type GcsFsOptions } from '../../../src/vfs/backends/gcs/index.js';
import { createFs, type Fs, type Upload } from '../../../src/vfs/index.js';
import { startGcsEmulator, type GcsEmulator } from '../../helpers/gcs-emulator.js';

const MIB = 1024 * 1024;
const DIR_TYPE = 'inode/directory';

let emu: GcsEmulator;
let emuDir: string;
let admin: Storage;
let bucketCount = 0;

/** a fresh bucket and a GcsFs on it */
async function fresh(o: Partial<GcsFsOptions> = {}): Promise<{ fs: GcsFs; bucket: Bucket }> {
  const [bucket] = await admin.createBucket(`b-${++bucketCount}`);
  return { fs: new GcsFs({ bucket: bucket.name, ...o }), bucket };
}

async function put(fs: Fs, p: string, data: Buffer | string): Promise<void> {
  const up = await fs.openWrite(p);
  await pipeline(Readable.from([Buffer.from(data)]), up.stream);
  await up.done;
}

async function get(fs: Fs, p: string, offset?: number): Promise<Buffer> {
  const r = await fs.openRead(p, offset === undefined ? undefined : { offset });
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function names(bucket: Bucket, prefix = ''): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix });
  return files.map((f) => f.name).sort();
}

async function meta(bucket: Bucket, name: string): Promise<Record<string, unknown>> {
  return (await bucket.file(name).getMetadata())[0] as Record<string, unknown>;
}

async function rejectsWith(
  op: Promise<unknown>,
  code: ErrorCode,
  what: string,
): Promise<SftpgoError> {
  let caught: SftpgoError | undefined;
  await assert.rejects(op, (e: unknown) => {
    assert.ok(SftpgoError.is(e), `${what}: not an SftpgoError: ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.code} ${e.message}`);
    caught = e;
    return true;
  });
  return caught as SftpgoError;
}

/** writes `data` and waits until part of it has reached the emulator */
async function startUpload(fs: Fs, p: string, data: Buffer, signal?: AbortSignal): Promise<Upload> {
  const up = await fs.openWrite(p, signal ? { signal } : undefined);
  const arrived = once(emu.events, 'upload-progress');
  up.stream.write(data);
  await arrived;
  return up;
}

/** a GcsFs built while STORAGE_EMULATOR_HOST names `endpoint` (read once, by the SDK) */
function fsAt(endpoint: string, o: GcsFsOptions): GcsFs {
  const saved = process.env.STORAGE_EMULATOR_HOST;
  process.env.STORAGE_EMULATOR_HOST = endpoint;
  try {
    return new GcsFs(o);
  } finally {
    process.env.STORAGE_EMULATOR_HOST = saved;
  }
}

before(async () => {
  emuDir = await mkdtemp(join(tmpdir(), 'gcs-vfs-'));
  emu = await startGcsEmulator({ dir: emuDir });
  process.env.STORAGE_EMULATOR_HOST = emu.endpoint;
  admin = new Storage({ projectId: 'test' });
});
after(async () => {
  await emu.stop();
  await rm(emuDir, { recursive: true, force: true });
});

void describe('GCS objects and upstream quirks', () => {
  void it('mkdir writes a `dir/` marker (inode/directory, storage class); over a file it does nothing', async () => {
    const { fs, bucket } = await fresh({ storageClass: 'NEARLINE' });
    await fs.mkdir('/d');
    const marker = await meta(bucket, 'd/');
    assert.equal(marker.contentType, DIR_TYPE);
    assert.equal(marker.size, '0');
    assert.equal(marker.storageClass, 'NEARLINE');
    await put(fs, '/f.json', '{}');
    await fs.mkdir('/f.json');
    await fs.mkdir('/d');
    assert.deepEqual(await names(bucket), ['d/', 'f.json']);
  });

  void it('uploads get the content type of their extension and the storage class; rename keeps them', async () => {
    const { fs, bucket } = await fresh({ storageClass: 'COLDLINE' });
    await put(fs, '/a.json', '{"a":1}');
    await put(fs, '/noext', 'x');
    const json = await meta(bucket, 'a.json');
    assert.equal(json.contentType, 'application/json');
    assert.equal(json.storageClass, 'COLDLINE');
    assert.equal((await meta(bucket, 'noext')).contentType, 'application/octet-stream');
    await fs.rename('/a.json', '/b.bin');
    const moved = await meta(bucket, 'b.bin');
    assert.equal(moved.contentType, 'application/json', 'the source object content type');
    assert.equal(moved.storageClass, 'COLDLINE');
    await fs.mkdir('/e');
    await fs.rename('/e', '/e2');
    assert.equal((await meta(bucket, 'e2/')).contentType, DIR_TYPE);
    assert.deepEqual(await names(bucket), ['b.bin', 'e2/', 'noext']);
  });

  void it('implicit directories: mtime now, size 0; a missing object fails at open', async () => {
    const { fs, bucket } = await fresh();
    await bucket.file('imp/deep/f').save('x', { resumable: false });
    const t0 = Date.now();
    const st = await fs.stat('/imp/deep');
    assert.ok(st.isDirectory && st.size === 0);
    assert.ok(st.mtime.getTime() >= t0, 'an implicit directory reports now');
    const listed = [];
    for await (const e of fs.list('/imp')) listed.push(e);
    assert.deepEqual(
      listed.map((e) => [e.name, e.isDirectory, e.mtime.getTime() >= t0]),
      [['deep', true, true]],
    );
    await rejectsWith(fs.openRead('/imp/nope'), 'NOT_FOUND', 'open of a missing object');
    await rejectsWith(fs.openRead('/imp/deep'), 'NOT_FOUND', 'open of a directory');
  });

  void it('reads: offsets at and past the end are empty; gzip objects whole only (upstream)', async () => {
    const { fs, bucket } = await fresh();
    await put(fs, '/t.txt', '0123456789');
    assert.equal((await get(fs, '/t.txt', 4)).toString(), '456789');
    assert.equal((await get(fs, '/t.txt', 10)).length, 0);
    assert.equal((await get(fs, '/t.txt', 11)).length, 0);
    await put(fs, '/empty', '');
    assert.equal((await get(fs, '/empty', 3)).length, 0);
    await bucket.file('z.txt').save(gzipSync('compressed text'), {
      resumable: false,
      metadata: { contentEncoding: 'gzip', contentType: 'text/plain' },
    });
    assert.equal((await get(fs, '/z.txt')).toString(), 'compressed text');
    const e = await rejectsWith(
      fs.openRead('/z.txt', { offset: 2 }),
      'OP_UNSUPPORTED',
      'gzip offset',
    );
    assert.match(
      e.message,
      /range request is not possible for gzip content encoding, requested offset 2/,
    );
  });

  void it('a whole-object read is checked against the stored CRC32C, a ranged one cannot be', async () => {
    const { fs } = await fresh();
    const data = randomBytes(200_000);
    await put(fs, '/c.bin', data);
    // flip one byte of the emulator's copy: the file holding exactly these bytes
    for (const n of await readdir(emuDir)) {
      const b = await readFile(join(emuDir, n)).catch(() => undefined);
      if (b === undefined || !b.equals(data)) continue;
      b[100_000] = (b[100_000] ?? 0) ^ 0xff;
      await writeFile(join(emuDir, n), b);
    }
    await rejectsWith(get(fs, '/c.bin'), 'INTERNAL', 'corrupted whole read');
    const tail = await get(fs, '/c.bin', 150_000);
    assert.ok(tail.equals(data.subarray(150_000)), 'a ranged read after the damaged byte');
  });
});

void describe('GCS error mapping', () => {
  let forbidding: Server;
  let forbiddingUrl: string;
  before(async () => {
    // an endpoint that refuses every request, as GCS does without the right permissions
    forbidding = createServer((req, res) => {
      req.resume();
      const body = JSON.stringify({ error: { code: 403, message: 'Forbidden', errors: [] } });
      res.writeHead(403, { 'content-type': 'application/json' }).end(body);
    });
    forbidding.listen(0, '127.0.0.1');
    await once(forbidding, 'listening');
    forbiddingUrl = `http://127.0.0.1:${(forbidding.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => forbidding.close(() => r())));

  const ops = (fs: Fs): [string, () => Promise<unknown>][] => [
    ['stat /', () => fs.stat('/')],
    ['stat', () => fs.stat('/x')],
    [
      'list',
      async () => {
        for await (const _ of fs.list('/d')) break;
      },
    ],
    ['openRead', () => fs.openRead('/x')],
    ['openWrite', () => fs.openWrite('/x')],
    ['mkdir', () => fs.mkdir('/d')],
    ['remove', () => fs.remove('/x')],
    ['usage', () => fs.usage('/')],
  ];

  void it('a missing bucket: NOT_FOUND everywhere, the upload refused at its start', async () => {
    const fs = new GcsFs({ bucket: 'no-such-bucket' });
    for (const [what, op] of ops(fs)) {
      if (what === 'list' || what === 'usage') continue; // listing a missing prefix is empty
      const e = await rejectsWith(op(), 'NOT_FOUND', what);
      assert.doesNotMatch(e.message, /no-such-bucket/, `${what}: the bucket is not named`);
    }
  });

  void it('403 from the endpoint: PERMISSION_DENIED, neither bucket nor endpoint named', async () => {
    const fs = fsAt(forbiddingUrl, { bucket: 'secret-bucket-name', keyPrefix: 'pre/' });
    for (const [what, op] of ops(fs)) {
      if (what === 'stat /') continue; // with a key prefix the root needs no request
      const e = await rejectsWith(op(), 'PERMISSION_DENIED', what);
      assert.doesNotMatch(e.message, /secret-bucket-name|pre\/|127\.0\.0\.1/, what);
    }
  });

  void it('an unreachable endpoint: BACKEND_UNAVAILABLE', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const fs = fsAt(url, { bucket: 'b' });
    // the calls the SDK does not retry: the others try again for about 15 s first, to the same end
    for (const [what, op] of ops(fs)) {
      if (!['openRead', 'openWrite', 'remove'].includes(what)) continue;
      await rejectsWith(op(), 'BACKEND_UNAVAILABLE', what);
    }
  });

  void it('an aborted signal fails metadata calls with ABORTED', async () => {
    const { fs } = await fresh();
    const signal = AbortSignal.abort();
    await rejectsWith(fs.stat('/x', { signal }), 'ABORTED', 'stat');
    await rejectsWith(fs.mkdir('/x', { signal }), 'ABORTED', 'mkdir');
    await rejectsWith(fs.openRead('/x', { signal }), 'ABORTED', 'openRead');
    await rejectsWith(fs.usage('/', { signal }), 'ABORTED', 'usage');
  });
});

void describe('GCS aborted transfers', () => {
  void it('an aborted upload leaves no object and no session, and its request ends', async () => {
    const { fs, bucket } = await fresh();
    for (const how of ['destroy', 'signal'] as const) {
      const ac = new AbortController();
      const up = await startUpload(fs, `/${how}.bin`, randomBytes(4 * MIB), ac.signal);
      const ended = finished(up.stream).catch((e: unknown) => e);
      if (how === 'destroy') up.stream.destroy(new Error('client went away'));
      else ac.abort();
      await rejectsWith(up.done, 'ABORTED', how);
      assert.ok((await ended) instanceof Error, `${how}: the stream ends with an error`);
      await emu.settled(); // the emulator no longer handles the PUT: the request has ended
      assert.deepEqual(emu.openSessions(), [], `${how}: no session left`);
      assert.deepEqual(await names(bucket), [], `${how}: no object`);
    }
  });

  void it('an upload aborted mid-way does not disturb another one on the same filesystem', async () => {
    const { fs, bucket } = await fresh();
    const data = randomBytes(6 * MIB);
    const other = await fs.openWrite('/kept.bin');
    const writing = pipeline(
      Readable.from(Array.from({ length: 6 }, (_, i) => data.subarray(i * MIB, (i + 1) * MIB))),
      other.stream,
    );
    const aborted = await startUpload(fs, '/dropped.bin', randomBytes(4 * MIB));
    const ended = finished(aborted.stream);
    aborted.stream.destroy(new Error('client went away'));
    await assert.rejects(ended);
    await assert.rejects(aborted.done);
    await writing;
    assert.deepEqual(await other.done, { bytes: data.length });
    assert.ok((await get(fs, '/kept.bin')).equals(data), 'the other upload is complete');
    assert.deepEqual(await names(bucket), ['kept.bin']);
    // SDK 7.22.0 zeroes the client's retry count when it starts a session; the backend puts
    // it back (white box: the setting is the SDK's)
    const storage = (fs as unknown as { storage: Storage }).storage;
    assert.equal(storage.retryOptions.maxRetries, 3);
  });

  void it('a destroyed download ends its request and leaves concurrent downloads whole', async () => {
    const { fs } = await fresh();
    const a = randomBytes(16 * MIB);
    const b = randomBytes(16 * MIB);
    await put(fs, '/a.bin', a);
    await put(fs, '/b.bin', b);
    // the other download reads slowly, so it is still in flight when the first is destroyed
    const slow = (async () => {
      const out: Buffer[] = [];
      for await (const c of await fs.openRead('/b.bin', { offset: 5 })) {
        out.push(c as Buffer);
        await new Promise((r) => setImmediate(r));
      }
      return Buffer.concat(out);
    })();
    const first = await fs.openRead('/a.bin');
    await once(first, 'readable');
    first.destroy();
    const ac = new AbortController();
    const third = await fs.openRead('/a.bin', { signal: ac.signal, offset: MIB });
    await once(third, 'readable');
    ac.abort();
    assert.ok((await slow).equals(b.subarray(5)), 'the concurrent download is byte-exact');
    await emu.settled(); // the destroyed ones no longer hold a request
  });
});

void describe('GCS key_prefix and legacy markers', () => {
  void it('a key prefix confines every operation to the objects below it', async () => {
    const { bucket } = await fresh();
    const outside = ['users/alice', 'users/alice2/x', 'users/bob/y', 'top.txt'];
    for (const n of outside) await bucket.file(n).save(n, { resumable: false });
    const fs = new GcsFs({ bucket: bucket.name, keyPrefix: 'users/alice/' });
    await put(fs, '/mine.txt', 'mine');
    await fs.mkdir('/sub');
    await put(fs, '/sub/in.txt', 'in');
    const root = [];
    for await (const e of fs.list('/')) root.push(e.name);
    assert.deepEqual(root.sort(), ['mine.txt', 'sub']);
    await rejectsWith(fs.stat('/../users/bob/y'), 'NOT_FOUND', 'a path climbing out');
    await rejectsWith(fs.stat('/../../top.txt'), 'NOT_FOUND', 'the bucket root');
    assert.deepEqual(await fs.usage('/'), { files: 2, bytes: 6 });
    await fs.rename('/mine.txt', '/../../moved.txt');
    await fs.remove('/sub/in.txt');
    await fs.remove('/sub', { dir: true });
    assert.deepEqual(await names(bucket), [...outside, 'users/alice/moved.txt'].sort());
    for (const n of outside) {
      assert.equal((await bucket.file(n).download())[0].toString(), n, `${n} untouched`);
    }
  });

  void it('directory markers without a slash (SFTPGo ≤ 2.1.0) are directories', async () => {
    const { fs, bucket } = await fresh();
    const legacy = (n: string) =>
      bucket.file(n).save('', { resumable: false, metadata: { contentType: DIR_TYPE } });
    await legacy('old');
    await legacy('full');
    await bucket.file('full/child').save('c', { resumable: false });
    await put(fs, '/plain', 'p');
    assert.ok((await fs.stat('/old')).isDirectory);
    const root = [];
    for await (const e of fs.list('/')) root.push([e.name, e.isDirectory]);
    assert.deepEqual(root.sort(), [
      ['full', true],
      ['old', true],
      ['plain', false],
    ]);
    assert.deepEqual(await fs.usage('/'), { files: 2, bytes: 2 }, 'markers are not counted');
    await rejectsWith(fs.remove('/full', { dir: true }), 'NOT_EMPTY', 'remove non-empty');
    await rejectsWith(fs.rename('/full', '/full2'), 'NOT_EMPTY', 'rename non-empty');
    await rejectsWith(fs.remove('/plain', { dir: true }), 'INVALID_INPUT', 'rmdir of a file');
    await fs.rename('/old', '/new');
    assert.equal((await meta(bucket, 'new/')).contentType, DIR_TYPE);
    await fs.remove('/full/child');
    await fs.remove('/full', { dir: true });
    assert.deepEqual(await names(bucket), ['new/', 'plain']);
  });
});

void describe('GCS through the registry', () => {
  const SA_JSON = JSON.stringify({
    type: 'service_account',
    project_id: 'test-project',
    client_email: 'sftpgo@test-project.iam.gserviceaccount.com',
    private_key: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n',
  });
  const stored = { status: 'Secretbox' as const, payload: 'ciphertext' };

  void it('decrypts the credentials through the KMS, or uses automatic credentials', async () => {
    const [bucket] = await admin.createBucket('registry-bucket');
    const seen: unknown[] = [];
    const fs = await createFs(
      { provider: 2, gcsconfig: { bucket: bucket.name, credentials: stored, key_prefix: 'k/' } },
      {
        root: '/nonexistent',
        decryptSecret: (s) => {
          seen.push(s);
          return Promise.resolve(SA_JSON);
        },
      },
    );
    assert.equal(fs.kind, 'gcs');
    assert.deepEqual(seen, [stored]);
    await put(fs, '/f', 'via the registry');
    assert.deepEqual(await names(bucket), ['k/f']);
    const auto = await createFs(
      { provider: 2, gcsconfig: { bucket: bucket.name, automatic_credentials: 1 } },
      { root: '/nonexistent' },
    );
    assert.equal((await get(auto, '/k/f')).toString(), 'via the registry');
  });

  void it('refuses unreadable credentials without echoing them', async () => {
    const secretText = 'PRIVATE-KEY-MATERIAL {not json';
    const e = await rejectsWith(
      createFs(
        { provider: 2, gcsconfig: { bucket: 'b', credentials: stored } },
        { root: '/x', decryptSecret: () => Promise.resolve(secretText) },
      ),
      'INVALID_INPUT',
      'bad JSON',
    );
    assert.doesNotMatch(`${e.message} ${String(e.cause)}`, /PRIVATE-KEY-MATERIAL/);
    await rejectsWith(
      createFs({ provider: 2, gcsconfig: { bucket: 'b', credentials: stored } }, { root: '/x' }),
      'INTERNAL',
      'no KMS',
    );
    await rejectsWith(
      createFs({ provider: 2, gcsconfig: { bucket: 'b' } }, { root: '/x' }),
      'INVALID_INPUT',
      'no credentials',
    );
  });
});
