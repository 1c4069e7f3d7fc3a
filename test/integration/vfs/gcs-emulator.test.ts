/**
 * The GCS emulator (test/helpers/gcs-emulator.ts) driven by the real @google-cloud/storage client,
 * plus raw HTTP for the protocol details the SDK hides (resumable 308s, media uploads, ranges,
 * the /b/... URL form) and one run as a standalone process.
 */
import { Storage, type Bucket, type File } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startGcsEmulator, type GcsEmulator } from '../../helpers/gcs-emulator.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

/** The names of every object under `prefix`, through the SDK's own pagination. */
async function names(bucket: Bucket, prefix = ''): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix });
  return files.map((f) => f.name);
}

void describe('GCS emulator with @google-cloud/storage', () => {
  let emu: GcsEmulator;
  let storage: Storage;
  let bucket: Bucket;

  before(async () => {
    emu = await startGcsEmulator();
    storage = new Storage({ projectId: 'test-project', apiEndpoint: emu.endpoint });
    [bucket] = await storage.createBucket('emu-bucket');
  });
  after(() => emu.stop());

  void test('bucket: attributes, exists, a second create is 409, a missing bucket is 404', async () => {
    const [meta] = await bucket.getMetadata();
    assert.equal(meta.name, 'emu-bucket');
    assert.equal(meta.storageClass, 'STANDARD');
    assert.deepEqual(await bucket.exists(), [true]);
    await assert.rejects(storage.createBucket('emu-bucket'), { code: 409 });
    assert.deepEqual(await storage.bucket('no-such-bucket').exists(), [false]);
    const missing = storage.bucket('no-such-bucket').file('x');
    await assert.rejects(missing.save('data', { resumable: false }), { code: 404 });
    // a refused resumable session start is the SDK's GaxiosError: `status`, no `code`
    await assert.rejects(missing.save('data', { resumable: true }), { status: 404 });
  });

  void test('small multipart upload: the resource has standard CRC32C, MD5, size as a string', async () => {
    const file = bucket.file('small/digits.txt');
    await file.save('123456789', { resumable: false, metadata: { storageClass: 'NEARLINE' } });
    const [meta] = await file.getMetadata();
    assert.equal(meta.crc32c, '4waSgw=='); // CRC-32C check value 0xE3069283, big-endian
    assert.equal(meta.md5Hash, md5(Buffer.from('123456789')));
    assert.equal(meta.size, '9');
    assert.equal(meta.contentType, 'text/plain');
    assert.equal(meta.storageClass, 'NEARLINE');
    assert.match(String(meta.generation), /^\d+$/);
    assert.ok(!Number.isNaN(Date.parse(String(meta.updated))));
    const [data] = await file.download();
    assert.equal(data.toString(), '123456789');
    const gz = bucket.file('small/gzipped.txt'); // stored gzip, served with Content-Encoding
    await gz.save('hello gzip', { resumable: false, gzip: true });
    assert.equal((await gz.getMetadata())[0].contentEncoding, 'gzip');
    assert.equal((await gz.download())[0].toString(), 'hello gzip');
  });

  void test('multipart upload of 3 MiB holding delimiter look-alikes, read back byte-exact', async () => {
    const lookAlike = Buffer.from('\r\n--\r\n-\r\n--x\r\n\r\n--');
    const data = Buffer.concat(
      Array.from({ length: 3 * 64 }, () => Buffer.concat([randomBytes(16_000), lookAlike])),
    );
    const file = bucket.file('small/multipart.bin');
    await file.save(data, { resumable: false });
    assert.ok((await file.download())[0].equals(data), 'downloaded bytes differ');
  });

  void test('20 MiB resumable upload in 8 MiB chunks, read back byte-exact', async () => {
    const data = randomBytes(20 * MiB);
    const file = bucket.file('big/chunked.bin');
    await file.save(data, { resumable: true, chunkSize: 8 * MiB });
    const [meta] = await file.getMetadata();
    assert.equal(meta.size, String(data.length));
    assert.equal(meta.md5Hash, md5(data));
    const [back] = await file.download();
    assert.ok(back.equals(data), 'downloaded bytes differ');
  });

  void test('20 MiB streamed resumable upload (one PUT), ranged reads', async () => {
    const data = randomBytes(20 * MiB + 123);
    const file = bucket.file('big/streamed.bin');
    const pieces = Array.from({ length: 21 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
    await pipeline(Readable.from(pieces), file.createWriteStream({ resumable: true }));
    const [back] = await file.download();
    assert.ok(back.equals(data), 'downloaded bytes differ');
    const [mid] = await file.download({ start: 5 * MiB, end: 5 * MiB + 99 });
    assert.ok(mid.equals(data.subarray(5 * MiB, 5 * MiB + 100)));
    const tail: Buffer[] = [];
    for await (const c of file.createReadStream({ start: 20 * MiB })) tail.push(c as Buffer);
    assert.ok(Buffer.concat(tail).equals(data.subarray(20 * MiB)));
  });

  void test('ranged GET over HTTP: 206 with Content-Range, suffix ranges, 416 past the end', async () => {
    await bucket.file('range.txt').save('0123456789', { resumable: false });
    const url = `${emu.endpoint}/storage/v1/b/emu-bucket/o/range.txt?alt=media`;
    const seen = once(emu.events, 'request');
    const r = await fetch(url, { headers: { range: 'bytes=2-5' } });
    const [req] = (await seen) as [{ method: string; url: string; range: string }];
    assert.deepEqual(req, {
      method: 'GET',
      url: '/storage/v1/b/emu-bucket/o/range.txt?alt=media',
      range: 'bytes=2-5',
    });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await r.text(), '2345');
    const suffix = await fetch(url, { headers: { range: 'bytes=-3' } });
    assert.equal(await suffix.text(), '789');
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.match(whole.headers.get('x-goog-hash') ?? '', /^crc32c=[^,]+,md5=/);
    assert.equal(await whole.text(), '0123456789');
    const beyond = await fetch(url, { headers: { range: 'bytes=10-' } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), 'bytes */10');
  });

  void test('list 2,000 objects with a delimiter across pages: items and prefixes, no repeats', async () => {
    const all: string[] = [];
    for (let i = 0; i < 1900; i++) all.push(`many/k${String(i).padStart(4, '0')}`);
    // 50 "directories" of 2 objects each, sorted between the files (k0000 < k0000-d/ < k0001)
    for (let i = 0; i < 1900; i += 38) {
      const dir = `many/k${String(i).padStart(4, '0')}-d/`;
      all.push(`${dir}x1`, `${dir}x2`);
    }
    assert.equal(all.length, 2000);
    for (let i = 0; i < all.length; i += 50) {
      await Promise.all(
        all.slice(i, i + 50).map((n) => bucket.file(n).save(n, { resumable: false })),
      );
    }
    const items: string[] = [];
    const prefixes: string[] = [];
    let [pages, endsInPrefix] = [0, 0];
    // entries (files and prefixes) sort as k0000, k0000-d/, k0001 ... k0038, k0038-d/, ...: a
    // prefix every 39, at 1 + 39n; pages of 275 make page 1 end with one (entry 274 = 1 + 39 * 7)
    let query: object | null = { prefix: 'many/', delimiter: '/', maxResults: 275 };
    while (query !== null) {
      const [files, next, resp] = (await bucket.getFiles({ ...query, autoPaginate: false })) as [
        File[],
        object | null,
        { prefixes?: string[] },
      ];
      pages++;
      assert.ok(files.length + (resp.prefixes?.length ?? 0) <= 275);
      if ((resp.prefixes?.at(-1) ?? '') > (files.at(-1)?.name ?? '')) endsInPrefix++;
      items.push(...files.map((f) => f.name));
      prefixes.push(...(resp.prefixes ?? []));
      query = next;
    }
    assert.equal(pages, Math.ceil(1950 / 275));
    assert.ok(endsInPrefix > 0, 'no page ends with a prefix');
    assert.deepEqual(items, all.slice(0, 1900)); // in order, each once
    assert.equal(prefixes.length, 50);
    assert.equal(new Set(prefixes).size, 50);
    assert.ok(prefixes.every((p) => /^many\/k\d{4}-d\/$/.test(p)));
    // without a delimiter the SDK walks 2 pages of (default) 1,000
    assert.deepEqual(await names(bucket, 'many/'), [...all].sort());
    assert.deepEqual(await names(bucket, 'many/k0038-d/'), ['many/k0038-d/x1', 'many/k0038-d/x2']);
  });

  void test('copy (rewriteTo), rename (copy + delete), copyTo over HTTP, compose', async () => {
    const src = bucket.file('copy/src.bin');
    const data = randomBytes(300_000);
    await src.save(data, { contentType: 'application/x-test' });
    const [copied] = await src.copy(bucket.file('copy/dst.bin'));
    const [copiedMeta] = await copied.getMetadata();
    assert.equal(copiedMeta.contentType, 'application/x-test');
    assert.ok((await copied.download())[0].equals(data));

    await copied.rename('copy/renamed.bin');
    assert.deepEqual(await names(bucket, 'copy/'), ['copy/renamed.bin', 'copy/src.bin']);

    const r = await fetch(
      `${emu.endpoint}/storage/v1/b/emu-bucket/o/copy%2Fsrc.bin/copyTo/b/emu-bucket/o/copy%2Fraw.bin`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { md5Hash: string }).md5Hash, md5(data));

    const [combined] = await bucket.combine(['copy/src.bin', 'copy/raw.bin'], 'copy/both.bin');
    assert.ok((await combined.download())[0].equals(Buffer.concat([data, data])));
  });

  void test('delete, then 404 from get, download, exists and a second delete', async () => {
    const file = bucket.file('gone.txt');
    await file.save('bye', { resumable: false });
    await file.delete();
    assert.deepEqual(await file.exists(), [false]);
    await assert.rejects(file.getMetadata(), { code: 404 });
    await assert.rejects(file.download(), { code: 404 });
    await assert.rejects(file.delete(), { code: 404 });
  });

  void test('ifGenerationMatch: 0 on an existing object is 412 and keeps the object', async () => {
    const file = bucket.file('precondition.txt');
    await file.save('first', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const second = (resumable: boolean) =>
      file.save('second', { resumable, preconditionOpts: { ifGenerationMatch: 0 } });
    await assert.rejects(second(false), { code: 412 });
    await assert.rejects(second(true), { status: 412 }); // GaxiosError, as above
    assert.equal((await file.download())[0].toString(), 'first');
  });

  void test('an SDK upload destroyed mid-way leaves no object', async () => {
    const file = bucket.file('aborted.bin');
    const ws = file.createWriteStream({ resumable: true });
    const [session, arrived] = [once(ws, 'uri'), once(emu.events, 'upload-progress')];
    const failed = once(ws, 'error').catch((err: unknown) => err);
    ws.write(randomBytes(4 * MiB));
    const [uri] = (await session) as [string];
    assert.equal(((await arrived) as [{ name: string }])[0].name, 'aborted.bin'); // PUT under way
    ws.destroy(new Error('client gave up'));
    await failed;
    // SDK 7.22.0 does not abort its PUT here (duplexify destroys the upload without an error, so
    // the request's AbortController never fires): the PUT stays open, unfinished
    assert.deepEqual(await file.exists(), [false]);
    assert.deepEqual(await names(bucket, 'aborted'), []);
    const status = await fetch(uri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
    assert.equal(status.status, 308); // the session is open, not finished
    assert.deepEqual(emu.openSessions(), ['emu-bucket/aborted.bin']);
    // cancelling the session (as GCS does) ends that PUT too
    assert.equal((await fetch(uri, { method: 'DELETE' })).status, 499);
    await emu.settled();
    assert.deepEqual(emu.openSessions(), []);
    assert.equal((await fetch(uri, { method: 'PUT' })).status, 404);
    assert.deepEqual(await file.exists(), [false]);
  });

  void test('a PUT cut off mid-way: no object, what arrived is kept, the upload resumes', async () => {
    const data = randomBytes(2 * MiB);
    const file = bucket.file('raw/cut.bin');
    const [uri] = await file.createResumableUpload();
    let received = 0;
    const onProgress = ({ bytes }: { bytes: number }) => (received = bytes);
    emu.events.on('upload-progress', onProgress);
    const arrived = once(emu.events, 'upload-progress');
    const req = request(uri, { method: 'PUT', headers: { 'content-range': 'bytes 0-*/*' } });
    req.on('error', () => {}); // the socket hang up caused below
    req.write(data.subarray(0, MiB));
    await arrived;
    req.destroy(); // the client goes away before the end of the body
    await emu.settled();
    emu.events.off('upload-progress', onProgress);
    assert.ok(received > 0 && received <= MiB);
    assert.deepEqual(await file.exists(), [false]);
    const put = (range: string, body?: Buffer) =>
      fetch(uri, { method: 'PUT', headers: { 'content-range': range }, body });
    const status = await put('bytes */*');
    assert.equal(status.status, 308);
    assert.equal(status.headers.get('range'), `bytes=0-${received - 1}`);
    const rest = await put(
      `bytes ${received}-${data.length - 1}/${data.length}`,
      data.subarray(received),
    );
    assert.equal(rest.status, 200);
    assert.ok((await file.download())[0].equals(data), 'downloaded bytes differ');
  });

  void test('resumable protocol over HTTP: 308 + Range between chunks, status query, total', async () => {
    const data = randomBytes(300_000);
    const start = await fetch(
      `${emu.endpoint}/upload/storage/v1/b/emu-bucket/o?uploadType=resumable&name=raw%2Fresumable.bin`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    assert.equal(start.status, 200);
    const session = start.headers.get('location');
    assert.ok(session !== null && session.includes('upload_id='));
    const put = (range: string, body?: Buffer) =>
      fetch(session, { method: 'PUT', headers: { 'content-range': range }, body });

    const empty = await put('bytes */*');
    assert.equal(empty.status, 308);
    assert.equal(empty.headers.get('range'), null); // nothing received yet
    const first = await put('bytes 0-262143/*', data.subarray(0, 262144));
    assert.equal(first.status, 308);
    assert.equal(first.headers.get('range'), 'bytes=0-262143');
    const status = await put('bytes */*');
    assert.equal(status.status, 308);
    assert.equal(status.headers.get('range'), 'bytes=0-262143');
    const last = await put('bytes 262144-299999/300000', data.subarray(262144));
    assert.equal(last.status, 200);
    const resource = (await last.json()) as { size: string; md5Hash: string; name: string };
    assert.deepEqual(resource, { ...resource, size: '300000', md5Hash: md5(data) });
    assert.equal(resource.name, 'raw/resumable.bin');
    assert.equal((await put('bytes */300000')).status, 200); // finished: the object again
    assert.ok((await bucket.file('raw/resumable.bin').download())[0].equals(data));
  });

  void test('the SDK resumes a session: status query `bytes */*`, then sends the rest', async () => {
    const data = randomBytes(1 * MiB);
    const file = bucket.file('raw/resumed.bin');
    const [uri] = await file.createResumableUpload();
    const part = await fetch(uri, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-262143/*' },
      body: data.subarray(0, 262144),
    });
    assert.equal(part.status, 308);
    await pipeline(Readable.from([data]), file.createWriteStream({ uri }));
    assert.ok((await file.download())[0].equals(data));
  });

  void test('uploadType=media, X-Goog-Hash checked, and the /b/... (STORAGE_EMULATOR_HOST) form', async () => {
    const upload = `${emu.endpoint}/upload/storage/v1/b/emu-bucket/o?uploadType=media&name=media.txt`;
    const ok = await fetch(upload, {
      method: 'POST',
      headers: { 'content-type': 'text/x-media' },
      body: 'media body',
    });
    assert.equal(ok.status, 200);
    const bad = await fetch(upload.replace('media.txt', 'bad.txt'), {
      method: 'POST',
      headers: { 'x-goog-hash': `md5=${md5(Buffer.from('other'))}` },
      body: 'media body',
    });
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { error: { code: number; errors: unknown[] } };
    assert.equal(err.error.code, 400);
    assert.equal(err.error.errors.length, 1);
    assert.deepEqual(await bucket.file('bad.txt').exists(), [false]);

    const meta = await fetch(`${emu.endpoint}/b/emu-bucket/o/media.txt`);
    assert.equal(((await meta.json()) as { contentType: string }).contentType, 'text/x-media');
    const media = await fetch(`${emu.endpoint}/b/emu-bucket/o/media.txt?alt=media`);
    assert.equal(await media.text(), 'media body');
    const missing = await fetch(`${emu.endpoint}/b/emu-bucket/o/nope`);
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, 404);
  });
});

void test('standalone: the emulator as a child process serves the SDK and stops on SIGTERM', async () => {
  const script = fileURLToPath(new URL('../../helpers/gcs-emulator.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const { endpoint, port } = JSON.parse(line) as { endpoint: string; port: number };
    assert.equal(endpoint, `http://127.0.0.1:${port}`);
    const storage = new Storage({ projectId: 'test-project', apiEndpoint: endpoint });
    const [bucket] = await storage.createBucket('child-bucket');
    await bucket.file('hello.txt').save('hello from the child');
    assert.equal((await bucket.file('hello.txt').download())[0].toString(), 'hello from the child');
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
  }
});
