/**
 * Unit tests of the SFTP backend's pure logic: the host key decision (fingerprints and loop
 * guard), endpoints and prefixes, and the mapping of SFTP status codes. The backend itself runs
 * against real servers in test/integration/vfs/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../../../errors/index.js';
import { mapSftpError, SFTP_STATUS, statusError } from './errors.js';
import { cleanPrefix, climbsAboveRoot, fromRemote, isInside, parseEndpoint } from './paths.js';
import {
  authMethods,
  checkHostKey,
  forbiddenUsernamesFor,
  LOOP_DETECTED,
  NO_HOST_KEY_VALIDATION,
} from './session.js';

const OWN = 'SHA256:own';
const OTHER = 'SHA256:other';

void describe('checkHostKey', () => {
  const base = {
    fingerprints: [] as string[],
    localHostKeyFingerprints: [OWN],
    forbiddenUsernames: ['alice'],
    username: 'alice',
  };

  void it('refuses this server as the same user first (loop guard), whatever the fingerprints', () => {
    for (const fingerprints of [[], [OWN]]) {
      const v = checkHostKey(OWN, { ...base, fingerprints });
      assert.equal(v.ok, false);
      if (!v.ok) {
        assert.ok(SftpgoError.is(v.error, 'PERMISSION_DENIED'));
        assert.equal(v.error.message, LOOP_DETECTED);
      }
    }
  });

  void it('allows this server as another user, and another server as the same user', () => {
    assert.equal(checkHostKey(OWN, { ...base, username: 'bob' }).ok, true);
    assert.equal(checkHostKey(OTHER, base).ok, true);
  });

  void it('checks listed fingerprints exactly, and warns when there are none', () => {
    const listed = { ...base, localHostKeyFingerprints: [], fingerprints: [OTHER] };
    assert.deepEqual(checkHostKey(OTHER, listed), { ok: true });
    const v = checkHostKey('SHA256:x', listed);
    assert.equal(v.ok, false);
    if (!v.ok) assert.equal(v.error.message, 'invalid fingerprint "SHA256:x"');
    assert.deepEqual(checkHostKey(OTHER, { ...base, localHostKeyFingerprints: [] }), {
      ok: true,
      warn: NO_HOST_KEY_VALIDATION,
    });
  });
});

void describe('forbiddenUsernamesFor', () => {
  const asked: string[] = [];
  // the local users of the server: bob has an SFTP backend, carol does not, others are unknown
  const userUsesSftp = (u: string): Promise<boolean> => {
    asked.push(u);
    return Promise.resolve(u === 'bob');
  };
  const base = {
    localHostKeyFingerprints: [OWN],
    forbiddenUsernames: ['alice'],
    username: 'bob',
    userUsesSftp,
  };

  void it('adds the remote user of this server when that user has an SFTP backend', async () => {
    asked.length = 0;
    const forbidden = await forbiddenUsernamesFor(OWN, base);
    assert.deepEqual(forbidden, ['bob', 'alice']);
    assert.deepEqual(asked, ['bob']);
    const v = checkHostKey(OWN, { ...base, fingerprints: [], forbiddenUsernames: forbidden });
    assert.equal(v.ok, false);
    if (!v.ok) assert.equal(v.error.message, LOOP_DETECTED);
  });

  void it('adds nobody for a plain or unknown local user', async () => {
    for (const username of ['carol', 'nobody'])
      assert.deepEqual(await forbiddenUsernamesFor(OWN, { ...base, username }), ['alice']);
  });

  void it('asks nothing for another server, the connecting user itself, or without a lookup', async () => {
    asked.length = 0;
    assert.deepEqual(await forbiddenUsernamesFor(OTHER, base), ['alice']);
    assert.deepEqual(await forbiddenUsernamesFor(OWN, { ...base, username: 'alice' }), ['alice']);
    const { userUsesSftp: _omitted, ...without } = base;
    assert.deepEqual(await forbiddenUsernamesFor(OWN, without), ['alice']);
    assert.deepEqual(asked, []);
  });

  void it('passes a failing lookup on', async () => {
    const failing = (): Promise<boolean> => Promise.reject(new Error('db down'));
    await assert.rejects(forbiddenUsernamesFor(OWN, { ...base, userUsesSftp: failing }), /db down/);
  });
});

void describe('authMethods', () => {
  void it('tries the key first, then the password, and only what is configured', () => {
    assert.deepEqual(
      authMethods({ username: 'u', password: 'p', privateKey: 'k' }).map((m) => m.type),
      ['publickey', 'password'],
    );
    assert.deepEqual(
      authMethods({ username: 'u', password: 'p' }).map((m) => m.type),
      ['password'],
    );
  });
});

void describe('SFTP backend paths', () => {
  void it('parses host:port endpoints', () => {
    assert.deepEqual(parseEndpoint('example.com:22'), { host: 'example.com', port: 22 });
    assert.deepEqual(parseEndpoint('[::1]:2022'), { host: '::1', port: 2022 });
    for (const bad of ['host', 'host:', ':22', 'host:0', 'host:65536', '::1:22', 'h:2x']) {
      assert.throws(
        () => parseEndpoint(bad),
        (e: unknown) => SftpgoError.is(e, 'INVALID_INPUT'),
        bad,
      );
    }
  });

  void it('cleans prefixes and maps remote paths back', () => {
    assert.equal(cleanPrefix(''), '/');
    assert.equal(cleanPrefix(undefined), '/');
    assert.equal(cleanPrefix('data/../x/'), '/x');
    assert.equal(fromRemote('/x', '/x'), '/');
    assert.equal(fromRemote('/x', '/x/a/b'), '/a/b');
    assert.equal(fromRemote('/', '/a'), '/a');
  });

  void it('tells inside from outside without string-prefix confusion', () => {
    assert.equal(isInside('/data/a', '/data'), true);
    assert.equal(isInside('/data', '/data'), true);
    assert.equal(isInside('/database', '/data'), false);
    assert.equal(isInside('/anything', '/'), true);
  });

  void it('sees relative symlink targets climbing above the root', () => {
    assert.equal(climbsAboveRoot('/a/b', '../../x'), false);
    assert.equal(climbsAboveRoot('/a/b', '../../../x'), true);
    assert.equal(climbsAboveRoot('/', '..'), true);
    assert.equal(climbsAboveRoot('/a', 'b/../../c'), false);
    assert.equal(climbsAboveRoot('/a', './b/../../../c'), true);
  });
});

void describe('mapSftpError', () => {
  void it('maps status codes and keeps the native error as cause', () => {
    const table: [number, string][] = [
      [SFTP_STATUS.NO_SUCH_FILE, 'NOT_FOUND'],
      [SFTP_STATUS.PERMISSION_DENIED, 'PERMISSION_DENIED'],
      [SFTP_STATUS.FAILURE, 'INTERNAL'],
      [SFTP_STATUS.BAD_MESSAGE, 'INVALID_INPUT'],
      [SFTP_STATUS.OP_UNSUPPORTED, 'OP_UNSUPPORTED'],
      [SFTP_STATUS.CONNECTION_LOST, 'BACKEND_UNAVAILABLE'],
      [99, 'INTERNAL'],
    ];
    for (const [status, code] of table) {
      const native = statusError(status, 'remote text');
      const e = mapSftpError(native, '/v/f', 'open');
      assert.equal(e.code, code, String(status));
      assert.equal(e.cause, native);
      assert.ok(e.message.startsWith('open "/v/f": '), e.message);
    }
  });

  void it('treats an error without a status as a lost connection, and passes SftpgoErrors through', () => {
    assert.equal(
      mapSftpError(new Error('No response from server'), '/f').code,
      'BACKEND_UNAVAILABLE',
    );
    const own = new SftpgoError('QUOTA_EXCEEDED', 'x');
    assert.equal(mapSftpError(own, '/f'), own);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    assert.equal(mapSftpError(abort, '/f').code, 'ABORTED');
  });
});
