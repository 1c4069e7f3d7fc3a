/**
 * Unit tests of the pure helpers of src/sftpd: command-line splitting, scp flags, ls -l long
 * names, the status table, ed25519 host key encoding and
 * enabled_ssh_commands resolution.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { ERROR_CODES, SftpgoError } from '../errors/index.js';
import type { FileInfo } from '../vfs/index.js';
import { longname, modeString, toAttrs } from './attrs.js';
import { effectiveMaxAuthTries } from './auth.js';
import { ed25519ToOpenSsh } from './host-keys.js';
import { parseScpArgs } from './scp.js';
import { resolveSshCommands } from './server.js';
import { shlexSplit } from './shlex.js';
import { cleanCommandPath } from './ssh-commands.js';
import { SFTP_STATUS, toSftpStatus } from './status-map.js';

function info(over: Partial<FileInfo>): FileInfo {
  const t = new Date('2021-06-15T10:20:00Z');
  return { name: 'f', size: 0, mode: 0o100644, mtime: t, atime: t, isDirectory: false, isSymlink: false, isFile: true, uid: 0, gid: 0, ...over };
}

void describe('sftpd helpers', () => {
  void it('splits command lines like google/shlex', () => {
    assert.deepEqual(shlexSplit('scp -t -- /a b'), ['scp', '-t', '--', '/a', 'b']);
    assert.deepEqual(shlexSplit(`md5sum '/with space/f' "/dq \\"x\\""`), ['md5sum', '/with space/f', '/dq "x"']);
    assert.deepEqual(shlexSplit('a\\ b c # comment'), ['a b', 'c']);
    assert.deepEqual(shlexSplit('  '), []);
    assert.throws(() => shlexSplit("echo 'open"));
  });

  void it('parses scp server flags', () => {
    assert.deepEqual(parseScpArgs(['-r', '-p', '-t', '/dst']), { direction: 'to', recursive: true, preserveTimes: true, targetIsDir: false, paths: ['/dst'] });
    assert.deepEqual(parseScpArgs(['-prf', '--', '-odd']), { direction: 'from', recursive: true, preserveTimes: true, targetIsDir: false, paths: ['-odd'] });
    assert.equal(parseScpArgs(['-d', '-t', '/d']).targetIsDir, true);
    assert.throws(() => parseScpArgs(['/only']), /not supported/);
    assert.throws(() => parseScpArgs(['-t']), /missing path/);
  });

  void it('formats ls -l long names and attributes', () => {
    assert.equal(modeString(0o100644), '-rw-r--r--');
    assert.equal(modeString(0o040755), 'drwxr-xr-x');
    assert.equal(modeString(0o120777), 'lrwxrwxrwx');
    assert.equal(modeString(0o104755), '-rwsr-xr-x');
    assert.equal(modeString(0o041777), 'drwxrwxrwt');
    const now = Date.parse('2021-07-01T00:00:00Z');
    assert.equal(longname(info({ size: 1234, uid: 1000, gid: 100 }), 'f.txt', now), '-rw-r--r--    1 1000     100          1234 Jun 15 10:20 f.txt');
    assert.match(longname(info({}), 'old', Date.parse('2023-01-01T00:00:00Z')), / Jun 15 2021 old$/);
    const a = toAttrs(info({ mode: 0o644, isDirectory: true, isFile: false }));
    assert.equal(a.mode, 0o040644);
    assert.equal(a.mtime, Math.floor(Date.parse('2021-06-15T10:20:00Z') / 1000));
  });

  void it('maps every error code to an SFTP status, exposing only exposed messages', () => {
    for (const c of ERROR_CODES) assert.equal(typeof SFTP_STATUS[c], 'number', c);
    assert.deepEqual(toSftpStatus(new SftpgoError('NOT_FOUND', 'no such file "/x"')), { code: 2, message: 'no such file "/x"' });
    assert.deepEqual(toSftpStatus(new SftpgoError('INTERNAL', 'db exploded at /var/lib')), { code: 4, message: 'Failure' });
    assert.deepEqual(toSftpStatus(new Error('boom')), { code: 4, message: 'Failure' });
    assert.equal(toSftpStatus(new SftpgoError('QUOTA_EXCEEDED', 'denying write due to space limit')).code, 4);
  });

  void it('writes ed25519 keys in the OpenSSH format ssh2 parses', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = ed25519ToOpenSsh(privateKey);
    assert.match(pem, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    const parsed = ssh2.utils.parseKey(pem);
    assert.ok(!(parsed instanceof Error));
    const data = Buffer.from('signed');
    const k = Array.isArray(parsed) ? parsed[0] : parsed;
    assert.ok(k && k.verify(data, k.sign(data)));
  });

  void it('resolves enabled_ssh_commands and max_auth_tries as upstream', () => {
    assert.equal(resolveSshCommands(['*']).enabled.length, 14);
    assert.deepEqual(resolveSshCommands(['md5sum', 'bogus']), { enabled: ['md5sum'], unknown: ['bogus'] });
    assert.equal(effectiveMaxAuthTries(0), 6);
    assert.equal(effectiveMaxAuthTries(-1), Number.POSITIVE_INFINITY);
    assert.equal(effectiveMaxAuthTries(3), 3);
    assert.equal(cleanCommandPath("'/a/../b/'"), '/b/');
    assert.equal(cleanCommandPath('x'), '/x');
  });
});
