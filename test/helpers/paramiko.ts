/**
 * Drives Python's paramiko (Debian `python3-paramiko`, the SFTP library under Ansible and many
 * scripts) against a test server: a pipelined upload (`set_pipelined(True)`, 32 KiB writes, as
 * paramiko users do) or a prefetching download (`SFTPClient.get`). paramiko reads replies only
 * once more than 100 requests are outstanding, so a server that holds replies back while it
 * keeps reading requests stalls it. Runs the system python3, where Debian installs paramiko.
 */
import { spawnSync } from 'node:child_process';
import { run } from './ssh.js';

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, sys, time, paramiko
port, user, password, op, local, remote = sys.argv[1:7]
t = paramiko.Transport(('127.0.0.1', int(port)))
t.connect(username=user, password=password)
sftp = paramiko.SFTPClient.from_transport(t)
start = time.monotonic()
if op == 'put':
    f = sftp.open(remote, 'wb')
    f.set_pipelined(True)
    with open(local, 'rb') as src:
        while True:
            b = src.read(32768)
            if not b:
                break
            f.write(b)
    f.close()
else:
    sftp.get(remote, local)
elapsed = time.monotonic() - start
sftp.close()
t.close()
print(json.dumps({'elapsed': elapsed}))
`;

export function requireParamiko(): void {
  const r = spawnSync(PYTHON, ['-c', 'import paramiko'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      'required test tool "python3-paramiko" is missing: apt-get install -y python3-paramiko (scripts/test.sh installs it in CI)',
    );
  }
}

/** runs one paramiko transfer; resolves with its duration in seconds (login excluded) */
export async function paramikoTransfer(
  port: number,
  user: string,
  password: string,
  op: 'put' | 'get',
  local: string,
  remotePath: string,
  timeoutMs = 120_000,
): Promise<number> {
  const r = await run(PYTHON, ['-c', SCRIPT, String(port), user, password, op, local, remotePath], {
    timeoutMs,
  });
  if (r.code !== 0) throw new Error(`paramiko ${op} failed (${String(r.code)}): ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { elapsed?: number };
  if (typeof out.elapsed !== 'number') throw new Error(`paramiko ${op}: no timing in ${r.stdout}`);
  return out.elapsed;
}
