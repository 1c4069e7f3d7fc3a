/**
 * Every use of ssh2 1.17.0 private internals lives in this file, so an ssh2 upgrade is
 * checked in one place (test/integration/sftpd/ssh2-internals.test.ts exercises each one).
 *
 * - the SSH session id (connection ids are `SFTP_<hex session id>_<n>` as upstream);
 * - exit-status on the SFTP channel: ssh2's SFTP object has no `exit()`, and OpenSSH's scp
 *   (SFTP mode) exits 1 without it (reference/deps-evaluation.md §1);
 * - raw SFTP packets: ssh2's server VERSION reply is a fixed buffer without extensions and
 *   ssh2 has no API to send EXTENDED_REPLY; we answer INIT ourselves (advertising
 *   posix-rename, statvfs, fsync and limits@openssh.com) and send EXTENDED_REPLY packets through
 *   the same window-aware path ssh2 uses (reference/ssh2-performance.md §6);
 * - an SFTP server object over plain streams (`sftp-server` style, for `sftpgo startsubsys`):
 *   ssh2's SFTP class is built on a stand-in for its SSH protocol object, so the same session
 *   code serves an SSH channel and stdin/stdout.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Connection, SFTPWrapper } from 'ssh2';

const require = createRequire(import.meta.url);

interface ChannelSide {
  id: number;
  window: number;
  packetSize: number;
  state: string;
}

interface ProtocolInternals {
  channelData(id: number, data: Buffer): void;
  exitStatus(id: number, status: number): void;
  _kex?: { sessionID?: Buffer };
}

interface SftpInternals {
  server: boolean;
  _waitChanDrain: boolean;
  outgoing: ChannelSide;
  incoming: ChannelSide;
  _protocol: ProtocolInternals;
  _buffer: Buffer[];
  _waitWindow: boolean;
  _chunkcb: (() => void) | undefined;
  _version: number;
  _isOpenSSH: boolean | null | undefined;
  _extensions: Record<string, string>;
  readable?: boolean;
  push(data: Buffer | null): unknown;
  emit(event: string, ...args: unknown[]): boolean;
}

interface SftpClass {
  prototype: { status(this: unknown, reqid: number, code: number, message?: string): void };
}

/** ssh2's module-private `drainBuffer`, captured once through a throw-away fake channel. */
function captureDrainBuffer(): () => void {
  const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: SftpClass };
  const fake = {
    server: true,
    outgoing: { id: 0, window: 0, packetSize: 32768, state: 'open' },
    _buffer: [] as Buffer[],
    _waitWindow: false,
    _chunkcb: undefined as (() => void) | undefined,
    _debug: undefined,
  };
  SFTP.prototype.status.call(fake, 0, 0, '');
  const fn = fake._chunkcb;
  if (typeof fn !== 'function') throw new Error('ssh2 internals changed: cannot capture SFTP drainBuffer');
  return fn;
}

/** a function of the ssh2 module, constant for the process */
const DRAIN_BUFFER = captureDrainBuffer();
const drainBuffer = (): (() => void) => DRAIN_BUFFER;

/** hex of the SSH session identifier (the first key exchange hash). */
export function sessionIdHex(client: Connection): string | undefined {
  const proto = (client as unknown as { _protocol?: ProtocolInternals })._protocol;
  return proto?._kex?.sessionID?.toString('hex');
}

/** The raw socket under an accepted ssh2 server connection. */
export function clientSocket(client: Connection): Socket | undefined {
  return (client as unknown as { _sock?: Socket })._sock;
}

/** Sends exit-status on the channel carrying an SFTP session. No-op once the channel is closed. */
export function sftpExitStatus(sftp: SFTPWrapper, status: number): void {
  const s = sftp as unknown as SftpInternals;
  if (s.outgoing.state !== 'open' && s.outgoing.state !== 'eof') return;
  s._protocol.exitStatus(s.outgoing.id, status);
}

interface ChannelModule {
  windowAdjust(channel: unknown): void;
  WINDOW_THRESHOLD: number;
  MAX_WINDOW: number;
  PACKET_SIZE: number;
}
const CHANNEL = require('ssh2/lib/Channel.js') as ChannelModule;

/**
 * Inbound flow control for an SFTP channel. ssh2 refills the client's window as soon as it has
 * parsed the data (its SFTP parser never reports backpressure), so a fast client could queue
 * unbounded WRITE data in memory. While `busy()` is true, we report backpressure the way ssh2's
 * own channels do (push() returning false): ssh2 then stops adjusting the window. `resume()`
 * tops the window up again once the queue drained. Install before interceptSftpInit.
 */
export function sftpInboundFlowControl(sftp: SFTPWrapper, busy: () => boolean): { resume(): void } {
  const s = sftp as unknown as SftpInternals;
  const push = s.push;
  s.push = (data: Buffer | null): unknown => {
    const r = push.call(s, data);
    return data !== null && busy() ? false : r;
  };
  return {
    resume(): void {
      if (!s._waitChanDrain) return;
      s._waitChanDrain = false;
      if (s.incoming.window <= CHANNEL.WINDOW_THRESHOLD) CHANNEL.windowAdjust(s);
    },
  };
}

/**
 * Calls `onDrain` each time ssh2 resumes sending queued SFTP replies after the client opened
 * its window again (ssh2 calls the channel's `_chunkcb` then; there is no public event).
 */
export function sftpOnWindowDrain(sftp: SFTPWrapper, onDrain: () => void): void {
  const s = sftp as unknown as SftpInternals;
  let fn = s._chunkcb;
  Object.defineProperty(s, '_chunkcb', {
    configurable: true,
    enumerable: true,
    get(): (() => void) | undefined {
      const f = fn;
      if (!f) return undefined;
      return () => {
        f.call(s);
        onDrain();
      };
    },
    set(v: (() => void) | undefined) {
      fn = v;
    },
  });
}

/** bytes of SFTP replies waiting for the client's window (not yet handed to the socket) */
export function sftpUnsentBytes(sftp: SFTPWrapper): number {
  let n = 0;
  for (const b of (sftp as unknown as SftpInternals)._buffer) n += b.length;
  return n;
}

/** ssh2's detection of an OpenSSH/dropbear client (it swaps SYMLINK arguments for them). */
export function sftpClientIsOpenSsh(sftp: SFTPWrapper): boolean {
  return (sftp as unknown as SftpInternals)._isOpenSSH === true;
}

/** Whether the SFTP channel can still carry data to the client. */
export function sftpWritable(sftp: SFTPWrapper): boolean {
  return (sftp as unknown as SftpInternals).outgoing.state === 'open';
}

/**
 * Sends one complete SFTP packet (length prefix included), given as consecutive parts, on the
 * channel, honouring the SSH window exactly as ssh2's own replies do, and in order with them.
 * Parts are sliced, not copied (ssh2 copies each chunk into its SSH packet anyway).
 */
export function sendRawSftpPacket(sftp: SFTPWrapper, ...parts: Buffer[]): void {
  const s = sftp as unknown as SftpInternals;
  const out = s.outgoing;
  if (out.state !== 'open') return;
  if (s._buffer.length > 0 || s._waitWindow) {
    for (const p of parts) if (p.length > 0) s._buffer.push(p);
    s._waitWindow = true;
    s._chunkcb ??= drainBuffer();
    return;
  }
  for (let i = 0; i < parts.length; i++) {
    const packet = parts[i] as Buffer;
    let p = 0;
    while (p < packet.length && out.window > 0) {
      const n = Math.min(packet.length - p, out.window, out.packetSize);
      out.window -= n;
      s._protocol.channelData(out.id, p === 0 && n === packet.length ? packet : packet.subarray(p, p + n));
      p += n;
    }
    if (p < packet.length) {
      s._buffer.push(packet.subarray(p));
      for (const rest of parts.slice(i + 1)) if (rest.length > 0) s._buffer.push(rest);
      s._waitWindow = true;
      s._chunkcb = drainBuffer();
      return;
    }
  }
  if (out.window === 0) {
    s._waitWindow = true;
    s._chunkcb = drainBuffer();
  }
}

const SSH_FXP_DATA = 103;

/**
 * SSH_FXP_DATA without ssh2's copy of the whole payload into a new reply buffer: the header
 * and the first bytes go in one chunk (one SSH packet), the rest as slices of `data`.
 */
export function sendSftpData(sftp: SFTPWrapper, reqid: number, data: Buffer): void {
  const packetSize = (sftp as unknown as SftpInternals).outgoing.packetSize;
  const firstLen = Math.min(data.length, Math.max(0, packetSize - 13));
  const first = Buffer.allocUnsafe(13 + firstLen);
  first.writeUInt32BE(9 + data.length, 0);
  first[4] = SSH_FXP_DATA;
  first.writeUInt32BE(reqid, 5);
  first.writeUInt32BE(data.length, 9);
  data.copy(first, 13, 0, firstLen);
  sendRawSftpPacket(sftp, first, data.subarray(firstLen));
}

const SSH_FXP_INIT = 1;
const SSH_FXP_VERSION = 2;

/**
 * Takes over the SFTP INIT/VERSION exchange: answers INIT with version 3 and `extensions`,
 * then hands the stream back to ssh2's parser. Must be called right after accepting the
 * subsystem, before any data arrives. `onInit` receives the client's version.
 */
export function interceptSftpInit(
  sftp: SFTPWrapper,
  extensions: ReadonlyArray<readonly [string, string]>,
  onInit?: (clientVersion: number) => void,
): void {
  const s = sftp as unknown as SftpInternals;
  const originalPush = s.push;
  let pending: Buffer = Buffer.alloc(0);
  s.push = (data: Buffer | null): unknown => {
    if (data === null) {
      s.push = originalPush;
      return originalPush.call(s, null);
    }
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    if (pending.length < 5) return undefined;
    const len = pending.readUInt32BE(0);
    if (pending[4] !== SSH_FXP_INIT || len < 5) {
      // not an INIT: let ssh2 report the protocol error
      s.push = originalPush;
      return originalPush.call(s, pending);
    }
    if (pending.length < 4 + len) return undefined;
    const clientVersion = pending.readUInt32BE(5);
    const rest = pending.subarray(4 + len);
    s.push = originalPush;
    const parts: Buffer[] = [];
    for (const [name, value] of extensions) {
      for (const v of [name, value]) {
        const b = Buffer.from(v, 'utf8');
        const l = Buffer.allocUnsafe(4);
        l.writeUInt32BE(b.length, 0);
        parts.push(l, b);
      }
    }
    const body = Buffer.concat(parts);
    const pkt = Buffer.allocUnsafe(9 + body.length);
    pkt.writeUInt32BE(5 + body.length, 0);
    pkt[4] = SSH_FXP_VERSION;
    pkt.writeUInt32BE(3, 5);
    body.copy(pkt, 9);
    sendRawSftpPacket(sftp, pkt);
    s._version = clientVersion;
    s._extensions = {};
    onInit?.(clientVersion);
    s.emit('ready');
    return rest.length > 0 ? originalPush.call(s, rest) : undefined;
  };
}

const SSH_FXP_EXTENDED_REPLY = 201;

/** Sends SSH_FXP_EXTENDED_REPLY with `payload` as its request-specific data. */
export function sendExtendedReply(sftp: SFTPWrapper, reqid: number, payload: Buffer): void {
  const pkt = Buffer.allocUnsafe(9 + payload.length);
  pkt.writeUInt32BE(5 + payload.length, 0);
  pkt[4] = SSH_FXP_EXTENDED_REPLY;
  pkt.writeUInt32BE(reqid, 5);
  payload.copy(pkt, 9);
  sendRawSftpPacket(sftp, pkt);
}

/** `require('ssh2/lib/protocol/crypto.js').bindingAvailable`: is the native crypto binding loaded? */
export function ssh2NativeCryptoAvailable(): boolean {
  return (require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean }).bindingAvailable === true;
}

/** an SFTP server object over plain byte streams (see sftpOverStreams) */
export interface StreamSftp {
  /** the server-side SFTP object, as ssh2 hands it to a subsystem request */
  readonly sftp: SFTPWrapper;
  /** corks the output until the end of this event-loop turn (SftpSession's `batch`) */
  readonly batch: () => void;
  /**
   * Settles once the session is over: the SFTP object was ended (our side) or the output
   * failed, and everything written was flushed (or could not be). Resolves to the exit status
   * the session sent, if any (a client EOF: 0), undefined when it ended otherwise.
   */
  readonly closed: Promise<number | undefined>;
}

type Ssh2SftpCtor = new (
  client: { _protocol: object },
  chanInfo: { type: string; incoming: ChannelSide; outgoing: ChannelSide },
  cfg: { server: boolean },
) => SFTPWrapper;

/**
 * ssh2's SFTP server object over `input`/`output` instead of an SSH channel (OpenSSH's
 * `Subsystem sftp` runs the server with the client's bytes on stdin and the replies on stdout).
 * ssh2's SFTP class only needs a protocol object with channelData / channelClose (and, for our
 * extensions, exitStatus / channelWindowAdjust); this stand-in keeps ssh2's window bookkeeping
 * meaningful, as an SSH peer would:
 * - outgoing: a window of MAX_WINDOW bytes; each chunk written to `output` gives its bytes back
 *   once `output` flushed it, so replies wait (ssh2's `_buffer`) while the reader is slow, and
 *   memory stays bounded by the window;
 * - incoming: `input` is read while the incoming window is open; when the session reports
 *   backpressure (push() false) ssh2 stops adjusting the window and `input` is paused once the
 *   window is used up, until the session's resume() adjusts it;
 * - the end of `input` is the client's EOF; ending the SFTP object ends `output`.
 * No library offers this: ssh2 has no transport-less SFTP server, and writing our own SFTP
 * parser would duplicate what the SSH front end already runs on.
 */
export function sftpOverStreams(input: Readable, output: Writable): StreamSftp {
  const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: Ssh2SftpCtor };
  const incoming: ChannelSide = { id: 0, window: CHANNEL.MAX_WINDOW, packetSize: CHANNEL.PACKET_SIZE, state: 'open' };
  const outgoing: ChannelSide = { id: 0, window: CHANNEL.MAX_WINDOW, packetSize: CHANNEL.PACKET_SIZE, state: 'open' };
  let exitStatus: number | undefined;
  let settle!: (status: number | undefined) => void;
  const closed = new Promise<number | undefined>((resolve) => (settle = resolve));
  // (the closures below run only once `s`, declared after the protocol they need, exists)
  /** the peer's CHANNEL_WINDOW_ADJUST: `n` more bytes may be sent */
  const windowAdjusted = (n: number): void => {
    outgoing.window += n;
    if (s._waitWindow) {
      s._waitWindow = false;
      s._chunkcb?.call(s);
    }
  };
  const finish = (): void => {
    if (outgoing.state === 'closed') return;
    // replies still waiting for the window go out now: nothing comes after them
    if (!output.writableEnded && !output.destroyed) for (const b of s._buffer) output.write(b);
    s._buffer = [];
    s._waitWindow = false;
    outgoing.state = 'closed';
    incoming.state = 'closed';
    input.off('data', onData);
    input.pause();
    const done = (): void => {
      settle(exitStatus);
      s.emit('close');
    };
    if (output.writableEnded || output.destroyed) done();
    else output.end(done);
  };
  const protocol = {
    channelData(_id: number, data: Buffer): void {
      const n = data.length;
      output.write(data, (err) => {
        if (err) {
          onOutputError();
          return;
        }
        if (outgoing.state === 'open') windowAdjusted(n);
      });
    },
    channelClose(): void {
      finish();
    },
    channelWindowAdjust(): void {
      if (incoming.window > 0 && input.isPaused() && incoming.state === 'open') input.resume();
    },
    exitStatus(_id: number, status: number): void {
      exitStatus = status;
    },
  };
  const sftp = new SFTP({ _protocol: protocol }, { type: 'session', incoming, outgoing }, { server: true });
  const s = sftp as unknown as SftpInternals;
  // no SSH identification string here: read SYMLINK in OpenSSH's argument order, as upstream's
  // pkg/sftp does for every client (and OpenSSH's sftp, the usual client of a subsystem, sends)
  s._isOpenSSH = true;
  // what ssh2's CHANNEL_DATA handler does with a channel's data
  const onData = (d: Buffer): void => {
    incoming.window -= d.length;
    if (s.push(d) === false) s._waitChanDrain = true;
    else if (incoming.window <= CHANNEL.WINDOW_THRESHOLD) CHANNEL.windowAdjust(s);
    if (incoming.window <= 0) input.pause();
  };
  // what ssh2 does on the peer's EOF
  const onEnd = (): void => {
    if (incoming.state !== 'open') return;
    incoming.state = 'eof';
    if (s.readable !== false) s.push(null);
  };
  const onOutputError = (): void => {
    // the reader went away (EPIPE): nothing can be answered any more
    if (outgoing.state === 'closed') return;
    outgoing.state = 'closing';
    onEnd();
    finish();
  };
  input.on('data', onData);
  input.once('end', onEnd);
  input.once('error', onEnd);
  output.on('error', onOutputError);
  let corked = false;
  const uncork = (): void => {
    corked = false;
    output.uncork();
  };
  const batch = (): void => {
    if (corked || output.writableEnded || output.destroyed) return;
    corked = true;
    output.cork();
    setImmediate(uncork);
  };
  return { sftp, batch, closed };
}
