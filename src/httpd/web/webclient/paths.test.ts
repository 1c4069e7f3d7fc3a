import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../../../errors/index.js';
import { breadcrumbs, childPath, formatSize, renameTarget, sortEntries } from './paths.js';

const invalid = (e: unknown): boolean => SftpgoError.is(e, 'INVALID_INPUT');

void describe('web client paths', () => {
  void it('breadcrumbs lead from Home to the directory', () => {
    assert.deepEqual(breadcrumbs('/'), [{ name: 'Home', path: '/' }]);
    assert.deepEqual(breadcrumbs('/a/b c'), [
      { name: 'Home', path: '/' },
      { name: 'a', path: '/a' },
      { name: 'b c', path: '/a/b c' },
    ]);
  });

  void it('childPath takes exactly one name and stays below the directory', () => {
    assert.equal(childPath('/', 'a.txt'), '/a.txt');
    assert.equal(childPath('/d/e', 'x y'), '/d/e/x y');
    assert.equal(childPath('/d', '%2e%2e'), '/d/%2e%2e', 'percent signs are plain characters');
    assert.equal(childPath('/d', 'a\\..\\b'), '/d/a\\..\\b', 'backslashes are plain characters');
    // the directory itself is cleaned inside the root
    assert.equal(childPath('/../../etc', 'passwd'), '/etc/passwd');
    for (const bad of ['', '  ', '.', '..', 'a/b', '/abs', '../x', 'nul\0.txt']) {
      assert.throws(() => childPath('/d', bad), invalid, JSON.stringify(bad));
    }
  });

  void it('renameTarget: a name, a relative path or an absolute one', () => {
    assert.equal(renameTarget('/d/a.txt', 'b.txt'), '/d/b.txt');
    assert.equal(renameTarget('/d/a.txt', '../b.txt'), '/b.txt');
    assert.equal(renameTarget('/d/a.txt', 'sub/b.txt'), '/d/sub/b.txt');
    assert.equal(renameTarget('/d/a.txt', '/other/b.txt'), '/other/b.txt');
    assert.equal(renameTarget('/a.txt', '../../../../etc/x'), '/etc/x', 'no way above the root');
    assert.throws(() => renameTarget('/a.txt', ' '), invalid);
    assert.throws(() => renameTarget('/a.txt', 'x\0y'), invalid);
  });

  void it('sortEntries lists directories first, then by name', () => {
    const got = sortEntries([
      { name: 'b', isDirectory: false },
      { name: 'Z', isDirectory: true },
      { name: 'a', isDirectory: false },
      { name: 'c', isDirectory: true },
    ]).map((e) => e.name);
    assert.deepEqual(got, ['Z', 'c', 'a', 'b']);
  });

  void it('formatSize uses powers of 1024', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(1023), '1023 B');
    assert.equal(formatSize(1536), '1.5 KB');
    assert.equal(formatSize(10 * 1024 * 1024), '10 MB');
    assert.equal(formatSize(5 * 1024 ** 3 + 1), '5 GB');
    assert.equal(formatSize(-1), '');
  });
});
