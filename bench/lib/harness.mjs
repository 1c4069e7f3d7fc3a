// What the side-by-side benches share: processes, ports, test data, memory and CPU sampling
// from /proc, our server compiled and started as `sftpgo serve` runs, interleaved rounds with
// medians, and the ratio table (one ratio column per peer). Each bench (sftp-vs-openssh.mjs,
// ftp-vs-vsftpd.mjs, webdav-vs-nginx.mjs) only sets up its peer servers and defines its tests.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

const quick = process.env.BENCH_QUICK === '1';
/** a size from the environment; BENCH_QUICK=1 picks the quick default */
export const num = (name, def, quickDef) => Number(process.env[name] ?? (quick ? quickDef : def));

export function need(cmd, pkg) {
  const found = cmd.startsWith('/') ? existsSync(cmd) : spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!found) {
    console.error(`missing ${cmd}: apt-get install -y ${pkg}`);
    process.exit(1);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** runs a command to its end: { code, out, err, seconds } */
export function run(cmd, args, o = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...o });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ code, out, err, seconds: s });
    });
  });
}

export async function must(cmd, args, o) {
  const r = await run(cmd, args, o);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.err}`);
  return r;
}

async function writeRandom(path, bytes) {
  const fh = await open(path, 'w');
  const chunk = 4 * 1024 * 1024;
  for (let done = 0; done < bytes; done += chunk) await fh.write(randomBytes(Math.min(chunk, bytes - done)));
  await fh.close();
}

/** a temp work dir removed at the end, and cleanups run at exit */
export async function workDir(prefix) {
  const work = await mkdtemp(join(tmpdir(), prefix));
  const cleanup = [];
  process.on('exit', () => {
    for (const f of cleanup) {
      try {
        f();
      } catch {
        // best effort at exit
      }
    }
  });
  return { work, cleanup };
}

/** one big file, one file per parallel client and a dir of small files under work/data */
export async function prepareData(work, { bigMB, parMB, smallCount, smallKB }) {
  const data = join(work, 'data');
  await mkdir(data);
  const files = { bigFile: join(data, 'big.bin'), parFile: join(data, 'par.bin'), smallDir: join(data, 'small') };
  await mkdir(files.smallDir);
  console.error(`preparing data: ${bigMB} MiB, ${smallCount} x ${smallKB} KiB, parallel files of ${parMB} MiB ...`);
  await writeRandom(files.bigFile, bigMB * 1024 * 1024);
  await writeRandom(files.parFile, parMB * 1024 * 1024);
  for (let i = 0; i < smallCount; i++) await writeFile(join(files.smallDir, `f${i}`), randomBytes(smallKB * 1024));
  return files;
}

// ------------------------------------------------------------------ memory and CPU from /proc

export function procStatus(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process exited meanwhile
  }
}
export const rssKiB = (pid) => procStatus(pid, 'VmRSS');

/** proportional set size: shared pages (the node binary, libc) divided among their users */
export function pssKiB(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** utime+stime of a process (fields 14/15 of /proc/PID/stat); with `children`, cutime+cstime too */
function procCpuTicks(pid, children) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ').map(Number);
    // f[0] is field 3 (state): utime = field 14 -> f[11]
    return f[11] + f[12] + (children ? f[13] + f[14] : 0);
  } catch {
    return 0;
  }
}

/** pids of `pid` and all its descendants */
function tree(pid) {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const kids = new Map();
  for (const line of r.stdout.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (!kids.has(pp)) kids.set(pp, []);
    kids.get(pp).push(p);
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(kids.get(out[i]) ?? []));
  return out;
}

/**
 * Server CPU seconds so far: the server process and its live descendants, plus what its exited,
 * reaped children used (sshd and vsftpd fork a process per connection; they are gone when a test
 * ends).
 */
export function cpuSeconds(pid) {
  const pids = tree(pid);
  let ticks = procCpuTicks(pid, true);
  for (const p of pids.slice(1)) ticks += procCpuTicks(p, false);
  return ticks / CLK_TCK;
}

/** peak RSS of a process tree, sampled every 500 ms */
export class MemSampler {
  /** `pss`: the PSS peak too (summed over the tree: pages shared by a server's processes count once) */
  constructor(pid, { pss = false } = {}) {
    this.pid = pid;
    this.peakKiB = 0;
    this.peakPssKiB = 0;
    this.timer = setInterval(() => {
      const pids = tree(this.pid);
      const total = pids.reduce((a, p) => a + rssKiB(p), 0);
      if (total > this.peakKiB) this.peakKiB = total;
      if (pss) {
        const totalPss = pids.reduce((a, p) => a + pssKiB(p), 0);
        if (totalPss > this.peakPssKiB) this.peakPssKiB = totalPss;
      }
    }, 500);
    this.timer.unref();
  }
  stop() {
    clearInterval(this.timer);
  }
}

/** writes dirty pages out and drops the page cache (needs root) */
export function dropPageCache() {
  const r = spawnSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`BENCH_PAGE_CACHE=drop: cannot drop the page cache (root needed): ${r.stderr}`);
}

// ------------------------------------------------------------------ our server

/** the node flags on the shebang line of bin/sftpgo.js (`#!/usr/bin/env -S node <flags>`) */
function serveNodeFlags() {
  const first = readFileSync(join(ROOT, 'bin/sftpgo.js'), 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first);
  return m ? m[1].split(' ').filter(Boolean) : [];
}

/**
 * Starts our service through bench/lib/ours-server.mjs, compiled into work/dist as `sftpgo serve`
 * runs from dist/ (BENCH_FROM_SOURCE=1: from source under tsx, which adds ~35 MiB RSS), with the
 * V8 flags of the executable plus BENCH_NODE_FLAGS. `args` are ours-server.mjs's arguments;
 * `extraEnv` is added to its environment (BENCH_USER_FILESYSTEM).
 */
export async function startOurs(work, cleanup, args, extraEnv = {}) {
  const fromSource = process.env.BENCH_FROM_SOURCE === '1';
  const env = { ...process.env, ...extraEnv };
  // BENCH_OURS_ENV="NAME=value ...": environment for our server only (not for the peer or the
  // clients), e.g. GLIBC_TUNABLES to try malloc settings
  for (const kv of (process.env.BENCH_OURS_ENV ?? '').split(' ').filter(Boolean)) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (!fromSource) {
    const dist = join(work, 'dist');
    if (!existsSync(join(dist, 'service/index.js'))) {
      console.error('compiling src/ (tsc -p tsconfig.build.json) ...');
      // type errors elsewhere in the tree do not stop the emit
      await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { cwd: ROOT });
      if (!existsSync(join(dist, 'service/index.js'))) throw new Error('tsc emitted no dist/service/index.js');
      // the compiled files resolve their packages through this link to the checkout's node_modules
      await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'));
      await mkdir(join(dist, 'api'), { recursive: true });
      await writeFile(join(dist, 'api/openapi.yaml'), await readFile(join(ROOT, 'src/api/openapi.yaml')));
    }
    env.BENCH_SERVICE_MODULE = join(dist, 'service/index.js');
  }
  // BENCH_SERVER_STDOUT=FILE: the server's stdout (e.g. `BENCH_NODE_FLAGS=--trace-gc`) is
  // appended to FILE, line-buffered by stdbuf so that nothing is lost when the bench ends
  const stdoutFile = process.env.BENCH_SERVER_STDOUT;
  const node = stdoutFile ? ['stdbuf', '-oL', process.execPath] : [process.execPath];
  const child = spawn(
    node[0],
    [
      ...node.slice(1),
      ...serveNodeFlags(),
      ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      ...(fromSource ? ['--import', 'tsx'] : []),
      join(ROOT, 'bench/lib/ours-server.mjs'),
      ...args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  cleanup.push(() => child.pid && process.kill(child.pid, 'SIGTERM'));
  await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      if (stdoutFile) appendFileSync(stdoutFile, d);
      buf += d;
      if (buf.includes('"ready":true')) resolve();
    });
    child.on('exit', (c) => reject(new Error(`our server exited (${c}): ${err}`)));
  });
  return { child, fromSource };
}

// ------------------------------------------------------------------ OpenSSH client

/**
 * OpenSSH's sftp as the benches drive it: key login with `keyFile`, `cipher`, kex
 * curve25519-sha256, no config or known hosts. `sshOpts` for ssh/sftp; `sftpBatch(server,
 * lines)` runs `sftp -b` as `server.user` on `server.port` and returns its wall seconds.
 */
export function opensshClient({ work, keyFile, cipher }) {
  const sshOpts = [
    '-F', '/dev/null',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'BatchMode=yes',
    '-o', `Ciphers=${cipher}`,
    '-o', 'KexAlgorithms=curve25519-sha256',
    '-i', keyFile,
    '-o', 'IdentitiesOnly=yes',
  ];
  async function sftpBatch(s, lines) {
    const batch = join(work, `batch-${randomBytes(4).toString('hex')}`);
    await writeFile(batch, `${lines.join('\n')}\n`);
    const r = await run('sftp', [...sshOpts, '-P', String(s.port), '-b', batch, `${s.user}@127.0.0.1`]);
    await rm(batch, { force: true });
    if (r.code !== 0) throw new Error(`${s.name}: sftp failed: ${r.err}`);
    return r.seconds;
  }
  return { sshOpts, sftpBatch };
}

// ------------------------------------------------------------------ rounds and the table

const median = (a) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)];
};

export async function clearDir(dir) {
  for (const e of await readdir(dir)) await rm(join(dir, e), { recursive: true, force: true });
}

/** the target of `test` against `peer`: a number for every peer, or { [peer name]: number } */
const targetFor = (test, peer) => (typeof test.target === 'number' ? test.target : test.target?.[peer.name]);

/**
 * Runs `tests` ({ name, cpu: { per, count }, target, run(server) -> value }) on `servers`
 * ([ours, ...peers], each { name: 'ours' | peer, pid, home, ... }) in ROUNDS interleaved rounds,
 * alternating the order, and prints the table of medians with a ratio ours / peer per peer, CPU
 * seconds per unit, memory. A test's `target` is a number (every peer) or { [peer name]: number }
 * (a peer without one has no target). BENCH_ONLY: comma-separated substrings of test names to run.
 */
export async function runRounds({ title, tests, servers, rounds, parallelName = 'parallel put' }) {
  const [ours, ...peers] = servers;
  for (const s of servers) s.mem = new MemSampler(s.pid);
  // idle memory, before any client connected (the server process alone)
  const idle = Object.fromEntries(servers.map((s) => [s.name, { rss: rssKiB(s.pid), pss: pssKiB(s.pid) }]));

  const only = (process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const selected = only.length === 0 ? tests : tests.filter((t) => only.some((o) => t.name.includes(o)));
  if (selected.length === 0) {
    console.error(`BENCH_ONLY matches no test; names: ${tests.map((t) => t.name).join(' | ')}`);
    process.exit(2);
  }
  const results = {};
  const record = (test, server, value) => {
    results[test] ??= {};
    results[test][server] ??= [];
    results[test][server].push(value);
  };
  /** peak RSS and PSS per server while the parallel uploads ran (KiB) */
  const parPeak = {};
  const parPeakPss = {};
  for (let round = 1; round <= rounds; round++) {
    console.error(`round ${round}/${rounds}`);
    for (const t of selected) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const s of order) {
        const during = t.name.includes(parallelName) ? new MemSampler(s.pid, { pss: true }) : undefined;
        // BENCH_PAGE_CACHE=drop (root): every test starts with an empty page cache, for every
        // server alike. By default what is cached depends on what ran before, and on VMs that
        // page out idle memory (DAMON) a download may read its file from disk or from memory.
        if (process.env.BENCH_PAGE_CACHE === 'drop') dropPageCache();
        const cpu0 = cpuSeconds(s.pid);
        // marks where each test starts in the server's stdout (BENCH_SERVER_STDOUT, see startOurs)
        if (process.env.BENCH_SERVER_STDOUT) appendFileSync(process.env.BENCH_SERVER_STDOUT, `### ${round} ${t.name} ${s.name}\n`);
        const v = await t.run(s);
        record(`cpu:${t.name}`, s.name, (cpuSeconds(s.pid) - cpu0) / t.cpu.count);
        if (during) {
          during.stop();
          parPeak[s.name] = Math.max(parPeak[s.name] ?? 0, during.peakKiB);
          parPeakPss[s.name] = Math.max(parPeakPss[s.name] ?? 0, during.peakPssKiB);
        }
        record(t.name, s.name, v);
        console.error(`  ${t.name.padEnd(48)} ${s.name.padEnd(8)} ${v.toFixed(1)}`);
      }
    }
    if (round === rounds) break;
    for (const s of servers) await clearDir(s.home);
  }
  for (const s of servers) s.mem.stop();
  // our peak from the kernel's high-water mark too
  const hwm = procStatus(ours.pid, 'VmHWM');

  // one peer: "ratio"; several: "/name" per peer
  const ratioHeads = peers.map((p) => (peers.length === 1 ? 'ratio' : `/${p.name}`));
  const ratioWidths = ratioHeads.map((h) => Math.max(6, h.length));
  /** label, our value, the peers' values (in `peers` order), what follows */
  const row = (label, o, ps, extra = '', digits = 1) =>
    `${label.padEnd(48)} ${o.toFixed(digits).padStart(9)}${ps.map((p) => ` ${p.toFixed(digits).padStart(9)}`).join('')}` +
    `${ps.map((p, i) => ` ${(p > 0 ? (o / p).toFixed(2) : '-').padStart(ratioWidths[i])}`).join('')}${extra}`;
  const head = (label, target) =>
    `${label.padEnd(48)} ${ours.name.padStart(9)}${peers.map((p) => ` ${p.name.padStart(9)}`).join('')}` +
    `${ratioHeads.map((h, i) => ` ${h.padStart(ratioWidths[i])}`).join('')}${target ? '  target' : ''}`;
  const lines = [title, head('test', true)];
  for (const t of selected) {
    const o = median(results[t.name][ours.name]);
    const ps = peers.map((p) => median(results[t.name][p.name]));
    const verdicts = peers
      .map((p, i) => {
        const target = targetFor(t, p);
        if (target === undefined) return undefined;
        const v = `>= ${target} ${o / ps[i] >= target ? 'ok' : 'MISSED'}`;
        return peers.length === 1 ? v : `${p.name} ${v}`;
      })
      .filter(Boolean);
    lines.push(row(t.name, o, ps, verdicts.length ? `  ${verdicts.join(', ')}` : ''));
  }
  const oursPeak = Math.max(ours.mem.peakKiB, hwm) / 1024;
  const whose = peers.length === 1 ? `${peers[0].name}: all its processes` : 'peers: all their processes';
  lines.push(
    row(`server peak RSS (MiB; ${whose})`, oursPeak, peers.map((p) => p.mem.peakKiB / 1024), `  ours <= 150 ${oursPeak <= 150 ? 'ok' : 'MISSED'}`),
  );
  for (const k of ['rss', 'pss']) {
    const o = idle[ours.name][k] / 1024;
    lines.push(
      row(`server idle ${k.toUpperCase()} before the tests (MiB)`, o, peers.map((p) => idle[p.name][k] / 1024), `  ours <= 70 ${o <= 70 ? 'ok' : 'MISSED'}`),
    );
  }
  lines.push('');
  lines.push(head('server CPU seconds (medians)', false));
  for (const t of selected) {
    const label = `${t.name.replace(/ \(.*\)$/, '')}, s per ${t.cpu.per}`;
    const cpu = (s) => median(results[`cpu:${t.name}`][s.name]);
    lines.push(row(label, cpu(ours), peers.map(cpu), '', 2));
  }
  if (servers.every((s) => parPeak[s.name] !== undefined)) {
    lines.push(row(`peak RSS during the ${parallelName}s (MiB)`, parPeak[ours.name] / 1024, peers.map((p) => parPeak[p.name] / 1024)));
    // issue 9 states its memory target in PSS: the node binary's pages are shared with every
    // other Node process, sshd's between its per-connection processes
    const oursPss = parPeakPss[ours.name] / 1024;
    lines.push(
      row(`peak PSS during the ${parallelName}s (MiB)`, oursPss, peers.map((p) => parPeakPss[p.name] / 1024), `  ours <= 150 ${oursPss <= 150 ? 'ok' : 'MISSED'}`),
    );
  }
  console.log(lines.join('\n'));
}
