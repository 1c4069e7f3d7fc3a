import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAdmin, decodeUser } from './decode.js';
import { HttpError } from './errors.js';
import { parseDisconnect, parseListOptions } from './query.js';

function expect400(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(HttpError.is(e), String(e));
    assert.equal(e.status, 400);
    assert.match(e.message, message);
    return true;
  });
}

void describe('httpd request decoding', () => {
  void it('keeps known fields, drops unknown ones and nulls', () => {
    const u = decodeUser({
      username: 'u',
      status: 1,
      foo: { bar: [1, 2] },
      description: null,
      filters: { allowed_ip: ['10.0.0.0/8'], nope: true },
      permissions: { '/': ['*'] },
    });
    assert.deepEqual(u, {
      username: 'u',
      status: 1,
      filters: { allowed_ip: ['10.0.0.0/8'] },
      permissions: { '/': ['*'] },
    });
  });

  void it('names the field and the types on a mismatch', () => {
    expect400(() => decodeUser({ status: '1' }), /field "status" must be an integer, got a string/);
    expect400(() => decodeUser({ uid: 1.5 }), /field "uid" must be an integer, got a number with a fraction/);
    expect400(() => decodeUser({ quota_size: 1e300 }), /field "quota_size" must be an integer/);
    expect400(
      () => decodeUser({ filters: { allowed_ip: ['ok', 3] } }),
      /field "filters.allowed_ip\[1\]" must be a string, got an integer/,
    );
    expect400(() => decodeUser({ permissions: { '/': 'list' } }), /field "permissions\.\/" must be an array/);
    expect400(() => decodeUser([]), /the request body must be an object, got an array/);
    expect400(() => decodeAdmin('x'), /the request body must be an object, got a string/);
    expect400(() => decodeAdmin({ permissions: {} }), /field "permissions" must be an array, got an object/);
  });

  void it('ignores prototype keys', () => {
    const u = decodeUser(JSON.parse('{"__proto__": {"admin": true}, "permissions": {"__proto__": ["*"]}}'));
    assert.deepEqual(Object.keys(u), ['permissions']);
    assert.deepEqual(Object.keys(u.permissions ?? {}), []);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });
});

void describe('httpd query parameters', () => {
  void it('applies defaults and clamps the limit', () => {
    assert.deepEqual(parseListOptions({}), { limit: 100, offset: 0, order: 'ASC' });
    assert.deepEqual(parseListOptions({ limit: '1000', offset: '5', order: 'DESC' }), {
      limit: 500,
      offset: 5,
      order: 'DESC',
    });
    assert.deepEqual(parseListOptions({ limit: ['2', 'x'] }), { limit: 2, offset: 0, order: 'ASC' });
  });

  void it('rejects bad values with upstream messages', () => {
    expect400(() => parseListOptions({ limit: 'abc' }), /^invalid limit$/);
    expect400(() => parseListOptions({ limit: '0' }), /^invalid limit$/);
    expect400(() => parseListOptions({ offset: '-1' }), /^invalid offset$/);
    expect400(() => parseListOptions({ offset: '1e3' }), /^invalid offset$/);
    expect400(() => parseListOptions({ offset: '99999999999999999999' }), /^invalid offset$/);
    expect400(() => parseListOptions({ order: 'asc' }), /^invalid order$/);
  });

  void it('parses disconnect like strconv.Atoi', () => {
    assert.equal(parseDisconnect({}), false);
    assert.equal(parseDisconnect({ disconnect: '1' }), true);
    assert.equal(parseDisconnect({ disconnect: '0' }), false);
    assert.equal(parseDisconnect({ disconnect: '7' }), false);
    expect400(() => parseDisconnect({ disconnect: 'yes' }), /^invalid disconnect parameter$/);
  });
});
