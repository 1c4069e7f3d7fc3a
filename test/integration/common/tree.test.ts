/**
 * Connection.copy and Connection.removeTree over a real temp dir: permissions per entry checked
 * before anything changes, quota of the user and of virtual folders, overwrite semantics,
 * refusals, symlinks never followed, a 2,000-entry tree.
 */
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { code, exists, makeEnv, makeTree, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

const folders = () => [
  { name: 'own', mapped_path: env.p('own'), virtual_path: '/own', quota_size: 0, quota_files: 0 },
  { name: 'incl', mapped_path: env.p('incl'), virtual_path: '/incl', quota_size: -1, quota_files: -1 },
];

void describe('copy', () => {
  void it('copies a tree byte-exact, adds files and bytes to the user quota, skips symlinks', async () => {
    await makeTree(env.home, { 'src/a.txt': 'aaa', 'src/sub/b.bin': 'b'.repeat(1000), 'src/empty/': '' });
    await fsp.symlink('..', path.join(env.home, 'src', 'sub', 'loop'));
    await fsp.symlink(env.p('outside'), path.join(env.home, 'src', 'out'));
    const c = await env.connect(env.user());
    const r = await c.copy('/src', '/dst', { overwrite: false });
    assert.deepEqual(r, { files: 2, dirs: 3, bytes: 1003 });
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'sub', 'b.bin'), 'utf8'), 'b'.repeat(1000));
    assert.ok(await exists(path.join(env.home, 'dst', 'empty')));
    assert.equal(await exists(path.join(env.home, 'dst', 'sub', 'loop')), false);
    assert.equal(await exists(path.join(env.home, 'dst', 'out')), false);
    assert.deepEqual(env.quota.user(), { size: 1003, files: 2 });
    assert.equal(c.activeTransfers().length, 0);
    const f = await c.copy('/src/a.txt', '/a-copy.txt', { overwrite: false });
    assert.deepEqual(f, { files: 1, dirs: 0, bytes: 3 });
    assert.deepEqual(env.quota.user(), { size: 1006, files: 3 });
  });

  void it('an existing target: refused without overwrite; merged with it, replacing files, with overwrite', async () => {
    await makeTree(env.home, { 'src/a.txt': 'new content', 'src/sub/b.txt': 'b', 'dst/a.txt': 'old', 'dst/keep.txt': 'kept', 'dst/sub/': '' });
    const c = await env.connect(env.user());
    await assert.rejects(c.copy('/src', '/dst', { overwrite: false }), code('ALREADY_EXISTS'));
    await assert.rejects(c.copy('/src/a.txt', '/dst/keep.txt', { overwrite: false }), code('ALREADY_EXISTS'));
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'a.txt'), 'utf8'), 'old');
    const r = await c.copy('/src', '/dst', { overwrite: true });
    assert.deepEqual(r, { files: 2, dirs: 0, bytes: 12 });
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'a.txt'), 'utf8'), 'new content');
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'keep.txt'), 'utf8'), 'kept');
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'sub', 'b.txt'), 'utf8'), 'b');
    // a.txt replaced (size 3 → 11, no new file), sub/b.txt new
    assert.deepEqual(env.quota.user(), { size: 8 + 1, files: 1 });
    // a file onto a directory and a directory onto a file
    await assert.rejects(c.copy('/src/a.txt', '/dst/sub', { overwrite: true }), code('OP_UNSUPPORTED'));
    await assert.rejects(c.copy('/src/sub', '/dst/keep.txt', { overwrite: true }), code('OP_UNSUPPORTED'));
  });

  void it('replacing needs overwrite on the target directory, checked before anything is written', async () => {
    await makeTree(env.home, { 'src/new.txt': 'n', 'src/z.txt': 'zz', 'dst/z.txt': 'old' });
    const c = await env.connect(env.user({ permissions: { '/': ['*'], '/dst': ['list', 'upload', 'create_dirs'] } }));
    await assert.rejects(c.copy('/src', '/dst', { overwrite: true }), code('PERMISSION_DENIED'));
    assert.equal(await exists(path.join(env.home, 'dst', 'new.txt')), false);
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'z.txt'), 'utf8'), 'old');
  });

  void it('refuses copying onto itself, into its own subtree or into an ancestor', async () => {
    await makeTree(env.home, { 'd/sub/f.txt': 'f' });
    const c = await env.connect(env.user());
    await assert.rejects(c.copy('/d', '/d/', { overwrite: true }), code('OP_UNSUPPORTED', /same/));
    await assert.rejects(c.copy('/d/sub/f.txt', '/d/sub/f.txt', { overwrite: true }), code('OP_UNSUPPORTED'));
    await assert.rejects(c.copy('/d', '/d/sub/inner', { overwrite: false }), code('OP_UNSUPPORTED', /contains/));
    await assert.rejects(c.copy('/d/sub', '/d', { overwrite: true }), code('OP_UNSUPPORTED', /contains/));
    await assert.rejects(c.copy('/d/sub', '/', { overwrite: true }), code('OP_UNSUPPORTED'));
    assert.equal(await exists(path.join(env.home, 'd', 'sub', 'inner')), false);
    await assert.rejects(c.copy('/missing', '/x', { overwrite: false }), code('NOT_FOUND'));
  });

  void it('a forbidden entry deep in the source or the target stops the copy before anything is written', async () => {
    await makeTree(env.home, { 'src/a.txt': 'a', 'src/x/y/nolist/s.txt': 's', 'src2/a.txt': 'a', 'src2/x/y/nodl/s.txt': 's', 'src3/ok.txt': 'o', 'src3/deep/tool.exe': 'MZ' });
    const c = await env.connect(
      env.user({
        permissions: {
          '/': ['*'],
          '/src/x/y/nolist': ['download'],
          '/src2/x/y/nodl': ['list'],
          '/dst4/ro': ['list'],
        },
        filters: { file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }] },
      }),
    );
    await assert.rejects(c.copy('/src', '/dst1', { overwrite: false }), code('PERMISSION_DENIED', /nolist/));
    await assert.rejects(c.copy('/src2', '/dst2', { overwrite: false }), code('PERMISSION_DENIED', /download/));
    await assert.rejects(c.copy('/src3', '/dst3', { overwrite: false }), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.copy('/src3/ok.txt', '/copy.exe', { overwrite: false }), code('NAME_NOT_ALLOWED'));
    await fsp.mkdir(path.join(env.home, 'dst4', 'ro'), { recursive: true });
    await assert.rejects(c.copy('/src3/ok.txt', '/dst4/ro/ok.txt', { overwrite: false }), code('PERMISSION_DENIED'));
    for (const d of ['dst1', 'dst2', 'dst3', 'copy.exe', 'dst4/ro/ok.txt'])
      assert.equal(await exists(path.join(env.home, d)), false, d);
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });

  void it('the quota must hold the whole copy; virtual folders count in their own scope or the user', async () => {
    await makeTree(env.home, { 'src/1': '1111', 'src/2': '2222', 'src/d/3': '3333' });
    const limited = await env.connect(env.user({ quota_files: 2 }));
    await assert.rejects(limited.copy('/src', '/dst', { overwrite: false }), code('QUOTA_EXCEEDED'));
    assert.equal(await exists(path.join(env.home, 'dst')), false);
    const small = await env.connect(env.user({ quota_size: 11 }));
    await assert.rejects(small.copy('/src', '/dst', { overwrite: false }), code('QUOTA_EXCEEDED'));
    const maxFile = await env.connect(env.user({ filters: { max_upload_file_size: 3 } }));
    await assert.rejects(maxFile.copy('/src', '/dst', { overwrite: false }), code('QUOTA_EXCEEDED'));
    assert.equal(await exists(path.join(env.home, 'dst')), false);

    const c = await env.connect(env.user({ virtual_folders: folders() }));
    await c.copy('/src', '/own/copy', { overwrite: false });
    assert.deepEqual(env.quota.folder('own'), { size: 12, files: 3 });
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
    await c.copy('/src', '/incl/copy', { overwrite: false });
    assert.deepEqual(env.quota.folder('incl'), { size: 12, files: 3 });
    assert.deepEqual(env.quota.user(), { size: 12, files: 3 });
    // a copy out of a folder into the home, and one spanning folders (the source contains /own)
    await c.copy('/own/copy', '/back', { overwrite: false });
    assert.deepEqual(env.quota.user(), { size: 24, files: 6 });
    assert.equal(await fsp.readFile(path.join(env.home, 'back', 'd', '3'), 'utf8'), '3333');
    await c.copy('/', '/incl/all', { overwrite: false }).then(
      () => assert.fail('copying the root into itself'),
      code('OP_UNSUPPORTED'),
    );

    // a folder with its own limit refuses although the user has room
    const f = folders();
    (f[0] as { quota_files: number }).quota_files = 4;
    const tight = await env.connect(env.user({ virtual_folders: f, quota_files: 1000 }));
    await assert.rejects(tight.copy('/src', '/own/more', { overwrite: false }), code('QUOTA_EXCEEDED'));
    assert.equal(await exists(env.p('own', 'more')), false);
    assert.deepEqual(env.quota.folder('own'), { size: 12, files: 3 });
  });
});

void describe('removeTree', () => {
  void it('removes a tree and decrements the quota; symlinks are removed, never followed', async () => {
    await makeTree(env.home, { 'src/a': 'aa', 'src/s/b': 'bbb', 'src/s/t/': '' });
    await makeTree(env.p('outside'), { 'secret.txt': 'outside' });
    const c = await env.connect(env.user());
    await c.copy('/src', '/t', { overwrite: false });
    await fsp.symlink(env.p('outside'), path.join(env.home, 't', 's', 'out'));
    await fsp.symlink('..', path.join(env.home, 't', 's', 'loop'));
    assert.deepEqual(env.quota.user(), { size: 5, files: 2 });
    const r = await c.removeTree('/t');
    assert.deepEqual(r, { files: 2, dirs: 3, bytes: 5 });
    assert.equal(await exists(path.join(env.home, 't')), false);
    assert.equal(await fsp.readFile(env.p('outside', 'secret.txt'), 'utf8'), 'outside');
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
    assert.ok(await exists(path.join(env.home, 'src', 's', 't')));
    await c.removeTree('/src/a');
    assert.equal(await exists(path.join(env.home, 'src', 'a')), false);
  });

  void it('stops at the first entry the user may not delete, see or name, having removed nothing', async () => {
    const spec = { 'a/top.txt': 't', 'a/b/c/keep/k.txt': 'k', 'a/b/c/other.txt': 'o' };
    await makeTree(env.home, { ...spec, 'n/x.txt': 'x', 'n/deep/hidden/h.txt': 'h', 'p/x.txt': 'x', 'p/q/tool.exe': 'MZ' });
    const c = await env.connect(
      env.user({
        permissions: { '/': ['*'], '/a/b/c/keep': ['list', 'download'], '/n/deep/hidden': ['delete'] },
        filters: { file_patterns: [{ path: '/p', denied_patterns: ['*.exe'] }] },
      }),
    );
    await assert.rejects(c.removeTree('/a'), code('PERMISSION_DENIED'));
    for (const f of Object.keys(spec)) assert.ok(await exists(path.join(env.home, f)), f);
    await assert.rejects(c.removeTree('/n'), code('PERMISSION_DENIED', /hidden/));
    assert.ok(await exists(path.join(env.home, 'n', 'x.txt')));
    await assert.rejects(c.removeTree('/p'), code('NAME_NOT_ALLOWED'));
    assert.ok(await exists(path.join(env.home, 'p', 'x.txt')));
    // the allowed part can be removed on its own
    await c.removeTree('/a/b/c/other.txt');
    await c.removeTree('/a/top.txt');
    assert.ok(await exists(path.join(env.home, 'a', 'b', 'c', 'keep', 'k.txt')));
  });

  void it('refuses the root, virtual folders and trees containing them; folder quota is decremented', async () => {
    const c = await env.connect(env.user({ virtual_folders: [...folders(), { ...folders()[0], name: 'n', mapped_path: env.p('n'), virtual_path: '/x/y/n' }] }));
    await makeTree(env.home, { 'x/y/f': 'f' });
    await assert.rejects(c.removeTree('/'), code('PERMISSION_DENIED'));
    await assert.rejects(c.removeTree('/own'), code('PERMISSION_DENIED'));
    await assert.rejects(c.removeTree('/x/y'), code('PERMISSION_DENIED'));
    await assert.rejects(c.removeTree('/x'), code('PERMISSION_DENIED'));
    await makeTree(env.home, { 'src/1': '1', 'src/2/3': '33' });
    await c.copy('/src', '/own/t', { overwrite: false });
    await c.copy('/src', '/incl/t', { overwrite: false });
    assert.deepEqual(env.quota.folder('own'), { size: 3, files: 2 });
    await c.removeTree('/own/t');
    await c.removeTree('/incl/t');
    assert.deepEqual(env.quota.folder('own'), { size: 0, files: 0 });
    assert.deepEqual(env.quota.folder('incl'), { size: 0, files: 0 });
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });
});

void describe('a 2,000-entry tree', () => {
  void it('is walked, copied and removed entry by entry with exact counters', async () => {
    const spec: Record<string, string> = {};
    for (let d = 0; d < 40; d++) for (let f = 0; f < 49; f++) spec[`big/d${d}/f${f}.txt`] = `${d}-${f}`;
    await makeTree(env.home, spec);
    const c = await env.connect(env.user());
    let files = 0;
    let dirs = 0;
    for await (const e of c.walk('/big')) {
      if (e.type === 'file') files++;
      else if (e.type === 'dir') dirs++;
    }
    assert.equal(files, 1960);
    assert.equal(dirs, 41);
    const bytes = Object.values(spec).reduce((n, v) => n + v.length, 0);
    assert.deepEqual(await c.copy('/big', '/big2', { overwrite: false }), { files: 1960, dirs: 41, bytes });
    assert.equal(await fsp.readFile(path.join(env.home, 'big2', 'd39', 'f48.txt'), 'utf8'), '39-48');
    assert.deepEqual(env.quota.user(), { size: bytes, files: 1960 });
    assert.deepEqual(await c.removeTree('/big2'), { files: 1960, dirs: 41, bytes });
    assert.equal(await exists(path.join(env.home, 'big2')), false);
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });
});
