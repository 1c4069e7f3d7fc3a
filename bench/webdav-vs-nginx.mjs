#!/usr/bin/env node
// WebDAV throughput, small files, parallel clients, PROPFIND requests/s and memory: sftpgo-ts vs
// nginx's dav module (Debian nginx-light + libnginx-mod-http-dav-ext) and `rclone serve webdav`
// (Debian rclone), the three side by side in one run, reported as ratios (ours / each peer).
//
//   node bench/webdav-vs-nginx.mjs
//
// The three servers listen on 127.0.0.1, plain HTTP, each with its own config and dir in a temp
// dir, HTTP Basic authentication as "bench" / "benchpw": ours against the data provider (bcrypt,
// verified passwords cached as upstream does by default; BENCH_PASSWORD_CACHING=0 verifies the
// hash on every request), nginx against an htpasswd file with an apr1 (MD5) hash made by
// `openssl passwd -apr1`, verified on every request, rclone against its --user/--pass flags.
// nginx runs in the foreground (`daemon off`) with `worker_processes auto` (BENCH_NGINX_WORKERS),
// as www-data when the bench runs as root; rclone serves a local dir with its defaults (no VFS
// cache). Our server runs as in sftp-vs-openssh.mjs (compiled, with the executable's V8 flags;
// BENCH_FROM_SOURCE=1 from source).
//
// Clients: curl for single and parallel PUT/GET; for the trees of small files one curl run with
// all the files in a config file (-K), keep-alive, 4 transfers at once (--parallel-max,
// BENCH_TREE_TRANSFERS), after a MKCOL; and this process's fetch (undici, keep-alive) for
// PROPFIND Depth: 1 on a collection of BENCH_PROPFIND_ENTRIES (100) files, BENCH_PROPFINDS
// requests over BENCH_PROPFIND_CLIENTS connections.
// BENCH_TREE_CLIENT=rclone copies the trees with `rclone copy` instead (on-the-fly :webdav:
// remote, vendor "other", --transfers/--checkers BENCH_TREE_TRANSFERS and BENCH_RCLONE_CHECKERS):
// rclone 1.60's webdav backend paces its calls at least 10 ms apart (its pacer's minimum sleep,
// not settable before 1.63), so that measures ~30 files/s against any server.
// Each measure is the wall time of a whole client run, repeated BENCH_ROUNDS times in
// interleaved rounds; the median is reported. Every upload goes to a fresh path (rclone serve
// caches directory listings), and every result is checked (file counts, PROPFIND entries).
//
// Sizes (env): BENCH_BIG_MB (1024), BENCH_SMALL_COUNT (2000), BENCH_SMALL_KB (4),
// BENCH_PAR_CLIENTS (16), BENCH_PAR_MB (64), BENCH_PROPFINDS (2000), BENCH_PROPFIND_CLIENTS (8),
// BENCH_ROUNDS (3); BENCH_QUICK=1 for a quick run; BENCH_ONLY as in sftp-vs-openssh.mjs.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, must, need, num, prepareData, run, runRounds, startOurs, workDir } from './lib/harness.mjs';

const BIG_MB = num('BENCH_BIG_MB', 1024, 128);
const SMALL_COUNT = num('BENCH_SMALL_COUNT', 2000, 500);
const SMALL_KB = num('BENCH_SMALL_KB', 4, 4);
const PAR_CLIENTS = num('BENCH_PAR_CLIENTS', 16, 8);
const PAR_MB = num('BENCH_PAR_MB', 64, 16);
const PROPFINDS = num('BENCH_PROPFINDS', 2000, 500);
const PROPFIND_CLIENTS = num('BENCH_PROPFIND_CLIENTS', 8, 4);
const PROPFIND_ENTRIES = num('BENCH_PROPFIND_ENTRIES', 100, 100);
const ROUNDS = num('BENCH_ROUNDS', 3, 1);
const TRANSFERS = num('BENCH_TREE_TRANSFERS', 4, 4);
const CHECKERS = num('BENCH_RCLONE_CHECKERS', 8, 8);
const TREE_CLIENT = process.env.BENCH_TREE_CLIENT ?? 'curl';
const NGINX_WORKERS = process.env.BENCH_NGINX_WORKERS ?? 'auto';
const USER = 'bench';
const PASSWORD = 'benchpw';
// the peers' targets for every throughput figure (issue 11)
const TARGET = { nginx: 0.8, rclone: 1.5 };

need('curl', 'curl');
need('openssl', 'openssl');
need('ssh-keygen', 'openssh-client');
need('/usr/sbin/nginx', 'nginx-light');
need('/usr/lib/nginx/modules/ngx_http_dav_ext_module.so', 'libnginx-mod-http-dav-ext');
need('rclone', 'rclone');

const { work, cleanup } = await workDir('webdav-bench-');
const asRoot = process.getuid?.() === 0;
// nginx's workers run as www-data when started by root: they must reach their dirs under work
if (asRoot) await chmod(work, 0o755);
const { bigFile, parFile, smallDir } = await prepareData(work, {
  bigMB: BIG_MB,
  parMB: PAR_MB,
  smallCount: SMALL_COUNT,
  smallKB: SMALL_KB,
});

/** answers once something accepts HTTP requests at url (any status) */
async function waitHttp(url, what, child) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    try {
      const r = await fetch(url, { method: 'OPTIONS' });
      await r.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} does not answer at ${url}`);
}

// --- nginx with the dav and dav-ext modules
const ngDir = join(work, 'nginx');
const ngHome = join(work, 'nginx-home');
await mkdir(ngDir);
await mkdir(ngHome);
await mkdir(join(ngDir, 'body'));
const hash = (await must('openssl', ['passwd', '-apr1', PASSWORD])).out.trim();
await writeFile(join(ngDir, 'htpasswd'), `${USER}:${hash}\n`);
if (asRoot) {
  await chown(ngHome, 33, 33);
  await chown(join(ngDir, 'body'), 33, 33);
}
const ngPort = await freePort();
await writeFile(
  join(ngDir, 'nginx.conf'),
  [
    'load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;',
    asRoot ? 'user www-data;' : '',
    `worker_processes ${NGINX_WORKERS};`,
    `pid ${join(ngDir, 'nginx.pid')};`,
    `error_log ${join(ngDir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  sendfile on;',
    '  default_type application/octet-stream;',
    `  client_body_temp_path ${join(ngDir, 'body')};`,
    ...['proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(ngDir, t)};`),
    '  server {',
    `    listen 127.0.0.1:${ngPort};`,
    `    root ${ngHome};`,
    '    location / {',
    '      auth_basic "bench";',
    `      auth_basic_user_file ${join(ngDir, 'htpasswd')};`,
    '      dav_methods PUT DELETE MKCOL COPY MOVE;',
    '      dav_ext_methods PROPFIND OPTIONS;',
    '      create_full_put_path on;',
    '      client_max_body_size 0;',
    '      dav_access user:rw group:r all:r;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n'),
);
const nginx = spawn('/usr/sbin/nginx', ['-c', join(ngDir, 'nginx.conf'), '-p', ngDir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
let ngErr = '';
nginx.stderr.on('data', (d) => (ngErr += d));
cleanup.push(() => nginx.pid && process.kill(nginx.pid, 'SIGTERM'));

// --- rclone serve webdav on a local dir
const rcHome = join(work, 'rclone-home');
await mkdir(rcHome);
const rcConf = join(work, 'rclone.conf');
await writeFile(rcConf, '');
const rcPort = await freePort();
const rcloneServe = spawn(
  'rclone',
  ['serve', 'webdav', '--config', rcConf, '--addr', `127.0.0.1:${rcPort}`, '--user', USER, '--pass', PASSWORD, rcHome],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let rcErr = '';
rcloneServe.stderr.on('data', (d) => (rcErr += d));
cleanup.push(() => rcloneServe.pid && process.kill(rcloneServe.pid, 'SIGTERM'));

// --- ours, WebDAV only
const oursDir = join(work, 'ours');
const oursHome = join(work, 'ours-home');
await mkdir(oursDir);
await mkdir(oursHome);
const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const oursPort = await freePort();
const { child: ours, fromSource } = await startOurs(work, cleanup, [oursDir, String(oursPort), oursHome, `${keyFile}.pub`, 'webdav']);

const servers = [
  { name: 'ours', port: oursPort, home: oursHome, pid: ours.pid },
  { name: 'nginx', port: ngPort, home: ngHome, pid: nginx.pid },
  { name: 'rclone', port: rcPort, home: rcHome, pid: rcloneServe.pid },
];
for (const s of servers) s.base = `http://127.0.0.1:${s.port}`;
try {
  await waitHttp(`${servers[1].base}/`, 'nginx', nginx);
  await waitHttp(`${servers[2].base}/`, 'rclone serve webdav', rcloneServe);
} catch (e) {
  throw new Error(`${e.message}\nnginx: ${ngErr}\nrclone: ${rcErr}`);
}

const url = (s, path) => `${s.base}/${path}`;
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

async function curl(s, args) {
  const r = await run('curl', ['-sS', '--fail', '-u', `${USER}:${PASSWORD}`, ...args]);
  if (r.code !== 0) throw new Error(`${s.name}: curl ${args.join(' ')} failed: ${r.err}`);
  return r.seconds;
}

const obscured = (await must('rclone', ['obscure', PASSWORD])).out.trim();
/** `rclone copy src dst` where ":webdav:path" names a path on server s */
async function rcloneCopy(s, src, dst) {
  const r = await run('rclone', [
    'copy',
    src,
    dst,
    '--config', rcConf,
    '--webdav-url', s.base,
    '--webdav-vendor', 'other',
    '--webdav-user', USER,
    '--webdav-pass', obscured,
    '--transfers', String(TRANSFERS),
    '--checkers', String(CHECKERS),
    '--retries', '1',
    '--low-level-retries', '1',
    '-q',
  ]);
  if (r.code !== 0) throw new Error(`${s.name}: rclone copy ${src} ${dst} failed: ${r.err}`);
  return r.seconds;
}

/**
 * One curl run over `pairs` ([local file, remote path]) with keep-alive and TRANSFERS at once:
 * uploads (`put`) or downloads
 */
async function curlTree(s, pairs, put) {
  const cfg = join(work, `tree-${s.name}.cfg`);
  const q = (x) => JSON.stringify(x);
  await writeFile(cfg, pairs.map(([file, path]) => (put ? `upload-file = ${q(file)}\nurl = ${q(url(s, path))}\n` : `url = ${q(url(s, path))}\noutput = ${q(file)}\n`)).join(''));
  const t = await curl(s, ['--parallel', '--parallel-max', String(TRANSFERS), '-K', cfg]);
  await rm(cfg, { force: true });
  return t;
}

const smallNames = (await readdir(smallDir)).sort();

async function dav(s, method, path, init = {}) {
  const r = await fetch(url(s, path), { method, ...init, headers: { authorization: AUTH, ...init.headers } });
  const body = await r.text();
  if (r.status >= 300) throw new Error(`${s.name}: ${method} /${path}: ${r.status} ${body.slice(0, 200)}`);
  return body;
}

async function countFiles(dir) {
  return (await readdir(dir)).length;
}

// every upload goes to a fresh path: rclone serve caches listings, and a stale listing of an
// earlier round's tree would let `rclone copy` skip files that were deleted under it
let seq = 0;
const fresh = (what) => `${what}-${++seq}`;

const tests = [
  {
    name: `put ${BIG_MB} MiB (MiB/s)`,
    target: TARGET,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      s.big = fresh('big');
      return BIG_MB / (await curl(s, ['-T', bigFile, url(s, `${s.big}.bin`)]));
    },
  },
  {
    name: `get ${BIG_MB} MiB (MiB/s)`,
    target: TARGET,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      const dst = join(work, `get-${s.name}.bin`);
      const t = await curl(s, ['-o', dst, url(s, `${s.big}.bin`)]);
      await rm(dst, { force: true });
      return BIG_MB / t;
    },
  },
  {
    name: `put -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    target: TARGET,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      s.small = fresh('small');
      let t;
      if (TREE_CLIENT === 'rclone') t = await rcloneCopy(s, smallDir, `:webdav:${s.small}`);
      else {
        const t0 = process.hrtime.bigint();
        await dav(s, 'MKCOL', `${s.small}/`);
        await curlTree(s, smallNames.map((n) => [join(smallDir, n), `${s.small}/${n}`]), true);
        t = Number(process.hrtime.bigint() - t0) / 1e9;
      }
      const n = await countFiles(join(s.home, s.small));
      if (n !== SMALL_COUNT) throw new Error(`${s.name}: ${n} files uploaded, not ${SMALL_COUNT}`);
      return SMALL_COUNT / t;
    },
  },
  {
    name: `get -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    target: TARGET,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      const dst = join(work, `small-${s.name}`);
      await rm(dst, { recursive: true, force: true });
      let t;
      if (TREE_CLIENT === 'rclone') t = await rcloneCopy(s, `:webdav:${s.small}`, dst);
      else {
        await mkdir(dst);
        t = await curlTree(s, smallNames.map((n) => [join(dst, n), `${s.small}/${n}`]), false);
      }
      const n = await countFiles(dst);
      await rm(dst, { recursive: true, force: true });
      if (n !== SMALL_COUNT) throw new Error(`${s.name}: ${n} files downloaded, not ${SMALL_COUNT}`);
      return SMALL_COUNT / t;
    },
  },
  {
    name: `${PAR_CLIENTS} parallel put x ${PAR_MB} MiB (MiB/s aggregate)`,
    target: TARGET,
    cpu: { per: 'GiB', count: (PAR_CLIENTS * PAR_MB) / 1024 },
    async run(s) {
      s.par = fresh('par');
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: PAR_CLIENTS }, (_, i) => curl(s, ['-T', parFile, url(s, `${s.par}-${i}.bin`)])));
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `${PAR_CLIENTS} parallel get x ${PAR_MB} MiB (MiB/s aggregate)`,
    target: TARGET,
    cpu: { per: 'GiB', count: (PAR_CLIENTS * PAR_MB) / 1024 },
    async run(s) {
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: PAR_CLIENTS }, async (_, i) => {
          const dst = join(work, `pget-${s.name}-${i}`);
          await curl(s, ['-o', dst, url(s, `${s.par}-${i}.bin`)]);
          await rm(dst, { force: true });
        }),
      );
      return (PAR_CLIENTS * PAR_MB) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: `PROPFIND depth 1, ${PROPFIND_ENTRIES} entries (req/s)`,
    target: TARGET,
    cpu: { per: '1000 req', count: PROPFINDS / 1000 },
    async run(s) {
      // a collection of PROPFIND_ENTRIES small files, made through the server (not timed)
      const dir = fresh('list');
      await dav(s, 'MKCOL', `${dir}/`);
      for (let i = 0; i < PROPFIND_ENTRIES; i++) await dav(s, 'PUT', `${dir}/e${i}.txt`, { body: `entry ${i}\n` });
      const propfind = () => dav(s, 'PROPFIND', `${dir}/`, { headers: { depth: '1' } });
      const entries = ((await propfind()).match(/<([\w-]+:)?response[\s>]/g) ?? []).length;
      if (entries !== PROPFIND_ENTRIES + 1) throw new Error(`${s.name}: PROPFIND listed ${entries} responses, not ${PROPFIND_ENTRIES + 1}`);
      let left = PROPFINDS;
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: PROPFIND_CLIENTS }, async () => {
          while (left > 0) {
            left--;
            await propfind();
          }
        }),
      );
      return PROPFINDS / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
];

await runRounds({
  title: `sftpgo-ts (${fromSource ? 'source, tsx' : 'compiled'}) vs nginx dav + dav-ext (${NGINX_WORKERS} workers) and rclone serve webdav, plain HTTP, Basic auth, trees by ${TREE_CLIENT} (${TRANSFERS} transfers), PROPFIND over ${PROPFIND_CLIENTS} keep-alive connections, median of ${ROUNDS}`,
  tests,
  servers,
  rounds: ROUNDS,
});

for (const p of [ours, nginx, rcloneServe]) if (p.pid) process.kill(p.pid, 'SIGTERM');
await new Promise((r) => setTimeout(r, 500));
cleanup.length = 0;
await rm(work, { recursive: true, force: true });
