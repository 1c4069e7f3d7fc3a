import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { User } from '../dataprovider/provider.js';
import {
  compileShellPattern,
  getPermissionsForPath,
  hasPerm,
  hasPermissionsInside,
  ipFromRemoteAddress,
  isFileAllowed,
  isLoginFromAddrAllowed,
  matchShellPattern,
} from './user-policy.js';

function user(extra: Record<string, unknown>): User {
  return { username: 'u', status: 1, home_dir: '/tmp/u', ...extra } as User;
}

void describe('permissions', () => {
  const u = user({
    permissions: {
      '/': ['list', 'download'],
      '/up': ['*'],
      '/up/ro': ['list'],
      '/deep/a/b': ['upload'],
    },
  });

  void it('most specific directory wins, "/" is the fallback', () => {
    assert.deepEqual(getPermissionsForPath(u, '/x/y'), ['list', 'download']);
    assert.deepEqual(getPermissionsForPath(u, '/up'), ['*']);
    assert.deepEqual(getPermissionsForPath(u, '/up/file'), ['*']);
    assert.deepEqual(getPermissionsForPath(u, '/up/ro/sub/f'), ['list']);
    assert.deepEqual(getPermissionsForPath(u, '/deep/a'), ['list', 'download']);
    assert.deepEqual(getPermissionsForPath(u, '/deep/a/b/c'), ['upload']);
    assert.deepEqual(getPermissionsForPath(u, '/upx'), ['list', 'download']);
  });

  void it('hasPerm honours *', () => {
    assert.equal(hasPerm(u, 'delete', '/up/x'), true);
    assert.equal(hasPerm(u, 'delete', '/up/ro'), false);
    assert.equal(hasPerm(u, 'download', '/'), true);
    assert.equal(hasPerm(user({}), 'list', '/'), false);
  });

  void it('detects permissions defined below a path', () => {
    assert.equal(hasPermissionsInside(u, '/up'), true);
    assert.equal(hasPermissionsInside(u, '/deep'), true);
    assert.equal(hasPermissionsInside(u, '/other'), false);
  });
});

void describe('shell patterns (Go path.Match)', () => {
  const cases: [string, string, boolean][] = [
    ['*.jpg', 'a.jpg', true],
    ['*.jpg', 'a.jpeg', false],
    ['a*b?.png', 'axxbz.png', true],
    ['a*b?.png', 'ab.png', false],
    ['[abc].txt', 'b.txt', true],
    ['[^abc].txt', 'b.txt', false],
    ['[^abc].txt', 'd.txt', true],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['\\*x', '*x', true],
    ['\\*x', 'ax', false],
    ['*', '.hidden', true],
    ['a.b', 'aXb', false],
    ['(x)|y', '(x)|y', true],
  ];
  for (const [p, name, expected] of cases) {
    void it(`${p} ~ ${name} = ${String(expected)}`, () => {
      assert.equal(matchShellPattern(p, name).matched, expected);
    });
  }

  void it('reports malformed patterns', () => {
    assert.equal(compileShellPattern('[abc'), undefined);
    assert.equal(compileShellPattern('abc\\'), undefined);
    assert.equal(compileShellPattern('[]'), undefined);
    assert.equal(matchShellPattern('[z-a]', 'x').malformed, true);
  });
});

void describe('file pattern filters', () => {
  const u = user({
    filters: {
      file_patterns: [
        { path: '/', allowed_patterns: ['*.jpg', '*.PNG'] },
        { path: '/docs', denied_patterns: ['*.exe'] },
        { path: '/docs/mixed', allowed_patterns: ['*.txt'], denied_patterns: ['secret*'] },
        { path: '/bad', denied_patterns: ['[bad'] },
      ],
    },
  });

  void it('applies the most specific directory filter, case-insensitively', () => {
    assert.equal(isFileAllowed(u, '/a.jpg'), true);
    assert.equal(isFileAllowed(u, '/A.JPG'), true);
    assert.equal(isFileAllowed(u, '/b.png'), true);
    assert.equal(isFileAllowed(u, '/c.txt'), false);
    assert.equal(isFileAllowed(u, '/sub/dir/c.txt'), false);
    assert.equal(isFileAllowed(u, '/docs/c.txt'), true);
    assert.equal(isFileAllowed(u, '/docs/x/C.EXE'), false);
    assert.equal(isFileAllowed(u, '/docs/mixed/notes.txt'), true);
    assert.equal(isFileAllowed(u, '/docs/mixed/secret.txt'), false);
    assert.equal(isFileAllowed(u, '/docs/mixed/a.jpg'), false);
  });

  void it('a malformed denied pattern denies', () => {
    assert.equal(isFileAllowed(u, '/bad/anything'), false);
  });

  void it('no filters allow everything', () => {
    assert.equal(isFileAllowed(user({}), '/x.exe'), true);
  });
});

void describe('IP filters', () => {
  void it('extracts the IP of remote addresses', () => {
    assert.equal(ipFromRemoteAddress('10.0.0.1:2222'), '10.0.0.1');
    assert.equal(ipFromRemoteAddress('[::1]:22'), '::1');
    assert.equal(ipFromRemoteAddress('::ffff:192.168.1.2'), '192.168.1.2');
    assert.equal(ipFromRemoteAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(ipFromRemoteAddress('2001:db8::1'), '2001:db8::1');
  });

  void it('denied first, then allowed', () => {
    const u = user({
      filters: { allowed_ip: ['192.168.1.0/24', '::1/128'], denied_ip: ['192.168.1.100/32'] },
    });
    assert.equal(isLoginFromAddrAllowed(u, '192.168.1.5:1234'), true);
    assert.equal(isLoginFromAddrAllowed(u, '::ffff:192.168.1.5'), true);
    assert.equal(isLoginFromAddrAllowed(u, '192.168.1.100'), false);
    assert.equal(isLoginFromAddrAllowed(u, '10.1.1.1'), false);
    assert.equal(isLoginFromAddrAllowed(u, '[::1]:22'), true);
    const d = user({ filters: { denied_ip: ['127.0.0.0/8'] } });
    assert.equal(isLoginFromAddrAllowed(d, '127.0.0.1'), false);
    assert.equal(isLoginFromAddrAllowed(d, '10.0.0.1'), true);
  });

  void it('an invalid CIDR denies', () => {
    assert.equal(
      isLoginFromAddrAllowed(user({ filters: { allowed_ip: ['nonsense'] } }), '10.0.0.1'),
      false,
    );
  });
});
