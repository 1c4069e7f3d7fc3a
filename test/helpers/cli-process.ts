/**
 * The `sftpgo` executable as a child process (from source: src/cli/entry.ts under tsx, or the
 * built bin/sftpgo.js), for the tests of serve, portable and signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** a hang guard, not a timing assertion: a stuck child is killed and the test fails */
const HANG_MS = 120_000;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    // the telemetry server's default port (127.0.0.1:10000) would collide between parallel
    // tests: off unless a test sets it
    SFTPGO_TELEMETRY__BIND_PORT: '0',
    ...extra,
  };
}

/** from source by default; `built` runs the executable bin/sftpgo.js (needs `npm run build`) */
export function start(
  args: string[],
  env: Record<string, string> = {},
  built = false,
): { child: ChildProcess; done: Promise<Run>; out: { stdout: string; stderr: string } } {
  const [cmd, pre] = built
    ? [join(ROOT, 'bin/sftpgo.js'), []]
    : [process.execPath, ['--import', 'tsx', 'src/cli/entry.ts']];
  const child = spawn(cmd, [...pre, ...args], {
    cwd: ROOT,
    env: baseEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, ...out });
    });
  });
  return { child, done, out };
}

export const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  start(args, env).done;

/** the port of `label` ("SFTP", "FTP", "WebDAV") in the startup summary, bound on 127.0.0.1 */
export function listeningPort(stderr: string, label: string): number {
  const m = new RegExp(`^ *${label}: +listening on 127\\.0\\.0\\.1:(\\d+)`, 'm').exec(stderr);
  if (!m) throw new Error(`no ${label} port in:\n${stderr}`);
  return Number(m[1]);
}

/** resolves with stderr once it matches, rejects if the process ends first */
export function waitFor(p: ReturnType<typeof start>, re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = re.exec(p.out.stderr);
      if (m) {
        p.child.stderr?.off('data', check);
        resolve(m);
      }
    };
    p.child.stderr?.on('data', check);
    check();
    void p.done.then((r) =>
      reject(new Error(`process exited (${r.code}) before ${re}: ${r.stderr}`)),
    );
  });
}
