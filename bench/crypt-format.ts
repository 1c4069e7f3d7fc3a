// Throughput of the crypt file format (src/vfs/backends/crypt/format.ts), in process, no server:
// encrypt N MiB of plaintext written in 32 KiB pieces (what SFTP hands over) and in 1 MiB pieces,
// to a byte-counting sink and to a real temp file; then decrypt that file through a FileHandle
// from offset 0 and from the middle. Beside them, the same plaintext written to a file without
// encryption, and the ceiling: bare node:crypto AES-256-GCM, one cipher per 64 KiB package, no
// streams. Prints MiB/s and CPU time per GiB (steadier than MiB/s on a busy machine); no
// threshold is asserted anywhere.
//
//   node --import tsx bench/crypt-format.ts          (BENCH_MIB=256, BENCH_ROUNDS=3)
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  EncryptTransform,
  createDecryptStream,
  encryptedFileSize,
} from '../src/vfs/backends/crypt/format.js';

const MIB = Number(process.env.BENCH_MIB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOTAL = MIB * 1024 * 1024;
const PASS = 'bench passphrase';
const SOURCE = randomBytes(4 * 1024 * 1024); // plaintext is cut from this, never held whole

function plaintext(piece: number): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: piece,
    read() {
      if (sent >= TOTAL) return void this.push(null);
      const at = sent % (SOURCE.length - piece);
      const n = Math.min(piece, TOTAL - sent);
      sent += n;
      this.push(SOURCE.subarray(at, at + n));
    },
  });
}

function sink(): Writable & { bytes: number } {
  const w = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _e, cb) {
      w.bytes += chunk.length;
      cb();
    },
  }) as Writable & { bytes: number };
  w.bytes = 0;
  return w;
}

/** MiB/s (wall) and CPU ms per GiB (this process, thread pool included) */
async function timed(fn: () => Promise<number>): Promise<[number, number]> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const bytes = await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [bytes / 1024 / 1024 / s, (c.user + c.system) / 1000 / (bytes / 2 ** 30)];
}

/** the ceiling: bare node:crypto, one cipher per 64 KiB package, no streams, no copies */
function bareGcm(direction: 'seal' | 'open'): number {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const aad = iv.subarray(0, 4);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(aad);
  const ct = c.update(SOURCE.subarray(0, 65536));
  c.final();
  const tag = c.getAuthTag();
  let checksum = 0;
  for (let i = 0; i < TOTAL / 65536; i++) {
    if (direction === 'seal') {
      const e = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      e.setAAD(aad);
      const at = (i * 65536) % (SOURCE.length - 65536);
      checksum += e.update(SOURCE.subarray(at, at + 65536))[0]!;
      e.final();
      checksum += e.getAuthTag()[0]!;
    } else {
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(tag);
      checksum += d.update(ct)[0]!;
      d.final();
    }
  }
  return checksum;
}

const dir = await fsp.mkdtemp(path.join(tmpdir(), 'sftpgo-bench-crypt-'));
const file = path.join(dir, 'enc.bin');
const results = new Map<string, [number, number][]>();
const add = (name: string, v: [number, number]) =>
  results.set(name, [...(results.get(name) ?? []), v]);
try {
  for (let r = 0; r < ROUNDS; r++) {
    add(
      'encrypt, 32 KiB pieces -> sink',
      await timed(async () => {
        const out = sink();
        await pipeline(plaintext(32 * 1024), new EncryptTransform(PASS), out);
        if (out.bytes !== encryptedFileSize(TOTAL)) throw new Error('wrong size');
        return TOTAL;
      }),
    );
    add(
      'encrypt, 1 MiB pieces -> sink',
      await timed(async () => {
        await pipeline(plaintext(1024 * 1024), new EncryptTransform(PASS), sink());
        return TOTAL;
      }),
    );
    add(
      'encrypt, 32 KiB pieces -> file',
      await timed(async () => {
        const fh = await fsp.open(file, 'w');
        await pipeline(plaintext(32 * 1024), new EncryptTransform(PASS), fh.createWriteStream());
        return TOTAL;
      }),
    );
    for (const [name, offset] of [
      ['decrypt file from 0 -> sink', 0],
      ['decrypt file from the middle -> sink', TOTAL / 2 + 12345],
    ] as const) {
      add(
        name,
        await timed(async () => {
          const fh = await fsp.open(file, 'r');
          try {
            const out = sink();
            await pipeline(createDecryptStream(fh, PASS, { offset }), out);
            if (out.bytes !== TOTAL - offset) throw new Error('wrong size');
            return out.bytes;
          } finally {
            await fh.close();
          }
        }),
      );
    }
    add(
      'baseline: plaintext, 32 KiB pieces -> file (no encryption)',
      await timed(async () => {
        const fh = await fsp.open(file + '.plain', 'w');
        await pipeline(plaintext(32 * 1024), fh.createWriteStream());
        await fsp.rm(file + '.plain');
        return TOTAL;
      }),
    );
    for (const direction of ['seal', 'open'] as const) {
      add(
        `ceiling: bare AES-256-GCM ${direction}, one cipher per 64 KiB`,
        await timed(() => Promise.resolve((bareGcm(direction), TOTAL))),
      );
    }
  }
} finally {
  await fsp.rm(dir, { recursive: true, force: true });
}

console.log(
  `crypt format, ${MIB} MiB, ${ROUNDS} rounds, node ${process.version}: ` +
    'MiB/s best and median, CPU ms per GiB median',
);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
for (const [name, v] of results) {
  const speed = v.map((x) => x[0]);
  const cells = [Math.max(...speed), median(speed), median(v.map((x) => x[1]))];
  console.log(`${name.padEnd(62)} ${cells.map((c) => c.toFixed(0).padStart(6)).join(' ')}`);
}
