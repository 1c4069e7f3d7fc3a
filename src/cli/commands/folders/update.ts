import type { Folder } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';
import { readJsonObject } from '../shared/input.js';
import { applyFolderFlags, hasFolderFieldFlags, pickFolderFlags, withFolderFlags, type FolderFlags } from './folder-flags.js';

export interface FoldersUpdateOptions extends BaseOptions {
  name: string;
  flags: FolderFlags;
}

export function foldersUpdateCommand(f: Factory, run: (o: FoldersUpdateOptions) => Promise<void> = foldersUpdateRun): AnyCommand {
  return withGlobalFlags(
    withFolderFlags(leafCommand(f, 'update', 'change a virtual folder: fetches it, applies the flags, stores it').alias('edit').argument('<folder>', 'folder name')),
  ).action((name, flags) =>
    runAction(f, async () => {
      const picked = pickFolderFlags(flags as FolderFlags);
      if (picked.fromFile === undefined && !hasFolderFieldFlags(picked)) {
        throw new FlagError('nothing to update: give at least one field flag or --from-file');
      }
      await run({ ...baseOptions(f, flags), name, flags: picked });
    }),
  );
}

export async function foldersUpdateRun(o: FoldersUpdateOptions): Promise<void> {
  const c = await o.client();
  let base: Folder;
  if (o.flags.fromFile !== undefined) {
    base = (await readJsonObject(o.io, o.flags.fromFile, 'folder')) as Folder;
    if (base.name !== undefined && base.name !== o.name) {
      throw new FlagError(`--from-file describes folder "${base.name}", not "${o.name}"`);
    }
  } else {
    base = await c.getFolder(o.name);
  }
  base.name = o.name;
  const folder = await applyFolderFlags(base, o.flags);
  const answer = await c.updateFolder(o.name, folder);
  printSuccess(o.io, o, answer, `Folder "${o.name}" updated`);
}
