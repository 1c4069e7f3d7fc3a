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
// `sftpgo serve` does from dist/, with the executable's V8 flags (bench/lib/harness.mjs);
// BENCH_FROM_SOURCE=1 runs it from source under tsx instead (tsx adds ~35 MiB RSS).
// Both clients use kex curve25519-sha256 (ssh2 has no sntrup761).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, must, need, num, opensshClient, prepareData, run, runRounds, startOurs, workDir } from './lib/harness.mjs';

const BIG_MB = num('BENCH_BIG_MB', 1024, 128);
const SMALL_COUNT = num('BENCH_SMALL_COUNT', 2000, 500);
const SMALL_KB = num('BENCH_SMALL_KB', 4, 4);
const PAR_CLIENTS = num('BENCH_PAR_CLIENTS', 16, 8);
const PAR_MB = num('BENCH_PAR_MB', 64, 16);
const LOGINS = num('BENCH_LOGINS', 200, 50);
const ROUNDS = num('BENCH_ROUNDS', 3, 1);
const CIPHER = 'aes128-gcm@openssh.com';

need('sftp', 'openssh-client');
need('ssh-keygen', 'openssh-client');
need('/usr/sbin/sshd', 'openssh-server');

// ------------------------------------------------------------------ setup

const { work, cleanup } = await workDir('sftp-bench-');

const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const { bigFile, parFile, smallDir } = await prepareData(work, {
  bigMB: BIG_MB,
  parMB: PAR_MB,
  smallCount: SMALL_COUNT,
  smallKB: SMALL_KB,
});

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
const { child: ours, fromSource } = await startOurs(work, cleanup, [oursDir, String(oursPort), oursHome, `${keyFile}.pub`]);
await new Promise((r) => setTimeout(r, 500));
if (sshd.exitCode !== null) throw new Error(`sshd exited: ${sshdErr}`);

const servers = [
  { name: 'ours', port: oursPort, user: 'bench', root: '/', home: oursHome, pid: ours.pid },
  { name: 'openssh', port: sshdPort, user: me, root: `${sshdHome}/`, home: sshdHome, pid: sshd.pid },
];

const { sshOpts, sftpBatch } = opensshClient({ work, keyFile, cipher: CIPHER });

// the negotiated cipher, from `ssh -v`
for (const s of servers) {
  const r = await run('ssh', ['-o', 'LogLevel=DEBUG1', ...sshOpts, '-p', String(s.port), `${s.user}@127.0.0.1`, 'pwd']);
  const m = /kex: client->server cipher: (\S+)/.exec(r.err);
  s.cipher = m ? m[1] : 'unknown';
  if (s.cipher !== CIPHER) throw new Error(`${s.name}: negotiated cipher ${s.cipher}, expected ${CIPHER}\n${r.err}`);
}

const tests = [
  {
    name: `put ${BIG_MB} MiB (MiB/s)`,
    target: 1.2,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      const t = await sftpBatch(s, [`put ${bigFile} ${s.root}big.bin`]);
      return BIG_MB / t;
    },
  },
  {
    name: `get ${BIG_MB} MiB (MiB/s)`,
    target: 0.95,
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
    target: 0.9,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      await rm(join(s.home, 'small'), { recursive: true, force: true });
      const t = await sftpBatch(s, [`put -r ${smallDir} ${s.root}small`]);
      return SMALL_COUNT / t;
    },
  },
  {
    name: `get -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    target: 0.9,
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
    target: 1.0,
    cpu: { per: 'GiB', count: (PAR_CLIENTS * PAR_MB) / 1024 },
    async run(s) {
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: PAR_CLIENTS }, (_, i) => sftpBatch(s, [`put ${parFile} ${s.root}par-${i}.bin`])));
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `${PAR_CLIENTS} parallel get x ${PAR_MB} MiB (MiB/s aggregate)`,
    target: 0.95,
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
    target: 3.0,
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

await runRounds({
  title: `sftpgo-ts (${fromSource ? 'source, tsx' : 'compiled'}) vs OpenSSH sshd (internal-sftp), cipher ${CIPHER} (negotiated: ours ${servers[0].cipher}, openssh ${servers[1].cipher}), kex curve25519-sha256, median of ${ROUNDS}`,
  tests,
  servers,
  rounds: ROUNDS,
});

if (ours.pid) process.kill(ours.pid, 'SIGTERM');
if (sshd.pid) process.kill(sshd.pid, 'SIGTERM');
cleanup.length = 0;
await new Promise((r) => setTimeout(r, 500));
await rm(work, { recursive: true, force: true });
