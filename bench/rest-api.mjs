#!/usr/bin/env node
// Issue 16's REST API bench: our server with 10,000 users (plus one folder per 100 users, mapped
// into every tenth user), loaded through POST /api/v2/loaddata, then `wrk -t2 -c50` on
//   GET /healthz (no auth), GET /api/v2/version, GET /api/v2/users/{username} and
//   GET /api/v2/users?limit=100&offset=5000 (admin JWT),
// and `sftpgo users list --all` paging through every user (the CLI, compiled, against the
// server). Once on SQLite and once on PostgreSQL (a private cluster started by
// test/helpers/postgres.ts, as the tests start it; skipped with the reason when PostgreSQL is
// not installed). Prints one table per database: req/s, p50, p99, timeouts, errors (non-2xx and
// socket errors), our server's CPU per request and, on PostgreSQL, the database's. Nothing is
// asserted; the targets are printed next to the figures.
//
//   node bench/rest-api.mjs
//
// Env: BENCH_DB (sqlite,postgres), BENCH_USERS (10000), BENCH_SECONDS (10 per request kind),
// BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_ROUNDS (1: median of the rounds),
// BENCH_FROM_SOURCE=1 / BENCH_NODE_FLAGS as for the other benches (bench/lib/harness.mjs),
// BENCH_KEEP=1 keeps the work dir (database, logs, compiled server) under $TMPDIR/rest-bench-*;
// BENCH_QUICK=1 for 2,000 users and 3 s runs; BENCH_ONLY: comma-separated substrings of the
// request names to run ("cli" for the CLI listing), e.g. BENCH_ONLY=version,cli.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuSeconds, freePort, must, need, num, ROOT, run, startOurs, workDir } from './lib/harness.mjs';

const USERS = num('BENCH_USERS', 10000, 2000);
const SECONDS = num('BENCH_SECONDS', 10, 3);
const CONNECTIONS = num('BENCH_CONNECTIONS', 50, 50);
const THREADS = num('BENCH_THREADS', 2, 2);
const ROUNDS = num('BENCH_ROUNDS', 1, 1);
const DBS = (process.env.BENCH_DB ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const ADMIN = { username: 'benchadmin', password: 'benchadminpw' };
/** a bcrypt hash stored as given by loaddata (hashing 10,000 passwords is not what we measure) */
const PASSWORD_HASH = '$2a$10$WYQpqwMsLdQXgRnWIbfLweDyP7tLA3R8ZPXvhSyJ5/RZzxNm3zqvK';

need('/usr/bin/wrk', 'wrk');
need('ssh-keygen', 'openssh-client');

const { work, cleanup } = await workDir('rest-bench-');
// 10,000 users' database, logs and the compiled server: gone at the end unless BENCH_KEEP=1
// (after the cleanups, which workDir runs on exit first)
if (process.env.BENCH_KEEP !== '1') process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);

/** the dump loaddata restores: USERS users, one folder per 100 of them, every tenth user maps one */
function dump(home) {
  const folders = [];
  for (let i = 0; i < Math.ceil(USERS / 100); i++) {
    folders.push({ name: `folder${i}`, mapped_path: join(home, 'folders', `folder${i}`), description: `bench folder ${i}` });
  }
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const username = `user${String(i).padStart(5, '0')}`;
    users.push({
      username,
      status: 1,
      password: PASSWORD_HASH,
      home_dir: join(home, 'homes', username),
      permissions: { '/': ['*'], '/ro': ['list', 'download'] },
      quota_size: i % 3 === 0 ? 1073741824 : 0,
      quota_files: i % 3 === 0 ? 1000 : 0,
      upload_bandwidth: 0,
      download_bandwidth: 0,
      description: `bench user ${i}`,
      additional_info: i % 2 === 0 ? `employee ${i}` : '',
      filters: { allowed_ip: [], denied_ip: ['192.0.2.0/24'], denied_login_methods: [], file_patterns: [], max_upload_file_size: 0 },
      filesystem: { provider: 0 },
      virtual_folders: i % 10 === 0 ? [{ name: `folder${Math.floor(i / 100)}`, virtual_path: '/shared', quota_size: -1, quota_files: -1 }] : [],
    });
  }
  return { users, folders, admins: [], version: 8 };
}

/** "12.3ms" / "870.00us" / "1.20s" -> milliseconds */
function ms(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60000;
}

/** one wrk run: req/s, p50/p99 (ms), timeouts, errors (non-2xx and socket errors but timeouts) */
async function wrk(url, token, seconds) {
  const args = ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency'];
  if (token) args.push('-H', `Authorization: Bearer ${token}`);
  const r = await must('/usr/bin/wrk', [...args, url]);
  const out = r.out;
  const pct = (p) => ms(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50: pct(50),
    p99: pct(99),
    timeouts: sock ? Number(sock[4]) : 0,
    errors: non2xx + (sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) : 0),
  };
}

async function api(base, method, path, { token, body, basic } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}/api/v2${path}`, { method, headers, body: body === undefined ? undefined : body });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** a private PostgreSQL cluster in a process of its own (test/helpers/postgres.ts) */
async function startPostgresProcess() {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { postgresUnavailableReason, startPostgres } from './test/helpers/postgres.ts';
       const why = postgresUnavailableReason();
       if (why !== undefined) { process.stdout.write(JSON.stringify({ unavailable: why }) + '\\n'); process.exit(0); }
       const pg = await startPostgres('sftpgo_bench');
       process.stdout.write(JSON.stringify({ host: pg.host, port: pg.port, username: pg.user, password: pg.password, name: pg.database }) + '\\n');
       let stopping = false;
       const stop = () => { if (!stopping) { stopping = true; pg.stop().then(() => process.exit(0), () => process.exit(1)); } };
       process.on('SIGTERM', stop);
       // stdin stays open while the bench runs, which also keeps this process alive; its end
       // (the bench gone, for whatever reason) stops the cluster too
       process.stdin.on('end', stop);
       process.stdin.resume();`,
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const info = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]));
    });
    child.on('exit', (c) => reject(new Error(`the PostgreSQL helper exited (${c})`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { child, info, stop };
}

/**
 * `sftpgo users list --all` (compiled CLI, piped output): seconds and lines printed. A CLI
 * without --all (usage error, exit 2) is paged by hand as a script would: `users list --limit 500
 * --offset N` until a short page.
 */
async function cliListAll(base) {
  const entry = process.env.BENCH_FROM_SOURCE === '1' ? ['--import', 'tsx', join(ROOT, 'src/cli/entry.ts')] : [join(work, 'dist/cli/entry.js')];
  const env = { ...process.env, SFTPGO_ADMIN_PASSWORD: ADMIN.password, HOME: work, XDG_CONFIG_HOME: join(work, 'xdg') };
  const cli = (args) => run(process.execPath, [...entry, 'users', 'list', ...args, '--url', base, '--username', ADMIN.username], { cwd: ROOT, env });
  const t0 = process.hrtime.bigint();
  let r = await cli(['--all']);
  let lines = r.out.trimEnd().split('\n').length;
  if (r.code === 2) {
    lines = 0;
    for (let offset = 0; ; offset += 500) {
      r = await cli(['--limit', '500', '--offset', String(offset)]);
      if (r.code !== 0) break;
      const n = r.out === '' ? 0 : r.out.trimEnd().split('\n').length;
      lines += n;
      if (n < 500) break;
    }
  }
  if (r.code !== 0) throw new Error(`sftpgo users list failed (${r.code}): ${r.err}`);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, lines };
}

/** the pid of the postmaster listening on `port` (its backends are its children) */
function postmasterPid(port) {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => /\/postgres -D /.test(l) && l.includes(` -p ${port} `));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : '-');

async function benchOne(db) {
  let pg;
  let provider = {};
  if (db === 'postgres') {
    pg = await startPostgresProcess();
    if (pg.info.unavailable) {
      console.error(`skipping PostgreSQL: ${pg.info.unavailable}`);
      return undefined;
    }
    cleanup.push(() => pg.child.exitCode === null && pg.child.kill('SIGTERM'));
    provider = { driver: 'postgresql', ...pg.info };
  }
  const dir = join(work, `ours-${db}`);
  const home = join(work, `home-${db}`);
  await mkdir(dir);
  await mkdir(home);
  const port = await freePort();
  const { child } = await startOurs(work, cleanup, [dir, String(port), home, `${keyFile}.pub`, 'httpd'], {
    BENCH_DATA_PROVIDER: JSON.stringify(provider),
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const token = async () => (await api(base, 'GET', '/token', { basic: ADMIN })).access_token;
    const body = JSON.stringify(dump(home));
    console.error(`${db}: loading ${USERS} users (${(body.length / 1048576).toFixed(1)} MiB) through POST /api/v2/loaddata ...`);
    const t0 = process.hrtime.bigint();
    await api(base, 'POST', '/loaddata?mode=0', { token: await token(), body });
    const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (pg) {
      // what autovacuum does within a minute of a bulk load on a real server: without
      // statistics the planner sorts the whole users table for every page
      const { default: pgClient } = await import('pg');
      const c = new pgClient.Client({ host: pg.info.host, port: pg.info.port, user: pg.info.username, database: pg.info.name });
      await c.connect();
      await c.query('ANALYZE');
      await c.end();
    }
    // PostgreSQL's CPU (the postmaster and its backends) is counted apart from ours
    const dbPid = pg ? postmasterPid(pg.info.port) : undefined;
    const probe = `user${String(Math.floor(USERS / 2)).padStart(5, '0')}`;
    const offset = Math.min(5000, Math.max(0, USERS - 100));
    const tests = [
      { name: 'GET /healthz (no auth)', path: '/healthz', auth: false },
      { name: 'GET /api/v2/version (JWT)', path: '/api/v2/version', auth: true, target: 5000 },
      { name: `GET /api/v2/users/${probe}`, path: `/api/v2/users/${probe}`, auth: true, target: 4000 },
      { name: `GET /api/v2/users?limit=100&offset=${offset}`, path: `/api/v2/users?limit=100&offset=${offset}`, auth: true, target: 1500 },
    ];
    const only = (process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    if (only.length > 0) tests.splice(0, tests.length, ...tests.filter((t) => only.some((o) => t.name.includes(o))));
    const results = new Map(tests.map((t) => [t.name, []]));
    const cli = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of tests) {
        const tok = t.auth ? await token() : undefined;
        await wrk(`${base}${t.path}`, tok, 2); // warm-up: JIT, caches, connections
        const cpu0 = cpuSeconds(child.pid);
        const db0 = dbPid ? cpuSeconds(dbPid) : 0;
        const r = await wrk(`${base}${t.path}`, tok, SECONDS);
        r.cpuMs = r.requests > 0 ? ((cpuSeconds(child.pid) - cpu0) * 1000) / r.requests : NaN;
        r.dbCpuMs = dbPid && r.requests > 0 ? ((cpuSeconds(dbPid) - db0) * 1000) / r.requests : NaN;
        results.get(t.name).push(r);
        console.error(`  ${db} round ${round}: ${t.name.padEnd(44)} ${f1(r.rps)} req/s p99 ${f1(r.p99)} ms`);
      }
      if (only.length === 0 || only.includes('cli')) cli.push(await cliListAll(base));
    }
    const lines = [
      `${db}, ${USERS} users (loaddata ${loadSeconds.toFixed(1)} s), wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, median of ${ROUNDS}`,
      `${'request'.padEnd(44)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'timeouts'.padStart(8)} ${'errors'.padStart(6)} ${'CPU ms/req'.padStart(10)}${dbPid ? ` ${'DB CPU'.padStart(7)}` : ''}  target`,
    ];
    for (const t of tests) {
      const rs = results.get(t.name);
      const m = (k) => median(rs.map((r) => r[k]));
      const rps = m('rps');
      const p99 = m('p99');
      const verdict = t.target === undefined ? '' : `  >= ${t.target} req/s ${rps >= t.target ? 'ok' : 'MISSED'}, p99 < 50 ms ${p99 < 50 ? 'ok' : 'MISSED'}`;
      lines.push(
        `${t.name.padEnd(44)} ${f1(rps).padStart(9)} ${f1(m('p50')).padStart(8)} ${f1(p99).padStart(8)} ${String(m('timeouts')).padStart(8)} ${String(m('errors')).padStart(6)} ${m('cpuMs').toFixed(3).padStart(10)}${dbPid ? ` ${m('dbCpuMs').toFixed(3).padStart(7)}` : ''}${verdict}`,
      );
    }
    const c = median(cli.map((x) => x.seconds));
    if (cli.length > 0) lines.push(`sftpgo users list --all: ${c.toFixed(2)} s for ${cli[0].lines} lines  < 2 s ${c < 2 ? 'ok' : 'MISSED'}`);
    return lines.join('\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    await pg?.stop();
  }
}

const tables = [];
for (const db of DBS) {
  const t = await benchOne(db);
  if (t) tables.push(t);
}
console.log(tables.join('\n\n'));
process.exit(0);
