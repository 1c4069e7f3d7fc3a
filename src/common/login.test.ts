import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError, type ErrorCode } from '../errors/index.js';
import { checkLogin, getNextAuthMethods, isLoginMethodAllowed, isPartialAuth } from './login.js';

function user(extra: Record<string, unknown> = {}): User {
  return {
    username: 'alice',
    status: 1,
    home_dir: '/tmp/a',
    permissions: { '/': ['*'] },
    ...extra,
  } as unknown as User;
}

function code(c: ErrorCode, text?: string) {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e, c), String(e));
    if (text) assert.match(e.message, new RegExp(text));
    return true;
  };
}

void describe('login methods', () => {
  void it('everything is allowed without denied methods', () => {
    assert.equal(isLoginMethodAllowed(user(), 'password'), true);
    assert.equal(isPartialAuth(user(), 'publickey'), false);
  });

  void it('multi-step: publickey is partial when only combos are allowed', () => {
    const u = user({
      filters: {
        denied_login_methods: [
          'publickey',
          'password',
          'keyboard-interactive',
          'publickey+keyboard-interactive',
        ],
      },
    });
    assert.equal(isPartialAuth(u, 'publickey'), true);
    assert.equal(isPartialAuth(u, 'password'), false);
    assert.deepEqual(getNextAuthMethods(u, ['publickey'], true), ['password']);
    assert.deepEqual(getNextAuthMethods(u, ['publickey'], false), []);
    assert.deepEqual(getNextAuthMethods(u, ['password'], true), []);
    // password alone is denied, but allowed as the second step after publickey
    assert.equal(isLoginMethodAllowed(u, 'password'), false);
    assert.equal(isLoginMethodAllowed(u, 'password', ['publickey']), true);
    assert.equal(isLoginMethodAllowed(u, 'keyboard-interactive', ['publickey']), false);
  });

  void it('both combos allowed', () => {
    const u = user({
      filters: { denied_login_methods: ['publickey', 'password', 'keyboard-interactive'] },
    });
    assert.deepEqual(getNextAuthMethods(u, ['publickey'], true), [
      'password',
      'keyboard-interactive',
    ]);
    assert.equal(isPartialAuth(u, 'publickey'), true);
  });

  void it('publickey is not partial when a single-step SSH method stays allowed', () => {
    const u = user({ filters: { denied_login_methods: ['publickey'] } });
    assert.equal(isPartialAuth(u, 'publickey'), false);
  });
});

void describe('checkLogin', () => {
  const o = { protocol: 'SSH' as const, loginMethod: 'password', remoteIp: '127.0.0.1' };

  void it('accepts a valid user', () => {
    checkLogin(user(), o);
  });

  void it('refuses disabled and expired users', () => {
    assert.throws(() => checkLogin(user({ status: 0 }), o), code('AUTH_FAILED', 'is disabled'));
    assert.throws(
      () => checkLogin(user({ expiration_date: 1000 }), { ...o, now: 2000 }),
      code('AUTH_FAILED', 'is expired'),
    );
    checkLogin(user({ expiration_date: 3000 }), { ...o, now: 2000 });
  });

  void it('refuses denied methods, protocols and addresses', () => {
    assert.throws(
      () => checkLogin(user({ filters: { denied_login_methods: ['password'] } }), o),
      code('PERMISSION_DENIED', 'login method password'),
    );
    assert.throws(
      () => checkLogin(user({ filters: { denied_protocols: ['SSH'] } }), o),
      code('PERMISSION_DENIED', 'protocol SSH'),
    );
    checkLogin(user({ filters: { denied_protocols: ['FTP'] } }), o);
    assert.throws(
      () => checkLogin(user({ filters: { denied_ip: ['127.0.0.0/8'] } }), o),
      code('PERMISSION_DENIED', 'not allowed from'),
    );
  });

  void it('enforces max_sessions with the registry', () => {
    const registry = { countByUser: (n: string) => (n === 'alice' ? 2 : 0) };
    assert.throws(
      () => checkLogin(user({ max_sessions: 2 }), { ...o, registry }),
      code('CONNECTION_DENIED', 'too many open sessions: 2/2'),
    );
    checkLogin(user({ max_sessions: 3 }), { ...o, registry });
    checkLogin(user({ max_sessions: 0 }), { ...o, registry });
  });
});
