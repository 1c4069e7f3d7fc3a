/**
 * Runs the real `sftpgo` CLI as a child process (from source, through tsx) against a server
 * started by test/helpers/server.ts. The child gets a clean environment: only what the test
 * passes, never the parent's SFTPGO_* variables.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestServer } from '../../helpers/server.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ENTRY = join(ROOT, 'src/cli/entry.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

export function runCli(args: readonly string[], o: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
    for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timeoutMs = o.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`sftpgo ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // the CLI may exit without reading stdin: nothing to deliver
    });
    child.stdin.end(o.input ?? '');
  });
}

/** Environment pointing the CLI at `server` as its first admin, with a private config home. */
export async function cliEnv(server: TestServer, extra: Record<string, string | undefined> = {}): Promise<Record<string, string | undefined>> {
  const home = await mkdtemp(join(tmpdir(), 'sftpgo-cli-home-'));
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    SFTPGO_URL: server.httpUrl,
    SFTPGO_ADMIN_PASSWORD: server.admin.password,
    ...extra,
  };
}

/** The CLI with a fixed environment. */
export function cli(env: Record<string, string | undefined>) {
  return (args: readonly string[], o: Omit<CliOptions, 'env'> & { env?: Record<string, string | undefined> } = {}) =>
    runCli(args, { ...o, env: { ...env, ...o.env } });
}
