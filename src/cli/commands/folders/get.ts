import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printFields, printResult } from '../output.js';

export interface FoldersGetOptions extends BaseOptions {
  name: string;
}

export function foldersGetCommand(f: Factory, run: (o: FoldersGetOptions) => Promise<void> = foldersGetRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'get', 'show one virtual folder').alias('show').argument('<folder>', 'folder name')).action(
    (name, flags) => runAction(f, () => run({ ...baseOptions(f, flags), name })),
  );
}

export async function foldersGetRun(o: FoldersGetOptions): Promise<void> {
  const c = await o.client();
  const folder = await c.getFolder(o.name);
  printResult(o.io, o, folder, () => printFields(o.io, folder));
}
