import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import {
  dirsForVirtualPath,
  isSameOrBelow,
  joinVirtual,
  normalizeVirtualPath,
  virtualBase,
  virtualDir,
} from './path.js';

void describe('normalizeVirtualPath', () => {
  void it('keeps paths rooted and clamps .. at the root', () => {
    assert.equal(normalizeVirtualPath('../../etc/passwd'), '/etc/passwd');
    assert.equal(normalizeVirtualPath('/a/b/../../../..'), '/');
    assert.equal(normalizeVirtualPath('/a/./b//c/'), '/a/b/c');
    assert.equal(normalizeVirtualPath(''), '/');
    assert.equal(normalizeVirtualPath('.'), '/');
  });

  void it('resolves relative paths from cwd', () => {
    assert.equal(normalizeVirtualPath('x/../y', '/home/u'), '/home/u/y');
    assert.equal(normalizeVirtualPath('../../../z', '/a'), '/z');
  });

  void it('keeps percent sequences and backslashes literal', () => {
    assert.equal(normalizeVirtualPath('/%2e%2e/%2e%2e/etc'), '/%2e%2e/%2e%2e/etc');
    assert.equal(normalizeVirtualPath('/..\\..\\etc'), '/..\\..\\etc');
  });

  void it('refuses NUL bytes', () => {
    assert.throws(
      () => normalizeVirtualPath('/a\0b'),
      (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT'),
    );
  });
});

void describe('virtual path helpers', () => {
  void it('lists ancestors most specific first', () => {
    assert.deepEqual(dirsForVirtualPath('/1/2/3'), ['/1/2/3', '/1/2', '/1', '/']);
    assert.deepEqual(dirsForVirtualPath('/'), ['/']);
  });

  void it('compares, splits and joins', () => {
    assert.equal(isSameOrBelow('/a/b', '/a'), true);
    assert.equal(isSameOrBelow('/ab', '/a'), false);
    assert.equal(isSameOrBelow('/x', '/'), true);
    assert.equal(virtualDir('/a/b'), '/a');
    assert.equal(virtualBase('/a/b'), 'b');
    assert.equal(virtualBase('/'), '/');
    assert.equal(joinVirtual('/v', '/a'), '/v/a');
    assert.equal(joinVirtual('/v', '/'), '/v');
    assert.equal(joinVirtual('/', '/a'), '/a');
  });
});
