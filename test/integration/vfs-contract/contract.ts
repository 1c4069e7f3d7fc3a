/**
 * The VFS contract: one set of cases every storage backend (src/vfs/types.ts `Fs`) must pass,
 * registered once per backend with node:test. A backend's test file only builds its subject:
 *
 *     describeFsContract('s3', async () => {
 *       const server = await startEmulator();
 *       return {
 *         fs: new S3Fs({ ... }),
 *         listLeftovers: async () => (await listMultipartUploads()).map((u) => u.Key),
 *         cleanup: () => server.stop(),
 *       };
 *     });
 *
 * The factory runs once per suite (in `before`); every case works in its own directory below the
 * root, so the cases need no clean-up between them. After the last case the suite calls
 * `fs.close()`, then `cleanup()`.
 *
 * Cases branch on `fs.capabilities`, never on `fs.kind`. Where a capability is false the case
 * asserts that the operation throws OP_UNSUPPORTED, or that the optional method is absent
 * (types.ts: an optional method is present if and only if its flag is true), so every case
 * asserts something on every backend. Upstream quirks (storage-2.1.2.md §0 and §9) are pinned
 * through the flags: `emulatedDirs` (quirks 1 and 3, implicit directories), `rename` (quirk 2:
 * copy + delete backends refuse a non-empty directory with NOT_EMPTY, as its removal is
 * everywhere), `resume` (OP_UNSUPPORTED before anything is written), chmod/chown/chtimes/truncate
 * (quirk 9), and a backend's own quota sizes through the `usageBytes` hook; stat and list sizes
 * are always content sizes (crypt: plaintext, and usage() counts plaintext too, unlike upstream's
 * quirk 6).
 *
 * Where upstream backends differed, the contract asks for one behaviour from all of them:
 * - openRead of a missing file fails at open, not on the first read (upstream S3, quirk 5);
 * - reading at or past the end yields an empty stream, never an error (an S3 416);
 * - remove of a missing file is NOT_FOUND (S3 DeleteObject succeeds on a missing key);
 * - rename onto an existing file replaces it (upstream SFTP used plain SSH_FXP_RENAME, which
 *   OpenSSH refuses), and a file onto a directory is INVALID_INPUT (types.ts);
 * - openWrite with `atomic: true` where atomicUpload is false is OP_UNSUPPORTED (S3 ignored it);
 * - an aborted upload (stream destroyed or signal fired) never leaves partial data under the
 *   target's name: the old content (atomic, or resume: cut back to the resume offset) or, for a
 *   direct overwrite, the old content or no file; `done` settles only once that is so;
 * - an aborted signal fails openWrite and list with ABORTED; a listing whose signal fires before
 *   its end rejects, even when the rest of the entries were already fetched;
 * - usage() works everywhere (upstream cloud backends had no GetDirSize).
 */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { SftpgoError, type ErrorCode } from '../../../src/errors/index.js';
import {
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  type FileInfo,
  type Fs,
  type FsCapabilities,
  type SetStatAttrs,
  type Upload,
  type WriteStreamOptions,
} from '../../../src/vfs/index.js';

/** what a backend's factory hands to the suite */
export interface FsContractSubject {
  /** the backend under test, rooted at an empty location */
  fs: Fs;
  /**
   * Whatever an upload could leave behind that `fs.list` does not show, as names for the failure
   * message; empty when nothing is left: temp files outside the tree (local/crypt `temp_path`),
   * incomplete multipart uploads (S3), uncommitted blocks (Azure), unfinished resumable uploads
   * (GCS), remote temp files (SFTP). Temp files inside the tree may be reported here too; the
   * suite also checks that listings show none.
   */
  listLeftovers(): Promise<string[]>;
  /**
   * The bytes `usage()` counts for a regular file holding `size` bytes; default: `size`. (crypt
   * counts plaintext sizes, unlike upstream's scans of the encrypted size on disk.)
   */
  usageBytes?(size: number): number;
  /** removes what the factory created (temp dirs, buckets, servers); runs after `fs.close()` */
  cleanup(): Promise<void>;
}

export type FsContractFactory = () => Promise<FsContractSubject>;

interface Ctx {
  fs: Fs;
  caps: FsCapabilities;
  listLeftovers(): Promise<string[]>;
  usageBytes(size: number): number;
  /** the case's own directory, e.g. "/c07" */
  dir: string;
  /** a path in the case's directory */
  p(rel: string): string;
}

interface Case {
  name: string;
  run(t: Ctx): Promise<void>;
}

// ---------------------------------------------------------------- helpers

/** deterministic bytes without repetition (an AES-CTR key stream), so a misplaced range shows */
function pattern(n: number, seed = 0): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed);
  return createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), iv).update(Buffer.alloc(n));
}

function chunks(data: Buffer, size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out.length > 0 ? out : [data];
}

async function put(
  fs: Fs,
  p: string,
  data: Buffer | string,
  o?: WriteStreamOptions,
): Promise<void> {
  const buf = Buffer.from(data);
  const up = await fs.openWrite(p, o);
  await pipeline(Readable.from(chunks(buf)), up.stream);
  assert.deepEqual(await up.done, { bytes: buf.length }, `bytes written to ${p}`);
}

async function get(fs: Fs, p: string, offset?: number): Promise<Buffer> {
  const r = await fs.openRead(p, offset === undefined ? undefined : { offset });
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** byte-exact comparison that reports the first difference instead of dumping buffers */
function sameBytes(actual: Buffer, expected: Buffer | string, what: string): void {
  const exp = Buffer.from(expected);
  if (actual.equals(exp)) return;
  let i = 0;
  while (i < actual.length && i < exp.length && actual[i] === exp[i]) i++;
  assert.fail(`${what}: ${actual.length} bytes, expected ${exp.length}; first difference at ${i}`);
}

async function listAll(fs: Fs, dir: string, signal?: AbortSignal): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const i of fs.list(dir, signal ? { signal } : undefined)) out.push(i);
  return out;
}

async function names(fs: Fs, dir: string): Promise<string[]> {
  return (await listAll(fs, dir)).map((i) => i.name).sort();
}

async function rejectsWith(op: Promise<unknown>, code: ErrorCode, what = ''): Promise<void> {
  await assert.rejects(op, (e: unknown) => {
    assert.ok(SftpgoError.is(e), `${what}: expected an SftpgoError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}

async function missing(fs: Fs, p: string): Promise<void> {
  await rejectsWith(fs.stat(p), 'NOT_FOUND', `stat ${p}`);
}

function assertKind(i: FileInfo, kind: 'file' | 'dir' | 'link', what: string): void {
  const bits = { file: S_IFREG, dir: S_IFDIR, link: S_IFLNK }[kind];
  assert.equal(i.mode & S_IFMT, bits, `${what}: type bits of mode ${i.mode.toString(8)}`);
  assert.equal(i.isFile, kind === 'file', `${what}: isFile`);
  assert.equal(i.isDirectory, kind === 'dir', `${what}: isDirectory`);
  assert.equal(i.isSymlink, kind === 'link', `${what}: isSymlink`);
}

/** writes `data` chunk by chunk, each one taken by the backend before the next */
async function writeSome(up: Upload, data: Buffer): Promise<void> {
  for (const c of chunks(data)) {
    await new Promise<void>((resolve, reject) => {
      up.stream.write(c, (e) => (e ? reject(e) : resolve()));
    });
  }
}

async function noLeftovers(t: Ctx, what: string): Promise<void> {
  assert.deepEqual(await t.listLeftovers(), [], `${what}: leftovers`);
}

// ---------------------------------------------------------------- cases

const LIST_FILES = 1990;
const LIST_DIRS = 10;
/** more than one S3 part (5 MiB) and one Azure block (4 MiB): the upload has started remotely */
const PARTIAL = 6 * 1024 * 1024 + 1;
const RANGED_SIZE = 300 * 1024 + 123;
const OLD = 'old content';

const CASES: Case[] = [
  {
    name: 'writes, reads back byte-exact and overwrites with shorter content',
    async run({ fs, p }) {
      const long = pattern(100_000);
      await put(fs, p('f'), long);
      sameBytes(await get(fs, p('f')), long, 'first write');
      await put(fs, p('f'), 'short');
      sameBytes(await get(fs, p('f')), 'short', 'overwrite');
      assert.equal((await fs.stat(p('f'))).size, 5);
      await put(fs, p('empty'), '');
      assert.equal((await fs.stat(p('empty'))).size, 0);
      sameBytes(await get(fs, p('empty')), '', 'empty file');
    },
  },
  {
    name: 'appends at an offset where resume is supported, OP_UNSUPPORTED elsewhere',
    async run({ fs, caps, p }) {
      const f = p('f');
      await put(fs, f, 'abc');
      if (!caps.resume) {
        await rejectsWith(fs.openWrite(f, { offset: 3 }), 'OP_UNSUPPORTED', 'resume');
        sameBytes(await get(fs, f), 'abc', 'after a refused resume');
        return;
      }
      await put(fs, f, 'def', { offset: 3 });
      sameBytes(await get(fs, f), 'abcdef', 'appended');
      if (caps.atomicUpload) {
        await put(fs, f, 'gh', { offset: 6, atomic: true });
        sameBytes(await get(fs, f), 'abcdefgh', 'appended atomically');
      }
      const size = (await fs.stat(f)).size;
      for (const atomic of caps.atomicUpload ? [false, true] : [false]) {
        await rejectsWith(
          fs.openWrite(f, { offset: size + 10, atomic }),
          'INVALID_INPUT',
          'past end',
        );
        assert.equal(
          (await fs.stat(f)).size,
          size,
          'a refused resume past the end changes nothing',
        );
      }
    },
  },
  {
    name: 'ranged reads from any offset, empty at and past the end',
    async run({ fs, p }) {
      const data = pattern(RANGED_SIZE, 1);
      await put(fs, p('big'), data);
      const s = RANGED_SIZE;
      for (const off of [0, 1, 65535, 65536, 65537, s - 1, s, s + 1, s + 65536]) {
        sameBytes(await get(fs, p('big'), off), data.subarray(off), `offset ${off}`);
      }
      for (const bad of [-1, 1.5]) {
        await rejectsWith(fs.openRead(p('big'), { offset: bad }), 'INVALID_INPUT', `offset ${bad}`);
      }
    },
  },
  {
    name: 'positional reads and writes through openFile where randomAccess',
    async run(t) {
      const { fs, caps, p } = t;
      if (!caps.randomAccess || !fs.openFile) {
        assert.equal(caps.randomAccess, false, 'randomAccess is set but openFile is missing');
        assert.equal(fs.openFile, undefined, 'openFile without randomAccess');
        return;
      }
      const f = p('f');
      const w = await fs.openFile(f, { write: true, create: true, truncate: true });
      await w.write(4, Buffer.from('4567'));
      await w.writev(0, [Buffer.from('01'), Buffer.from('23')]);
      await w.write(10, Buffer.from('ab'));
      assert.equal((await w.stat()).size, 12);
      await w.commit();
      sameBytes(await get(fs, f), '01234567\0\0ab', 'written at positions');
      const r = await fs.openFile(f, { read: true });
      sameBytes((await r.read(2, 3)) ?? Buffer.alloc(0), '234', 'read(2, 3)');
      sameBytes((await r.read(10, 100)) ?? Buffer.alloc(0), 'ab', 'read across the end');
      assert.equal(await r.read(12, 5), null, 'read at the end');
      await r.close();
      await rejectsWith(
        fs.openFile(f, { write: true, create: true, exclusive: true }),
        'ALREADY_EXISTS',
      );
      await rejectsWith(fs.openFile(p('missing'), { read: true }), 'NOT_FOUND', 'read missing');
      await rejectsWith(fs.openFile(p('missing'), { write: true }), 'NOT_FOUND', 'write missing');
      const cut = await fs.openFile(f, { write: true });
      if (caps.truncate) await cut.truncate(3);
      else await rejectsWith(cut.truncate(3), 'OP_UNSUPPORTED', 'handle truncate');
      await cut.commit();
      sameBytes(await get(fs, f), caps.truncate ? '012' : '01234567\0\0ab', 'after truncate');
      if (caps.atomicUpload) {
        const before = await get(fs, f);
        const a = await fs.openFile(
          f,
          { write: true, create: true, truncate: true },
          { atomic: true },
        );
        await a.write(0, Buffer.from('new'));
        sameBytes(await get(fs, f), before, 'target while an atomic handle is open');
        await a.commit();
        sameBytes(await get(fs, f), 'new', 'after an atomic commit');
        await noLeftovers(t, 'atomic commit');
      }
    },
  },
  {
    name: `lists ${LIST_FILES + LIST_DIRS} entries exactly, and an abort signal cancels a listing`,
    async run({ fs, p, dir }) {
      const expected = new Map<string, { dir: boolean; size: number }>();
      for (let i = 0; i < LIST_DIRS; i++) expected.set(`d-${i}`, { dir: true, size: 0 });
      for (let i = 0; i < LIST_FILES; i++) expected.set(`f-${i}`, { dir: false, size: i % 17 });
      const todo = [...expected];
      for (let i = 0; i < todo.length; i += 32) {
        await Promise.all(
          todo
            .slice(i, i + 32)
            .map(([n, e]) => (e.dir ? fs.mkdir(p(n)) : put(fs, p(n), pattern(e.size, i)))),
        );
      }
      await put(fs, p('d-0/inner'), 'not listed in the parent');
      const entries = await listAll(fs, dir);
      const seen = new Map(entries.map((e) => [e.name, e]));
      assert.equal(entries.length, expected.size, 'entry count');
      assert.equal(seen.size, expected.size, 'no duplicate names');
      for (const [n, e] of expected) {
        const got = seen.get(n);
        assert.ok(got, `${n} is listed`);
        assertKind(got, e.dir ? 'dir' : 'file', n);
        if (!e.dir) assert.equal(got.size, e.size, `size of ${n}`);
      }

      await rejectsWith(listAll(fs, dir, AbortSignal.abort()), 'ABORTED', 'pre-aborted listing');
      const ac = new AbortController();
      let count = 0;
      const iterate = async (): Promise<void> => {
        for await (const _ of fs.list(dir, { signal: ac.signal })) {
          if (++count === 1) ac.abort();
        }
      };
      await rejectsWith(iterate(), 'ABORTED', 'listing aborted after the first entry');
    },
  },
  {
    name: 'mkdir, recursive mkdir, and mkdir of existing paths or below a missing parent',
    async run({ fs, caps, p }) {
      await fs.mkdir(p('a'));
      await fs.mkdir(p('x/y/z'), { recursive: true });
      for (const d of ['a', 'x', 'x/y', 'x/y/z']) assertKind(await fs.stat(p(d)), 'dir', d);
      await fs.mkdir(p('a'), { recursive: true });
      await put(fs, p('file'), OLD);
      // the real-directory answer for each; emulated directories succeed without a change
      const table: [string, ErrorCode][] = [
        ['a', 'ALREADY_EXISTS'],
        ['file', 'ALREADY_EXISTS'],
        ['nope/child', 'NOT_FOUND'],
      ];
      for (const [rel, code] of table) {
        if (caps.emulatedDirs) await fs.mkdir(p(rel));
        else await rejectsWith(fs.mkdir(p(rel)), code, `mkdir ${rel}`);
      }
      assertKind(await fs.stat(p('file')), 'file', 'file after mkdir over it');
      sameBytes(await get(fs, p('file')), OLD, 'file after mkdir over it');
      if (caps.emulatedDirs) assertKind(await fs.stat(p('nope/child')), 'dir', 'nope/child');
      else await missing(fs, p('nope'));
    },
  },
  {
    name: 'rename of files (replacing a file), of empty and of non-empty directories',
    async run({ fs, caps, p }) {
      await put(fs, p('src'), 'one');
      await fs.rename(p('src'), p('dst'));
      sameBytes(await get(fs, p('dst')), 'one', 'renamed');
      await missing(fs, p('src'));
      await put(fs, p('other'), 'two-two');
      await fs.rename(p('dst'), p('other'));
      sameBytes(await get(fs, p('other')), 'one', 'rename onto an existing file replaces it');
      await missing(fs, p('dst'));
      await fs.mkdir(p('sub'));
      await fs.rename(p('other'), p('sub/moved'));
      sameBytes(await get(fs, p('sub/moved')), 'one', 'moved to another directory');
      await put(fs, p('loose'), 'x');
      await rejectsWith(fs.rename(p('loose'), p('sub')), 'INVALID_INPUT', 'file onto a directory');
      sameBytes(await get(fs, p('loose')), 'x', 'source after a refused rename');
      assertKind(await fs.stat(p('sub')), 'dir', 'target after a refused rename');

      await fs.mkdir(p('empty'));
      await fs.rename(p('empty'), p('empty2'));
      assertKind(await fs.stat(p('empty2')), 'dir', 'renamed empty directory');
      await missing(fs, p('empty'));

      // copy + delete backends refuse a non-empty directory as upstream did (`cannot rename non
      // empty directory`, a generic failure): NOT_EMPTY, the code its removal gets everywhere
      if (caps.rename) {
        await fs.rename(p('sub'), p('sub2'));
        sameBytes(await get(fs, p('sub2/moved')), 'one', 'child of a renamed directory');
        await missing(fs, p('sub'));
      } else {
        await rejectsWith(fs.rename(p('sub'), p('sub2')), 'NOT_EMPTY', 'non-empty directory');
        sameBytes(await get(fs, p('sub/moved')), 'one', 'child after a refused rename');
        await missing(fs, p('sub2'));
      }
    },
  },
  {
    name: 'remove of files and empty directories; NOT_EMPTY for a non-empty directory',
    async run({ fs, p }) {
      await put(fs, p('f'), 'x');
      await fs.remove(p('f'));
      await missing(fs, p('f'));
      await fs.mkdir(p('e'));
      await fs.remove(p('e'), { dir: true });
      await missing(fs, p('e'));
      await fs.mkdir(p('n'));
      await put(fs, p('n/c'), 'kept');
      await rejectsWith(fs.remove(p('n'), { dir: true }), 'NOT_EMPTY', 'non-empty directory');
      sameBytes(await get(fs, p('n/c')), 'kept', 'child of a directory that was not removed');
    },
  },
  {
    name: 'stat and lstat of files, directories and the root',
    async run({ fs, p }) {
      await put(fs, p('f'), 'hello');
      await fs.mkdir(p('d'));
      for (const op of ['stat', 'lstat'] as const) {
        const f = await fs[op](p('f'));
        assertKind(f, 'file', `${op} file`);
        assert.equal(f.name, 'f');
        assert.equal(f.size, 5);
        assert.ok(f.mtime instanceof Date && !Number.isNaN(f.mtime.getTime()), `${op} mtime`);
        assert.ok(Number.isInteger(f.uid) && Number.isInteger(f.gid), `${op} uid/gid`);
        const d = await fs[op](p('d'));
        assertKind(d, 'dir', `${op} dir`);
        assert.equal(d.name, 'd');
        const root = await fs[op]('/');
        assertKind(root, 'dir', `${op} root`);
        assert.equal(root.name, '/');
      }
    },
  },
  {
    name: 'implicit directories where emulated, NOT_FOUND for a missing parent elsewhere',
    async run({ fs, caps, p }) {
      if (!caps.emulatedDirs) {
        await rejectsWith(fs.openWrite(p('imp/deep/f')), 'NOT_FOUND', 'write below a missing dir');
        await missing(fs, p('imp'));
        return;
      }
      await put(fs, p('imp/deep/f'), 'x');
      assertKind(await fs.stat(p('imp')), 'dir', 'implicit imp');
      assertKind(await fs.stat(p('imp/deep')), 'dir', 'implicit imp/deep');
      assert.deepEqual(await names(fs, p('imp')), ['deep']);
      sameBytes(await get(fs, p('imp/deep/f')), 'x', 'file below implicit dirs');
    },
  },
  {
    name: 'NOT_FOUND for missing paths (empty listing and silent rmdir where dirs are emulated)',
    async run({ fs, caps, p }) {
      const m = p('missing');
      const ops: [string, () => Promise<unknown>][] = [
        ['stat', () => fs.stat(m)],
        ['lstat', () => fs.lstat(m)],
        ['stat below a missing dir', () => fs.stat(p('missing/child'))],
        ['openRead', () => fs.openRead(m)],
        ['openRead at an offset', () => fs.openRead(m, { offset: 10 })],
        ['remove', () => fs.remove(m)],
        ['rename', () => fs.rename(m, p('target'))],
      ];
      if (fs.readlink) ops.push(['readlink', () => fs.readlink?.(m) ?? Promise.resolve()]);
      for (const [what, op] of ops) await rejectsWith(op(), 'NOT_FOUND', what);
      await missing(fs, p('target'));
      if (caps.emulatedDirs) {
        assert.deepEqual(await listAll(fs, m), []);
        await fs.remove(m, { dir: true });
        assert.deepEqual(await fs.usage(m), { files: 0, bytes: 0 });
      } else {
        await rejectsWith(listAll(fs, m), 'NOT_FOUND', 'list');
        await rejectsWith(fs.remove(m, { dir: true }), 'NOT_FOUND', 'remove dir');
        await rejectsWith(fs.usage(m), 'NOT_FOUND', 'usage');
      }
    },
  },
  {
    name: 'symlink and readlink where supported, absent elsewhere',
    async run({ fs, caps, p, dir }) {
      if (!caps.symlinks || !fs.symlink || !fs.readlink) {
        assert.equal(caps.symlinks, false, 'symlinks is set but symlink/readlink are missing');
        assert.equal(fs.symlink, undefined, 'symlink without the capability');
        assert.equal(fs.readlink, undefined, 'readlink without the capability');
        return;
      }
      await put(fs, p('f'), 'target');
      await fs.symlink('f', p('link'));
      assertKind(await fs.lstat(p('link')), 'link', 'lstat link');
      const st = await fs.stat(p('link'));
      assertKind(st, 'file', 'stat link');
      assert.equal(st.size, 6);
      sameBytes(await get(fs, p('link')), 'target', 'read through the link');
      assert.equal(await fs.readlink(p('link')), p('f'));
      const listed = (await listAll(fs, dir)).find((i) => i.name === 'link');
      assert.ok(listed, 'the link is listed');
      assertKind(listed, 'link', 'listed link');
      const up = '../'.repeat(dir.split('/').length + 1);
      for (const target of ['/etc/passwd', `${up}outside`]) {
        await rejectsWith(fs.symlink(target, p('escape')), 'PERMISSION_DENIED', target);
      }
      await fs.remove(p('link'));
      await missing(fs, p('link'));
      sameBytes(await get(fs, p('f')), 'target', 'the target outlives its link');
    },
  },
  {
    name: 'setStat per capability (chmod, chown, chtimes, truncate), OP_UNSUPPORTED elsewhere',
    async run({ fs, caps, p }) {
      const any = caps.chmod || caps.chown || caps.chtimes || caps.truncate;
      assert.equal(fs.setStat !== undefined, any, 'setStat is present iff one of its flags is set');
      await put(fs, p('f'), 'abcdef');
      const own = await fs.stat(p('f'));
      const mtime = new Date('2020-01-02T03:04:05Z');
      const table: [keyof FsCapabilities, SetStatAttrs, (i: FileInfo) => void][] = [
        ['chmod', { mode: 0o600 }, (i) => assert.equal(i.mode & 0o777, 0o600)],
        [
          'chown',
          { uid: own.uid, gid: own.gid },
          (i) => assert.deepEqual([i.uid, i.gid], [own.uid, own.gid]),
        ],
        [
          'chtimes',
          { atime: mtime, mtime },
          (i) => assert.equal(i.mtime.getTime(), mtime.getTime()),
        ],
        ['truncate', { size: 3 }, (i) => assert.equal(i.size, 3)],
      ];
      for (const [flag, attrs, check] of table) {
        if (!fs.setStat) break;
        if (caps[flag]) {
          await fs.setStat(p('f'), attrs);
          check(await fs.stat(p('f')));
        } else {
          await rejectsWith(fs.setStat(p('f'), attrs), 'OP_UNSUPPORTED', flag);
        }
      }
      sameBytes(await get(fs, p('f')), caps.truncate ? 'abc' : 'abcdef', 'content after setStat');
    },
  },
  {
    name: 'statVfs where supported, absent elsewhere',
    async run({ fs, caps }) {
      if (!caps.statvfs || !fs.statVfs) {
        assert.equal(caps.statvfs, false, 'statvfs is set but statVfs is missing');
        assert.equal(fs.statVfs, undefined, 'statVfs without the capability');
        return;
      }
      const s = await fs.statVfs('/');
      assert.ok(s.bsize > 0 && s.blocks > 0 && s.namemax > 0, JSON.stringify(s));
      assert.ok(s.bfree <= s.blocks && s.bavail <= s.blocks, JSON.stringify(s));
    },
  },
  {
    name: 'usage counts regular files and their bytes, below any depth',
    async run({ fs, caps, p, dir, usageBytes }) {
      await put(fs, p('a'), pattern(10));
      await fs.mkdir(p('sub'));
      await put(fs, p('sub/b'), pattern(20));
      await fs.mkdir(p('sub/deeper'));
      await put(fs, p('sub/deeper/c'), '');
      await fs.mkdir(p('emptydir'));
      if (caps.symlinks) await fs.symlink?.('a', p('link'));
      const sub = usageBytes(20) + usageBytes(0);
      assert.deepEqual(await fs.usage(dir), { files: 3, bytes: usageBytes(10) + sub });
      assert.deepEqual(await fs.usage(p('sub')), { files: 2, bytes: sub });
    },
  },
  {
    name: 'an aborted upload leaves the old content or nothing, and no leftovers',
    async run(t) {
      const { fs, caps, p, dir } = t;
      const data = pattern(PARTIAL, 2);
      // how: destroy(err) or the AbortSignal; old: the content before the upload
      // (atomic and resume variants expect OP_UNSUPPORTED without their capability)
      const variants: {
        how: 'destroy' | 'signal';
        atomic: boolean;
        old?: string;
        resume?: true;
      }[] = [
        { how: 'destroy', atomic: false },
        { how: 'destroy', atomic: true },
        { how: 'destroy', atomic: false, old: OLD },
        { how: 'destroy', atomic: true, old: OLD },
        { how: 'destroy', atomic: false, old: OLD, resume: true },
        { how: 'destroy', atomic: true, old: OLD, resume: true },
        { how: 'signal', atomic: false, old: OLD },
        { how: 'signal', atomic: true, old: OLD },
      ];
      for (const [i, v] of variants.entries()) {
        const what = `variant ${JSON.stringify(v)}`;
        const target = p(`v${i}`);
        if (v.old !== undefined) await put(fs, target, v.old);
        const ac = new AbortController();
        const o = {
          atomic: v.atomic,
          signal: ac.signal,
          ...(v.resume ? { offset: Buffer.byteLength(OLD) } : {}),
        };
        if ((v.atomic && !caps.atomicUpload) || (v.resume && !caps.resume)) {
          await rejectsWith(fs.openWrite(target, o), 'OP_UNSUPPORTED', what);
        } else {
          const up = await fs.openWrite(target, o);
          const ended = finished(up.stream);
          await writeSome(up, data);
          if (v.how === 'destroy') up.stream.destroy(new Error('client went away'));
          else ac.abort();
          await assert.rejects(ended, what);
          await assert.rejects(up.done, (e: unknown) => {
            assert.ok(SftpgoError.is(e), `${what}: done rejects with an SftpgoError`);
            if (v.how === 'signal') assert.equal(e.code, 'ABORTED', what);
            return true;
          });
        }
        if (v.old === undefined) await missing(fs, target);
        else if (v.atomic || v.resume) sameBytes(await get(fs, target), v.old, what);
        else {
          // a direct overwrite truncated the file when it opened: the old content or no file
          const now = await get(fs, target).catch((e: unknown) => e);
          if (!SftpgoError.is(now, 'NOT_FOUND')) sameBytes(now as Buffer, OLD, what);
        }
        await noLeftovers(t, what);
      }
      const pre = p('pre-aborted');
      await rejectsWith(
        fs.openWrite(pre, { signal: AbortSignal.abort() }),
        'ABORTED',
        'pre-aborted',
      );
      await missing(fs, pre);
      const expected = variants.flatMap((v, i) => (v.old === undefined ? [] : [`v${i}`]));
      const present = (await names(fs, dir)).filter((n) => !expected.includes(n));
      assert.deepEqual(present, [], 'nothing else is listed');
    },
  },
  {
    name: 'paths: .. stays inside the root, NUL bytes are refused, odd names round-trip',
    async run({ fs, p, dir }) {
      await put(fs, `/../..${p('dots')}`, 'x');
      sameBytes(await get(fs, p('dots')), 'x', '/../.. clamped at the root');
      await put(fs, `${dir}/no-such-dir/../lexical`, 'y');
      sameBytes(await get(fs, p('lexical')), 'y', '.. resolved lexically');
      await fs.rename(p('lexical'), `/..${p('renamed')}`);
      sameBytes(await get(fs, p('renamed')), 'y', 'renamed through /..');
      assert.equal((await fs.stat('/..')).name, '/');
      assert.ok((await names(fs, '/../..')).includes(dir.slice(1)), 'the root lists the case dir');

      const nul = p('a\0b');
      const ops: [string, () => Promise<unknown>][] = [
        ['stat', () => fs.stat(nul)],
        ['lstat', () => fs.lstat(nul)],
        ['openRead', () => fs.openRead(nul)],
        ['openWrite', () => fs.openWrite(nul)],
        ['mkdir', () => fs.mkdir(nul)],
        ['remove', () => fs.remove(nul)],
        ['rename from', () => fs.rename(nul, p('x'))],
        ['rename to', () => fs.rename(p('dots'), nul)],
        ['list', () => listAll(fs, nul)],
        ['usage', () => fs.usage(nul)],
      ];
      for (const [what, op] of ops) await rejectsWith(op(), 'INVALID_INPUT', `NUL in ${what}`);
      sameBytes(await get(fs, p('dots')), 'x', 'a refused rename left its source');

      const odd = ['with space', ' leading', 'ünïcødé ✓ 日本', 'emoji 😀', 'percent%2e%2e%2F'];
      odd.push('q\'uote"s', 'plus+amp&eq=', 'hash#question?', 'a..b', '-dash', '~tilde');
      const sub = p('odd');
      await fs.mkdir(sub);
      for (const n of odd) await put(fs, `${sub}/${n}`, n);
      assert.deepEqual(await names(fs, sub), [...odd].sort());
      for (const n of odd) {
        sameBytes(await get(fs, `${sub}/${n}`), n, `read ${n}`);
        await fs.rename(`${sub}/${n}`, `${sub}/${n} moved`);
        assert.equal((await fs.stat(`${sub}/${n} moved`)).size, Buffer.byteLength(n), n);
      }
      assert.deepEqual(await names(fs, sub), odd.map((n) => `${n} moved`).sort());
    },
  },
];

/**
 * Registers the contract cases for one backend under `describe('VFS contract: <name>')`.
 * `factory` runs once, before the first case.
 */
export function describeFsContract(name: string, factory: FsContractFactory): void {
  void describe(`VFS contract: ${name}`, () => {
    let subject: FsContractSubject | undefined;
    before(async () => {
      subject = await factory();
    });
    after(async () => {
      if (!subject) return;
      try {
        await subject.fs.close();
      } finally {
        await subject.cleanup();
      }
    });
    for (const [i, c] of CASES.entries()) {
      void it(c.name, async () => {
        const s = subject;
        assert.ok(s, 'the factory did not produce a subject');
        const dir = `/c${String(i).padStart(2, '0')}`;
        await s.fs.mkdir(dir);
        const p = (rel: string): string => `${dir}/${rel}`;
        await c.run({
          fs: s.fs,
          caps: s.fs.capabilities,
          listLeftovers: () => s.listLeftovers(),
          usageBytes: (n) => s.usageBytes?.(n) ?? n,
          dir,
          p,
        });
      });
    }
  });
}
