import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult } from '../output.js';

export interface DumpOptions extends BaseOptions {
  /** server-side path (relative to the server's backups_path); stdout when undefined */
  outputFile: string | undefined;
  indent: boolean;
}

export function dumpCommand(f: Factory, run: (o: DumpOptions) => Promise<void> = dumpRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'dump', 'back up users, folders and admins as JSON (to stdout, or to a file on the server)')
      .option('--output-file <path>', 'write the backup on the server, relative to its backups_path, instead of to stdout')
      .option('--indent', 'indent the JSON'),
  ).action((flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), outputFile: flags.outputFile, indent: flags.indent === true })),
  );
}

export async function dumpRun(o: DumpOptions): Promise<void> {
  const c = await o.client();
  const text = await c.dumpData({ outputFile: o.outputFile, indent: o.indent, timeoutMs: 0 });
  if (o.outputFile === undefined) {
    // the backup itself is the output, with or without --json; --quiet does not hide it
    o.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = { message: text }; // a non-JSON answer is shown as it came
  }
  printResult(o.io, o, answer, () => o.io.stdout.write(`Backup written on the server to ${o.outputFile}\n`));
}
