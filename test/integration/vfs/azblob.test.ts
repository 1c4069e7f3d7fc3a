/**
 * The Azure Blob backend (provider 3) against a private Azurite: upstream's quirks
 * (storage-2.1.2.md §9), error mapping, block uploads (ids, size, concurrency, abort), ranged
 * reads, paged listings, key-prefix isolation, SAS URLs and the registry entry with its
 * secrets. Requests go through a small recording HTTP proxy in front of Azurite where a test
 * must see them (block concurrency, listing pages).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  ContainerSASPermissions,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import { SftpgoError, type ErrorCode } from '../../../src/errors/index.js';
import {
  AzureBlobFs,
  containerClientFor,
  DIR_CONTENT_TYPE,
  type AzureBlobFsOptions,
} from '../../../src/vfs/backends/azblob/index.js';
import { blockId } from '../../../src/vfs/backends/azblob/upload.js';
import { loadPlatformTypes, typeByExtension } from '../../../src/util/mime.js';
import { createFs, type FileInfo, type Fs } from '../../../src/vfs/index.js';
import { startAzurite, startAzuriteProxy, type AzuriteServer } from '../../helpers/azurite.js';

const MIB = 1024 * 1024;

let az: AzuriteServer;
let credential: StorageSharedKeyCredential;
let service: BlobServiceClient;

before(async () => {
  az = await startAzurite();
  credential = new StorageSharedKeyCredential(az.account, az.key);
  service = new BlobServiceClient(az.serviceUrl, credential);
});
after(async () => {
  await az.stop();
});

// ---------------------------------------------------------------- helpers

async function newContainer(): Promise<ContainerClient> {
  const c = service.getContainerClient(`t-${randomBytes(6).toString('hex')}`);
  await c.create();
  return c;
}

function sharedKeyFs(
  container: string,
  o: Omit<AzureBlobFsOptions, 'container'> = {},
  endpoint = az.endpoint,
): AzureBlobFs {
  const target = containerClientFor(
    { container, endpoint, useEmulator: true },
    { accountName: az.account, accountKey: az.key },
  );
  return new AzureBlobFs({ ...target, ...o });
}

function pattern(n: number, seed = 0): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 7919 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function put(fs: Fs, p: string, data: Buffer | string): Promise<void> {
  const buf = Buffer.from(data);
  const up = await fs.openWrite(p);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 64 * 1024) parts.push(buf.subarray(i, i + 64 * 1024));
  await pipeline(Readable.from(parts), up.stream);
  assert.deepEqual(await up.done, { bytes: buf.length });
}

async function get(fs: Fs, p: string, offset?: number): Promise<Buffer> {
  const r = await fs.openRead(p, offset === undefined ? undefined : { offset });
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function listAll(fs: Fs, dir: string): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const i of fs.list(dir)) out.push(i);
  return out;
}

async function rejectsWith(op: Promise<unknown>, code: ErrorCode, what = ''): Promise<SftpgoError> {
  let got: SftpgoError | undefined;
  await assert.rejects(op, (e: unknown) => {
    assert.ok(SftpgoError.is(e), `${what}: expected an SftpgoError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: expected ${code}, got ${e.code}: ${e.message}`);
    got = e;
    return true;
  });
  return got as SftpgoError;
}

/** one call of each kind the backend makes, all on "/f" (the upload commits "x" to it) */
function everyOperation(fs: Fs): [string, () => Promise<unknown>][] {
  return [
    ['stat /', () => fs.stat('/')],
    ['stat', () => fs.stat('/f')],
    ['list', () => listAll(fs, '/')],
    ['openRead', () => fs.openRead('/f')],
    ['remove', () => fs.remove('/f')],
    ['usage', () => fs.usage('/')],
    ['mkdir', () => fs.mkdir('/d')],
    ['rename', () => fs.rename('/f', '/g')],
    [
      'upload',
      async () => {
        const up = await fs.openWrite('/f');
        up.stream.on('error', () => undefined);
        up.stream.end(Buffer.from('x'));
        return up.done;
      },
    ],
  ];
}

/** writes `data` chunk by chunk, each one taken by the backend before the next */
async function writeSome(stream: NodeJS.WritableStream, data: Buffer): Promise<void> {
  // the failure is asserted through `done`; the stream's own error event needs a listener
  stream.on('error', () => undefined);
  for (let i = 0; i < data.length; i += 64 * 1024) {
    await new Promise<void>((resolve, reject) => {
      stream.write(data.subarray(i, i + 64 * 1024), (e) => (e ? reject(e) : resolve()));
    });
  }
}

/** waits (polling the service) until `n` blocks of `name` are staged and not committed */
async function stagedBlocks(c: ContainerClient, name: string, n: number): Promise<void> {
  for (;;) {
    const list = await c
      .getBlockBlobClient(name)
      .getBlockList('uncommitted')
      .catch(() => undefined);
    if ((list?.uncommittedBlocks?.length ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------- tests

void describe('azblob: upstream quirks (storage-2.1.2.md §9)', () => {
  void it('declares the capabilities of an object store and has no optional methods', () => {
    const fs = sharedKeyFs('any');
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
    for (const m of ['openFile', 'symlink', 'readlink', 'setStat', 'statVfs'] as const) {
      assert.equal(optional[m], undefined, m);
    }
  });

  void it('1: mkdir of an existing file or directory succeeds without a change', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    await put(fs, '/f.txt', 'content');
    await fs.mkdir('/d');
    await fs.mkdir('/f.txt');
    await fs.mkdir('/d');
    assert.equal((await get(fs, '/f.txt')).toString(), 'content');
    assert.equal((await fs.stat('/f.txt')).isFile, true);
    // the marker: named like the directory (no trailing slash), empty, with the directory type
    const marker = await c.getBlobClient('d').getProperties();
    assert.equal(marker.contentType, DIR_CONTENT_TYPE);
    assert.equal(marker.contentLength, 0);
    assert.equal(await c.getBlobClient('d/').exists(), false);
  });

  void it('2: rename and remove of a non-empty directory are refused', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    await fs.mkdir('/full');
    await put(fs, '/full/child', 'x');
    const e1 = await rejectsWith(fs.rename('/full', '/other'), 'NOT_EMPTY', 'rename');
    assert.match(e1.message, /cannot rename non empty directory: "\/full"/);
    const e2 = await rejectsWith(fs.remove('/full', { dir: true }), 'NOT_EMPTY', 'remove');
    assert.match(e2.message, /cannot remove non empty directory: "\/full"/);
    assert.equal((await get(fs, '/full/child')).toString(), 'x');
    await assert.rejects(fs.stat('/other'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
    // a file cannot replace a directory; an empty directory is renamed by copying its marker
    await put(fs, '/file', 'f');
    await rejectsWith(fs.rename('/file', '/full'), 'INVALID_INPUT', 'file onto dir');
    await fs.mkdir('/empty');
    await fs.rename('/empty', '/moved');
    assert.equal((await fs.stat('/moved')).isDirectory, true);
    assert.equal(await c.getBlobClient('empty').exists(), false);
  });

  void it('3: a missing directory lists as empty and its removal succeeds', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    assert.deepEqual(await listAll(fs, '/nope'), []);
    await fs.remove('/nope', { dir: true });
    await rejectsWith(fs.remove('/nope'), 'NOT_FOUND', 'file remove');
  });

  void it('4: implicit directories report mtime = now and size 0', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    await put(fs, '/a/b/c.bin', pattern(10));
    const before = Date.now();
    const st = await fs.stat('/a');
    const listed = (await listAll(fs, '/a'))[0];
    assert.ok(listed);
    for (const i of [st, listed]) {
      assert.equal(i.isDirectory, true);
      assert.equal(i.size, 0);
      // "now": taken during the call, not a stored time
      assert.ok(i.mtime.getTime() >= before - 1000, i.mtime.toISOString());
    }
    assert.equal(listed.name, 'b');
  });

  void it('5: opening a missing blob fails at open, not on the first read', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    await rejectsWith(fs.openRead('/missing'), 'NOT_FOUND', 'openRead');
    await rejectsWith(fs.openRead('/missing', { offset: 5 }), 'NOT_FOUND', 'openRead at 5');
    await fs.mkdir('/dir');
    await rejectsWith(fs.openRead('/dir'), 'INVALID_INPUT', 'openRead of a directory');
  });

  void it('resume and atomic uploads are refused before anything is written', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    await put(fs, '/f', 'abc');
    await rejectsWith(fs.openWrite('/f', { offset: 3 }), 'OP_UNSUPPORTED', 'resume');
    await rejectsWith(fs.openWrite('/f', { atomic: true }), 'OP_UNSUPPORTED', 'atomic');
    assert.equal((await get(fs, '/f')).toString(), 'abc');
  });
});

void describe('azblob: error mapping', () => {
  void it('a missing container is NOT_FOUND for every operation, never naming the container', async () => {
    const fs = sharedKeyFs('no-such-container');
    for (const [what, op] of everyOperation(fs)) {
      const e = await rejectsWith(op(), 'NOT_FOUND', what);
      assert.doesNotMatch(e.message, /no-such-container/, what);
    }
  });

  void it('a missing blob is NOT_FOUND with the client-visible path', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName, { displayPrefix: '/vfolder' });
    const e = await rejectsWith(fs.stat('/x/y'), 'NOT_FOUND', 'stat');
    assert.match(e.message, /"\/vfolder\/x\/y": no such file or directory/);
    await rejectsWith(fs.rename('/x', '/z'), 'NOT_FOUND', 'rename');
    await rejectsWith(fs.remove('/x'), 'NOT_FOUND', 'remove');
  });

  void it('a wrong account key is PERMISSION_DENIED and never shows up in a message', async () => {
    const c = await newContainer();
    const good = sharedKeyFs(c.containerName);
    await put(good, '/f', 'x');
    const wrongKey = randomBytes(64).toString('base64');
    const target = containerClientFor(
      { container: c.containerName, endpoint: az.endpoint, useEmulator: true },
      { accountName: az.account, accountKey: wrongKey },
    );
    const fs = new AzureBlobFs(target);
    for (const [what, op] of everyOperation(fs)) {
      const e = await rejectsWith(op(), 'PERMISSION_DENIED', what);
      assert.ok(!e.message.includes(wrongKey) && !e.message.includes(az.key), what);
      assert.doesNotMatch(e.message, new RegExp(c.containerName), what);
      // the native error is kept for the log, without the key either
      assert.ok(e.cause !== undefined, `${what}: cause kept`);
      assert.ok(!JSON.stringify(e.cause).includes(wrongKey), `${what}: cause without the key`);
    }
    assert.equal((await get(good, '/f')).toString(), 'x');
  });

  void it('an aborted signal fails before any request', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName);
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(fs.stat('/f', { signal: ac.signal }), 'ABORTED', 'stat');
    await rejectsWith(fs.openRead('/f', { signal: ac.signal }), 'ABORTED', 'openRead');
    await rejectsWith(fs.openWrite('/f', { signal: ac.signal }), 'ABORTED', 'openWrite');
    await rejectsWith(fs.usage('/', { signal: ac.signal }), 'ABORTED', 'usage');
  });
});

void describe('azblob: block uploads', () => {
  void it('a ~20 MiB upload goes in 4 MiB blocks with upstream ids, at most 2 in flight', async () => {
    const c = await newContainer();
    const total = 20 * MIB + 12345;
    const blocks = Math.ceil(total / (4 * MIB));
    // each block's answer waits until the next block has arrived: a second block must be in
    // flight while the first one is pending, so the observed maximum is exactly the limit
    const arrived = new Map<string, () => void>();
    const waits = new Map<string, Promise<void>>();
    for (let i = 1; i <= blocks; i++) {
      waits.set(blockId(i), new Promise<void>((r) => arrived.set(blockId(i), r)));
    }
    const proxy = await startAzuriteProxy(az, async (r) => {
      if (r.comp !== 'block') return;
      arrived.get(r.blockid)?.();
      const n = Buffer.from(r.blockid, 'base64').readUInt32LE(0);
      if (n < blocks) await waits.get(blockId(n + 1));
    });
    try {
      const fs = sharedKeyFs(
        c.containerName,
        { partSize: 4 * MIB, concurrency: 2 },
        proxy.endpoint,
      );
      const data = pattern(total, 3);
      await put(fs, '/dir/big.bin', data);
      assert.equal(proxy.maxBlocksInFlight(), 2);
      const list = await c.getBlockBlobClient('dir/big.bin').getBlockList('committed');
      assert.deepEqual(
        list.committedBlocks?.map((b) => [b.name, b.size]),
        Array.from({ length: blocks }, (_, i) => [
          blockId(i + 1),
          i < blocks - 1 ? 4 * MIB : total - (blocks - 1) * 4 * MIB,
        ]),
      );
      assert.equal(blockId(1), 'AQAAAAAAAAA=');
      assert.equal(sha(await get(fs, '/dir/big.bin')), sha(data));
      assert.equal((await fs.stat('/dir/big.bin')).size, total);
    } finally {
      await proxy.close();
    }
  });

  void it('an empty upload commits an empty blob; Content-Type by extension; access tier', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName, { accessTier: 'Cool' });
    await put(fs, '/empty.txt', '');
    await put(fs, '/page.html', '<p>');
    await put(fs, '/noext', 'x');
    const types = loadPlatformTypes();
    const empty = await c.getBlobClient('empty.txt').getProperties();
    assert.equal(empty.contentLength, 0);
    assert.match(empty.contentType ?? '', /^text\/plain/);
    assert.equal(empty.contentType, typeByExtension('empty.txt', types));
    assert.equal(empty.accessTier, 'Cool');
    assert.equal(
      (await c.getBlobClient('page.html').getProperties()).contentType,
      typeByExtension('page.html', types),
    );
    assert.equal(
      (await c.getBlobClient('noext').getProperties()).contentType,
      'application/octet-stream',
    );
    assert.equal((await fs.stat('/empty.txt')).isFile, true);
  });

  void it('an aborted upload commits nothing: no new blob, the old content kept', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName, { partSize: MIB, concurrency: 2 });
    await put(fs, '/old', 'old content');
    await put(fs, '/old2', 'old content 2');
    for (const [target, how] of [
      ['/new', 'destroy'],
      ['/old', 'destroy'],
      ['/old2', 'signal'],
    ] as const) {
      const ac = new AbortController();
      const up = await fs.openWrite(target, { signal: ac.signal });
      await writeSome(up.stream, pattern(3 * MIB + 5));
      // the first blocks reached the service before the abort
      await stagedBlocks(c, target.slice(1), 2);
      if (how === 'destroy') up.stream.destroy(new Error('client went away'));
      else ac.abort();
      await rejectsWith(up.done, 'ABORTED', `${target} ${how}`);
    }
    assert.equal(await c.getBlobClient('new').exists(), false);
    await rejectsWith(fs.stat('/new'), 'NOT_FOUND', 'no blob after an abort');
    assert.equal((await get(fs, '/old')).toString(), 'old content');
    assert.equal((await get(fs, '/old2')).toString(), 'old content 2');
    const names = (await listAll(fs, '/')).map((i) => i.name).sort();
    assert.deepEqual(names, ['old', 'old2']);
  });

  void it('a failing block fails the upload and commits nothing', async () => {
    const c = await newContainer();
    // the account key is right, but this SAS cannot write: the first block fails
    const sas = generateBlobSASQueryParameters(
      {
        containerName: c.containerName,
        permissions: ContainerSASPermissions.parse('rl'),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    ).toString();
    const fs = new AzureBlobFs({
      ...containerClientFor({}, { sasUrl: `${c.url}?${sas}` }),
      partSize: MIB,
    });
    const up = await fs.openWrite('/f');
    const written = writeSome(up.stream, pattern(5 * MIB));
    await rejectsWith(up.done, 'PERMISSION_DENIED', 'done');
    await assert.rejects(written);
    assert.equal(await c.getBlobClient('f').exists(), false);
  });
});

void describe('azblob: reads and listings', () => {
  void it('ranged reads from any offset; empty at and past the end', async () => {
    const c = await newContainer();
    const fs = sharedKeyFs(c.containerName, { partSize: MIB });
    const size = 2 * MIB + 777;
    const data = pattern(size, 5);
    await put(fs, '/r.bin', data);
    for (const off of [0, 1, MIB - 1, MIB, MIB + 1, size - 1, size, size + 1, size * 2]) {
      assert.ok((await get(fs, '/r.bin', off)).equals(data.subarray(off)), `offset ${off}`);
    }
    await put(fs, '/empty', '');
    assert.equal((await get(fs, '/empty', 0)).length, 0);
    assert.equal((await get(fs, '/empty', 3)).length, 0);
    await rejectsWith(fs.openRead('/r.bin', { offset: -1 }), 'INVALID_INPUT', 'negative');
  });

  void it('a download destroyed unread, or after one chunk, releases its connection', async () => {
    const c = await newContainer();
    // large enough that the socket buffers cannot hold it: an unread answer stays open
    const data = pattern(16 * MIB, 9);
    await c.getBlockBlobClient('large').uploadData(data);
    const proxy = await startAzuriteProxy(az);
    try {
      const fs = sharedKeyFs(c.containerName, {}, proxy.endpoint);
      const unread = await fs.openRead('/large');
      const partly = await fs.openRead('/large', { offset: 100 });
      const first = (await partly[Symbol.asyncIterator]().next()) as IteratorResult<Buffer>;
      assert.ok(first.value.equals(data.subarray(100, 100 + first.value.length)));
      assert.equal(proxy.openDownloads(), 2);
      unread.destroy();
      partly.destroy();
      while (proxy.openDownloads() > 0) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await proxy.close();
    }
  });

  void it('lists 2,000 entries across pages: files, marker dirs and implicit dirs, once each', async () => {
    const c = await newContainer();
    const proxy = await startAzuriteProxy(az);
    try {
      const fs = sharedKeyFs(c.containerName, { pageSize: 300 }, proxy.endpoint);
      const expected = new Map<string, boolean>();
      const blobs: [string, Buffer | undefined][] = [];
      for (let i = 0; i < 1980; i++) {
        expected.set(`f-${String(i).padStart(4, '0')}`, false);
        blobs.push([`big/f-${String(i).padStart(4, '0')}`, pattern(i % 13, i)]);
      }
      for (let i = 0; i < 10; i++) {
        // a marker with contents below it: listed once
        expected.set(`m-${i}`, true);
        blobs.push([`big/m-${i}`, undefined], [`big/m-${i}/inner`, Buffer.from('i')]);
        // contents only: an implicit directory
        expected.set(`i-${i}`, true);
        blobs.push([`big/i-${i}/inner`, Buffer.from('i')]);
      }
      // written directly (fast), as another SFTPGo would have
      for (let i = 0; i < blobs.length; i += 50) {
        await Promise.all(
          blobs.slice(i, i + 50).map(([name, data]) =>
            data === undefined
              ? c.getBlockBlobClient(name).commitBlockList([], {
                  blobHTTPHeaders: { blobContentType: DIR_CONTENT_TYPE },
                })
              : c.getBlockBlobClient(name).upload(data, data.length),
          ),
        );
      }
      proxy.log.length = 0;
      const entries = await listAll(fs, '/big');
      const pages = proxy.log.filter((r) => r.comp === 'list').length;
      assert.ok(pages >= 7, `listed in ${pages} pages`);
      assert.equal(entries.length, expected.size);
      const seen = new Map(entries.map((e) => [e.name, e]));
      assert.equal(seen.size, expected.size, 'no duplicates');
      for (const [name, isDir] of expected) {
        const e = seen.get(name);
        assert.ok(e, name);
        assert.equal(e.isDirectory, isDir, name);
        if (!isDir) assert.equal(e.size, Number(name.slice(2)) % 13, name);
      }
      // usage: files only, markers skipped
      const u = await fs.usage('/big');
      let bytes = 0;
      for (let i = 0; i < 1980; i++) bytes += i % 13;
      assert.deepEqual(u, { files: 1980 + 20, bytes: bytes + 20 });
    } finally {
      await proxy.close();
    }
  });
});

void describe('azblob: key prefix and SAS URLs', () => {
  void it('a key prefix isolates its tree', async () => {
    const c = await newContainer();
    const root = sharedKeyFs(c.containerName);
    const a = sharedKeyFs(c.containerName, { keyPrefix: 'users/a/' });
    // normalized: the trailing slash is added
    const b = sharedKeyFs(c.containerName, { keyPrefix: 'users/b' });
    await put(a, '/f', 'from a');
    await put(b, '/f', 'from b');
    await put(a, '/../../escape', 'still a');
    await a.mkdir('/d');
    assert.equal((await get(root, '/users/a/f')).toString(), 'from a');
    assert.equal((await get(root, '/users/b/f')).toString(), 'from b');
    assert.equal((await get(root, '/users/a/escape')).toString(), 'still a');
    assert.deepEqual((await listAll(a, '/')).map((i) => i.name).sort(), ['d', 'escape', 'f']);
    assert.deepEqual(
      (await listAll(b, '/')).map((i) => i.name),
      ['f'],
    );
    assert.deepEqual(await a.usage('/'), { files: 2, bytes: 13 });
    assert.equal((await a.stat('/')).isDirectory, true);
    await a.rename('/f', '/g');
    assert.equal((await get(root, '/users/a/g')).toString(), 'from a');
    assert.equal((await get(b, '/f')).toString(), 'from b');
    assert.equal(await c.getBlobClient('users/a/d').exists(), true);
    assert.throws(() => sharedKeyFs(c.containerName, { keyPrefix: '/abs/' }), /cannot start with/);
  });

  void it('a container SAS URL, an account SAS URL, and their refusals', async () => {
    const c = await newContainer();
    await sharedKeyFs(c.containerName).mkdir('/shared');
    const containerSas = `${c.url}?${generateBlobSASQueryParameters(
      {
        containerName: c.containerName,
        permissions: ContainerSASPermissions.parse('racwdl'),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    ).toString()}`;
    const accountSas = `${az.serviceUrl}?${generateAccountSASQueryParameters(
      {
        permissions: AccountSASPermissions.parse('rwdlac'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    ).toString()}`;
    const viaContainer = new AzureBlobFs(containerClientFor({}, { sasUrl: containerSas }));
    // the container's own properties are out of reach of a container SAS: the root still stats
    assert.equal((await viaContainer.stat('/')).isDirectory, true);
    await put(viaContainer, '/shared/s.txt', 'through a SAS');
    await viaContainer.rename('/shared/s.txt', '/shared/t.txt');
    assert.deepEqual(
      (await listAll(viaContainer, '/shared')).map((i) => i.name),
      ['t.txt'],
    );
    const viaAccount = new AzureBlobFs(
      containerClientFor({ container: c.containerName }, { sasUrl: accountSas }),
    );
    assert.equal((await viaAccount.stat('/')).isDirectory, true);
    assert.equal((await get(viaAccount, '/shared/t.txt')).toString(), 'through a SAS');
    await viaAccount.remove('/shared/t.txt');
    await rejectsWith(viaContainer.stat('/shared/t.txt'), 'NOT_FOUND', 'removed');

    assert.throws(
      () => containerClientFor({ container: 'other' }, { sasUrl: containerSas }),
      (e: unknown) =>
        SftpgoError.is(e, 'INVALID_INPUT') &&
        e.message ===
          `container name in SAS URL "${c.containerName}" and container provided "other" do not match` &&
        e.cause === undefined,
    );
    assert.throws(
      () => containerClientFor({}, { sasUrl: accountSas }),
      /container is required with this SAS URL/,
    );
    assert.throws(
      () => containerClientFor({}, { sasUrl: 'not a url sig=secret' }),
      (e: unknown) =>
        SftpgoError.is(e, 'INVALID_INPUT') &&
        !e.message.includes('secret') &&
        e.cause === undefined,
    );
  });
});

void describe('azblob: registry entry', () => {
  const plain = (payload: string): { status: 'Plain'; payload: string } => ({
    status: 'Plain',
    payload,
  });
  const decryptSecret = (s: { payload?: string }): Promise<string> =>
    Promise.resolve(s.payload ?? '');

  void it('builds the backend from an azblobconfig, decrypting the key with the KMS', async () => {
    const c = await newContainer();
    const seen: string[] = [];
    const fs = await createFs(
      {
        provider: 3,
        azblobconfig: {
          container: c.containerName,
          account_name: az.account,
          account_key: { status: 'Secretbox', payload: 'encrypted' },
          endpoint: az.endpoint,
          use_emulator: true,
          key_prefix: 'pre/',
          upload_part_size: 1,
          upload_concurrency: 3,
        },
      },
      {
        root: '/nonexistent-home',
        decryptSecret: (s) => {
          seen.push(s.payload ?? '');
          return Promise.resolve(az.key);
        },
      },
    );
    assert.deepEqual(seen, ['encrypted']);
    assert.equal(fs.kind, 'azblob');
    await put(fs, '/f', pattern(2 * MIB + 1));
    const blocks = await c.getBlockBlobClient('pre/f').getBlockList('committed');
    assert.deepEqual(
      blocks.committedBlocks?.map((b) => b.size),
      [MIB, MIB, 1],
      'upload_part_size is in MiB',
    );
    await fs.close();
  });

  void it('builds the backend from a SAS URL secret', async () => {
    const c = await newContainer();
    const sas = `${c.url}?${generateBlobSASQueryParameters(
      {
        containerName: c.containerName,
        permissions: ContainerSASPermissions.parse('racwdl'),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    ).toString()}`;
    const fs = await createFs(
      { provider: 3, azblobconfig: { sas_url: plain(sas) } },
      { root: '/h', decryptSecret },
    );
    await put(fs, '/via-sas', 'ok');
    assert.equal((await c.getBlobClient('via-sas').downloadToBuffer()).toString(), 'ok');
  });

  void it('refuses to start without the KMS or with incomplete credentials', async () => {
    const base = {
      container: 'c',
      account_name: az.account,
      endpoint: az.endpoint,
      use_emulator: true,
    };
    await assert.rejects(
      createFs(
        { provider: 3, azblobconfig: { ...base, account_key: plain(az.key) } },
        { root: '/h' },
      ),
      (e: unknown) => SftpgoError.is(e) && /without the KMS/.test(e.message),
    );
    await assert.rejects(
      createFs({ provider: 3, azblobconfig: { container: 'c' } }, { root: '/h', decryptSecret }),
      (e: unknown) =>
        SftpgoError.is(e, 'INVALID_INPUT') && /credentials cannot be empty/.test(e.message),
    );
    await assert.rejects(
      createFs(
        {
          provider: 3,
          azblobconfig: { ...base, endpoint: '127.0.0.1:10000', account_key: plain(az.key) },
        },
        { root: '/h', decryptSecret },
      ),
      (e: unknown) =>
        SftpgoError.is(e, 'INVALID_INPUT') &&
        /must include the scheme/.test(e.message) &&
        !e.message.includes(az.key),
    );
  });
});
