/**
 * ssh2-internals.ts's SFTP server over plain streams (what `sftpgo startsubsys` runs on
 * stdin/stdout): the SFTP exchange, the exit status of a client EOF, and flow control both ways
 * (replies wait for a slow reader, a busy session stops reading its input).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import {
  sendRawSftpPacket,
  sftpExitStatus,
  sftpInboundFlowControl,
  sftpOverStreams,
  sftpUnsentBytes,
} from '../../../src/sftpd/ssh2-internals.js';

const SSH_FXP_INIT = 1;
const SSH_FXP_VERSION = 2;
const SSH_FXP_STAT = 17;
const SSH_FXP_STATUS = 101;
/** ssh2's channel window (MAX_WINDOW) */
const WINDOW = 2 * 1024 * 1024;

function packet(type: number, body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(5 + body.length);
  b.writeUInt32BE(1 + body.length, 0);
  b[4] = type;
  body.copy(b, 5);
  return b;
}

function statRequest(id: number, path: string): Buffer {
  const p = Buffer.from(path);
  const body = Buffer.allocUnsafe(8 + p.length);
  body.writeUInt32BE(id, 0);
  body.writeUInt32BE(p.length, 4);
  p.copy(body, 8);
  return packet(SSH_FXP_STAT, body);
}

const INIT = packet(SSH_FXP_INIT, Buffer.from([0, 0, 0, 3]));

/** lets every pending I/O callback and immediate run (a few event-loop turns) */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** reads every SFTP packet of `out` as it arrives */
function packets(out: PassThrough): { list: Buffer[] } {
  const state = { list: [] as Buffer[], buf: Buffer.alloc(0) };
  out.on('data', (d: Buffer) => {
    state.buf = Buffer.concat([state.buf, d]);
    while (state.buf.length >= 4 && state.buf.length >= 4 + state.buf.readUInt32BE(0)) {
      const len = state.buf.readUInt32BE(0);
      state.list.push(state.buf.subarray(4, 4 + len));
      state.buf = state.buf.subarray(4 + len);
    }
  });
  return state;
}

void describe('sftpd: ssh2 SFTP server over plain streams', () => {
  void it('answers INIT and requests, sends exit status 0 on the client EOF and ends its output', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const got = packets(output);
    const { sftp, closed } = sftpOverStreams(input, output);
    sftp.on('STAT', (id: number, path: string) => {
      sftp.status(id, path === '/ok' ? 0 : 2);
    });
    sftp.on('end', () => {
      sftpExitStatus(sftp, 0);
      sftp.end();
    });
    input.write(INIT);
    input.write(Buffer.concat([statRequest(7, '/ok'), statRequest(8, '/missing')]));
    await settle();
    assert.equal(got.list.length, 3);
    assert.equal(got.list[0]?.[0], SSH_FXP_VERSION);
    assert.equal(got.list[0]?.readUInt32BE(1), 3);
    const statuses = got.list.slice(1).map((p) => [p[0], p.readUInt32BE(1), p.readUInt32BE(5)]);
    assert.deepEqual(statuses, [
      [SSH_FXP_STATUS, 7, 0],
      [SSH_FXP_STATUS, 8, 2],
    ]);
    const ended = new Promise((r) => output.once('end', r));
    input.end();
    assert.equal(await closed, 0);
    await ended;
    assert.equal(output.writableEnded, true);
  });

  void it('keeps replies queued while the reader is slow, then delivers all of them in order', async () => {
    const input = new PassThrough();
    const output = new PassThrough({ highWaterMark: 16 * 1024 });
    const { sftp, closed } = sftpOverStreams(input, output);
    input.write(INIT);
    await settle();
    const version = output.read() as Buffer | null;
    assert.equal(version?.[4], SSH_FXP_VERSION);
    // 96 packets of 64 KiB, 6 MiB: three windows
    const chunks: Buffer[] = [];
    for (let i = 0; i < 96; i++) {
      const c = Buffer.alloc(64 * 1024, i);
      c.writeUInt32BE(c.length - 4, 0);
      chunks.push(c);
      sendRawSftpPacket(sftp, c);
    }
    await settle();
    // nobody reads: at most one window went to the output stream, the rest waits in ssh2's queue
    assert.ok(
      output.writableLength + output.readableLength <= WINDOW + 64 * 1024,
      'output bounded by the window',
    );
    assert.ok(sftpUnsentBytes(sftp) >= 6 * 1024 * 1024 - WINDOW - 64 * 1024, 'the rest is queued');
    const received: Buffer[] = [];
    output.on('data', (d: Buffer) => received.push(d));
    while (Buffer.concat(received).length < 96 * 64 * 1024) await settle(1);
    assert.ok(Buffer.concat(received).equals(Buffer.concat(chunks)));
    assert.equal(sftpUnsentBytes(sftp), 0);
    sftp.end();
    assert.equal(await closed, undefined, 'no exit status without a client EOF');
  });

  void it('stops reading its input while the session is busy, and resumes when told', async () => {
    const input = new PassThrough({ highWaterMark: 64 * 1024 });
    const output = new PassThrough();
    output.resume();
    const { sftp } = sftpOverStreams(input, output);
    let busy = true;
    const flow = sftpInboundFlowControl(sftp, () => busy);
    let stats = 0;
    sftp.on('STAT', () => stats++);
    input.write(INIT);
    // 4 MiB of requests: two windows
    const req = statRequest(1, `/${'x'.repeat(1000)}`);
    const total = Math.ceil((4 * 1024 * 1024) / req.length);
    const all = Buffer.concat(Array.from({ length: total }, () => req));
    // in 64 KiB chunks, as a pipe delivers them
    for (let p = 0; p < all.length; p += 64 * 1024) input.write(all.subarray(p, p + 64 * 1024));
    await settle();
    // one window (plus the chunk that crossed it) was read, the rest waits in the input
    assert.ok(stats > 0 && stats < total, `${stats} of ${total} requests parsed`);
    assert.ok(stats * req.length <= WINDOW + 64 * 1024 + req.length);
    assert.ok(input.readableLength > 0, 'the input is left unread');
    const before = stats;
    await settle();
    assert.equal(stats, before, 'nothing more is read while busy');
    busy = false;
    flow.resume();
    while (stats < total) await settle(1);
    assert.equal(stats, total);
    assert.equal(input.readableLength, 0);
    sftp.end();
  });
});
