import { Command, InvalidArgumentError, type OptionValues } from '@commander-js/extra-typings';
import { EXIT_USAGE, reportError } from './errors.js';
import type { SftpgoClient } from '../../client/index.js';
import type { ConnectionFlags, Factory } from './factory.js';
import type { IO } from './io.js';
import type { OutputFlags } from './output.js';

/** The flags every client subcommand accepts. */
export interface GlobalFlags extends ConnectionFlags, OutputFlags {
  yes?: boolean | undefined;
}

/**
 * Adds the global client flags. Their help texts name the fallbacks instead of showing env values,
 * so the generated man pages and completions do not depend on who generated them.
 */
export function withGlobalFlags<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .option('--url <url>', 'SFTPGo server URL (default: $SFTPGO_URL, the login profile, or http://127.0.0.1:8080)')
    .option('--username <name>', 'admin username (default: $SFTPGO_ADMIN_USERNAME, the login profile, or admin)')
    .option(
      '--password-file <file>',
      'read the admin password from a file (default: $SFTPGO_ADMIN_PASSWORD, the login token, or a prompt)',
    )
    .option('--json', 'print the raw API objects as JSON')
    .option('-q, --quiet', 'print nothing on success')
    .option('-y, --yes', 'do not ask for confirmation');
}

/** Just the connection part of the global flags (for commands that must not confirm). */
export function connectionOf(flags: ConnectionFlags): ConnectionFlags {
  return { url: flags.url, username: flags.username, passwordFile: flags.passwordFile };
}

/**
 * Routes commander's own output to the factory's IO and turns its usage errors (unknown option,
 * missing argument, bad choice) into exit code 2; --help exits 0.
 */
export function setup<C extends Command<unknown[], OptionValues, OptionValues>>(f: Factory, cmd: C): C {
  cmd.exitOverride((err) => f.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
  cmd.configureOutput({
    writeOut: (s) => f.io.stdout.write(s),
    writeErr: (s) => f.io.stderr.write(s),
    getOutHelpWidth: () => f.io.columns,
    getErrHelpWidth: () => f.io.columns,
  });
  return cmd;
}

/** A leaf command, set up for the factory. Add arguments/options, then withGlobalFlags, then action. */
export function leafCommand(f: Factory, name: string, description: string): Command {
  return setup(f, new Command(name).description(description));
}

/** A noun with verbs (`users list`, ...). */
export function groupCommand(f: Factory, name: string, description: string, verbs: readonly AnyCommand[]): Command {
  const g = setup(f, new Command(name).description(description));
  for (const v of verbs) g.addCommand(v);
  return g;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander's own type for any command
export type AnyCommand = Command<any, any, any>;

/** Runs the work of a command; an error is reported on stderr and ends it with its exit code. */
export async function runAction(f: Factory, work: () => Promise<void>): Promise<void> {
  let code: number | undefined;
  try {
    await work();
  } catch (e) {
    code = reportError(f.io, e);
  }
  if (code !== undefined) f.fail(code);
}

// ---- option value parsers (commander reports their errors as usage errors) -----------------

export function intArg(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError('not an integer.');
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}.`);
    return n;
  };
}

/** Repeatable option: each occurrence appends; undefined when never given. */
export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** Repeatable option whose values may also be comma-separated lists. */
export function collectCsv(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

/** ASC/DESC, case-insensitive. */
export function orderArg(v: string): 'ASC' | 'DESC' {
  const u = v.toUpperCase();
  if (u !== 'ASC' && u !== 'DESC') throw new InvalidArgumentError('must be ASC or DESC.');
  return u;
}

/** Sizes in bytes: 1048576, 512K, 10M, 1.5G, 2T (binary multiples; a trailing B/iB is allowed). */
export function sizeArg(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(v);
  if (m === null) throw new InvalidArgumentError('not a size (examples: 1048576, 512K, 10M, 1.5G).');
  const exp = ' KMGTP'.indexOf((m[2] ?? '').toUpperCase() || ' ');
  const n = Math.round(Number(m[1]) * 1024 ** exp);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('too large.');
  return n;
}

/** What every client verb's Options carry besides its own fields. */
export interface BaseOptions extends OutputFlags {
  io: IO;
  client: () => Promise<SftpgoClient>;
}

export function baseOptions(f: Factory, flags: GlobalFlags): BaseOptions {
  const conn = connectionOf(flags);
  return { io: f.io, client: () => f.client(conn), json: flags.json, quiet: flags.quiet };
}
