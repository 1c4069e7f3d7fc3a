import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../../../errors/index.js';
import { gcsStatusOf, mapGcsError } from './errors.js';

const ctx = { op: 'stat', display: '/dir/file' };
const SECRET_TEXT = 'bucket-name private_key -----BEGIN';

/** the shapes @google-cloud/storage 7.22.0 reports a status in (errors.ts header) */
const apiError = (code: number) => Object.assign(new Error(SECRET_TEXT), { code });
const gaxiosError = (status: number) =>
  Object.assign(new Error(SECRET_TEXT), { status, code: 'ERR_BAD_REQUEST' });
const errorBody = (code: number) => ({ code, message: SECRET_TEXT, errors: [] });

void describe('mapGcsError', () => {
  const table: [string, unknown, string][] = [
    ['ApiError 404', apiError(404), 'NOT_FOUND'],
    ['GaxiosError 404 (resumable start)', gaxiosError(404), 'NOT_FOUND'],
    ['error body 404 (resumable PUT)', errorBody(404), 'NOT_FOUND'],
    ['ApiError 403', apiError(403), 'PERMISSION_DENIED'],
    ['GaxiosError 401', gaxiosError(401), 'PERMISSION_DENIED'],
    ['string status', { code: '403' }, 'PERMISSION_DENIED'],
    ['a status in a response', { response: { status: 404 } }, 'NOT_FOUND'],
    ['404 only in the text', new Error('Retry limit exceeded - status: 404'), 'NOT_FOUND'],
    ['403 only in the text', new Error('Upload failed 403 Forbidden'), 'PERMISSION_DENIED'],
    ['412', apiError(412), 'CONFLICT'],
    ['400', gaxiosError(400), 'INVALID_INPUT'],
    ['429', apiError(429), 'BACKEND_UNAVAILABLE'],
    ['503', gaxiosError(503), 'BACKEND_UNAVAILABLE'],
    [
      'ECONNREFUSED',
      Object.assign(new Error(SECRET_TEXT), { code: 'ECONNREFUSED' }),
      'BACKEND_UNAVAILABLE',
    ],
    [
      'undici fetch failure',
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      }),
      'BACKEND_UNAVAILABLE',
    ],
    [
      'no default credentials',
      new Error('Could not load the default credentials. Browse to https://example'),
      'BACKEND_UNAVAILABLE',
    ],
    ['AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'ABORTED'],
    ['anything else', new Error(SECRET_TEXT), 'INTERNAL'],
    ['a 409', apiError(409), 'INTERNAL'],
  ];
  for (const [what, native, code] of table) {
    void it(`${what} -> ${code}`, () => {
      const e = mapGcsError(native, ctx);
      assert.equal(e.code, code);
      assert.equal(e.cause, native, 'the SDK error is the cause');
      assert.ok(e.message.startsWith('stat "/dir/file"'), e.message);
      assert.doesNotMatch(e.message, /bucket-name|private_key|BEGIN/);
    });
  }

  void it('passes SftpgoErrors through and reports its own deadline as unavailable', () => {
    const own = new SftpgoError('NOT_EMPTY', 'x');
    assert.equal(mapGcsError(own, ctx), own);
    assert.equal(
      mapGcsError(apiError(404), { ...ctx, timedOut: true }).code,
      'BACKEND_UNAVAILABLE',
    );
  });

  void it('reads the status from each shape, 0 without one', () => {
    assert.equal(gcsStatusOf(apiError(404)), 404);
    assert.equal(gcsStatusOf(gaxiosError(403)), 403);
    assert.equal(gcsStatusOf({ code: 'ECONNRESET' }), 0);
    assert.equal(gcsStatusOf({ code: 42 }), 0);
    assert.equal(gcsStatusOf(undefined), 0);
  });
});
