/**
 * Flow control and bandwidth throttling (DESIGN.md "Flow control"): throttling acts on reading
 * from the client, never on replies, so paramiko's pipelined uploads (which read replies only
 * once 100 requests are outstanding) keep to the rate instead of stalling; a client that never
 * reads a reply cannot grow the server's memory; unthrottled transfers stay byte-exact.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { paramikoTransfer, requireParamiko } from '../../helpers/paramiko.js';
import { randomFile, sha256File, startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

const MiB = 1024 * 1024;

/** runs the no-reader client in its own process while sampling this (the server's) RSS */
async function floodWithoutReading(
  port: number,
  user: string,
  password: string,
  path: string,
  seconds: number,
  maxBytes: number,
): Promise<{ sent: number; rssGrowth: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/no-reader-client.ts', String(port), user, password, path, String(seconds), String(maxBytes)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `no-reader client failed: ${err}`);
    const { sent } = JSON.parse(out.trim()) as { sent: number };
    return { sent, rssGrowth: peak - base };
  } finally {
    clearInterval(sampler);
  }
}

void describe('sftpd: flow control and throttling', () => {
  let env: SftpTestEnv;
  let big: string;
  let bigSum: string;

  before(async () => {
    requireParamiko();
    env = await startSftpTestServer();
    big = join(env.dir, 'big.bin');
    bigSum = await randomFile(big, 64 * MiB);
  });
  after(async () => {
    await env.stop();
  });

  void it('paramiko pipelined upload and download of 64 MiB at 5 MB/s keep to the rate (±20 %)', async () => {
    const kbps = 5120; // KB/s, 1 KB = 1000 bytes as upstream
    const user = await env.createUser({ upload_bandwidth: kbps, download_bandwidth: kbps });
    const expected = (64 * MiB) / (kbps * 1000);

    const up = await paramikoTransfer(env.port, user.username, user.password, 'put', big, '/up.bin', 60_000);
    assert.equal(await sha256File(join(user.home, 'up.bin')), bigSum, 'upload byte-exact');
    assert.ok(up >= expected * 0.8 && up <= expected * 1.2, `upload took ${up.toFixed(2)} s, expected ${expected.toFixed(2)} s ±20 %`);

    const dst = join(env.dir, 'down.bin');
    const down = await paramikoTransfer(env.port, user.username, user.password, 'get', dst, '/up.bin', 60_000);
    assert.equal(await sha256File(dst), bigSum, 'download byte-exact');
    assert.ok(down >= expected * 0.8 && down <= expected * 1.2, `download took ${down.toFixed(2)} s, expected ${expected.toFixed(2)} s ±20 %`);
  });

  void it('unthrottled paramiko and OpenSSH transfers are byte-exact', async () => {
    const user = await env.createUser();
    await paramikoTransfer(env.port, user.username, user.password, 'put', big, '/p.bin');
    assert.equal(await sha256File(join(user.home, 'p.bin')), bigSum);
    const pdst = join(env.dir, 'p-down.bin');
    await paramikoTransfer(env.port, user.username, user.password, 'get', pdst, '/p.bin');
    assert.equal(await sha256File(pdst), bigSum);

    const odst = join(env.dir, 'o-down.bin');
    const r = await sftpBatch(env.target, user.creds, [`put ${big} /o.bin`, `get /o.bin ${odst}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(join(user.home, 'o.bin')), bigSum);
    assert.equal(await sha256File(odst), bigSum);
  });

  void it('a client that never reads a reply cannot grow the server memory (unthrottled)', async () => {
    const user = await env.createUser();
    const { sent, rssGrowth } = await floodWithoutReading(env.port, user.username, user.password, '/flood.bin', 20, 256 * MiB);
    assert.ok(sent >= 64 * MiB, `the client could send only ${sent} bytes`);
    assert.ok(rssGrowth < 64 * MiB, `server RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
    // the data reached the disk (the flow was bounded, not stopped)
    const st = await stat(join(user.home, 'flood.bin')).catch(() => undefined);
    assert.ok(st === undefined || st.size <= sent);
  });

  void it('a throttled client that never reads a reply is held to the rate with bounded memory', async () => {
    const kbps = 2000;
    const user = await env.createUser({ upload_bandwidth: kbps });
    const seconds = 4;
    const { sent, rssGrowth } = await floodWithoutReading(env.port, user.username, user.password, '/slow.bin', seconds, 1024 * MiB);
    // what the rate allows, plus what the flow-control bounds let through (pending writes,
    // one SSH window, the client's own channel buffer)
    const allowed = kbps * 1000 * seconds + 8 * MiB;
    assert.ok(sent <= allowed, `the client sent ${sent} bytes in ${seconds} s, at most ${allowed} expected`);
    assert.ok(sent >= kbps * 1000 * seconds * 0.5, `the client sent only ${sent} bytes`);
    assert.ok(rssGrowth < 64 * MiB, `server RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);
  });
});
