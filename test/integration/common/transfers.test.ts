import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Connection } from '../../../src/common/index.js';
import { SftpgoError } from '../../../src/errors/index.js';
import { code, exists, makeEnv, upload, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

async function temps(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((n) => n.startsWith('.sftpgo-upload.'));
}

void describe('upload modes on abort', () => {
  void it('mode 0 (direct): what was written stays', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 0 } });
    await upload(c, '/f.txt', 'old content');
    const t = await c.openUpload('/f.txt');
    await t.write(0, Buffer.from('new'));
    await t.abort(new SftpgoError('ABORTED', 'client gone'));
    assert.equal(await fsp.readFile(path.join(env.home, 'f.txt'), 'utf8'), 'new');
    assert.deepEqual(env.quota.user(), { size: 3, files: 1 });
    await assert.rejects(t.close(), code('ABORTED'));
  });

  void it('mode 1 (atomic): the old file is intact, the temp file removed', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    await upload(c, '/f.txt', 'old content');
    const t = await c.openUpload('/f.txt');
    await t.write(0, Buffer.from('new data that will be dropped'));
    assert.equal(await fsp.readFile(path.join(env.home, 'f.txt'), 'utf8'), 'old content');
    assert.equal((await temps(env.home)).length, 1);
    await t.abort();
    assert.equal(await fsp.readFile(path.join(env.home, 'f.txt'), 'utf8'), 'old content');
    assert.deepEqual(await temps(env.home), []);
    assert.deepEqual(env.quota.user(), { size: 11, files: 1 });
  });

  void it('mode 1 (atomic): a new file is absent until close, then appears', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    const t = await c.openUpload('/n.txt');
    await t.write(0, Buffer.from('hello'));
    assert.equal(await exists(path.join(env.home, 'n.txt')), false);
    await t.close();
    assert.equal(await fsp.readFile(path.join(env.home, 'n.txt'), 'utf8'), 'hello');
    assert.deepEqual(await temps(env.home), []);
  });

  void it('mode 1 (atomic): an aborted resume restores the original', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    await upload(c, '/r.txt', 'base');
    const t = await c.openUpload('/r.txt', { mode: 'append' });
    await t.write(4, Buffer.from('+tail'));
    await t.abort();
    assert.equal(await fsp.readFile(path.join(env.home, 'r.txt'), 'utf8'), 'base');
    assert.deepEqual(env.quota.user(), { size: 4, files: 1 });
  });

  void it('mode 2 (atomic + resume): the partial file is kept at the target, resumable', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 2 } });
    const t = await c.openUpload('/p.bin');
    await t.write(0, Buffer.from('first half'));
    await t.abort();
    assert.equal(await fsp.readFile(path.join(env.home, 'p.bin'), 'utf8'), 'first half');
    assert.deepEqual(await temps(env.home), []);
    assert.deepEqual(env.quota.user(), { size: 10, files: 1 });
    const r = await c.openUpload('/p.bin', { mode: 'resume', offset: 10 });
    await assert.rejects(
      r.write(5, Buffer.from('x')),
      code('INVALID_INPUT', 'minimum valid value: 10'),
    );
    const r2 = await c.openUpload('/p.bin', { mode: 'resume', offset: 10 });
    await r2.write(10, Buffer.from(' second half'));
    await r2.close();
    assert.equal(
      await fsp.readFile(path.join(env.home, 'p.bin'), 'utf8'),
      'first half second half',
    );
    assert.deepEqual(env.quota.user(), { size: 22, files: 1 });
  });

  void it('closing the connection aborts its transfers', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    c.register();
    const t = await c.openUpload('/c.txt');
    await t.write(0, Buffer.from('partial'));
    const d = await (async () => {
      await upload(c, '/d.txt', 'download me');
      return c.openDownload('/d.txt');
    })();
    assert.equal(c.activeTransfers().length, 2);
    await c.close();
    assert.equal(c.activeTransfers().length, 0);
    assert.equal(await exists(path.join(env.home, 'c.txt')), false);
    await assert.rejects(t.write(7, Buffer.from('more')), code('ABORTED'));
    await assert.rejects(d.read(0, 4), code('ABORTED'));
    await assert.rejects(c.stat('/d.txt'), code('ABORTED'));
  });
});

void describe('whole-file uploads (WebDAV PUT, web client)', () => {
  const whole = { mode: 'truncate', wholeFile: true } as const;

  /** a whole-file upload of `text` that completes; resolves to the file's content afterwards */
  async function completes(c: Connection, vpath: string, text: string): Promise<string> {
    const t = await c.openUpload(vpath, whole);
    await t.write(0, Buffer.from(text));
    await t.close();
    return fsp.readFile(path.join(env.home, vpath), 'utf8');
  }

  void it('mode 0: a new file is written in place, and removed when the upload fails', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 0 } });
    const t = await c.openUpload('/n.txt', whole);
    await t.write(0, Buffer.from('partial'));
    // in place, as SFTP and FTP write in mode 0: no temp file, no rename, no sync
    assert.equal(await fsp.readFile(path.join(env.home, 'n.txt'), 'utf8'), 'partial');
    assert.deepEqual(await temps(env.home), []);
    await t.abort(new SftpgoError('ABORTED', 'client gone'));
    assert.equal(await exists(path.join(env.home, 'n.txt')), false);
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
    await assert.rejects(t.close(), code('ABORTED'));
    // and kept when it completes
    assert.equal(await completes(c, '/n.txt', 'complete'), 'complete');
    assert.deepEqual(env.quota.user(), { size: 8, files: 1 });
  });

  void it('mode 0: an existing file is replaced atomically, kept intact when the upload fails', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 0 } });
    await upload(c, '/f.txt', 'old content');
    const t = await c.openUpload('/f.txt', whole);
    await t.write(0, Buffer.from('new'));
    assert.equal(await fsp.readFile(path.join(env.home, 'f.txt'), 'utf8'), 'old content');
    assert.equal((await temps(env.home)).length, 1);
    await t.abort();
    assert.equal(await fsp.readFile(path.join(env.home, 'f.txt'), 'utf8'), 'old content');
    assert.deepEqual(await temps(env.home), []);
    assert.deepEqual(env.quota.user(), { size: 11, files: 1 });
    assert.equal(await completes(c, '/f.txt', 'new'), 'new');
    assert.deepEqual(env.quota.user(), { size: 3, files: 1 });
  });

  void it('mode 2: a failed upload of a new file keeps no partial file', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 2 } });
    const t = await c.openUpload('/p.bin', whole);
    await t.write(0, Buffer.from('first half'));
    assert.equal(await exists(path.join(env.home, 'p.bin')), false);
    await t.abort();
    assert.equal(await exists(path.join(env.home, 'p.bin')), false);
    assert.deepEqual(await temps(env.home), []);
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });

  void it('mode 0: a new file over the quota is removed', async () => {
    const c = await env.connect(env.user({ quota_size: 10 }), { config: { upload_mode: 0 } });
    const t = await c.openUpload('/big.bin', whole);
    await assert.rejects(t.write(0, Buffer.alloc(20)), code('QUOTA_EXCEEDED'));
    await assert.rejects(t.close(), code('QUOTA_EXCEEDED'));
    assert.equal(await exists(path.join(env.home, 'big.bin')), false);
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });
});

void describe('positional uploads', () => {
  void it('many concurrent positional writes land right', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    const data = randomBytes(64 * 1024 * 20);
    const t = await c.openUpload('/big.bin');
    const chunk = 32 * 1024;
    const writes: Promise<void>[] = [];
    for (let off = 0; off < data.length; off += chunk)
      writes.push(t.write(off, data.subarray(off, off + chunk)));
    await Promise.all(writes);
    await t.close();
    const got = await fsp.readFile(path.join(env.home, 'big.bin'));
    assert.ok(got.equals(data));
    assert.deepEqual(env.quota.user(), { size: data.length, files: 1 });
  });

  void it('inplace writes keep the rest of the content', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    await upload(c, '/ip.txt', 'abcdefgh');
    const t = await c.openUpload('/ip.txt', { mode: 'inplace' });
    await t.write(2, Buffer.from('XY'));
    await t.close();
    assert.equal(await fsp.readFile(path.join(env.home, 'ip.txt'), 'utf8'), 'abXYefgh');
    assert.deepEqual(env.quota.user(), { size: 8, files: 1 });
  });

  void it('setstat on a file being uploaded: size at once, mode and times after close', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    const t = await c.openUpload('/s.txt');
    await t.write(0, Buffer.from('0123456789'));
    const mtime = new Date('2019-09-09T09:09:09Z');
    await c.setStat('/s.txt', { size: 4, mode: 0o600, mtime });
    await t.write(4, Buffer.from('AB'));
    await t.close();
    const p = path.join(env.home, 's.txt');
    assert.equal(await fsp.readFile(p, 'utf8'), '0123AB');
    const st = await fsp.stat(p);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.mtime.getTime(), mtime.getTime());
    assert.deepEqual(env.quota.user(), { size: 6, files: 1 });
  });

  void it('refuses uploading onto a directory', async () => {
    const c = await env.connect(env.user());
    await c.mkdir('/adir');
    await assert.rejects(c.openUpload('/adir'), code('INVALID_INPUT'));
    await assert.rejects(c.openDownload('/adir'), code('INVALID_INPUT'));
  });
});

void describe('stream transfers', () => {
  void it('writable(): pipeline completes once the data is committed', async () => {
    const c = await env.connect(env.user({ upload_bandwidth: 100000 }), {
      config: { upload_mode: 1 },
    });
    const t = await c.openUpload('/stream.txt');
    await pipeline(
      Readable.from([Buffer.from('one '), Buffer.from('two '), Buffer.from('three')]),
      t.writable(),
    );
    assert.equal(await fsp.readFile(path.join(env.home, 'stream.txt'), 'utf8'), 'one two three');
    assert.deepEqual(env.quota.user(), { size: 13, files: 1 });
    assert.equal(c.activeTransfers().length, 0);
  });

  void it('a failing source aborts the upload (atomic: no file)', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    const t = await c.openUpload('/broken.txt');
    async function* src(): AsyncGenerator<Buffer> {
      yield Buffer.from('some');
      throw new Error('network reset');
    }
    await assert.rejects(pipeline(Readable.from(src()), t.writable()), /network reset/);
    await assert.rejects(t.close());
    assert.equal(await exists(path.join(env.home, 'broken.txt')), false);
    assert.deepEqual(await temps(env.home), []);
  });

  void it('download stream from an offset, counted', async () => {
    const c = await env.connect(env.user({ download_bandwidth: 100000 }));
    await upload(c, '/dl.txt', 'hello world');
    const d = await c.openDownload('/dl.txt', { offset: 6 });
    assert.equal(d.fileSize, 11);
    const parts: Buffer[] = [];
    await pipeline(
      d.stream(),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          parts.push(chunk);
          cb();
        },
      }),
    );
    assert.equal(Buffer.concat(parts).toString(), 'world');
    assert.equal(c.activeTransfers()[0]?.size, 5);
    await d.close();
    assert.equal(c.activeTransfers().length, 0);
  });
});

void describe('DownloadTransfer.sendTo', () => {
  void it('writes the file from the offset through backpressure, then ends the destination', async () => {
    const c = await env.connect(env.user());
    const data = randomBytes(700 * 1024); // three 256 KiB reads
    await fsp.writeFile(path.join(env.home, 'big.bin'), data);
    const d = await c.openDownload('/big.bin', { offset: 1000 });
    const parts: Buffer[] = [];
    let ended = false;
    const dest = new Writable({
      highWaterMark: 1024, // every write() answers false: sendTo waits for 'drain'
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        setImmediate(cb);
      },
      final(cb) {
        ended = true;
        cb();
      },
    });
    await d.sendTo(dest);
    assert.equal(ended, true);
    assert.ok(Buffer.concat(parts).equals(data.subarray(1000)));
    assert.equal(d.size, data.length - 1000);
    await d.close();
  });

  void it('rejects when the destination closes before the end, or fails', async () => {
    const c = await env.connect(env.user());
    await fsp.writeFile(path.join(env.home, 'two.bin'), randomBytes(600 * 1024));
    const closing = await c.openDownload('/two.bin');
    const early = new Writable({
      write(_chunk: Buffer, _e, _cb) {
        setImmediate(() => early.destroy()); // the peer goes away while the first chunk is sent
      },
    });
    await assert.rejects(closing.sendTo(early), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    await closing.abort();
    const failing = await c.openDownload('/two.bin');
    const broken = new Writable({
      write(_chunk: Buffer, _e, cb) {
        cb(new Error('connection reset'));
      },
    });
    await assert.rejects(failing.sendTo(broken), /connection reset/);
    assert.equal(broken.destroyed, true);
    await failing.abort();
  });

  void it('a read error rejects with it and destroys the destination', async () => {
    const c = await env.connect(env.user());
    await fsp.writeFile(path.join(env.home, 'gone.bin'), randomBytes(1024));
    const d = await c.openDownload('/gone.bin');
    await d.abort(new SftpgoError('ABORTED', 'transfer aborted by the test'));
    const dest = new Writable({
      write(_chunk: Buffer, _e, cb) {
        cb();
      },
    });
    await assert.rejects(d.sendTo(dest), code('ABORTED'));
    assert.equal(dest.destroyed, true);
  });
});

void describe('lookupFile: one resolution for the look and the transfer', () => {
  /** counts the backend's resolutions of `c`'s root mount */
  function countResolutions(c: Connection): { n: number } {
    const fs = c.mounts.resolve('/').fs;
    const count = { n: 0 };
    const resolveFile = fs.resolveFile?.bind(fs);
    const stat = fs.stat.bind(fs);
    const openFile = fs.openFile?.bind(fs);
    assert.ok(resolveFile && openFile);
    Object.assign(fs, {
      resolveFile: (p: string) => (count.n++, resolveFile(p)),
      stat: (p: string) => (count.n++, stat(p)),
      openFile: (...args: Parameters<typeof openFile>) => (count.n++, openFile(...args)),
    });
    return count;
  }

  void it('a missing file, then an upload of it: created, resolved once', async () => {
    const c = await env.connect(env.user(), { config: { upload_mode: 1 } });
    const count = countResolutions(c);
    const looked = await c.lookupFile('/sub/../new.txt');
    assert.equal(looked.path, '/new.txt');
    assert.equal(looked.info, undefined);
    const t = await c.openUpload('/new.txt', { mode: 'truncate', looked });
    await t.write(0, Buffer.from('fresh'));
    await t.close();
    assert.equal(await fsp.readFile(path.join(env.home, 'new.txt'), 'utf8'), 'fresh');
    assert.equal(count.n, 1);
    assert.deepEqual(env.quota.user(), { size: 5, files: 1 });
  });

  void it('an existing file, then a download of it: attributes as stat, resolved once', async () => {
    const c = await env.connect(env.user());
    await upload(c, '/dl.txt', 'hello world');
    const count = countResolutions(c);
    const looked = await c.lookupFile('/dl.txt');
    assert.equal(looked.info?.size, 11);
    assert.equal(looked.info?.name, 'dl.txt');
    const d = await c.openDownload('/dl.txt', { looked });
    assert.equal((await d.read(0, 100))?.toString(), 'hello world');
    await d.close();
    assert.equal(count.n, 1);
  });

  void it('a look at another path is not used; stat permissions apply', async () => {
    const c = await env.connect(env.user({ permissions: { '/': ['*'], '/nolist': ['upload'] } }));
    await fsp.mkdir(path.join(env.home, 'nolist'), { recursive: true });
    await upload(c, '/a.txt', 'a');
    const looked = await c.lookupFile('/a.txt');
    const t = await c.openUpload('/b.txt', { mode: 'truncate', looked });
    await t.write(0, Buffer.from('b'));
    await t.close();
    assert.equal(await fsp.readFile(path.join(env.home, 'a.txt'), 'utf8'), 'a');
    assert.equal(await fsp.readFile(path.join(env.home, 'b.txt'), 'utf8'), 'b');
    await assert.rejects(c.lookupFile('/nolist/x.txt'), code('PERMISSION_DENIED'));
    assert.equal((await c.lookupFile('/nolist')).info?.isDirectory, true);
  });
});
