/**
 * Password hashing and verification against hashes produced independently: `openssl passwd`
 * (md5crypt, apr1, sha256crypt, sha512crypt) and `openssl kdf PBKDF2` run by the test, plus the
 * pbkdf2 example of SFTPGo's documentation.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  hashPassword,
  isAdminPasswordHashed,
  isUserPasswordHashed,
  PasswordCache,
  userPasswordForStorage,
  verifyPassword,
} from './passwords.js';

const BCRYPT_FAST = {
  bcrypt_options: { cost: 4 },
  argon2_options: { memory: 65536, iterations: 1, parallelism: 2 },
  algo: 'bcrypt',
};
const ARGON = { ...BCRYPT_FAST, algo: 'argon2id' };

function opensslPasswd(flag: string, password: string): string {
  return execFileSync('openssl', ['passwd', flag, '-stdin'], { input: `${password}\n` })
    .toString()
    .trim();
}

/** PBKDF2 computed by the openssl CLI: returns the base64 of the derived key */
function opensslPbkdf2(
  digest: string,
  password: string,
  salt: Buffer,
  iter: number,
  keylen: number,
): string {
  const out = execFileSync('openssl', [
    'kdf',
    '-keylen',
    String(keylen),
    '-kdfopt',
    `digest:${digest}`,
    '-kdfopt',
    `pass:${password}`,
    '-kdfopt',
    `hexsalt:${salt.toString('hex')}`,
    '-kdfopt',
    `iter:${iter}`,
    'PBKDF2',
  ])
    .toString()
    .trim()
    .replaceAll(':', '');
  return Buffer.from(out, 'hex').toString('base64');
}

void describe('hashing new passwords', () => {
  void test('bcrypt with the configured cost, stored as $2a$', async () => {
    const h = await hashPassword('s3cret', BCRYPT_FAST);
    assert.match(h, /^\$2a\$04\$/);
    assert.equal(await verifyPassword('s3cret', h), true);
    assert.equal(await verifyPassword('S3cret', h), false);
  });
  void test('argon2id with m/t/p from the config', async () => {
    const h = await hashPassword('s3cret', ARGON);
    assert.match(h, /^\$argon2id\$v=19\$m=65536,t=1,p=2\$/);
    assert.equal(await verifyPassword('s3cret', h), true);
    assert.equal(await verifyPassword('nope', h), false);
  });
  void test('pre-hashed user passwords are stored verbatim', async () => {
    const md5 = opensslPasswd('-1', 'x');
    assert.equal(await userPasswordForStorage(md5, BCRYPT_FAST), md5);
    for (const p of [
      '$argon2id$v=19$x',
      '$2a$10$x',
      '$2b$10$x',
      '$2y$10$x',
      '$pbkdf2-sha1$1$s$h',
      '$pbkdf2-sha256$1$s$h',
      '$pbkdf2-sha512$1$s$h',
      '$pbkdf2-b64salt-sha256$1$s$h',
      '$1$s$h',
      '$apr1$s$h',
      '$6$s$h',
    ]) {
      assert.ok(isUserPasswordHashed(p), p);
    }
    assert.ok(!isUserPasswordHashed('$5$s$h'));
    assert.ok(!isUserPasswordHashed('plain'));
  });
  void test('admins accept only $argon2id$ and $2a$ as pre-hashed', () => {
    assert.ok(isAdminPasswordHashed('$2a$10$abc'));
    assert.ok(isAdminPasswordHashed('$argon2id$v=19$m=1'));
    assert.ok(!isAdminPasswordHashed('$2b$10$abc'));
    assert.ok(!isAdminPasswordHashed('$6$salt$hash'));
  });
});

void describe('verifying hashes made elsewhere', () => {
  void test('bcrypt revisions $2a$ $2b$ $2y$', async () => {
    const h = await hashPassword('pw', BCRYPT_FAST);
    for (const rev of ['$2a$', '$2b$', '$2y$']) {
      assert.equal(await verifyPassword('pw', rev + h.slice(4)), true, rev);
    }
  });
  void test('md5crypt from openssl passwd -1, with a non-ASCII password', async () => {
    const h = opensslPasswd('-1', 'pässwörd');
    assert.match(h, /^\$1\$/);
    assert.equal(await verifyPassword('pässwörd', h), true);
    assert.equal(await verifyPassword('passwort', h), false);
  });
  void test('apr1 from openssl passwd -apr1', async () => {
    const h = opensslPasswd('-apr1', 'secret');
    assert.match(h, /^\$apr1\$/);
    assert.equal(await verifyPassword('secret', h), true);
    assert.equal(await verifyPassword('secreT', h), false);
  });
  void test('sha512crypt from openssl passwd -6', async () => {
    const h = opensslPasswd('-6', 'secret');
    assert.match(h, /^\$6\$/);
    assert.equal(await verifyPassword('secret', h), true);
    assert.equal(await verifyPassword('secret ', h), false);
  });
  void test('sha256crypt from openssl passwd -5', async () => {
    const h = opensslPasswd('-5', 'secret');
    assert.equal(await verifyPassword('secret', h), true);
    assert.equal(await verifyPassword('Secret', h), false);
  });
  void test('pbkdf2-sha256 example of the SFTPGo docs', async () => {
    const h = '$pbkdf2-sha256$150000$E86a9YMX3zC7$R5J62hsSq+pYw00hLLPKBbcGXmq7fj5+/M0IFoYtZbo=';
    assert.equal(await verifyPassword('password', h), true);
    assert.equal(await verifyPassword('password1', h), false);
  });
  for (const [algo, digest, keylen] of [
    ['pbkdf2-sha1', 'SHA1', 20],
    ['pbkdf2-sha256', 'SHA256', 32],
    ['pbkdf2-sha512', 'SHA512', 64],
  ] as const) {
    void test(`${algo} computed by openssl kdf`, async () => {
      const salt = 'aZ09salt';
      const hash = opensslPbkdf2(digest, 'hunter2', Buffer.from(salt), 1000, keylen);
      const stored = `$${algo}$1000$${salt}$${hash}`;
      assert.equal(await verifyPassword('hunter2', stored), true);
      assert.equal(await verifyPassword('hunter3', stored), false);
    });
  }
  void test('pbkdf2-b64salt-sha256 computed by openssl kdf', async () => {
    const salt = randomBytes(16);
    const hash = opensslPbkdf2('SHA256', 'hunter2', salt, 2000, 32);
    const stored = `$pbkdf2-b64salt-sha256$2000$${salt.toString('base64')}$${hash}`;
    assert.equal(await verifyPassword('hunter2', stored), true);
    assert.equal(await verifyPassword('hunter', stored), false);
  });
  void test('malformed or unknown hashes never match and never throw', async () => {
    for (const h of [
      '',
      'plaintext',
      '$pbkdf2-sha256$abc$salt$R5J62hsSq+pYw00hLLPKBbcGXmq7fj5+/M0IFoYtZbo=',
      '$pbkdf2-sha256$1000$salt$not base64!',
      '$pbkdf2-sha256$1000$salt',
      '$pbkdf2-md5$1000$salt$AAAA',
      '$pbkdf2-b64salt-sha256$1000$%%%$AAAA',
      '$2a$bad',
      '$argon2id$garbage',
      '$6$',
      '$1$',
      '{MD5}abc',
    ]) {
      assert.equal(await verifyPassword('password', h), false, h);
    }
  });
});

void describe('PasswordCache', () => {
  void test('hits only for the same stored hash and password; remove and clear', () => {
    const c = new PasswordCache();
    c.add('u', 'hash1', 'pw');
    assert.equal(c.check('u', 'hash1', 'pw'), true);
    assert.equal(c.check('u', 'hash1', 'other'), false);
    assert.equal(c.check('u', 'hash2', 'pw'), false);
    assert.equal(c.check('v', 'hash1', 'pw'), false);
    c.remove('u');
    assert.equal(c.check('u', 'hash1', 'pw'), false);
    c.add('u', 'hash1', 'pw');
    c.clear();
    assert.equal(c.check('u', 'hash1', 'pw'), false);
  });
});
