import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_DATE, VERSION } from '../../../util/version.js';
import { type AnyCommand, leafCommand, runAction } from '../cmd.js';
import { commandSpec, rootOf, type CommandSpec } from '../completion/spec.js';
import type { Factory } from '../factory.js';
import type { IO } from '../io.js';
import { manPages } from './man.js';

export interface GenManOptions {
  io: IO;
  dir: string;
  root: () => CommandSpec;
}

export function genManCommand(f: Factory, run: (o: GenManOptions) => Promise<void> = genManRun): AnyCommand {
  const cmd = leafCommand(f, 'man', 'write the man pages (sftpgo.1, sftpgo-users.1, ...) into a directory').option(
    '-d, --dir <dir>',
    'output directory',
    'man',
  );
  return cmd.action((flags) => runAction(f, () => run({ io: f.io, dir: flags.dir, root: () => commandSpec(rootOf(cmd)) })));
}

export async function genManRun(o: GenManOptions): Promise<void> {
  const pages = manPages(o.root(), { version: VERSION, date: BUILD_DATE.slice(0, 10) });
  await mkdir(o.dir, { recursive: true });
  for (const p of pages) await writeFile(join(o.dir, p.file), p.content);
  o.io.stdout.write(`${pages.length} man pages written to ${o.dir}\n`);
}
