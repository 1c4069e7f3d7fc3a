/**
 * Every use of ssh2 1.17.0 client-side private fields in the SFTP backend lives in this file, so
 * an ssh2 upgrade is checked in one place (the backend's integration tests exercise each one:
 * statvfs and posix-rename detection, the symlink argument order, transfers at the negotiated
 * request sizes). ssh2 has no public API for any of them:
 *
 * - the extensions the server announced in its VERSION packet (`_extensions`): statvfs,
 *   posix-rename and fsync are used only when offered;
 * - the largest READ/WRITE payloads (`_maxReadLen`/`_maxWriteLen`, raised by
 *   limits@openssh.com): ssh2 splits a larger request into sequential ones, which would undo
 *   the pipelining, so requests are cut at these sizes;
 * - whether ssh2 treats the server as OpenSSH (`_isOpenSSH`), which decides the argument order
 *   it writes SYMLINK in;
 * - whether the channel still takes requests (`outgoing.state`): ssh2 silently drops a request
 *   written to a closed channel and never calls its callback.
 */
import type { SFTPWrapper } from 'ssh2';

interface SftpClientInternals {
  _extensions?: Record<string, string>;
  _maxReadLen?: number;
  _maxWriteLen?: number;
  _isOpenSSH?: boolean | null;
  outgoing?: { state?: string };
}

const internals = (s: SFTPWrapper): SftpClientInternals => s as unknown as SftpClientInternals;

/** payload size of ssh2's READ/WRITE when the server sent no limits (34000 - 2 KiB overhead) */
const DEFAULT_MAX_DATA = 34000 - 2048;

/** the version of an extension the server announced ("1", "2"), undefined when not offered */
export function sftpExtension(s: SFTPWrapper, name: string): string | undefined {
  return internals(s)._extensions?.[name];
}

/** the largest READ payload ssh2 sends as one request */
export function maxReadLength(s: SFTPWrapper): number {
  const n = internals(s)._maxReadLen;
  return typeof n === 'number' && n > 0 ? n : DEFAULT_MAX_DATA;
}

/** the largest WRITE payload ssh2 sends as one request */
export function maxWriteLength(s: SFTPWrapper): number {
  const n = internals(s)._maxWriteLen;
  return typeof n === 'number' && n > 0 ? n : DEFAULT_MAX_DATA;
}

/** ssh2 writes SYMLINK's two paths target first to OpenSSH (and dropbear) servers */
export function symlinkTargetFirst(s: SFTPWrapper): boolean {
  return internals(s)._isOpenSSH === true;
}

/** false once the channel no longer sends requests (they would never be answered) */
export function channelOpen(s: SFTPWrapper): boolean {
  return internals(s).outgoing?.state === 'open';
}
