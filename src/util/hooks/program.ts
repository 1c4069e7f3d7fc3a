/**
 * Running a hook program as SFTPGo 2.1.2 does (upstream: exec.CommandContext in common/actions.go,
 * dataprovider/dataprovider.go): exec'd directly, no shell; the environment is this process's
 * plus the hook variables (a hook variable wins over an inherited one of the same name); stdin
 * empty; stderr ignored; a timeout SIGKILLs the child. A non-zero exit, a kill or a spawn error is
 * a failure. Shared by every hook (custom actions, login hooks, post-connect, startup).
 */
import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { SftpgoError } from '../../errors/index.js';

/** a hook is called over HTTP when its configured value starts with "http" (case-sensitive, as upstream) */
export function isHttpHook(hook: string): boolean {
  return hook.startsWith('http');
}

export interface RunProgramOptions {
  args?: readonly string[];
  /** the hook variables, added to this process's environment */
  env?: Readonly<Record<string, string>>;
  /** killed (SIGKILL) after this many ms */
  timeoutMs: number;
  /**
   * keep at most this many bytes of stdout (the rest is read and dropped); 0 (default) = do not
   * capture
   */
  maxStdout?: number;
  /** aborting kills the child (server shutdown) */
  signal?: AbortSignal;
}

export interface ProgramResult {
  /** captured stdout (empty unless maxStdout > 0) */
  stdout: string;
  elapsedMs: number;
}

/** the environment of a hook process: ours plus `vars` */
export function hookEnv(vars: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...vars };
}

/** a program hook must be an absolute path (upstream refuses relative ones when called) */
export function checkProgramPath(hook: string): void {
  if (!isAbsolute(hook)) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `invalid hook ${JSON.stringify(hook)}: must be an absolute path`,
    );
  }
}

/**
 * Runs `cmd` and resolves once it exited with status 0; rejects (an Error naming the program)
 * on a relative path, a spawn error, a timeout (the child is killed), an abort, or a non-zero exit.
 */
export function runProgram(cmd: string, o: RunProgramOptions): Promise<ProgramResult> {
  const started = Date.now();
  const name = JSON.stringify(cmd);
  return new Promise((resolve, reject) => {
    try {
      checkProgramPath(cmd);
    } catch (e) {
      reject(e);
      return;
    }
    const child = spawn(cmd, o.args ?? [], {
      env: hookEnv(o.env),
      stdio: ['ignore', (o.maxStdout ?? 0) > 0 ? 'pipe' : 'ignore', 'ignore'],
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    const max = o.maxStdout ?? 0;
    child.stdout?.on('data', (b: Buffer) => {
      if (kept >= max) return;
      const part = b.subarray(0, max - kept);
      chunks.push(part);
      kept += part.length;
    });
    let why: string | undefined;
    const kill = (reason: string): void => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`timed out after ${o.timeoutMs} ms, killed`), o.timeoutMs);
    const onAbort = (): void => kill('aborted, killed');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    const done = (err: Error | undefined): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else
        resolve({
          stdout: Buffer.concat(chunks).toString('utf8'),
          elapsedMs: Date.now() - started,
        });
    };
    child.on('error', (e) =>
      done(new Error(`hook ${name} could not be run: ${e.message}`, { cause: e })),
    );
    // a killed program's own children (a shell script's `sleep`) may keep stdout open: once the
    // program is gone, stop waiting for them ('close' follows)
    child.on('exit', () => {
      if (why !== undefined) child.stdout?.destroy();
    });
    // 'close' (not 'exit'): stdout is fully read by then
    child.on('close', (code, sig) => {
      if (why !== undefined) done(new Error(`hook ${name} ${why}`));
      else if (code !== 0)
        done(
          new Error(
            `hook ${name} failed: ${code === null ? `killed by ${sig}` : `exit status ${code}`}`,
          ),
        );
      else done(undefined);
    });
  });
}
