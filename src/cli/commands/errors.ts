import { ApiError } from '../../client/index.js';
import type { IO } from './io.js';

/** A usage problem (bad flag value, missing argument, `--yes` needed): exit code 2. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** The user declined or interrupted (Ctrl-C at a prompt): exit code 130. */
export class CancelError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelError';
  }
}

/** A failure already reported to the user: exit code 1, nothing more printed. */
export class SilentError extends Error {
  constructor(message = 'failed') {
    super(message);
    this.name = 'SilentError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;

export function exitCodeFor(e: unknown): number {
  if (e instanceof FlagError) return EXIT_USAGE;
  if (e instanceof CancelError) return EXIT_CANCELLED;
  return EXIT_FAILURE;
}

/** One line (plus an optional hint) for any error, for stderr. */
export function errorLines(e: unknown): string[] {
  if (e instanceof SilentError) return [];
  if (e instanceof CancelError) return [e.message === 'cancelled' ? 'Cancelled.' : e.message];
  if (ApiError.is(e)) {
    const lines = [`Error: ${e.message}`];
    if (e.kind === 'http' && e.status === 401) {
      lines.push("hint: check the admin username and password, or run 'sftpgo login' again");
    } else if (e.kind === 'http' && e.status === 403) {
      lines.push('hint: this admin lacks the permission for that operation');
    } else if (e.kind === 'http' && (e.status === 405 || e.status === 501)) {
      lines.push('hint: this server does not implement that endpoint');
    }
    return lines;
  }
  if (e instanceof FlagError) return [`Error: ${e.message}`, "Run with --help for usage."];
  if (e instanceof Error) return [`Error: ${e.message}`];
  return [`Error: ${String(e)}`];
}

/** Prints the error on stderr and returns the exit code to use. */
export function reportError(io: IO, e: unknown): number {
  for (const line of errorLines(e)) io.stderr.write(`${line}\n`);
  return exitCodeFor(e);
}
