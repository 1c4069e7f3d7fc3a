import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { HttpError } from './errors.js';
import { createTokenManager, deriveSigningKey, TOKEN_DURATION_MS } from './jwt.js';

function clock(start: number): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function expect401(fn: () => unknown, message: string, detail?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(HttpError.is(e), `expected HttpError, got ${String(e)}`);
    assert.equal(e.status, 401);
    assert.equal(e.message, message);
    if (detail) assert.match(e.detail ?? '', detail);
    return true;
  });
}

const admin = { username: 'root', permissions: ['*'] };

void describe('httpd jwt', () => {
  void it('issues HS256 tokens valid for 15 minutes with the upstream claims', () => {
    const c = clock(Date.UTC(2024, 0, 1, 12, 0, 0));
    const tm = createTokenManager({ now: c.now });
    const t = tm.issue({ ...admin, passwordHash: '$2a$10$abc' }, 'API');
    assert.equal(t.expires_at, '2024-01-01T12:15:00Z');
    const header = JSON.parse(Buffer.from(t.access_token.split('.')[0] ?? '', 'base64url').toString());
    assert.equal(header.alg, 'HS256');
    const claims = tm.verify(t.access_token, 'API');
    assert.equal(claims.username, 'root');
    assert.deepEqual(claims.permissions, ['*']);
    assert.equal(claims.aud, 'API');
    assert.equal(claims.exp - claims.iat, TOKEN_DURATION_MS / 1000);
    assert.equal(claims.nbf, claims.iat - 30);
    assert.match(claims.jti, /^[0-9a-f]{20}$/);
    assert.ok(claims.sub && claims.sub.length > 0);
  });

  void it('accepts a token until it expires and rejects it afterwards', () => {
    const c = clock(Date.UTC(2024, 0, 1, 12, 0, 0));
    const tm = createTokenManager({ now: c.now });
    const t = tm.issue(admin, 'API');
    c.advance(TOKEN_DURATION_MS - 1000);
    assert.equal(tm.verify(t.access_token, 'API').username, 'root');
    c.advance(2000);
    expect401(() => tm.verify(t.access_token, 'API'), 'Unauthorized', /expired/);
  });

  void it('rejects a token used before its nbf', () => {
    const c = clock(Date.UTC(2024, 0, 1, 12, 0, 0));
    const tm = createTokenManager({ now: c.now });
    const t = tm.issue(admin, 'API');
    c.advance(-60_000);
    expect401(() => tm.verify(t.access_token, 'API'), 'Unauthorized', /not active/);
  });

  void it('rejects a missing, malformed or foreign-signed token', () => {
    const tm = createTokenManager();
    expect401(() => tm.verify(undefined, 'API'), 'Unauthorized', /no token found/);
    expect401(() => tm.verify('not-a-jwt', 'API'), 'Unauthorized', /malformed/);
    const other = createTokenManager().issue(admin, 'API');
    expect401(() => tm.verify(other.access_token, 'API'), 'Unauthorized', /signature/);
  });

  void it('rejects alg none and other algorithms', () => {
    const tm = createTokenManager({ passphrase: 'secret' });
    const now = Math.floor(Date.now() / 1000);
    const payload = { ...admin, aud: 'API', exp: now + 600, nbf: now - 30, iat: now, jti: 'x' };
    const none = jwt.sign(payload, '', { algorithm: 'none' });
    expect401(() => tm.verify(none, 'API'), 'Unauthorized');
    const hs512 = jwt.sign(payload, deriveSigningKey('secret'), { algorithm: 'HS512' });
    expect401(() => tm.verify(hs512, 'API'), 'Unauthorized', /algorithm/);
  });

  void it('rejects a token for another audience with the upstream message', () => {
    const tm = createTokenManager();
    const t = tm.issue(admin, 'APIUser');
    expect401(() => tm.verify(t.access_token, 'API'), 'Your token audience is not valid');
  });

  void it('revoked tokens are refused until they expire, then forgotten', () => {
    const c = clock(Date.UTC(2024, 0, 1, 12, 0, 0));
    const tm = createTokenManager({ now: c.now });
    const t1 = tm.issue(admin, 'API');
    const t2 = tm.issue(admin, 'API');
    tm.revoke(t1.access_token);
    expect401(() => tm.verify(t1.access_token, 'API'), 'Your token is no longer valid');
    assert.equal(tm.verify(t2.access_token, 'API').username, 'root');
    tm.revoke('garbage');
    c.advance(TOKEN_DURATION_MS + 1000);
    expect401(() => tm.verify(t1.access_token, 'API'), 'Unauthorized', /expired/);
  });

  void it('derives the same key from the same passphrase, so instances share tokens', () => {
    const a = createTokenManager({ passphrase: 'shared secret' });
    const b = createTokenManager({ passphrase: 'shared secret' });
    const c = createTokenManager({ passphrase: 'another secret' });
    const t = a.issue(admin, 'API');
    assert.equal(b.verify(t.access_token, 'API').username, 'root');
    expect401(() => c.verify(t.access_token, 'API'), 'Unauthorized', /signature/);
    assert.deepEqual(deriveSigningKey('x'), deriveSigningKey('x'));
    assert.equal(deriveSigningKey('x').length, 32);
  });
});
