/**
 * A real OpenSSH sshd for tests: started as the current user on a free 127.0.0.1 port with a
 * temp ed25519 host key and an authorized_keys file in a temp dir, key authentication only,
 * internal-sftp (as bench/sftp-vs-openssh.mjs runs it for the benchmark) or the given SFTP
 * subsystem command (`sftpgo startsubsys`). Stopped by PID.
 *
 * A missing sshd fails (no skips); `scripts/test.sh` installs openssh-server in CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fingerprintSha256 } from '../../src/util/ssh-public-keys.js';
import { freePort } from './server.js';
import { generateKey, requireTool, run, type KeyPair } from './ssh.js';

const SSHD = '/usr/sbin/sshd';

export interface OpenSshd {
  port: number;
  /** the login user: the current user */
  user: string;
  /** a key pair listed in authorized_keys */
  userKey: KeyPair;
  /** `SHA256:…` of the host key */
  hostKeyFingerprint: string;
  /** an empty directory for the test's remote files (not the sshd's own files) */
  dataDir: string;
  /** kills the per-connection sshd processes: every open session ends */
  killSessions(): Promise<number>;
  stop(): Promise<void>;
}

/** the `SHA256:…` fingerprint of an OpenSSH public key line */
export function publicKeyFingerprint(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not a public key line: ${line}`);
  return fingerprintSha256(Buffer.from(blob, 'base64'));
}

async function waitListening(
  child: ChildProcess,
  port: number,
  errText: () => string,
): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${errText()}`);
    const r = await run('ssh-keyscan', ['-p', String(port), '-T', '2', '127.0.0.1'], {
      timeoutMs: 10_000,
    });
    if (r.stdout.includes('ssh-ed25519')) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`sshd did not start listening: ${errText()}`);
}

export interface OpenSshdOptions {
  /** the `Subsystem sftp` command, run by the login user's shell (default internal-sftp) */
  sftpSubsystem?: string;
}

export async function startOpenSshd(o: OpenSshdOptions = {}): Promise<OpenSshd> {
  requireTool(SSHD, 'openssh-server');
  requireTool('ssh-keygen', 'openssh-client');
  requireTool('ssh-keyscan', 'openssh-client');
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-sshd-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const hostKey = await generateKey(dir, 'hostkey');
  const userKey = await generateKey(dir, 'userkey');
  await writeFile(join(dir, 'authorized_keys'), `${userKey.publicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const me = userInfo().username;
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey.privatePath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      me === 'root' ? 'PermitRootLogin yes' : '',
      `AllowUsers ${me}`,
      `Subsystem sftp ${o.sftpSubsystem ?? 'internal-sftp'}`,
      'MaxStartups 100',
      'UseDNS no',
      'PrintMotd no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0 && !existsSync('/run/sshd'))
    await mkdir('/run/sshd', { recursive: true });
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => (errText += d.toString()));
  const stopChild = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((res) => child.once('exit', res));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
  };
  try {
    await waitListening(child, port, () => errText);
  } catch (e) {
    await stopChild();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    user: me,
    userKey,
    hostKeyFingerprint: publicKeyFingerprint(hostKey.publicKey),
    dataDir,
    async killSessions(): Promise<number> {
      const r = await run('pgrep', ['-P', String(child.pid)]);
      const pids = r.stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) process.kill(pid, 'SIGTERM');
      return pids.length;
    },
    async stop(): Promise<void> {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** the private key file's PEM, as a user's sftpconfig.private_key takes it */
export function readPem(key: KeyPair): Promise<string> {
  return readFile(key.privatePath, 'utf8');
}
