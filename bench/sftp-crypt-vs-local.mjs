#!/usr/bin/env node
// SFTP throughput to an encrypted home (filesystem provider 4) vs a plain local home, side by
// side in one run: two sftpgo-ts servers, identical but for the bench user's filesystem, driven
// by OpenSSH's sftp with a key, cipher aes128-gcm@openssh.com. Reported as ratios crypt / local
// (medians of interleaved rounds), with the servers' CPU seconds per GiB or per 1000 files: the
// cost of the encryption on top of the same SFTP path.
//
//   node bench/sftp-crypt-vs-local.mjs
//
// Sizes (env): BENCH_BIG_MB (1024), BENCH_SMALL_COUNT (2000), BENCH_SMALL_KB (4), BENCH_ROUNDS (3).
// BENCH_QUICK=1 divides the sizes; BENCH_ONLY="put 1024" runs the tests whose names contain one of
// the substrings (a get needs its put before it). BENCH_FROM_SOURCE=1: servers under tsx.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, must, need, num, opensshClient, prepareData, runRounds, startOurs, workDir } from './lib/harness.mjs';

const BIG_MB = num('BENCH_BIG_MB', 1024, 128);
const SMALL_COUNT = num('BENCH_SMALL_COUNT', 2000, 500);
const SMALL_KB = num('BENCH_SMALL_KB', 4, 4);
const ROUNDS = num('BENCH_ROUNDS', 3, 1);
const CIPHER = 'aes128-gcm@openssh.com';

need('sftp', 'openssh-client');
need('ssh-keygen', 'openssh-client');

const { work, cleanup } = await workDir('sftp-crypt-bench-');
const keyFile = join(work, 'userkey');
await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
const { bigFile, smallDir } = await prepareData(work, { bigMB: BIG_MB, parMB: 1, smallCount: SMALL_COUNT, smallKB: SMALL_KB });

/** one server whose user "bench" has `filesystem` (undefined: local) */
async function server(name, filesystem) {
  const dir = join(work, `${name}-cfg`);
  const home = join(work, `${name}-home`);
  await mkdir(dir);
  await mkdir(home);
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')]);
  await must('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(dir, 'id_ecdsa')]);
  const port = await freePort();
  const env = filesystem ? { BENCH_USER_FILESYSTEM: JSON.stringify(filesystem) } : {};
  const { child, fromSource } = await startOurs(work, cleanup, [dir, String(port), home, `${keyFile}.pub`], env);
  return { name, port, user: 'bench', root: '/', home, pid: child.pid, fromSource };
}

const crypt = await server('crypt', {
  provider: 4,
  cryptconfig: { passphrase: { status: 'Plain', payload: randomBytes(16).toString('hex') } },
});
const local = await server('local');
const servers = [crypt, local];

const { sftpBatch } = opensshClient({ work, keyFile, cipher: CIPHER });

const tests = [
  {
    name: `put ${BIG_MB} MiB (MiB/s)`,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      return BIG_MB / (await sftpBatch(s, [`put ${bigFile} /big.bin`]));
    },
  },
  {
    name: `get ${BIG_MB} MiB (MiB/s)`,
    cpu: { per: 'GiB', count: BIG_MB / 1024 },
    async run(s) {
      const dst = join(work, `get-${s.name}.bin`);
      const t = await sftpBatch(s, [`get /big.bin ${dst}`]);
      await rm(dst, { force: true });
      return BIG_MB / t;
    },
  },
  {
    name: `put -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      await rm(join(s.home, 'small'), { recursive: true, force: true });
      return SMALL_COUNT / (await sftpBatch(s, [`put -r ${smallDir} /small`]));
    },
  },
  {
    name: `get -r ${SMALL_COUNT} x ${SMALL_KB} KiB (files/s)`,
    cpu: { per: '1000 files', count: SMALL_COUNT / 1000 },
    async run(s) {
      const dst = join(work, `small-${s.name}`);
      await rm(dst, { recursive: true, force: true });
      const t = await sftpBatch(s, [`get -r /small ${dst}`]);
      await rm(dst, { recursive: true, force: true });
      return SMALL_COUNT / t;
    },
  },
];

await runRounds({
  title: `sftpgo-ts (${crypt.fromSource ? 'source, tsx' : 'compiled'}): encrypted home (crypt) vs local home, same server build, OpenSSH sftp, cipher ${CIPHER}, median of ${ROUNDS}`,
  tests,
  servers,
  rounds: ROUNDS,
});

for (const s of servers) if (s.pid) process.kill(s.pid, 'SIGTERM');
cleanup.length = 0;
await new Promise((r) => setTimeout(r, 500));
await rm(work, { recursive: true, force: true });
