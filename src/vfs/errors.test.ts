import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { mapFsError } from './errors.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: native message, open '/srv/secret/path'`), {
    code,
    path: '/srv/secret/path',
  });
}

void describe('mapFsError', () => {
  const cases: [string, string][] = [
    ['ENOENT', 'NOT_FOUND'],
    ['ENOTDIR', 'NOT_FOUND'],
    ['EACCES', 'PERMISSION_DENIED'],
    ['EPERM', 'PERMISSION_DENIED'],
    ['EROFS', 'PERMISSION_DENIED'],
    ['EEXIST', 'ALREADY_EXISTS'],
    ['ENOTEMPTY', 'NOT_EMPTY'],
    ['EISDIR', 'INVALID_INPUT'],
    ['ELOOP', 'INVALID_INPUT'],
    ['ENOSPC', 'QUOTA_EXCEEDED'],
    ['EDQUOT', 'QUOTA_EXCEEDED'],
    ['EXDEV', 'OP_UNSUPPORTED'],
    ['ENOTSUP', 'OP_UNSUPPORTED'],
    ['EIO', 'INTERNAL'],
  ];
  for (const [native, expected] of cases) {
    void it(`${native} → ${expected}, cause kept, no server path in the message`, () => {
      const cause = errno(native);
      const e = mapFsError(cause, '/virtual/file', 'open');
      assert.equal(e.code, expected);
      assert.equal(e.cause, cause);
      assert.ok(e.message.includes('/virtual/file'));
      assert.ok(!e.message.includes('/srv/secret'));
      assert.equal(e.expose, expected !== 'INTERNAL');
    });
  }

  void it('passes SftpgoErrors through and maps aborts', () => {
    const orig = new SftpgoError('NOT_EMPTY', 'x');
    assert.equal(mapFsError(orig, '/a'), orig);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    assert.equal(mapFsError(abort, '/a').code, 'ABORTED');
  });
});
