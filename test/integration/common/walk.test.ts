/**
 * The one tree walker of src/common over a real temp dir: list permission, file patterns,
 * symlinks never walked into (loops, links out of the home), skip or throw as the caller asks;
 * recursive rename checks walk with it.
 */
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Connection, WalkOptions } from '../../../src/common/index.js';
import type { SftpgoError } from '../../../src/errors/index.js';
import { code, exists, makeEnv, makeTree, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

async function collect(
  c: Connection,
  root: string,
  o: WalkOptions = {},
): Promise<{ entries: string[]; skipped: string[] }> {
  const entries: string[] = [];
  const skipped: string[] = [];
  for await (const e of c.walk(root, { ...o, onSkip: (p, r: SftpgoError) => skipped.push(`${p} ${r.code}`) }))
    entries.push(`${e.type} ${e.path}${e.viaSymlink ? ' (link)' : ''}`);
  return { entries, skipped: skipped.sort() };
}

const folders = () => [
  { name: 'own', mapped_path: env.p('own'), virtual_path: '/own', quota_size: 0, quota_files: 0 },
  { name: 'incl', mapped_path: env.p('incl'), virtual_path: '/incl', quota_size: -1, quota_files: -1 },
];

void describe('walk', () => {
  void it('depth first, files before subdirectories, dir-end after the content, virtual folders walked into', async () => {
    await makeTree(env.home, { 'a/f1': '1', 'a/sub/f2': '22', 'a/sub/deeper/': '', 'a/f3': '333' });
    await makeTree(env.p('own'), { 'inside.txt': 'v' });
    const c = await env.connect(env.user({ virtual_folders: [{ ...folders()[0], virtual_path: '/a/own' }] }));
    const { entries } = await collect(c, '/a');
    const files = entries.filter((e) => e.startsWith('file '));
    assert.deepEqual(files.sort(), ['file /a/f1', 'file /a/f3', 'file /a/own/inside.txt', 'file /a/sub/f2']);
    assert.equal(entries[0], 'dir /a');
    assert.equal(entries[entries.length - 1], 'dir-end /a');
    // the files of /a come before any of its subdirectories
    const firstSubdir = entries.findIndex((e) => e.startsWith('dir /a/'));
    assert.ok(entries.indexOf('file /a/f1') < firstSubdir && entries.indexOf('file /a/f3') < firstSubdir);
    assert.ok(entries.indexOf('dir /a/sub/deeper') < entries.indexOf('dir-end /a/sub'));
    const single = await collect(c, '/a/f1');
    assert.deepEqual(single.entries, ['file /a/f1']);
  });

  void it('applies list permission and file patterns: skipped or thrown, as the caller asks', async () => {
    await makeTree(env.home, { 'w/ok.txt': 'ok', 'w/x/y/z/secret/s.txt': 's', 'w/x/tool.exe': 'MZ', 'w/nodl/f.txt': 'f' });
    const c = await env.connect(
      env.user({
        permissions: { '/': ['*'], '/w/x/y/z/secret': ['download'], '/w/nodl': ['list'] },
        filters: { file_patterns: [{ path: '/w', denied_patterns: ['*.exe'] }] },
      }),
    );
    const skipped = await collect(c, '/w', { onDenied: 'skip', filePerm: 'download' });
    assert.deepEqual(skipped.skipped, [
      '/w/nodl/f.txt PERMISSION_DENIED',
      '/w/x/tool.exe NAME_NOT_ALLOWED',
      '/w/x/y/z/secret PERMISSION_DENIED',
    ]);
    assert.ok(!skipped.entries.some((e) => e.includes('secret') || e.includes('tool.exe') || e.includes('nodl/f.txt')));
    assert.ok(skipped.entries.includes('dir /w/nodl'), 'a listable directory is walked even when its files are hidden');
    // without filePerm the file without download is visible
    assert.ok((await collect(c, '/w/nodl')).entries.includes('file /w/nodl/f.txt'));
    await assert.rejects(collect(c, '/w/x/y'), code('PERMISSION_DENIED', /secret/));
    await assert.rejects(collect(c, '/w/x', { onDenied: 'throw' }), code('NAME_NOT_ALLOWED'));
  });

  void it('never walks into symlinks: loops and links out of the home are not followed', async () => {
    await makeTree(env.home, { 'd/f.txt': 'f', 'd/sub/g.txt': 'g' });
    await makeTree(env.p('outside'), { 'secret.txt': 'outside' });
    await fsp.symlink('..', path.join(env.home, 'd', 'sub', 'loop'));
    await fsp.symlink('.', path.join(env.home, 'd', 'self'));
    await fsp.symlink(env.p('outside'), path.join(env.home, 'd', 'out-dir'));
    await fsp.symlink(env.p('outside', 'secret.txt'), path.join(env.home, 'd', 'out-file'));
    await fsp.symlink('f.txt', path.join(env.home, 'd', 'in-file'));
    await fsp.symlink('missing', path.join(env.home, 'd', 'dangling'));
    const c = await env.connect(env.user());
    const plain = await collect(c, '/d');
    assert.deepEqual(
      plain.entries.filter((e) => e.startsWith('symlink')).sort(),
      ['symlink /d/dangling', 'symlink /d/in-file', 'symlink /d/out-dir', 'symlink /d/out-file', 'symlink /d/self', 'symlink /d/sub/loop'],
    );
    assert.equal(plain.entries.length, 6 + 2 + 4, 'links, two files, two dirs with their ends');
    const resolved = await collect(c, '/d', { resolveSymlinks: true, onDenied: 'skip' });
    assert.deepEqual(resolved.entries.filter((e) => e.startsWith('file')).sort(), [
      'file /d/f.txt',
      'file /d/in-file (link)',
      'file /d/sub/g.txt',
    ]);
    assert.deepEqual(resolved.skipped, [
      '/d/dangling NOT_FOUND',
      '/d/out-dir PERMISSION_DENIED',
      '/d/out-file PERMISSION_DENIED',
      '/d/self OP_UNSUPPORTED',
      '/d/sub/loop OP_UNSUPPORTED',
    ]);
    await assert.rejects(collect(c, '/d', { resolveSymlinks: true }), code('PERMISSION_DENIED'));
  });
});

void describe('rename of a tree with permissions inside', () => {
  void it('is refused when a directory inside may not be listed', async () => {
    await makeTree(env.home, { 'r/ok/f': 'f', 'r/closed/g': 'g' });
    const c = await env.connect(env.user({ permissions: { '/': ['*'], '/r/closed': ['rename', 'delete', 'upload'] } }));
    await assert.rejects(c.rename('/r', '/moved'), code('PERMISSION_DENIED', /closed/));
    assert.ok(await exists(path.join(env.home, 'r', 'closed', 'g')));
  });
});

