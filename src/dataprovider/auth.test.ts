/**
 * The authentication rules on accounts held in memory (the lookup is the only stand-in: the
 * provider suites in test/integration/dataprovider run the same entries on real databases).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { Authenticator, ipAllowed, type AccountLookup } from './auth.js';
import { hashPassword } from './passwords.js';
import { wireString as wire } from '../util/ssh-public-keys.js';
import type { Admin, User } from './provider.js';

const FAST = {
  algo: 'bcrypt',
  bcrypt_options: { cost: 4 },
  argon2_options: { memory: 65536, iterations: 1, parallelism: 2 },
};

function refused(message: RegExp, cause?: 'NOT_FOUND') {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e, 'AUTH_FAILED'), `expected AUTH_FAILED, got ${String(e)}`);
    assert.match(e.message, message);
    if (cause !== undefined) assert.ok(SftpgoError.is(e.cause, cause));
    return true;
  };
}

class Accounts implements AccountLookup {
  users = new Map<string, User>();
  admins = new Map<string, Admin>();
  failWith: SftpgoError | undefined;
  getUser(username: string): Promise<User> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    const u = this.users.get(username);
    return u === undefined
      ? Promise.reject(new SftpgoError('NOT_FOUND', `user ${username} does not exist`))
      : Promise.resolve(u);
  }
  getAdmin(username: string): Promise<Admin> {
    const a = this.admins.get(username);
    return a === undefined
      ? Promise.reject(new SftpgoError('NOT_FOUND', `admin ${username} does not exist`))
      : Promise.resolve(a);
  }
}

void describe('Authenticator', () => {
  let hash = '';
  before(async () => {
    hash = await hashPassword('pw', FAST);
  });

  void test('users: password, disabled, expired, unknown, empty credentials', async () => {
    const now = Date.UTC(2026, 0, 1);
    const accounts = new Accounts();
    const auth = new Authenticator({ accounts, passwordCaching: true, now: () => now });
    accounts.users.set('u', { username: 'u', status: 1, password: hash });
    assert.equal((await auth.checkUserPassword('u', 'pw')).username, 'u');
    assert.equal((await auth.checkUserPassword('u', 'pw')).username, 'u');
    await assert.rejects(auth.checkUserPassword('u', 'bad'), refused(/^invalid credentials$/));
    await assert.rejects(auth.checkUserPassword('u', ''), refused(/cannot be null or empty/));
    await assert.rejects(
      auth.checkUserPassword('ghost', 'pw'),
      refused(/^invalid credentials$/, 'NOT_FOUND'),
    );

    accounts.users.set('keys-only', { username: 'keys-only', status: 1 });
    await assert.rejects(
      auth.checkUserPassword('keys-only', 'pw'),
      refused(/cannot be null or empty/),
    );
    accounts.users.set('off', { username: 'off', status: 0, password: hash });
    await assert.rejects(auth.checkUserPassword('off', 'pw'), refused(/"off" is disabled/));
    accounts.users.set('old', {
      username: 'old',
      status: 1,
      password: hash,
      expiration_date: now - 1,
    });
    await assert.rejects(auth.checkUserPassword('old', 'pw'), refused(/"old" is expired/));
    accounts.users.set('later', {
      username: 'later',
      status: 1,
      password: hash,
      expiration_date: now + 1,
    });
    await auth.checkUserPassword('later', 'pw');
  });

  void test('a cached verification does not outlive a password change', async () => {
    const accounts = new Accounts();
    const auth = new Authenticator({ accounts, passwordCaching: true, now: Date.now });
    accounts.users.set('u', { username: 'u', status: 1, password: hash });
    await auth.checkUserPassword('u', 'pw');
    accounts.users.set('u', {
      username: 'u',
      status: 1,
      password: await hashPassword('new', FAST),
    });
    await assert.rejects(auth.checkUserPassword('u', 'pw'), refused(/^invalid credentials$/));
    await auth.checkUserPassword('u', 'new');
    auth.forgetUser('u');
    await auth.checkUserPassword('u', 'new');
  });

  void test('a store failure is not turned into an authentication failure', async () => {
    const accounts = new Accounts();
    const down = new SftpgoError('BACKEND_UNAVAILABLE', 'data provider unavailable');
    accounts.failWith = down;
    const auth = new Authenticator({ accounts, passwordCaching: false, now: Date.now });
    await assert.rejects(auth.checkUserPassword('u', 'pw'), (e: unknown) => e === down);
  });

  void test('authenticateUser: every method through one entry', async () => {
    const accounts = new Accounts();
    const auth = new Authenticator({ accounts, passwordCaching: false, now: Date.now });
    const key = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([wire('ssh-ed25519'), wire(Buffer.from(key.x ?? '', 'base64url'))]);
    const line = `ssh-ed25519 ${blob.toString('base64')}`;
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const otherLine = `ssh-ed25519 ${Buffer.concat([wire('ssh-ed25519'), wire(Buffer.from(other.x ?? '', 'base64url'))]).toString('base64')}`;
    accounts.users.set('u', {
      username: 'u',
      status: 1,
      password: hash,
      public_keys: [`${line} me@host`],
      filters: { tls_username: 'CommonName' },
    });
    accounts.users.set('nocert', { username: 'nocert', status: 1, password: hash });
    const base = { ip: '10.0.0.1', protocol: 'FTP' as const };
    const pem = '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n';

    const ok = await auth.authenticateUser({
      ...base,
      username: 'u',
      method: 'password',
      password: 'pw',
    });
    assert.equal(ok.username, 'u');
    await assert.rejects(
      auth.authenticateUser({ ...base, username: 'u', method: 'password', password: 'bad' }),
      refused(/^invalid credentials$/),
    );
    await auth.authenticateUser({ ...base, username: 'u', method: 'publickey', publicKey: line });
    await assert.rejects(
      auth.authenticateUser({ ...base, username: 'u', method: 'publickey', publicKey: otherLine }),
      refused(/^the public key SHA256:\S+ is not allowed for user "u"$/),
    );
    await assert.rejects(
      auth.authenticateUser({ ...base, username: 'u', method: 'publickey', publicKey: 'garbage' }),
      refused(/^invalid public key: /),
    );
    const cert = (commonName: string) => ({ pem, commonName });
    await auth.authenticateUser({
      ...base,
      username: 'u',
      method: 'TLSCertificate',
      tlsCert: cert('u'),
    });
    await assert.rejects(
      auth.authenticateUser({
        ...base,
        username: 'u',
        method: 'TLSCertificate',
        tlsCert: cert('x'),
      }),
      refused(/^CN "x" does not match username "u"$/),
    );
    await assert.rejects(
      auth.authenticateUser({
        ...base,
        protocol: 'SSH',
        username: 'u',
        method: 'TLSCertificate',
        tlsCert: cert('u'),
      }),
      refused(/not supported for protocol SSH/),
    );
    await assert.rejects(
      auth.authenticateUser({
        ...base,
        username: 'nocert',
        method: 'TLSCertificate',
        tlsCert: cert('nocert'),
      }),
      (e: unknown) => SftpgoError.is(e, 'METHOD_DISABLED'),
    );
    await assert.rejects(
      auth.authenticateUser({ ...base, username: 'ghost', method: 'publickey', publicKey: line }),
      refused(/^invalid credentials$/, 'NOT_FOUND'),
    );
    accounts.users.set('off', { username: 'off', status: 0, public_keys: [line] });
    await assert.rejects(
      auth.authenticateUser({ ...base, username: 'off', method: 'publickey', publicKey: line }),
      refused(/"off" is disabled/),
    );
  });

  void test('admins: password, disabled, unknown, allow-list checked after the password', async () => {
    const accounts = new Accounts();
    const auth = new Authenticator({ accounts, passwordCaching: false, now: Date.now });
    accounts.admins.set('root', {
      username: 'root',
      status: 1,
      password: hash,
      filters: { allow_list: ['10.0.0.0/8', '::1/128'] },
    });
    assert.equal((await auth.checkAdminPassword('root', 'pw')).username, 'root');
    await auth.checkAdminPassword('root', 'pw', '10.9.8.7');
    await auth.checkAdminPassword('root', 'pw', '::1');
    await assert.rejects(
      auth.checkAdminPassword('root', 'pw', '192.168.1.1'),
      refused(/^login from IP 192\.168\.1\.1 not allowed$/),
    );
    await assert.rejects(
      auth.checkAdminPassword('root', 'bad', '192.168.1.1'),
      refused(/^invalid credentials$/),
    );
    await assert.rejects(auth.checkAdminPassword('root', ''), refused(/cannot be null or empty/));
    await assert.rejects(
      auth.checkAdminPassword('ghost', 'pw'),
      refused(/^invalid credentials$/, 'NOT_FOUND'),
    );
    accounts.admins.set('off', { username: 'off', status: 0, password: hash });
    await assert.rejects(auth.checkAdminPassword('off', 'pw'), refused(/"off" is disabled/));
  });
});

void describe('ipAllowed', () => {
  void test('an empty list allows everything, otherwise only the listed networks', () => {
    assert.equal(ipAllowed('203.0.113.9', []), true);
    assert.equal(ipAllowed('not-an-ip', []), true);
    const list = ['192.168.0.0/16', '2001:db8::/32', 'garbage', '10.0.0.1'];
    assert.equal(ipAllowed('192.168.4.5', list), true);
    assert.equal(ipAllowed('2001:db8::1', list), true);
    assert.equal(ipAllowed('192.169.0.1', list), false);
    assert.equal(ipAllowed('10.0.0.1', list), false, 'entries that are not CIDRs never match');
    assert.equal(ipAllowed('not-an-ip', list), false);
  });
});
