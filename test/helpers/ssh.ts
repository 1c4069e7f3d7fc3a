/**
 * Drives the real OpenSSH clients (`sftp -b`, `scp`, `ssh`) against a test server, with
 * `sshpass` for password logins or key files written to a temp dir. Every run has a hard
 * timeout (the child is killed by PID and the run fails) so a hung client cannot hang a test.
 *
 * A missing tool always fails (no skips); `scripts/test.sh` installs them in CI.
 * `extraArgs` go first: ssh keeps the first value of an option, so they override the defaults.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function requireTool(cmd: string, pkg: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`required test tool "${cmd}" is missing: apt-get install -y ${pkg} (scripts/test.sh installs it in CI)`);
  }
}

export interface Credentials {
  user: string;
  password?: string;
  /** private key file */
  identity?: string;
  /** certificate file (ssh -o CertificateFile=) */
  certificate?: string;
}

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timeoutMs = o.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(
        new Error(
          `${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${Buffer.concat(out).toString()}\nstderr: ${Buffer.concat(err).toString()}`,
        ),
      );
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {
      // the client may exit before reading stdin (e.g. auth failure): nothing to deliver
    });
    if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

/** common -o options; `portFlag` is -P for sftp/scp and -p for ssh */
function baseOptions(c: Credentials): string[] {
  const o = [
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=no',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=20',
    '-F', '/dev/null',
  ];
  if (c.identity) {
    o.push('-i', c.identity, '-o', 'IdentitiesOnly=yes');
    if (c.certificate) o.push('-o', `CertificateFile=${c.certificate}`);
    if (!c.password) o.push('-o', 'PreferredAuthentications=publickey', '-o', 'PasswordAuthentication=no');
  } else {
    o.push(
      '-o', 'PubkeyAuthentication=no',
      '-o', 'PreferredAuthentications=password,keyboard-interactive',
      '-o', 'IdentitiesOnly=yes',
    );
  }
  return o;
}

function wrap(c: Credentials, cmd: string, args: string[]): [string, string[]] {
  if (c.password !== undefined) return ['sshpass', ['-p', c.password, cmd, ...args]];
  return [cmd, args];
}

export interface Target {
  host?: string;
  port: number;
}

/** `sftp -b <batch>`; commands are written to a batch file. */
export async function sftpBatch(
  t: Target,
  c: Credentials,
  commands: string[],
  o: RunOptions & { extraArgs?: string[] } = {},
): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-sftpb-'));
  const batch = join(dir, 'batch');
  await writeFile(batch, `${commands.join('\n')}\n`);
  const args = [...(o.extraArgs ?? []), ...baseOptions(c), '-P', String(t.port), '-b', batch, `${c.user}@${t.host ?? '127.0.0.1'}`];
  const [cmd, a] = wrap(c, 'sftp', args);
  return run(cmd, a, o);
}

/** `scp` with `-O` (legacy protocol) when `legacy`, else the SFTP-based default. */
export async function scp(
  t: Target,
  c: Credentials,
  args: string[],
  o: RunOptions & { legacy?: boolean; extraArgs?: string[] } = {},
): Promise<RunResult> {
  const all = [...(o.extraArgs ?? []), ...baseOptions(c), '-P', String(t.port), ...(o.legacy ? ['-O'] : []), ...args];
  const [cmd, a] = wrap(c, 'scp', all);
  return run(cmd, a, o);
}

/** the remote spec `user@127.0.0.1:path` */
export function remote(c: Credentials, path: string, t?: Target): string {
  return `${c.user}@${t?.host ?? '127.0.0.1'}:${path}`;
}

/** `ssh user@host <command>` */
export async function sshExec(
  t: Target,
  c: Credentials,
  command: string | undefined,
  o: RunOptions & { extraArgs?: string[] } = {},
): Promise<RunResult> {
  const args = [...(o.extraArgs ?? []), ...baseOptions(c), '-p', String(t.port), `${c.user}@${t.host ?? '127.0.0.1'}`];
  if (command !== undefined) args.push(command);
  const [cmd, a] = wrap(c, 'ssh', args);
  return run(cmd, a, o);
}

export interface KeyPair {
  privatePath: string;
  publicPath: string;
  /** the authorized_keys line */
  publicKey: string;
}

/** ssh-keygen a key pair (no passphrase) in `dir`. */
export async function generateKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): Promise<KeyPair> {
  const privatePath = join(dir, name);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  const r = await run('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', `${name}@test`, '-f', privatePath]);
  if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  await chmod(privatePath, 0o600);
  const publicKey = (await readFile(`${privatePath}.pub`, 'utf8')).trim();
  return { privatePath, publicPath: `${privatePath}.pub`, publicKey };
}

/** Signs `userKey`'s public key with `ca`; returns the certificate path and line. */
export async function signUserCert(
  ca: KeyPair,
  userKey: KeyPair,
  o: { principals: string[]; validity?: string; id?: string; host?: boolean; options?: string[] },
): Promise<{ path: string; line: string }> {
  const args = ['-q', '-s', ca.privatePath, '-I', o.id ?? 'test-cert', '-n', o.principals.join(',')];
  if (o.validity) args.push('-V', o.validity);
  if (o.host) args.push('-h');
  for (const opt of o.options ?? []) args.push('-O', opt);
  args.push(userKey.publicPath);
  const r = await run('ssh-keygen', args);
  if (r.code !== 0) throw new Error(`ssh-keygen -s failed: ${r.stderr}`);
  const path = userKey.privatePath + '-cert.pub';
  return { path, line: (await readFile(path, 'utf8')).trim() };
}
