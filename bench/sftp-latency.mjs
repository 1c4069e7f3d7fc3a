#!/usr/bin/env node
// Per-request latency of a small-file download, the way OpenSSH's `get -r` does it (OPEN, READ,
// READ at EOF, CLOSE, plus an FSTAT that touches no storage on our side: the floor of an SFTP
// round trip), measured by an ssh2 client in this process against our server compiled from two
// checkouts side by side, and OpenSSH's internal-sftp with OPENSSH=1. They take turns every 50
// files; medians of thousands of requests hold still on a loaded machine where files/s of
// `sftp-vs-openssh.mjs` vary by ±50 %.
//
//   node bench/sftp-latency.mjs /path/to/checkout-A /path/to/checkout-B [passes]
//   N=1000 (files), OPENSSH=1
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const [A, B] = process.argv.slice(2, 4);
const PASSES = Number(process.argv[4] ?? 5);
const N = Number(process.env.N ?? 1000);
const require = createRequire(`${A}/package.json`);
const { Client } = require('ssh2');
const hA = await import(`${A}/bench/lib/harness.mjs`);
const hB = await import(`${B}/bench/lib/harness.mjs`);
const { work, cleanup } = await hA.workDir('sftp-latency-');
const keyFile = join(work, 'userkey');
await hA.must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const { smallDir } = await hA.prepareData(work, { bigMB: 0, parMB: 0, smallCount: N, smallKB: 4 });
const servers = [];
for (const [name, h] of [['A', hA], ['B', hB]]) {
  const sw = join(work, name); await mkdir(sw);
  const dir = join(sw, 'cfg'); const home = join(sw, 'home'); await mkdir(dir); await mkdir(home);
  await h.must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')]);
  await h.must('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(dir, 'id_ecdsa')]);
  const port = await h.freePort();
  const { child } = await h.startOurs(sw, cleanup, [dir, String(port), home, `${keyFile}.pub`]);
  servers.push({ name, port, user: 'bench', root: '/', home, pid: child.pid });
}
if (process.env.OPENSSH === '1') {
  const sshdDir = join(work, 'sshd'); const sshdHome = join(work, 'sshd-home');
  await mkdir(sshdDir); await mkdir(sshdHome);
  await hA.must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshdDir, 'hostkey')]);
  await writeFile(join(sshdDir, 'authorized_keys'), await readFile(`${keyFile}.pub`), { mode: 0o600 });
  const port = await hA.freePort();
  const me = userInfo().username;
  await writeFile(join(sshdDir, 'sshd_config'), [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(sshdDir, 'hostkey')}`, `PidFile ${join(sshdDir, 'sshd.pid')}`, `AuthorizedKeysFile ${join(sshdDir, 'authorized_keys')}`, 'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'PubkeyAuthentication yes', me === 'root' ? 'PermitRootLogin yes' : '', `AllowUsers ${me}`, 'Subsystem sftp internal-sftp', 'Ciphers aes128-gcm@openssh.com', 'UseDNS no', 'LogLevel ERROR', ''].join('\n'));
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshdDir, 'sshd_config')], { stdio: 'ignore' });
  cleanup.push(() => sshd.pid && process.kill(sshd.pid, 'SIGTERM'));
  await new Promise((r) => setTimeout(r, 500));
  servers.push({ name: 'O', port, user: me, root: `${sshdHome}/`, home: sshdHome, pid: sshd.pid });
}
const { sftpBatch } = hA.opensshClient({ work, keyFile, cipher: 'aes128-gcm@openssh.com' });
for (const s of servers) await sftpBatch(s, [`put -r ${smallDir} ${s.root}small`]);
const key = await readFile(keyFile);
for (const s of servers) {
  s.conn = new Client();
  await new Promise((res, rej) => { s.conn.on('ready', res).on('error', rej).connect({ host: '127.0.0.1', port: s.port, username: s.user, privateKey: key, algorithms: { cipher: ['aes128-gcm@openssh.com'] } }); });
  s.sftp = await new Promise((res, rej) => s.conn.sftp((e, x) => (e ? rej(e) : res(x))));
  s.lat = { fstat: [], open: [], read: [], eof: [], close: [], file: [] };
}
const p = (fn) => new Promise((res, rej) => fn((e, ...r) => (e ? rej(e) : res(r))));
const buf = Buffer.alloc(255 * 1024);
const now = () => process.hrtime.bigint();
async function one(s, i) {
  const t0 = now();
  const [h] = await p((cb) => s.sftp.open(`${s.root}small/f${i}`, 'r', cb));
  const t0b = now();
  await p((cb) => s.sftp.fstat(h, cb));
  const t1 = now();
  s.lat.fstat.push(Number(t1 - t0b) / 1000);
  const [n] = await p((cb) => s.sftp.read(h, buf, 0, buf.length, 0, cb));
  if (n !== 4096) throw new Error(`read ${n}`);
  const t2 = now();
  let eof = false;
  try { await p((cb) => s.sftp.read(h, buf, 0, buf.length - 4096, 4096, cb)); } catch (e) { eof = e.code === 1; if (!eof) throw e; }
  const t3 = now();
  await p((cb) => s.sftp.close(h, cb));
  const t4 = now();
  const us = (a, b) => Number(b - a) / 1000;
  s.lat.open.push(us(t0, t0b)); s.lat.read.push(us(t1, t2)); s.lat.eof.push(us(t2, t3)); s.lat.close.push(us(t3, t4)); s.lat.file.push(us(t0, t4));
}
for (let pass = 0; pass < PASSES; pass++) {
  for (let i = 0; i < N; i += 50) {
    const order = (i / 50 + pass) % 2 ? [...servers].reverse() : servers;
    for (const s of order) for (let j = i; j < i + 50 && j < N; j++) await one(s, j);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(`median µs per request (${PASSES * N} files each, alternating every 50 files), load ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]}`);
console.log('        ' + ['open', 'fstat', 'read', 'eof', 'close', 'file'].map((k) => k.padStart(8)).join('') + '   file mean');
for (const s of servers) console.log(`${s.name}       ` + ['open', 'fstat', 'read', 'eof', 'close', 'file'].map((k) => med(s.lat[k]).toFixed(0).padStart(8)).join('') + mean(s.lat.file).toFixed(0).padStart(10));
for (const s of servers) s.conn.end();
process.exit(0);
