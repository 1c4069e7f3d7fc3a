#!/usr/bin/env node
// FTP throughput, small files, parallel clients, logins and memory: sftpgo-ts vs vsftpd (Debian's
// package), side by side in one run, reported as ratios (ours / vsftpd).
//
//   sudo node bench/ftp-vs-vsftpd.mjs
//
// Needs root: vsftpd starts as root and logs in system users through PAM, so the bench creates
// the system user "sftpgobench<pid of the bench>" (password "benchpw", home in the temp dir; its
// own name per run, so two benches at once do not take each other's user) and removes it at the
// end. Our user "bench" has the password "benchpw" hashed with bcrypt, the provider's default;
// verified passwords are cached as upstream does by default (data_provider.password_caching),
// BENCH_PASSWORD_CACHING=0 makes every login verify the bcrypt hash (vsftpd verifies the
// system user's yescrypt hash through PAM every time).
// Both servers listen on 127.0.0.1, plain FTP, passive mode (EPSV/PASV) from their own port range.
// Clients: curl for single and parallel transfers, lftp `mirror` for the trees of small files,
// Python's ftplib for the logins (one process, connect + USER/PASS + QUIT per login). Each
// measure is the wall time of a whole client run, repeated BENCH_ROUNDS times in interleaved
// rounds; the median is reported.
//
// Sizes (env): BENCH_BIG_MB (1024), BENCH_SMALL_COUNT (2000), BENCH_SMALL_KB (4),
// BENCH_PAR_CLIENTS (16), BENCH_PAR_MB (64), BENCH_LOGINS (200), BENCH_ROUNDS (3); BENCH_QUICK=1
// for a quick run; BENCH_ONLY as in sftp-vs-openssh.mjs. Our server runs as in that bench
// (compiled, with the executable's V8 flags; BENCH_FROM_SOURCE=1 from source).
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, must, need, num, prepareData, run, runRounds, startOurs, workDir } from './lib/harness.mjs';

const BIG_MB = num('BENCH_BIG_MB', 1024, 128);
const SMALL_COUNT = num('BENCH_SMALL_COUNT', 2000, 500);
const SMALL_KB = num('BENCH_SMALL_KB', 4, 4);
const PAR_CLIENTS = num('BENCH_PAR_CLIENTS', 16, 8);
const PAR_MB = num('BENCH_PAR_MB', 64, 16);
const LOGINS = num('BENCH_LOGINS', 200, 50);
const ROUNDS = num('BENCH_ROUNDS', 3, 1);
const PASSWORD = 'benchpw';
const SYSTEM_USER = `sftpgobench${process.pid}`;

need('curl', 'curl');
need('lftp', 'lftp');
need('python3', 'python3');
need('/usr/sbin/vsftpd', 'vsftpd');
need('ssh-keygen', 'openssh-client');
if (process.getuid?.() !== 0) {
  console.error('run as root: vsftpd starts as root and the bench creates a system user for it');
  process.exit(1);
}

const { work, cleanup } = await workDir('ftp-bench-');
// the system user must reach its home under the work dir (mkdtemp makes it 0700)
await chmod(work, 0o755);
const { bigFile, parFile, smallDir } = await prepareData(work, {
  bigMB: BIG_MB,
  parMB: PAR_MB,
  smallCount: SMALL_COUNT,
  smallKB: SMALL_KB,
});

// --- vsftpd with a system user
const vsDir = join(work, 'vsftpd');
const vsHome = join(work, 'vsftpd-home');
await mkdir(vsDir);
await mkdir(vsHome);
if (spawnSync('id', [SYSTEM_USER]).status !== 0) {
  await must('useradd', ['-M', '-d', vsHome, '-s', '/bin/sh', SYSTEM_USER]);
  cleanup.push(() => spawnSync('userdel', [SYSTEM_USER]));
} else {
  await must('usermod', ['-d', vsHome, SYSTEM_USER]);
}
const chpasswd = spawnSync('chpasswd', [], { input: `${SYSTEM_USER}:${PASSWORD}\n` });
if (chpasswd.status !== 0) throw new Error(`chpasswd failed: ${chpasswd.stderr}`);
const uid = Number(spawnSync('id', ['-u', SYSTEM_USER], { encoding: 'utf8' }).stdout.trim());
const gid = Number(spawnSync('id', ['-g', SYSTEM_USER], { encoding: 'utf8' }).stdout.trim());
await chown(vsHome, uid, gid);
await mkdir('/var/run/vsftpd/empty', { recursive: true });
const vsPort = await freePort();
const vsPasv = 41000;
await writeFile(
  join(vsDir, 'vsftpd.conf'),
  [
    'listen=YES',
    'listen_address=127.0.0.1',
    `listen_port=${vsPort}`,
    'background=NO',
    'anonymous_enable=NO',
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    'pasv_enable=YES',
    `pasv_min_port=${vsPasv}`,
    `pasv_max_port=${vsPasv + 99}`,
    'pasv_address=127.0.0.1',
    'seccomp_sandbox=NO',
    'secure_chroot_dir=/var/run/vsftpd/empty',
    'pam_service_name=vsftpd',
    'xferlog_enable=NO',
    'max_clients=0',
    'max_per_ip=0',
    '',
  ].join('\n'),
);
const vsftpd = spawn('/usr/sbin/vsftpd', [join(vsDir, 'vsftpd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
let vsErr = '';
vsftpd.stderr.on('data', (d) => (vsErr += d));
cleanup.push(() => vsftpd.pid && process.kill(vsftpd.pid, 'SIGTERM'));

// --- ours, FTP only
const oursDir = join(work, 'ours');
const oursHome = join(work, 'ours-home');
await mkdir(oursDir);
await mkdir(oursHome);
const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const oursPort = await freePort();
const oursPasv = 42000;
const { child: ours, fromSource } = await startOurs(work, cleanup, [
  oursDir,
  String(oursPort),
  oursHome,
  `${keyFile}.pub`,
  'ftp',
  String(oursPasv),
  String(oursPasv + 99),
]);
await new Promise((r) => setTimeout(r, 500));
if (vsftpd.exitCode !== null) throw new Error(`vsftpd exited: ${vsErr}`);

const servers = [
  { name: 'ours', port: oursPort, user: 'bench', home: oursHome, pid: ours.pid },
  { name: 'vsftpd', port: vsPort, user: SYSTEM_USER, home: vsHome, pid: vsftpd.pid },
];

const url = (s, path) => `ftp://${s.user}:${PASSWORD}@127.0.0.1:${s.port}/${path}`;

async function curl(s, args) {
  const r = await run('curl', ['-sS', '--fail', ...args]);
  if (r.code !== 0) throw new Error(`${s.name}: curl ${args.join(' ')} failed: ${r.err}`);
  return r.seconds;
}

async function lftp(s, commands) {
  const script = ['set cmd:fail-exit yes', 'set ftp:ssl-allow no', 'set net:max-retries 1', 'set xfer:clobber on', ...commands, 'quit'];
  const r = await run('lftp', ['-u', `${s.user},${PASSWORD}`, '-p', String(s.port), '-e', script.join('; '), '127.0.0.1']);
  if (r.code !== 0) throw new Error(`${s.name}: lftp failed: ${r.err}`);
  return r.seconds;
}

const LOGIN_SCRIPT = `
import ftplib, sys
host, port, user, pw, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
for _ in range(n):
    f = ftplib.FTP()
    f.connect(host, port, timeout=30)
    f.login(user, pw)
    f.quit()
`;

const tests = [
  {
    name: `put ${BIG_MB} MiB (MiB/s)`,
    target: 1.0,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      return BIG_MB / (await curl(s, ['-T', bigFile, url(s, 'big.bin')]));
    },
  },
  {
    name: `get ${BIG_MB} MiB (MiB/s)`,
    target: 1.0,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      const dst = join(work, `get-${s.name}.bin`);
      const t = await curl(s, ['-o', dst, url(s, 'big.bin')]);
      await rm(dst, { force: true });
      return BIG_MB / t;
    },
  },
  {
    name: `put -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    target: 1.0,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      await rm(join(s.home, 'small'), { recursive: true, force: true });
      const t = await lftp(s, [`mirror -R ${smallDir} small`]);
      return SMALL_COUNT / t;
    },
  },
  {
    name: `get -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    target: 1.0,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      const dst = join(work, `small-${s.name}`);
      await rm(dst, { recursive: true, force: true });
      const t = await lftp(s, [`mirror small ${dst}`]);
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
      await Promise.all(Array.from({ length: PAR_CLIENTS }, (_, i) => curl(s, ['-T', parFile, url(s, `par-${i}.bin`)])));
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `${PAR_CLIENTS} parallel get x ${PAR_MB} MiB (MiB/s aggregate)`,
    target: 1.0,
    cpu: { per: 'GiB', count: (PAR_CLIENTS * PAR_MB) / 1024 },
    async run(s) {
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: PAR_CLIENTS }, async (_, i) => {
          const dst = join(work, `pget-${s.name}-${i}`);
          await curl(s, ['-o', dst, url(s, `par-${i}.bin`)]);
          await rm(dst, { force: true });
        }),
      );
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `${LOGINS} sequential password logins (logins/s)`,
    target: 1.0,
    cpu: { per: '100 logins', count: LOGINS / 100 },
    async run(s) {
      const r = await run('python3', ['-c', LOGIN_SCRIPT, '127.0.0.1', String(s.port), s.user, PASSWORD, String(LOGINS)]);
      if (r.code !== 0) throw new Error(`${s.name}: logins failed: ${r.err}`);
      return LOGINS / r.seconds;
    },
  },
];

await runRounds({
  title: `sftpgo-ts (${fromSource ? 'source, tsx' : 'compiled'}) vs vsftpd, plain FTP, passive mode, median of ${ROUNDS}`,
  tests,
  servers,
  rounds: ROUNDS,
});

if (ours.pid) process.kill(ours.pid, 'SIGTERM');
if (vsftpd.pid) process.kill(vsftpd.pid, 'SIGTERM');
await new Promise((r) => setTimeout(r, 500));
for (const f of cleanup) {
  try {
    f();
  } catch {
    // best effort
  }
}
cleanup.length = 0;
await rm(work, { recursive: true, force: true });
