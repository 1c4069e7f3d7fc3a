#!/usr/bin/env node
// SFTP throughput, small files, parallel clients, logins and memory: sftpgo-ts vs OpenSSH's
// sshd (internal-sftp), side by side in one run, reported as ratios (ours / OpenSSH).
//
//   node bench/sftp-vs-openssh.mjs
//
// Both servers run on 127.0.0.1 with their own temp config, as the current user; the client is
// OpenSSH's sftp/ssh with a key, cipher forced to aes128-gcm@openssh.com on both (checked in
// `ssh -v` output). Each measure is the wall time of a whole client invocation (handshake
// included), repeated BENCH_ROUNDS times in interleaved rounds; the median is reported.
//
// Sizes (env): BENCH_BIG_MB (1024), BENCH_SMALL_COUNT (2000), BENCH_SMALL_KB (4),
// BENCH_PAR_CLIENTS (16), BENCH_PAR_MB (64), BENCH_LOGINS (200), BENCH_ROUNDS (3).
// BENCH_QUICK=1 divides the sizes for a quick run. BENCH_ONLY="put 1024,parallel put" runs only the
// tests whose names contain one of the substrings (a get needs its put before it). Needs openssh-client and openssh-server.
// Our server runs from JavaScript compiled into the temp dir (tsc -p tsconfig.build.json), as
// `sftpgo serve` does from dist/; BENCH_FROM_SOURCE=1 runs it from source under tsx instead
// (tsx adds ~35 MiB RSS). Both clients use kex curve25519-sha256 (ssh2 has no sntrup761).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env.BENCH_QUICK === '1';
const num = (name, def, quickDef) => Number(process.env[name] ?? (quick ? quickDef : def));
const BIG_MB = num('BENCH_BIG_MB', 1024, 128);
const SMALL_COUNT = num('BENCH_SMALL_COUNT', 2000, 500);
const SMALL_KB = num('BENCH_SMALL_KB', 4, 4);
const PAR_CLIENTS = num('BENCH_PAR_CLIENTS', 16, 8);
const PAR_MB = num('BENCH_PAR_MB', 64, 16);
const LOGINS = num('BENCH_LOGINS', 200, 50);
const ROUNDS = num('BENCH_ROUNDS', 3, 1);
const CIPHER = 'aes128-gcm@openssh.com';

function need(cmd, pkg) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
  if (r.status !== 0) {
    console.error(`missing ${cmd}: apt-get install -y ${pkg}`);
    process.exit(1);
  }
}
need('sftp', 'openssh-client');
need('ssh-keygen', 'openssh-client');
if (!existsSync('/usr/sbin/sshd')) {
  console.error('missing /usr/sbin/sshd: apt-get install -y openssh-server');
  process.exit(1);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, o = {}) {
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

async function must(cmd, args, o) {
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

/** the node flags on the shebang line of bin/sftpgo.js (`#!/usr/bin/env -S node <flags>`) */
function serveNodeFlags() {
  const first = readFileSync(join(ROOT, 'bin/sftpgo.js'), 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first);
  return m ? m[1].split(' ').filter(Boolean) : [];
}

// ------------------------------------------------------------------ memory sampling

function procStatus(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process exited meanwhile
  }
}
const rssKiB = (pid) => procStatus(pid, 'VmRSS');
/** proportional set size: shared pages (the node binary, libc) divided among their users */
function pssKiB(pid) {
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
/**
 * Server CPU seconds so far: the server process and its live descendants, plus what its exited,
 * reaped children used (sshd forks a process per connection; they are gone when a test ends).
 */
function cpuSeconds(pid) {
  const pids = tree(pid);
  let ticks = procCpuTicks(pid, true);
  for (const p of pids.slice(1)) ticks += procCpuTicks(p, false);
  return ticks / CLK_TCK;
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

class MemSampler {
  constructor(pid) {
    this.pid = pid;
    this.peakKiB = 0;
    this.timer = setInterval(() => {
      const total = tree(this.pid).reduce((a, p) => a + rssKiB(p), 0);
      if (total > this.peakKiB) this.peakKiB = total;
    }, 500);
    this.timer.unref();
  }
  stop() {
    clearInterval(this.timer);
  }
}

// ------------------------------------------------------------------ setup

const work = await mkdtemp(join(tmpdir(), 'sftp-bench-'));
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

const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const data = join(work, 'data');
await mkdir(data);
const bigFile = join(data, 'big.bin');
const parFile = join(data, 'par.bin');
const smallDir = join(data, 'small');
await mkdir(smallDir);
console.error(`preparing data: ${BIG_MB} MiB, ${SMALL_COUNT} x ${SMALL_KB} KiB, ${PAR_CLIENTS} x ${PAR_MB} MiB ...`);
await writeRandom(bigFile, BIG_MB * 1024 * 1024);
await writeRandom(parFile, PAR_MB * 1024 * 1024);
for (let i = 0; i < SMALL_COUNT; i++) await writeFile(join(smallDir, `f${i}`), randomBytes(SMALL_KB * 1024));

// --- OpenSSH sshd
const sshdDir = join(work, 'sshd');
const sshdHome = join(work, 'sshd-home');
await mkdir(sshdDir);
await mkdir(sshdHome);
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshdDir, 'hostkey')]);
await writeFile(join(sshdDir, 'authorized_keys'), await readFile(`${keyFile}.pub`), { mode: 0o600 });
const sshdPort = await freePort();
const me = userInfo().username;
await writeFile(
  join(sshdDir, 'sshd_config'),
  [
    `Port ${sshdPort}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(sshdDir, 'hostkey')}`,
    `PidFile ${join(sshdDir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(sshdDir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    me === 'root' ? 'PermitRootLogin yes' : '',
    `AllowUsers ${me}`,
    'Subsystem sftp internal-sftp',
    `Ciphers ${CIPHER}`,
    'MaxStartups 200',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxSessions 64',
    'LogLevel ERROR',
    '',
  ].join('\n'),
);
if (process.getuid?.() === 0 && !existsSync('/run/sshd')) await mkdir('/run/sshd', { recursive: true });
const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshdDir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
let sshdErr = '';
sshd.stderr.on('data', (d) => (sshdErr += d));
cleanup.push(() => sshd.pid && process.kill(sshd.pid, 'SIGTERM'));

// --- ours
const oursDir = join(work, 'ours');
const oursHome = join(work, 'ours-home');
await mkdir(oursDir);
await mkdir(oursHome);
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(oursDir, 'id_ed25519')]);
await must('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(oursDir, 'id_ecdsa')]);
const oursPort = await freePort();
const fromSource = process.env.BENCH_FROM_SOURCE === '1';
const oursEnv = { ...process.env };
if (!fromSource) {
  console.error('compiling src/ (tsc -p tsconfig.build.json) ...');
  const dist = join(work, 'dist');
  // type errors elsewhere in the tree do not stop the emit
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { cwd: ROOT });
  if (!existsSync(join(dist, 'service/index.js'))) throw new Error('tsc emitted no dist/service/index.js');
  // the compiled files resolve their packages through this link to the checkout's node_modules
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  await mkdir(join(dist, 'api'), { recursive: true });
  await writeFile(join(dist, 'api/openapi.yaml'), await readFile(join(ROOT, 'src/api/openapi.yaml')));
  oursEnv.BENCH_SERVICE_MODULE = join(dist, 'service/index.js');
}
const ours = spawn(
  process.execPath,
  [
    // the V8 flags `sftpgo serve` runs with (the shebang of bin/sftpgo.js), then the bench's own
    ...serveNodeFlags(),
    ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ...(fromSource ? ['--import', 'tsx'] : []),
    join(ROOT, 'bench/lib/ours-server.mjs'), oursDir, String(oursPort), oursHome, `${keyFile}.pub`],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: oursEnv },
);
let oursErr = '';
ours.stderr.on('data', (d) => (oursErr += d));
cleanup.push(() => ours.pid && process.kill(ours.pid, 'SIGTERM'));
await new Promise((resolve, reject) => {
  let buf = '';
  ours.stdout.on('data', (d) => {
    buf += d;
    if (buf.includes('"ready":true')) resolve();
  });
  ours.on('exit', (c) => reject(new Error(`our server exited (${c}): ${oursErr}`)));
});
await new Promise((r) => setTimeout(r, 500));
if (sshd.exitCode !== null) throw new Error(`sshd exited: ${sshdErr}`);

const servers = [
  { name: 'ours', port: oursPort, user: 'bench', root: '/', home: oursHome, pid: ours.pid },
  { name: 'openssh', port: sshdPort, user: me, root: `${sshdHome}/`, home: sshdHome, pid: sshd.pid },
];
for (const s of servers) s.mem = new MemSampler(s.pid);
// idle memory, before any client connected (the server process alone; sshd: its listener)
const idle = Object.fromEntries(servers.map((s) => [s.name, { rss: rssKiB(s.pid), pss: pssKiB(s.pid) }]));

const sshOpts = [
  '-F', '/dev/null',
  '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'LogLevel=ERROR',
  '-o', 'BatchMode=yes',
  '-o', `Ciphers=${CIPHER}`,
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

// the negotiated cipher, from `ssh -v`
for (const s of servers) {
  const r = await run('ssh', ['-o', 'LogLevel=DEBUG1', ...sshOpts, '-p', String(s.port), `${s.user}@127.0.0.1`, 'pwd']);
  const m = /kex: client->server cipher: (\S+)/.exec(r.err);
  s.cipher = m ? m[1] : 'unknown';
  if (s.cipher !== CIPHER) throw new Error(`${s.name}: negotiated cipher ${s.cipher}, expected ${CIPHER}\n${r.err}`);
}

const median = (a) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)];
};

const results = {};
function record(test, server, value) {
  results[test] ??= {};
  results[test][server] ??= [];
  results[test][server].push(value);
}

async function clearHome(s) {
  for (const e of await readdir(s.home)) await rm(join(s.home, e), { recursive: true, force: true });
}

const tests = [
  {
    name: `put ${BIG_MB} MiB (MiB/s)`,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      const t = await sftpBatch(s, [`put ${bigFile} ${s.root}big.bin`]);
      return BIG_MB / t;
    },
  },
  {
    name: `get ${BIG_MB} MiB (MiB/s)`,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      const dst = join(work, `get-${s.name}.bin`);
      const t = await sftpBatch(s, [`get ${s.root}big.bin ${dst}`]);
      await rm(dst, { force: true });
      return BIG_MB / t;
    },
  },
  {
    name: `put -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      await rm(join(s.home, 'small'), { recursive: true, force: true });
      const t = await sftpBatch(s, [`put -r ${smallDir} ${s.root}small`]);
      return SMALL_COUNT / t;
    },
  },
  {
    name: `get -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      const dst = join(work, `small-${s.name}`);
      await rm(dst, { recursive: true, force: true });
      const t = await sftpBatch(s, [`get -r ${s.root}small ${dst}`]);
      await rm(dst, { recursive: true, force: true });
      return SMALL_COUNT / t;
    },
  },
  {
    name: `${PAR_CLIENTS} parallel put x ${PAR_MB} MiB (MiB/s aggregate)`,
    cpu: { per: 'GiB', count: (PAR_CLIENTS * PAR_MB) / 1024 },
    async run(s) {
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: PAR_CLIENTS }, (_, i) => sftpBatch(s, [`put ${parFile} ${s.root}par-${i}.bin`])));
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `${PAR_CLIENTS} parallel get x ${PAR_MB} MiB (MiB/s aggregate)`,
    cpu: { per: 'GiB', count: (PAR_CLIENTS * PAR_MB) / 1024 },
    async run(s) {
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: PAR_CLIENTS }, async (_, i) => {
          const dst = join(work, `pget-${s.name}-${i}`);
          await sftpBatch(s, [`get ${s.root}par-${i}.bin ${dst}`]);
          await rm(dst, { force: true });
        }),
      );
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `${LOGINS} sequential key logins (logins/s)`,
    cpu: { per: '100 logins', count: LOGINS / 100 },
    async run(s) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < LOGINS; i++) {
        const r = await run('ssh', [...sshOpts, '-p', String(s.port), `${s.user}@127.0.0.1`, 'pwd']);
        if (r.code !== 0) throw new Error(`${s.name}: login failed: ${r.err}`);
      }
      return LOGINS / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
];

// BENCH_ONLY: comma-separated substrings of test names to run (e.g. "put 1024,parallel put")
const only = (process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const selected = only.length === 0 ? tests : tests.filter((t) => only.some((o) => t.name.includes(o)));
if (selected.length === 0) {
  console.error(`BENCH_ONLY matches no test; names: ${tests.map((t) => t.name).join(' | ')}`);
  process.exit(2);
}
/** peak RSS per server while the parallel uploads ran (KiB) */
const parPutPeak = {};
for (let round = 1; round <= ROUNDS; round++) {
  console.error(`round ${round}/${ROUNDS}`);
  for (const t of selected) {
    // alternate which server goes first
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const s of order) {
      const during = t.name.includes('parallel put') ? new MemSampler(s.pid) : undefined;
      const cpu0 = cpuSeconds(s.pid);
      const v = await t.run(s);
      record(`cpu:${t.name}`, s.name, (cpuSeconds(s.pid) - cpu0) / t.cpu.count);
      if (during) {
        during.stop();
        parPutPeak[s.name] = Math.max(parPutPeak[s.name] ?? 0, during.peakKiB);
      }
      record(t.name, s.name, v);
      console.error(`  ${t.name.padEnd(48)} ${s.name.padEnd(8)} ${v.toFixed(1)}`);
    }
  }
  if (round === ROUNDS) break;
  for (const s of servers) await clearHome(s);
}
for (const s of servers) s.mem.stop();

// peak RSS: ours from the kernel's high-water mark too
const hwm = procStatus(ours.pid, 'VmHWM');

const targets = {
  [`put ${BIG_MB} MiB (MiB/s)`]: 1.2,
  [`get ${BIG_MB} MiB (MiB/s)`]: 0.95,
  [`put -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`]: 0.9,
  [`get -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`]: 0.9,
  [`${PAR_CLIENTS} parallel put x ${PAR_MB} MiB (MiB/s aggregate)`]: 1.0,
  [`${PAR_CLIENTS} parallel get x ${PAR_MB} MiB (MiB/s aggregate)`]: 0.8,
  [`${LOGINS} sequential key logins (logins/s)`]: 3.0,
};

const lines = [];
lines.push(
  `sftpgo-ts (${fromSource ? 'source, tsx' : 'compiled'}) vs OpenSSH sshd (internal-sftp), cipher ${CIPHER} (negotiated: ours ${servers[0].cipher}, openssh ${servers[1].cipher}), kex curve25519-sha256, median of ${ROUNDS}`,
);
lines.push(`${'test'.padEnd(48)} ${'ours'.padStart(9)} ${'openssh'.padStart(9)} ${'ratio'.padStart(6)}  target`);
for (const t of selected) {
  const o = median(results[t.name].ours);
  const s = median(results[t.name].openssh);
  const ratio = o / s;
  const target = targets[t.name];
  lines.push(
    `${t.name.padEnd(48)} ${o.toFixed(1).padStart(9)} ${s.toFixed(1).padStart(9)} ${ratio.toFixed(2).padStart(6)}  >= ${target} ${ratio >= target ? 'ok' : 'MISSED'}`,
  );
}
const oursPeak = Math.max(servers[0].mem.peakKiB, hwm) / 1024;
const sshPeak = servers[1].mem.peakKiB / 1024;
lines.push(
  `${'server peak RSS (MiB; openssh: sum over sshd processes)'.padEnd(48)} ${oursPeak.toFixed(1).padStart(9)} ${sshPeak.toFixed(1).padStart(9)} ${(oursPeak / sshPeak).toFixed(2).padStart(6)}  ours <= 150 ${oursPeak <= 150 ? 'ok' : 'MISSED'}`,
);
for (const k of ['rss', 'pss']) {
  const o = idle.ours[k] / 1024;
  const h = idle.openssh[k] / 1024;
  lines.push(
    `${`server idle ${k.toUpperCase()} before the tests (MiB)`.padEnd(48)} ${o.toFixed(1).padStart(9)} ${h.toFixed(1).padStart(9)} ${(o / h).toFixed(2).padStart(6)}  ours <= 70 ${o <= 70 ? 'ok' : 'MISSED'}`,
  );
}
lines.push('');
lines.push(`${'server CPU seconds (medians)'.padEnd(48)} ${'ours'.padStart(9)} ${'openssh'.padStart(9)} ${'ratio'.padStart(6)}`);
for (const t of selected) {
  const o = median(results[`cpu:${t.name}`].ours);
  const h = median(results[`cpu:${t.name}`].openssh);
  lines.push(`${`${t.name.replace(/ \(.*\)$/, '')}, s per ${t.cpu.per}`.padEnd(48)} ${o.toFixed(2).padStart(9)} ${h.toFixed(2).padStart(9)} ${(o / h).toFixed(2).padStart(6)}`);
}
if (parPutPeak.ours !== undefined && parPutPeak.openssh !== undefined) {
  const o = parPutPeak.ours / 1024;
  const h = parPutPeak.openssh / 1024;
  lines.push(
    `${'peak RSS during the parallel puts (MiB)'.padEnd(48)} ${o.toFixed(1).padStart(9)} ${h.toFixed(1).padStart(9)} ${(o / h).toFixed(2).padStart(6)}`,
  );
}
console.log(lines.join('\n'));

for (const s of servers) s.mem.stop();
if (ours.pid) process.kill(ours.pid, 'SIGTERM');
if (sshd.pid) process.kill(sshd.pid, 'SIGTERM');
cleanup.length = 0;
await new Promise((r) => setTimeout(r, 500));
await rm(work, { recursive: true, force: true });
