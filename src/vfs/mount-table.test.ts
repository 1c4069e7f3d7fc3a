import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { MountTable } from './mount-table.js';
import type { Fs } from './types.js';

function fakeFs(label: string): Fs {
  return { kind: 'local', label } as unknown as Fs;
}

void describe('MountTable', () => {
  const home = fakeFs('home');
  const a = fakeFs('a');
  const ab = fakeFs('ab');
  const t = new MountTable([
    { path: '/', fs: home },
    { path: '/a', fs: a, folder: { name: 'fa', quotaSize: 0, quotaFiles: 0 } },
    { path: '/a/b/c', fs: ab, folder: { name: 'fabc', quotaSize: -1, quotaFiles: -1 } },
  ]);

  void it('resolves by longest prefix', () => {
    assert.equal(t.resolve('/x/y').fs, home);
    assert.equal(t.resolve('/x/y').relPath, '/x/y');
    assert.equal(t.resolve('/a').fs, a);
    assert.equal(t.resolve('/a').relPath, '/');
    assert.equal(t.resolve('/a/f').relPath, '/f');
    assert.equal(t.resolve('/a/b/c/d/e').fs, ab);
    assert.equal(t.resolve('/a/b/c/d/e').relPath, '/d/e');
    assert.equal(t.resolve('/a/b/cd').fs, a);
    assert.equal(t.resolve('/ab').fs, home);
    assert.equal(t.resolve('/a/../a/b/c/../c').fs, ab);
  });

  void it('knows mount points, virtual dirs and folders', () => {
    assert.equal(t.isMountPoint('/a'), true);
    assert.equal(t.isMountPoint('/a/b'), false);
    assert.equal(t.isMountPoint('/'), false);
    assert.deepEqual(t.virtualDirsIn('/'), ['a']);
    assert.deepEqual(t.virtualDirsIn('/a'), ['b']);
    assert.deepEqual(t.virtualDirsIn('/a/b'), ['c']);
    assert.equal(t.isVirtualDir('/a/b'), true);
    assert.equal(t.isVirtualDir('/a/x'), false);
    assert.equal(t.hasMountsInside('/a'), true);
    assert.equal(t.hasMountsInside('/a/b/c'), false);
    assert.equal(t.folderMountFor('/z'), undefined);
    assert.equal(t.folderMountFor('/a/b/c/file')?.folder?.name, 'fabc');
  });

  void it('requires a root mount and unique mount points', () => {
    assert.throws(
      () => new MountTable([{ path: '/a', fs: a }]),
      (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () =>
        new MountTable([
          { path: '/', fs: home },
          { path: '/a/', fs: a },
          { path: '/a', fs: ab },
        ]),
      (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT'),
    );
  });
});
