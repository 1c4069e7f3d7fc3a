/**
 * A client killed in the middle of an upload (atomic upload mode): the old file stays intact,
 * the temp file is removed and the quota counters do not move. Uploads are throttled with the
 * user's upload_bandwidth so the kill lands mid-transfer deterministically.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey } from '../../helpers/ssh.js';

async function tempFiles(dir: string): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  for (const n of await readdir(dir)) {
    if (!n.startsWith('.sftpgo-upload.')) continue;
    const st = await stat(join(dir, n)).catch(() => undefined); // renamed or removed meanwhile
    if (st) out.push({ name: n, size: st.size });
  }
  return out;
}

void describe('sftpd: client killed mid-upload', () => {
  let env: SftpTestEnv;

  before(async () => {
    env = await startSftpTestServer({ config: { common: { upload_mode: 1 } } });
  });
  after(async () => {
    await env.stop();
  });

  for (const client of ['sftp', 'scp -O'] as const) {
    void it(`${client}: the old file is intact and no temp file is left`, async () => {
      const key = await generateKey(env.dir, `killed-${client.replace(/\W/g, '')}`);
      const user = await env.createUser({ upload_bandwidth: 500, quota_size: 100 * 1024 * 1024, public_keys: [key.publicKey] });
      const target = join(user.home, 'target.bin');
      await writeFile(target, 'the original content\n');
      // account the original file as the server would have
      await env.srv.api('PUT', `/quotas/users/${user.username}/usage`, { used_quota_size: 21, used_quota_files: 1 });
      const before = await env.getUser(user.username);
      const big = join(env.dir, `big-${client.replace(/\W/g, '')}.bin`);
      await randomFile(big, 16 * 1024 * 1024);
      const common = [
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=no',
        '-o', 'LogLevel=ERROR', '-i', key.privatePath, '-o', 'IdentitiesOnly=yes', '-F', '/dev/null', '-P', String(env.port),
      ];
      let args: string[];
      if (client === 'sftp') {
        const batch = join(env.dir, 'killed-batch');
        await writeFile(batch, `put ${big} /target.bin\n`);
        args = ['sftp', ...common, '-b', batch, `${user.username}@127.0.0.1`];
      } else {
        args = ['scp', ...common, '-O', big, `${user.username}@127.0.0.1:/target.bin`];
      }
      const [cmd, ...rest] = args as [string, ...string[]];
      const child = spawn(cmd, rest, { stdio: 'ignore' });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        await waitFor(async () => (await tempFiles(user.home)).some((t) => t.size > 0), 30_000, 'the upload to start');
        // the transfer is running: the target still has its old content
        assert.equal(await readFile(target, 'utf8'), 'the original content\n');
      } finally {
        // kill -9 the client (its ssh child notices the closed pipe and exits too)
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
        await exited;
      }
      await waitFor(async () => (await tempFiles(user.home)).length === 0, 30_000, 'the temp file to be removed');
      await waitFor(() => !env.connections().some((c) => c.username === user.username), 30_000, 'the connection to end');
      assert.equal(await readFile(target, 'utf8'), 'the original content\n');
      const afterKill = await env.getUser(user.username);
      assert.equal(afterKill.used_quota_size, before.used_quota_size);
      assert.equal(afterKill.used_quota_files, before.used_quota_files);
    });
  }
});
