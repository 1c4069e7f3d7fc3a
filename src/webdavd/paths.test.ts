import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { removeDotSegments, urlToVirtualPath, virtualPathToUrl } from './paths.js';

const base = new URL('http://h/dav/');

void describe('webdavd paths', () => {
  void it('decodes a request URL once and normalizes it inside the namespace', () => {
    assert.equal(urlToVirtualPath(new URL('http://h/dav/a%20b/c'), base), '/a b/c');
    assert.equal(urlToVirtualPath(new URL('http://h/dav/'), base), '/');
    assert.equal(urlToVirtualPath(new URL('http://h/dav'), base), '/');
    // the WHATWG URL parser resolves %2e%2e as ..: above the prefix is outside the namespace
    assert.throws(() => urlToVirtualPath(new URL('http://h/dav/%2e%2e/%2e%2e/etc'), base), (e) => SftpgoError.is(e, 'NOT_FOUND'));
    assert.equal(urlToVirtualPath(new URL('http://h/dav/a/%2e%2e/b'), base), '/b');
    assert.equal(urlToVirtualPath(new URL('http://h/dav/%252e%252e'), base), '/%2e%2e');
    assert.equal(urlToVirtualPath(new URL('http://h/dav/a%5cb'), base), '/a\\b');
    assert.throws(() => urlToVirtualPath(new URL('http://h/other/x'), base), (e) => SftpgoError.is(e, 'NOT_FOUND'));
    assert.throws(() => urlToVirtualPath(new URL('http://h/dav/%E0%A4%A'), base), (e) => SftpgoError.is(e, 'INVALID_INPUT'));
    assert.throws(() => urlToVirtualPath(new URL('http://h/dav/a%00'), base), (e) => SftpgoError.is(e, 'INVALID_INPUT'));
  });

  void it('builds URLs with encoded segments and a slash for collections', () => {
    assert.equal(virtualPathToUrl('/a b/c#d', base, false).pathname, '/dav/a%20b/c%23d');
    assert.equal(virtualPathToUrl('/dir', base, true).pathname, '/dav/dir/');
    assert.equal(virtualPathToUrl('/', base, true).pathname, '/dav/');
  });

  void it('resolves literal dot segments, never above the root', () => {
    assert.equal(removeDotSegments('/../../etc/passwd'), '/etc/passwd');
    assert.equal(removeDotSegments('/a/./b/../c/'), '/a/c/');
    assert.equal(removeDotSegments('/a/..'), '/');
    assert.equal(removeDotSegments('/%2e%2e/x'), '/%2e%2e/x');
  });
});
