import type { Folder } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';
import { readJsonObject } from '../shared/input.js';
import { applyFolderFlags, pickFolderFlags, withFolderFlags, type FolderFlags } from './folder-flags.js';

export interface FoldersAddOptions extends BaseOptions {
  name: string | undefined;
  flags: FolderFlags;
}

export function foldersAddCommand(f: Factory, run: (o: FoldersAddOptions) => Promise<void> = foldersAddRun): AnyCommand {
  return withGlobalFlags(
    withFolderFlags(
      leafCommand(f, 'add', 'add a virtual folder').alias('create').argument('[folder]', 'folder name (may come from --from-file instead)'),
    ),
  ).action((name, flags) =>
    runAction(f, async () => {
      const picked = pickFolderFlags(flags as FolderFlags);
      if (name === undefined && picked.fromFile === undefined) {
        throw new FlagError('a folder name is required (or --from-file with a "name" field)');
      }
      await run({ ...baseOptions(f, flags), name, flags: picked });
    }),
  );
}

export async function foldersAddRun(o: FoldersAddOptions): Promise<void> {
  const base: Folder = o.flags.fromFile !== undefined ? ((await readJsonObject(o.io, o.flags.fromFile, 'folder')) as Folder) : {};
  if (o.name !== undefined) base.name = o.name;
  if (base.name === undefined || base.name === '') throw new FlagError('the folder has no name');
  const folder = await applyFolderFlags(base, o.flags);
  const c = await o.client();
  const created = await c.addFolder(folder);
  printSuccess(o.io, o, created, `Folder "${created.name ?? folder.name}" added`);
}
