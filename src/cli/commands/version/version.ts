import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult } from '../output.js';

export type VersionOptions = BaseOptions;

export function versionCommand(f: Factory, run: (o: VersionOptions) => Promise<void> = versionRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'version', "show the server's version, build and features")).action((flags) =>
    runAction(f, () => run(baseOptions(f, flags))),
  );
}

export async function versionRun(o: VersionOptions): Promise<void> {
  const c = await o.client();
  const v = await c.version();
  printResult(o.io, o, v, () => {
    o.io.stdout.write(`SFTPGo ${v.version ?? '?'}-${v.commit_hash ?? '?'}-${v.build_date ?? '?'} at ${c.url}\n`);
    if ((v.features ?? []).length > 0) o.io.stdout.write(`features: ${(v.features ?? []).join(' ')}\n`);
  });
}
