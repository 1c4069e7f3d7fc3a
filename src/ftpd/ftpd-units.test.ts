/**
 * The pure parts of the FTP layer: command verbs, PORT/EPRT arguments, listing formats, the
 * error-code table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, SftpgoError } from '../errors/index.js';
import type { FileInfo } from '../vfs/index.js';
import { parseEprtArg, parsePortArg, plainIp } from './data.js';
import { ftpTime, listDate, listLine, mlsdLine, modeString, parseFtpTime } from './listing.js';
import { FTP_REPLY, toFtpReply } from './reply-map.js';
import { parseVerb } from './session.js';

function fi(o: Partial<FileInfo>): FileInfo {
  const t = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  return { name: 'f', size: 0, mode: 0o100644, mtime: t, atime: t, isDirectory: false, isSymlink: false, isFile: true, uid: 0, gid: 0, ...o };
}

void describe('ftpd units', () => {
  void it('parses verbs: upper case, Telnet garbage before ABOR/STAT/QUIT dropped', () => {
    assert.equal(parseVerb('retr file name'), 'RETR');
    assert.equal(parseVerb('\u00ff\u00f4\u00ff\u00f2ABOR'), 'ABOR');
    assert.equal(parseVerb('\u00ffQUIT'), 'QUIT');
    assert.equal(parseVerb('\u00ffRETR x'), '?RETR');
    assert.equal(parseVerb(''), '');
  });

  void it('parses PORT and EPRT arguments and refuses malformed ones', () => {
    assert.deepEqual(parsePortArg('127,0,0,1,200,10'), { host: '127.0.0.1', port: 200 * 256 + 10 });
    assert.equal(parsePortArg('127,0,0,1,200'), undefined);
    assert.equal(parsePortArg('127,0,0,256,1,1'), undefined);
    assert.equal(parsePortArg('a,b,c,d,e,f'), undefined);
    assert.deepEqual(parseEprtArg('|1|127.0.0.1|5282|'), { host: '127.0.0.1', port: 5282 });
    assert.deepEqual(parseEprtArg('!2!::1!5282!'), { host: '::1', port: 5282 });
    assert.equal(parseEprtArg('|3|127.0.0.1|5282|'), undefined);
    assert.equal(parseEprtArg('|1|127.0.0.1|99999|'), undefined);
    assert.equal(parseEprtArg('|1|127.0.0.1|'), undefined);
    assert.equal(plainIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(plainIp('::1'), '::1');
  });

  void it('formats LIST lines as ls -l, with year for old entries', () => {
    const now = Date.UTC(2024, 0, 10);
    assert.equal(modeString(fi({ mode: 0o40755, isDirectory: true, isFile: false })), 'drwxr-xr-x');
    assert.equal(modeString(fi({ mode: 0o120777, isSymlink: true, isFile: false })), 'lrwxrwxrwx');
    assert.equal(modeString(fi({ mode: 0o104755 })), '-rwsr-xr-x');
    assert.match(listLine(fi({ name: 'a b.txt', size: 1234 }), now), /^-rw-r--r-- 1 ftp ftp {9}1234 Jan {2}[12] \d\d:\d\d a b\.txt$/);
    assert.match(listDate(new Date(Date.UTC(2020, 5, 15, 12)), now), /^Jun 1[45] {2}2020$/);
  });

  void it('formats and parses MDTM/MLSD times; MLSD facts', () => {
    assert.equal(ftpTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '20240102030405');
    assert.equal(parseFtpTime('20240102030405')?.getTime(), Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(parseFtpTime('20240102030405.250')?.getTime(), Date.UTC(2024, 0, 2, 3, 4, 5, 250));
    assert.equal(parseFtpTime('2024010203040'), undefined);
    assert.equal(parseFtpTime('20241302030405'), undefined);
    assert.equal(mlsdLine(fi({ name: 'x', size: 3 })), 'Type=file;Size=3;Modify=20240102030405;UNIX.mode=0644; x');
  });

  void it('maps every error code; quota 552, name not allowed 553, not exposed -> generic text', () => {
    for (const c of ERROR_CODES) assert.ok(FTP_REPLY[c] >= 400 && FTP_REPLY[c] < 600, c);
    assert.equal(toFtpReply(new SftpgoError('QUOTA_EXCEEDED', 'denying write due to space limit')).code, 552);
    assert.equal(toFtpReply(new SftpgoError('NAME_NOT_ALLOWED', 'x')).code, 553);
    assert.equal(toFtpReply(new SftpgoError('PERMISSION_DENIED', 'permission denied')).code, 550);
    assert.deepEqual(toFtpReply(new SftpgoError('INTERNAL', '/secret/path broke')), { code: 451, message: 'internal error' });
    assert.deepEqual(toFtpReply(new Error('raw')), { code: 451, message: 'internal error' });
  });
});
