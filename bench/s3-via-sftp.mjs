#!/usr/bin/env node
// Issue 12's S3 bench: what our server costs in front of S3. One big file uploaded and
// downloaded through our SFTP server to a user on S3 (OpenSSH's sftp as the client), against the
// AWS SDK moving the same file to the same S3-compatible server directly (bench/lib/s3-direct.mjs,
// lib-storage with our backend's part size and concurrency), in one run, reported as ratios
// (target >= 0.8: our overhead stays small); then 16 parallel SFTP uploads to S3 with our
// server's peak RSS while they run (target <= 300 MiB), against 16 parallel direct uploads.
//
//   node bench/s3-via-sftp.mjs
//
// The S3 server is s3rver (a dev dependency) in a process of its own on 127.0.0.1, storing in
// the temp dir; it is the slowest part of the chain, so both sides are bounded by it and the
// ratio is what matters. Sizes (env): BENCH_BIG_MB (1024), BENCH_PAR_CLIENTS (16), BENCH_PAR_MB
// (64), BENCH_ROUNDS (3), BENCH_PART_MB (5), BENCH_CONCURRENCY (2); BENCH_QUICK=1 for a quick look.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuSeconds, freePort, MemSampler, must, need, num, opensshClient, prepareData, ROOT, run, startOurs, workDir } from './lib/harness.mjs';

const BIG_MB = num('BENCH_BIG_MB', 1024, 128);
const PAR_CLIENTS = num('BENCH_PAR_CLIENTS', 16, 4);
const PAR_MB = num('BENCH_PAR_MB', 64, 16);
const ROUNDS = num('BENCH_ROUNDS', 3, 1);
const PART_MB = num('BENCH_PART_MB', 5, 5);
const CONCURRENCY = num('BENCH_CONCURRENCY', 2, 2);
const BUCKET = 'bench';

need('sftp', 'openssh-client');
need('ssh-keygen', 'openssh-client');

const { work, cleanup } = await workDir('s3-bench-');
const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const { bigFile, parFile } = await prepareData(work, { bigMB: BIG_MB, parMB: PAR_MB, smallCount: 0, smallKB: 0 });

// --- s3rver, in its own process
const s3Dir = join(work, 's3');
await mkdir(s3Dir);
const s3Port = await freePort();
const s3 = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import S3rver from 's3rver';
     await new S3rver({ port: ${s3Port}, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(s3Dir)},
       configureBuckets: [{ name: '${BUCKET}' }] }).run();
     process.stdout.write('ready\\n');`,
  ],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
);
cleanup.push(() => s3.pid && process.kill(s3.pid, 'SIGTERM'));
await new Promise((resolve, reject) => {
  s3.stdout.on('data', (d) => String(d).includes('ready') && resolve());
  s3.on('exit', (c) => reject(new Error(`s3rver exited (${c})`)));
});
const endpoint = `http://127.0.0.1:${s3Port}`;

// --- ours, its user "bench" on S3
const oursDir = join(work, 'ours');
const oursHome = join(work, 'ours-home');
await mkdir(oursDir);
await mkdir(oursHome);
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(oursDir, 'id_ed25519')]);
await must('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(oursDir, 'id_ecdsa')]);
process.env.BENCH_USER_FILESYSTEM = JSON.stringify({
  provider: 1,
  s3config: {
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint,
    access_key: 'S3RVER',
    access_secret: { status: 'Plain', payload: 'S3RVER' },
    key_prefix: 'ours/',
    upload_part_size: PART_MB,
    upload_concurrency: CONCURRENCY,
  },
});
const oursPort = await freePort();
const { child: ours } = await startOurs(work, cleanup, [oursDir, String(oursPort), oursHome, `${keyFile}.pub`]);

const { sftpBatch } = opensshClient({ work, keyFile, cipher: 'aes128-gcm@openssh.com' });
const sftp = (lines) => sftpBatch({ name: 'ours', port: oursPort, user: 'bench' }, lines);
async function direct(op, key, file) {
  const r = await run(process.execPath, [join(ROOT, 'bench/lib/s3-direct.mjs'), op, endpoint, BUCKET, key, file, String(PART_MB), String(CONCURRENCY)]);
  if (r.code !== 0) throw new Error(`s3-direct ${op} failed: ${r.err}`);
  return Number(r.out.trim());
}
const same = async (a, b) => (await run('cmp', [a, b])).code === 0;

const results = {};
const record = (k, v) => (results[k] ??= []).push(v);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
let parPeakKiB = 0;
let cpuPut = 0;
let cpuGet = 0;
for (let round = 1; round <= ROUNDS; round++) {
  console.error(`round ${round}/${ROUNDS}`);
  const got = join(work, 'got.bin');
  let c0 = cpuSeconds(ours.pid);
  record('put ours', BIG_MB / (await sftp([`put ${bigFile} /big.bin`])));
  cpuPut += cpuSeconds(ours.pid) - c0;
  record('put sdk', BIG_MB / (await direct('put', 'direct/big.bin', bigFile)));
  c0 = cpuSeconds(ours.pid);
  record('get ours', BIG_MB / (await sftp([`get /big.bin ${got}`])));
  cpuGet += cpuSeconds(ours.pid) - c0;
  if (!(await same(bigFile, got))) throw new Error('the file downloaded through our server differs');
  await rm(got, { force: true });
  record('get sdk', BIG_MB / (await direct('get', 'direct/big.bin', got)));
  await rm(got, { force: true });

  const sampler = new MemSampler(ours.pid);
  let t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: PAR_CLIENTS }, (_, i) => sftp([`put ${parFile} /par-${i}.bin`])));
  record('par ours', (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9));
  sampler.stop();
  parPeakKiB = Math.max(parPeakKiB, sampler.peakKiB);
  t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: PAR_CLIENTS }, (_, i) => direct('put', `direct/par-${i}.bin`, parFile)));
  record('par sdk', (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9));
}

const line = (label, o, p, target) => {
  const ratio = o / p;
  return `${label.padEnd(52)} ${o.toFixed(1).padStart(8)} ${p.toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(6)}  >= ${target} ${ratio >= target ? 'ok' : 'MISSED'}`;
};
const gib = BIG_MB / 1024;
const out = [
  `S3 through our SFTP server vs the AWS SDK directly, to s3rver (${ROUNDS} rounds, medians; part ${PART_MB} MiB, concurrency ${CONCURRENCY})`,
  `${'test'.padEnd(52)} ${'ours'.padStart(8)} ${'sdk'.padStart(8)} ${'ratio'.padStart(6)}  target`,
  line(`put ${BIG_MB} MiB (MiB/s)`, median(results['put ours']), median(results['put sdk']), 0.8),
  line(`get ${BIG_MB} MiB (MiB/s)`, median(results['get ours']), median(results['get sdk']), 0.8),
  line(`${PAR_CLIENTS} parallel put x ${PAR_MB} MiB (MiB/s aggregate)`, median(results['par ours']), median(results['par sdk']), 0.8),
  `${'our peak RSS during the parallel puts (MiB)'.padEnd(52)} ${(parPeakKiB / 1024).toFixed(1).padStart(8)}  <= 300 ${parPeakKiB / 1024 <= 300 ? 'ok' : 'MISSED'}`,
  `${'our server CPU, put / get (s per GiB)'.padEnd(52)} ${(cpuPut / ROUNDS / gib).toFixed(2).padStart(8)} / ${(cpuGet / ROUNDS / gib).toFixed(2)}`,
];
console.log(out.join('\n'));
await readFile(join(oursDir, 'sftpgo.log'), 'utf8').then(
  (log) => {
    const errors = log.split('\n').filter((l) => l.includes('"level":50')).length;
    if (errors > 0) console.log(`(${errors} error lines in our log: ${join(oursDir, 'sftpgo.log')})`);
  },
  () => undefined,
);
process.exit(0);
