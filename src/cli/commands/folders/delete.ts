import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { confirmOrYes, type Factory } from '../factory.js';
import { printSuccess } from '../output.js';

export interface FoldersDeleteOptions extends BaseOptions {
  name: string;
  yes: boolean;
}

export function foldersDeleteCommand(f: Factory, run: (o: FoldersDeleteOptions) => Promise<void> = foldersDeleteRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'delete', 'delete a virtual folder (its files are left in place)').alias('rm').argument('<folder>', 'folder name'),
  ).action((name, flags) => runAction(f, () => run({ ...baseOptions(f, flags), name, yes: flags.yes === true })));
}

export async function foldersDeleteRun(o: FoldersDeleteOptions): Promise<void> {
  await confirmOrYes(o.io, o.yes, `Delete folder "${o.name}"?`);
  const c = await o.client();
  const answer = await c.deleteFolder(o.name);
  printSuccess(o.io, o, answer, `Folder "${o.name}" deleted`);
}
