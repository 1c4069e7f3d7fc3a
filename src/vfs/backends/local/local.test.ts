import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { SftpgoError, type ErrorCode } from '../../../errors/index.js';
import type { FileHandle, FileInfo } from '../../types.js';
import { LocalFs } from './index.js';

/** the atomic-upload temp files in `dir` */
const tempFiles = async (dir: string): Promise<string[]> =>
  (await fsp.readdir(dir)).filter((n) => n.startsWith('.sftpgo-upload.'));

function code(c: ErrorCode) {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e), `expected SftpgoError, got ${String(e)}`);
    assert.equal(e.code, c, `expected ${c}, got ${e.code}: ${e.message}`);
    return true;
  };
}

async function collect(it: AsyncIterable<FileInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const i of it) out.push(i.name);
  return out.sort();
}

let base: string;
let root: string;
let outside: string;
let fs: LocalFs;

before(async () => {
  base = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'sftpgo-localfs-')));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await fsp.mkdir(path.join(root, 'dir', 'sub'), { recursive: true });
  await fsp.mkdir(outside);
  await fsp.writeFile(path.join(outside, 'secret'), 'top secret');
  await fsp.writeFile(path.join(root, 'file.txt'), 'hello');
  await fsp.writeFile(path.join(root, 'dir', 'a.bin'), Buffer.alloc(10));
  await fsp.writeFile(path.join(root, 'dir', 'sub', 'b.bin'), Buffer.alloc(20));
  // links planted by someone with shell access
  await fsp.symlink('/', path.join(root, 'to-slash'));
  await fsp.symlink('../outside', path.join(root, 'escape-rel'));
  await fsp.symlink(path.join(outside, 'secret'), path.join(root, 'abs-secret'));
  await fsp.symlink(path.join(outside, 'newfile'), path.join(root, 'dangling-out'));
  await fsp.symlink('dir/a.bin', path.join(root, 'good-link'));
  await fsp.symlink('missing-inside', path.join(root, 'dangling-in'));
  fs = new LocalFs({ root, fsync: false });
});

after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

void describe('LocalFs traversal safety', () => {
  void it('clamps .. at the root', async () => {
    await assert.rejects(fs.stat('../../etc/passwd'), code('NOT_FOUND'));
    await assert.rejects(fs.stat('/../outside/secret'), code('NOT_FOUND'));
    const info = await fs.stat('/../../file.txt');
    assert.equal(info.size, 5);
  });

  void it('keeps %2e%2e literal', async () => {
    await assert.rejects(fs.stat('/%2e%2e/outside/secret'), code('NOT_FOUND'));
    await fs.mkdir('/%2e%2e');
    assert.ok((await fsp.stat(path.join(root, '%2e%2e'))).isDirectory());
    await fs.remove('/%2e%2e', { dir: true });
  });

  void it('refuses following a symlink to /', async () => {
    await assert.rejects(fs.stat('/to-slash/etc/passwd'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.stat('/to-slash'), code('PERMISSION_DENIED'));
    await assert.rejects(collect(fs.list('/to-slash')), code('PERMISSION_DENIED'));
    await assert.rejects(fs.openRead('/to-slash/etc/hostname'), code('PERMISSION_DENIED'));
  });

  void it('refuses relative and absolute symlinks leading outside', async () => {
    await assert.rejects(fs.openRead('/escape-rel/secret'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.openRead('/abs-secret'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.openFile('/abs-secret', { read: true }), code('PERMISSION_DENIED'));
    await assert.rejects(fs.setStat('/abs-secret', { mode: 0o777 }), code('PERMISSION_DENIED'));
    await assert.rejects(fs.realpath('/escape-rel'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.usage('/escape-rel'), code('PERMISSION_DENIED'));
  });

  void it('refuses creating a file through a dangling symlink leading outside', async () => {
    await assert.rejects(
      fs.openFile('/dangling-out', { write: true, create: true }),
      code('PERMISSION_DENIED'),
    );
    await assert.rejects(fs.openWrite('/dangling-out'), code('PERMISSION_DENIED'));
    await assert.rejects(fsp.stat(path.join(outside, 'newfile')), { code: 'ENOENT' });
  });

  void it('allows a dangling symlink leading inside', async () => {
    const h = await fs.openFile('/dangling-in', { write: true, create: true });
    await h.write(0, Buffer.from('x'));
    await h.commit();
    assert.equal(await fsp.readFile(path.join(root, 'missing-inside'), 'utf8'), 'x');
    await fsp.unlink(path.join(root, 'missing-inside'));
  });

  void it('lets lstat / remove act on an escaping link itself', async () => {
    const info = await fs.lstat('/to-slash');
    assert.equal(info.isSymlink, true);
    await fsp.symlink('/', path.join(root, 'victim-link'));
    await fs.remove('/victim-link');
    await assert.rejects(fsp.lstat(path.join(root, 'victim-link')), { code: 'ENOENT' });
  });

  void it('refuses renames into or out of an escaping location', async () => {
    await assert.rejects(fs.rename('/file.txt', '/escape-rel/stolen'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.rename('/escape-rel/secret', '/mine'), code('PERMISSION_DENIED'));
    await assert.rejects(fsp.stat(path.join(outside, 'stolen')), { code: 'ENOENT' });
    await assert.rejects(fs.rename('/', '/x'), code('PERMISSION_DENIED'));
  });

  void it('refuses creating symlinks with absolute or escaping targets', async () => {
    await assert.rejects(fs.symlink('/etc/passwd', '/l1'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.symlink('../outside/secret', '/l2'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.symlink('dir/../../outside', '/l3'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.symlink('to-slash/etc', '/l4'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.symlink('x', '/escape-rel/l5'), code('PERMISSION_DENIED'));
    await fs.symlink('../file.txt', '/dir/ok-link');
    assert.equal(await fsp.readlink(path.join(root, 'dir', 'ok-link')), '../file.txt');
    assert.equal(await fs.readlink('/dir/ok-link'), '/file.txt');
    assert.equal((await fs.stat('/dir/ok-link')).size, 5);
    await fs.remove('/dir/ok-link');
  });

  void it('readlink refuses targets outside and realpath resolves inside', async () => {
    await assert.rejects(fs.readlink('/abs-secret'), code('PERMISSION_DENIED'));
    assert.equal(await fs.readlink('/good-link'), '/dir/a.bin');
    assert.equal(await fs.realpath('/good-link'), '/dir/a.bin');
    assert.equal(await fs.realpath('/'), '/');
  });

  void it('resolveFile: stats through links, refuses escapes, opens what it resolved', async () => {
    assert.equal((await fs.resolveFile('/file.txt')).info?.size, 5);
    assert.equal((await fs.resolveFile('/good-link')).info?.size, 10);
    assert.equal((await fs.resolveFile('/dir/new-one')).info, undefined);
    assert.equal((await fs.resolveFile('/dangling-in')).info, undefined);
    assert.equal((await fs.resolveFile('/dir')).info?.isDirectory, true);
    await assert.rejects(fs.resolveFile('/abs-secret'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.resolveFile('/dangling-out'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.resolveFile('/escape-rel/secret'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.resolveFile('/to-slash/etc/passwd'), code('PERMISSION_DENIED'));
    assert.equal((await fs.resolveFile('/dir/missing/deeper')).info, undefined);
    // the parent is known to be a directory when the look went through it
    assert.equal((await fs.resolveFile('/dir/new-one')).parentIsDir, true);
    assert.equal((await fs.resolveFile('/file.txt')).parentIsDir, true);
    assert.equal((await fs.resolveFile('/dangling-in')).parentIsDir, true);
    assert.equal((await fs.resolveFile('/dir/missing/deeper')).parentIsDir, undefined);
    assert.equal((await fs.resolveFile('/file.txt/x')).parentIsDir, undefined);
    assert.equal((await fs.resolveFile('/')).parentIsDir, undefined);
    const looked = await fs.resolveFile('/dir/new-one');
    const h = await looked.openFile({ write: true, create: true, truncate: true });
    await h.write(0, Buffer.from('abc'));
    await h.commit();
    assert.equal(await fsp.readFile(path.join(root, 'dir', 'new-one'), 'utf8'), 'abc');
    assert.equal((await fs.stat('/dir/new-one')).size, 3);
    await fsp.unlink(path.join(root, 'dir', 'new-one'));
  });

  void it('resolveLink: lstat semantics, then setStat of the same path as setStat does', async () => {
    const t = new Date('2020-01-02T03:04:05Z');
    const file = await fs.resolveLink('/dir/a.bin');
    assert.equal(file.info?.size, 10);
    await file.setStat({ atime: t, mtime: t, mode: 0o600 });
    const st = await fsp.stat(path.join(root, 'dir', 'a.bin'));
    assert.equal(st.mtime.getTime(), t.getTime());
    assert.equal(st.mode & 0o777, 0o600);
    // a symlink is looked at itself, and its setStat follows it as setStat does
    const link = await fs.resolveLink('/good-link');
    assert.equal(link.info?.isSymlink, true);
    await link.setStat({ mode: 0o640 });
    assert.equal((await fsp.stat(path.join(root, 'dir', 'a.bin'))).mode & 0o777, 0o640);
    const escaping = await fs.resolveLink('/abs-secret');
    assert.equal(escaping.info?.isSymlink, true);
    await assert.rejects(escaping.setStat({ mode: 0o777 }), code('PERMISSION_DENIED'));
    assert.equal((await fsp.stat(path.join(outside, 'secret'))).mode & 0o777 & 0o002, 0);
    // missing: no attributes, setStat NOT_FOUND; escaping parents refused at the look
    const missing = await fs.resolveLink('/dir/none');
    assert.equal(missing.info, undefined);
    await assert.rejects(missing.setStat({ mtime: t, atime: t }), code('NOT_FOUND'));
    await assert.rejects(fs.resolveLink('/escape-rel/secret'), code('PERMISSION_DENIED'));
    await assert.rejects(fs.resolveLink('/to-slash/etc/passwd'), code('PERMISSION_DENIED'));
    assert.equal((await fs.resolveLink('/')).info?.isDirectory, true);
    await fsp.chmod(path.join(root, 'dir', 'a.bin'), 0o644);
  });

  void it('resolveFile then an atomic replacing open: what resolving saw decides (new, file, directory)', async () => {
    const flags = { write: true, create: true, truncate: true } as const;
    const fresh = await fs.resolveFile('/dir/atomic-new');
    const h = await fresh.openFile(flags, { atomic: true });
    await h.write(0, Buffer.from('new'));
    await h.commit();
    assert.equal(await fsp.readFile(path.join(root, 'dir', 'atomic-new'), 'utf8'), 'new');
    const old = await fs.resolveFile('/dir/atomic-new');
    assert.equal(old.info?.size, 3);
    const h2 = await old.openFile(flags, { atomic: true });
    await h2.write(0, Buffer.from('x'));
    await h2.commit();
    assert.equal(await fsp.readFile(path.join(root, 'dir', 'atomic-new'), 'utf8'), 'x');
    await fsp.unlink(path.join(root, 'dir', 'atomic-new'));
    await assert.rejects(
      (await fs.resolveFile('/dir')).openFile(flags, { atomic: true }),
      code('INVALID_INPUT'),
    );
    // through a link to a directory too
    await fsp.symlink('dir', path.join(root, 'dir-link'));
    try {
      await assert.rejects(
        (await fs.resolveFile('/dir-link')).openFile(flags, { atomic: true }),
        code('INVALID_INPUT'),
      );
    } finally {
      await fsp.unlink(path.join(root, 'dir-link'));
    }
  });

  void it('error messages never carry the server path', async () => {
    const ops = [
      () => fs.stat('/nope'),
      () => fs.openRead('/to-slash/etc/passwd'),
      () => fs.remove('/dir', { dir: true }),
    ];
    for (const op of ops) {
      await assert.rejects(op(), (e: unknown) => {
        assert.ok(SftpgoError.is(e));
        assert.ok(!e.message.includes(base), e.message);
        return true;
      });
    }
  });
});

void describe('LocalFs error mapping', () => {
  void it('maps errno codes', async () => {
    await assert.rejects(fs.stat('/missing'), code('NOT_FOUND'));
    await assert.rejects(fs.mkdir('/dir'), code('ALREADY_EXISTS'));
    await assert.rejects(fs.mkdir('/no/such/parent'), code('NOT_FOUND'));
    await assert.rejects(fs.remove('/dir', { dir: true }), code('NOT_EMPTY'));
    await assert.rejects(fs.remove('/dir'), code('INVALID_INPUT'));
    await assert.rejects(fs.openRead('/dir'), code('INVALID_INPUT'));
    await assert.rejects(fs.openFile('/dir', { write: true }), code('INVALID_INPUT'));
    await assert.rejects(
      fs.openFile('/file.txt', { write: true, create: true, exclusive: true }),
      code('ALREADY_EXISTS'),
    );
    await assert.rejects(collect(fs.list('/file.txt')), code('NOT_FOUND'));
    await assert.rejects(fs.stat('/file.txt/x'), code('NOT_FOUND'));
    await assert.rejects(fs.remove('/'), code('PERMISSION_DENIED'));
  });

  void it('a missing root is NOT_FOUND, or created when asked', async () => {
    const missing = new LocalFs({ root: path.join(base, 'nohome') });
    await assert.rejects(missing.stat('/'), code('NOT_FOUND'));
    const created = new LocalFs({ root: path.join(base, 'newhome', 'deep'), createRoot: true });
    assert.equal((await created.stat('/')).isDirectory, true);
  });
});

void describe('LocalFs operations', () => {
  void it('lists lazily with lstat semantics', async () => {
    const names = await collect(fs.list('/dir'));
    assert.deepEqual(names, ['a.bin', 'sub']);
    const infos: FileInfo[] = [];
    for await (const i of fs.list('/')) infos.push(i);
    const link = infos.find((i) => i.name === 'to-slash');
    assert.equal(link?.isSymlink, true);
  });

  void it('lists a directory of several batches whole, each entry with its own attributes', async () => {
    // 300 entries: more than two of the backend's read/lstat batches (128)
    const dir = path.join(root, 'many');
    await fsp.mkdir(dir);
    const expected = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const name = `f${String(i).padStart(3, '0')}`;
      await fsp.writeFile(path.join(dir, name), Buffer.alloc(i));
      expected.set(name, i);
    }
    const listed = new Map<string, number>();
    for await (const i of fs.list('/many')) {
      assert.equal(listed.has(i.name), false, `${i.name} listed twice`);
      assert.equal(i.isFile, true);
      listed.set(i.name, i.size);
    }
    assert.deepEqual(listed, expected);
    await fsp.rm(dir, { recursive: true });
  });

  void it('walks usage (regular files only, links not followed)', async () => {
    assert.deepEqual(await fs.usage('/dir'), { files: 2, bytes: 30 });
    const all = await fs.usage('/');
    assert.equal(all.files, 3);
    assert.equal(all.bytes, 35);
  });

  void it('a resume offset past the end is refused and leaves the file as it was', async () => {
    await fsp.writeFile(path.join(root, 'short.txt'), 'abc');
    for (const atomic of [false, true]) {
      await assert.rejects(
        fs.openWrite('/short.txt', { offset: 10, atomic }),
        code('INVALID_INPUT'),
      );
      assert.equal(await fsp.readFile(path.join(root, 'short.txt'), 'utf8'), 'abc');
    }
    await fs.remove('/short.txt');
  });

  void it('an aborted direct stream removes a rewritten file, cuts a resume back, keeps an in-place rewrite', async () => {
    const file = path.join(root, 'direct-abort.txt');
    const abort = async (
      o: { offset?: number; truncate?: boolean },
      data: string,
    ): Promise<void> => {
      const up = await fs.openWrite('/direct-abort.txt', o);
      const ended = finished(up.stream);
      await new Promise((resolve) => up.stream.write(Buffer.from(data), resolve));
      up.stream.destroy(new Error('client went away'));
      await assert.rejects(ended);
      await assert.rejects(up.done);
    };
    await fsp.writeFile(file, 'old content');
    await abort({}, 'new');
    await assert.rejects(fsp.stat(file), { code: 'ENOENT' });
    await fsp.writeFile(file, 'old content');
    await abort({ offset: 11 }, ' and more');
    assert.equal(await fsp.readFile(file, 'utf8'), 'old content');
    await abort({ truncate: false }, 'NEW');
    assert.equal(await fsp.readFile(file, 'utf8'), 'NEW content');
    await fs.remove('/direct-abort.txt');
  });

  void it('an already aborted signal fails opening, listing and usage with ABORTED', async () => {
    const signal = AbortSignal.abort('any reason');
    await assert.rejects(fs.openWrite('/never.txt', { signal }), code('ABORTED'));
    await assert.rejects(
      fs.openFile('/never.txt', { write: true, create: true }, { signal }),
      code('ABORTED'),
    );
    await assert.rejects(collect(fs.list('/', { signal })), code('ABORTED'));
    await assert.rejects(fs.usage('/', { signal }), code('ABORTED'));
    await assert.rejects(fsp.stat(path.join(root, 'never.txt')), { code: 'ENOENT' });
  });

  void it('atomic handles: commit replaces, discard restores (append moves back, truncated)', async () => {
    await fsp.writeFile(path.join(root, 'atom.txt'), 'original');
    const h1 = await fs.openFile(
      '/atom.txt',
      { write: true, create: true, truncate: true },
      { atomic: true },
    );
    await h1.write(0, Buffer.from('replaced'));
    assert.equal(await fsp.readFile(path.join(root, 'atom.txt'), 'utf8'), 'original');
    await h1.commit();
    assert.equal(await fsp.readFile(path.join(root, 'atom.txt'), 'utf8'), 'replaced');

    const h2 = await fs.openFile(
      '/atom.txt',
      { write: true, create: true, append: true },
      { atomic: true },
    );
    await assert.rejects(fsp.stat(path.join(root, 'atom.txt')), { code: 'ENOENT' });
    await h2.write(8, Buffer.from('+more'));
    await h2.discard();
    assert.equal(await fsp.readFile(path.join(root, 'atom.txt'), 'utf8'), 'replaced');

    const h3 = await fs.openFile('/atom.txt', { write: true, create: true }, { atomic: true });
    await h3.write(0, Buffer.from('RE'));
    assert.equal(await fsp.readFile(path.join(root, 'atom.txt'), 'utf8'), 'replaced');
    await h3.commit();
    assert.equal(await fsp.readFile(path.join(root, 'atom.txt'), 'utf8'), 'REplaced');
    const leftovers = (await fsp.readdir(root)).filter((n) => n.startsWith('.sftpgo-upload.'));
    assert.deepEqual(leftovers, []);
    await fs.remove('/atom.txt');
  });

  void it('atomic uploads can use a temp dir outside the root', async () => {
    const tmp = path.join(base, 'tmp');
    await fsp.mkdir(tmp);
    const withTemp = new LocalFs({ root, tempDir: tmp, fsync: true });
    const h = await withTemp.openFile(
      '/via-temp.txt',
      { write: true, create: true, truncate: true },
      { atomic: true },
    );
    await h.writev(0, [Buffer.from('a'), Buffer.from('b')]);
    assert.equal((await fsp.readdir(tmp)).length, 1);
    await h.commit();
    assert.equal(await fsp.readFile(path.join(root, 'via-temp.txt'), 'utf8'), 'ab');
    assert.deepEqual(await fsp.readdir(tmp), []);
    await fs.remove('/via-temp.txt');
  });

  void it('direct discard removes the file or cuts it back', async () => {
    const h = await fs.openFile('/direct.txt', { write: true, create: true, truncate: true });
    await h.write(0, Buffer.from('abcdef'));
    await h.discard({ keepBytes: 2 });
    assert.equal(await fsp.readFile(path.join(root, 'direct.txt'), 'utf8'), 'ab');
    const h2 = await fs.openFile('/direct.txt', { write: true });
    await h2.discard();
    await assert.rejects(fsp.stat(path.join(root, 'direct.txt')), { code: 'ENOENT' });
  });

  void it('a rename failing for a missing path names the path that is missing', async () => {
    await fsp.writeFile(path.join(root, 'r3'), '3');
    await assert.rejects(fs.rename('/r3', '/no-such-dir/x'), (e: Error) => {
      assert.equal((e as SftpgoError).code, 'NOT_FOUND');
      assert.match(e.message, /no-such-dir\/x/);
      assert.doesNotMatch(e.message, /r3/);
      return true;
    });
    await assert.rejects(fs.rename('/no-such-file', '/r4'), (e: Error) => {
      assert.match(e.message, /no-such-file/);
      return true;
    });
    await fs.remove('/r3');
  });
});

/** a writable directory on another device than `ref`, when the machine has one */
async function otherDeviceDir(ref: string): Promise<string | undefined> {
  const dev = (await fsp.stat(ref)).dev;
  for (const c of ['/dev/shm', '/run/user', '/run']) {
    try {
      if ((await fsp.stat(c)).dev === dev) continue;
      return await fsp.mkdtemp(path.join(c, 'sftpgo-xdev-'));
    } catch {
      // not present or not writable here: try the next candidate
    }
  }
  return undefined;
}

void describe('LocalFs across devices', () => {
  void it('atomic uploads with a temp dir on another device commit and restore by copy + delete', async (t) => {
    const other = await otherDeviceDir(root);
    const tmp = other ?? path.join(base, 'same-device-tmp');
    if (!other) {
      t.diagnostic('no second device on this machine: the EXDEV fallback is not exercised');
      await fsp.mkdir(tmp);
    }
    try {
      const x = new LocalFs({ root, tempDir: tmp });
      const h = await x.openFile(
        '/xdev.txt',
        { write: true, create: true, truncate: true },
        { atomic: true },
      );
      await h.write(0, Buffer.from('across'));
      await h.commit();
      assert.equal(await fsp.readFile(path.join(root, 'xdev.txt'), 'utf8'), 'across');
      // resume: the file moves to the temp dir (copy + delete) and comes back on discard
      const r = await x.openFile(
        '/xdev.txt',
        { write: true, create: true, append: true },
        { atomic: true },
      );
      await r.write(6, Buffer.from(' devices'));
      await r.discard();
      assert.equal(await fsp.readFile(path.join(root, 'xdev.txt'), 'utf8'), 'across');
      assert.deepEqual(await fsp.readdir(tmp), []);
      await x.remove('/xdev.txt');
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
});

void describe('LocalFs: a resumed file moved aside when the temp open fails', () => {
  interface Logged {
    level: 'warn' | 'error';
    obj: Record<string, unknown>;
    msg: string;
  }
  function recorder(): {
    logger: { warn: (o: object, m?: string) => void; error: (o: object, m?: string) => void };
    lines: Logged[];
  } {
    const lines: Logged[] = [];
    const push = (level: Logged['level']) => (obj: object, msg?: string) => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
    };
    return { logger: { warn: push('warn'), error: push('error') }, lines };
  }
  const enospc = (): NodeJS.ErrnoException =>
    Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });

  let dir: string;
  before(async () => {
    dir = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'sftpgo-localfs-moveback-')));
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  void it('puts the file back under its name with its content and reports the open error', async () => {
    await fsp.writeFile(path.join(dir, 'resume.bin'), 'precious bytes');
    const { logger, lines } = recorder();
    let opened = 0;
    const x = new LocalFs({
      root: dir,
      logger,
      openFileFn: () => {
        opened++;
        return Promise.reject(enospc());
      },
    });
    await assert.rejects(
      x.openFile('/resume.bin', { write: true, create: true, append: true }, { atomic: true }),
      (e: unknown) => {
        assert.ok(SftpgoError.is(e));
        assert.match(e.message, /^open "\/resume\.bin"/);
        assert.doesNotMatch(e.message, /moved aside/);
        return true;
      },
    );
    assert.equal(opened, 1);
    assert.equal(await fsp.readFile(path.join(dir, 'resume.bin'), 'utf8'), 'precious bytes');
    assert.deepEqual(await tempFiles(dir), []);
    assert.deepEqual(lines, []);
  });

  void it('logs an ERROR naming both paths and fails the open when the move-back fails too', async () => {
    const real = path.join(dir, 'stuck.bin');
    await fsp.writeFile(real, 'precious bytes');
    const { logger, lines } = recorder();
    const x = new LocalFs({
      root: dir,
      logger,
      // something takes the name while the file is aside (here a directory): rename back fails with EISDIR
      openFileFn: async () => {
        await fsp.mkdir(real);
        throw enospc();
      },
    });
    let thrown: unknown;
    await assert.rejects(
      x.openFile('/stuck.bin', { write: true, create: true, append: true }, { atomic: true }),
      (e: unknown) => {
        thrown = e;
        return true;
      },
    );
    assert.ok(SftpgoError.is(thrown));
    assert.equal(thrown.code, 'INTERNAL');
    assert.match(
      thrown.message,
      /^open "\/stuck\.bin": .*; the existing file was moved aside for the upload and could not be put back under its name$/,
    );
    assert.ok(!thrown.message.includes(dir), 'no server path in a client-facing message');

    const [temp, ...others] = await tempFiles(dir);
    assert.ok(temp !== undefined && others.length === 0);
    const tempPath = path.join(dir, temp);
    assert.equal(await fsp.readFile(tempPath, 'utf8'), 'precious bytes', 'the data is still there');
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    const [logged] = errors;
    assert.ok(logged);
    assert.ok(logged.msg.includes(tempPath) && logged.msg.includes(real), logged.msg);
    assert.equal(logged.obj['file_path'], real);
    assert.equal(logged.obj['temp_path'], tempPath);
    assert.equal(logged.obj['attempts'], 3);
  });
});

void describe('LocalFs: when uploads are synced', () => {
  let dir: string;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(tmpdir(), 'localfs-sync-'));
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  /**
   * a LocalFs whose opened files count their datasync/sync calls; `failSync`: the datasync
   * calls with these numbers (1 = the first) fail with EIO
   */
  function counting(o: { fsync?: boolean; failSync?: number[] }): {
    fs: LocalFs;
    syncs: () => number;
  } {
    let n = 0;
    const { failSync, ...fsOptions } = o;
    const fs = new LocalFs({
      root: dir,
      ...fsOptions,
      openFileFn: async (...args: Parameters<typeof fsp.open>) => {
        const fh = await fsp.open(...args);
        const datasync = fh.datasync.bind(fh);
        const sync = fh.sync.bind(fh);
        fh.datasync = () => {
          n++;
          if (failSync?.includes(n))
            return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
          return datasync();
        };
        fh.sync = () => {
          n++;
          return sync();
        };
        return fh;
      },
    });
    return { fs, syncs: () => n };
  }

  async function put(fs: LocalFs, name: string, atomic: boolean): Promise<void> {
    const h = await fs.openFile(name, { write: true, create: true, truncate: true }, { atomic });
    await h.write(0, Buffer.from('data'));
    await h.commit();
  }

  void it('by default a direct upload is not synced, an atomic one is synced before its rename', async () => {
    const { fs, syncs } = counting({});
    await put(fs, '/direct.bin', false);
    assert.equal(syncs(), 0);
    await put(fs, '/atomic.bin', true);
    assert.equal(syncs(), 1);
    assert.equal(await fsp.readFile(path.join(dir, 'atomic.bin'), 'utf8'), 'data');
  });

  void it('with fsync every upload is synced once, and sync() on request always works', async () => {
    const { fs, syncs } = counting({ fsync: true });
    await put(fs, '/direct.bin', false);
    await put(fs, '/atomic.bin', true);
    assert.equal(syncs(), 2);
    const plain = counting({});
    const h = await plain.fs.openFile('/asked.bin', { write: true, create: true }, {});
    await h.write(0, Buffer.from('x'));
    await h.sync();
    await h.commit();
    assert.equal(plain.syncs(), 1, 'synced on request only');
  });

  /** writes `mib` MiB in 1 MiB writes, byte i of each MiB = its index */
  async function writeMiB(h: FileHandle, mib: number): Promise<Buffer> {
    const hash = createHash('sha256');
    for (let i = 0; i < mib; i++) {
      const chunk = Buffer.alloc(1024 * 1024, i);
      await h.write(i * chunk.length, chunk);
      hash.update(chunk);
    }
    return hash.digest();
  }

  void it('an upload synced at its end writes back in the background as it is written; a direct one is not synced', async () => {
    const { fs, syncs } = counting({});
    const h = await fs.openFile('/big.bin', { write: true, create: true, truncate: true }, { atomic: true });
    const digest = await writeMiB(h, 80);
    const background = syncs();
    assert.ok(background >= 1, `a sync started while writing (${background})`);
    await h.commit();
    assert.ok(syncs() === background + 1, 'and the final one before the rename');
    assert.deepEqual(createHash('sha256').update(await fsp.readFile(path.join(dir, 'big.bin'))).digest(), digest);
    const direct = counting({});
    const d = await direct.fs.openFile('/direct-big.bin', { write: true, create: true, truncate: true }, {});
    await writeMiB(d, 80);
    await d.commit();
    assert.equal(direct.syncs(), 0);
  });

  void it('a failed background sync fails the commit: the old file stays, the temp file is removed', async () => {
    await fsp.writeFile(path.join(dir, 'keep.bin'), 'old content');
    const { fs } = counting({ failSync: [1] });
    const h = await fs.openFile('/keep.bin', { write: true, create: true, truncate: true }, { atomic: true });
    await writeMiB(h, 40);
    // the next syncs succeed: the failure must still be reported (Linux reports it only once)
    await assert.rejects(h.commit(), (e: unknown) => SftpgoError.is(e) && /^sync "\/keep\.bin"/.test(e.message));
    await h.discard();
    assert.equal(await fsp.readFile(path.join(dir, 'keep.bin'), 'utf8'), 'old content');
    assert.deepEqual(await tempFiles(dir), []);
  });
});
