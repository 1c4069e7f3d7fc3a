// Per-file cost of the shared transfer path (src/common + src/vfs local backend), in process,
// without SSH: N × (openUpload, one 4 KiB write, close) then N × (openDownload, read to EOF,
// close), side by side with the same work done by plain node:fs calls (sync, and promises) in
// one run. Prints wall ms and CPU ms (this process, thread pool included) per file.
//
//   node --import tsx bench/per-file.ts            (BENCH_FILES=2000, BENCH_ROUNDS=4)
//   BENCH_CASES="common Connection" BENCH_ROUNDS=1 strace -f -c -o counts.txt node --import tsx bench/per-file.ts
//
// This is what every protocol pays per file before its own protocol work; the SFTP numbers of
// bench/sftp-vs-openssh.mjs add the SSH round trips. No threshold is asserted anywhere.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection, ConnectionRegistry, createUserFs, silentLogger } from '../src/common/index.js';
import type { ConnectionConfig, QuotaStore } from '../src/common/types.js';
import type { User } from '../src/dataprovider/provider.js';

const N = Number(process.env.BENCH_FILES ?? 2000);
/** BENCH_CASES: substrings of the case names to run (e.g. under `strace -c -f` to count syscalls) */
const ONLY = (process.env.BENCH_CASES ?? '').split(',').filter(Boolean);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const DATA = Buffer.alloc(4096, 0x61);

const quota: QuotaStore = {
  updateUserQuota: async () => undefined,
  updateFolderQuota: async () => undefined,
  getUserUsedQuota: async () => ({ usedQuotaSize: 0, usedQuotaFiles: 0 }),
  getFolderUsedQuota: async () => ({ usedQuotaSize: 0, usedQuotaFiles: 0 }),
} as unknown as QuotaStore;

async function connection(
  home: string,
  fsync: boolean,
  config: Partial<ConnectionConfig> = {},
): Promise<Connection> {
  const user = {
    username: 'bench',
    status: 1,
    home_dir: home,
    permissions: { '/': ['*'] },
  } as unknown as User;
  return new Connection({
    id: `SFTP_bench_${Math.random()}`,
    protocol: 'SFTP',
    user,
    mounts: await createUserFs(user, { fsync }),
    remoteAddress: '127.0.0.1:1',
    logger: silentLogger,
    provider: quota,
    config: { upload_mode: 0, setstat_mode: 0, track_quota: 1, ...config },
    registry: new ConnectionRegistry(),
  });
}

type Case = {
  name: string;
  put: (dir: string) => Promise<void>;
  get: (dir: string) => Promise<void>;
};

const cases: Case[] = [
  {
    name: 'node:fs sync (floor)',
    async put(dir) {
      for (let i = 0; i < N; i++) {
        const fd = fs.openSync(path.join(dir, `f${i}`), 'w');
        fs.writeSync(fd, DATA);
        fs.closeSync(fd);
      }
    },
    async get(dir) {
      const b = Buffer.alloc(8192);
      for (let i = 0; i < N; i++) {
        const fd = fs.openSync(path.join(dir, `f${i}`), 'r');
        while (fs.readSync(fd, b, 0, b.length, null) > 0);
        fs.closeSync(fd);
      }
    },
  },
  {
    name: 'node:fs/promises',
    async put(dir) {
      for (let i = 0; i < N; i++) {
        const fh = await fsp.open(path.join(dir, `f${i}`), 'w');
        await fh.write(DATA, 0, DATA.length, 0);
        await fh.close();
      }
    },
    async get(dir) {
      const b = Buffer.alloc(8192);
      for (let i = 0; i < N; i++) {
        const fh = await fsp.open(path.join(dir, `f${i}`), 'r');
        while ((await fh.read(b, 0, b.length, null)).bytesRead > 0);
        await fh.close();
      }
    },
  },
  ...[false, true].map((fsync): Case => ({
    name: `common Connection${fsync ? ' (fsync_uploads)' : ''}`,
    async put(dir) {
      const c = await connection(dir, fsync);
      for (let i = 0; i < N; i++) {
        const t = await c.openUpload(`/f${i}`, { mode: 'truncate' });
        await t.write(0, DATA);
        await t.close();
      }
    },
    async get(dir) {
      const c = await connection(dir, fsync);
      for (let i = 0; i < N; i++) {
        const t = await c.openDownload(`/f${i}`);
        let pos = 0;
        for (;;) {
          const b = await t.read(pos, 261120); // what OpenSSH asks with limits@openssh.com
          if (!b) break;
          pos += b.length;
        }
        await t.close();
      }
    },
  })),
];

const selected =
  ONLY.length === 0 ? cases : cases.filter((c) => ONLY.some((o) => c.name.includes(o)));

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const results = new Map<
  string,
  { put: number[]; putCpu: number[]; get: number[]; getCpu: number[] }
>();
const base = await fsp.mkdtemp(path.join(tmpdir(), 'per-file-'));
try {
  for (let r = 0; r < ROUNDS; r++) {
    // rotate the order each round: whatever runs first pays for the file system's warm-up
    for (const c of [
      ...selected.slice(r % selected.length),
      ...selected.slice(0, r % selected.length),
    ]) {
      const dir = path.join(base, `r${r}-${c.name.replace(/\W+/g, '_')}`);
      await fsp.mkdir(dir);
      const res = results.get(c.name) ?? { put: [], putCpu: [], get: [], getCpu: [] };
      results.set(c.name, res);
      let t0 = performance.now();
      let c0 = cpuMs();
      await c.put(dir);
      res.put.push((performance.now() - t0) / N);
      res.putCpu.push((cpuMs() - c0) / N);
      t0 = performance.now();
      c0 = cpuMs();
      await c.get(dir);
      res.get.push((performance.now() - t0) / N);
      res.getCpu.push((cpuMs() - c0) / N);
    }
  }
} finally {
  await fsp.rm(base, { recursive: true, force: true });
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;
console.log(`per file, ${N} files × 4 KiB, median of ${ROUNDS} (ms)`);
console.log(
  `${'path'.padEnd(36)} ${'put wall'.padStart(9)} ${'put cpu'.padStart(9)} ${'get wall'.padStart(9)} ${'get cpu'.padStart(9)}`,
);
for (const [name, r] of results) {
  console.log(
    `${name.padEnd(36)} ${med(r.put).toFixed(3).padStart(9)} ${med(r.putCpu).toFixed(3).padStart(9)} ${med(r.get).toFixed(3).padStart(9)} ${med(r.getCpu).toFixed(3).padStart(9)}`,
  );
}
