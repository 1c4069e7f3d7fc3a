import { type AnyCommand, baseOptions, intArg, leafCommand, orderArg, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { formatBytes, formatTime, printResult, printTable } from '../output.js';
import { providerName } from '../shared/fs-flags.js';

export interface FoldersListOptions extends BaseOptions {
  limit?: number | undefined;
  offset?: number | undefined;
  order?: 'ASC' | 'DESC' | undefined;
}

export function foldersListCommand(f: Factory, run: (o: FoldersListOptions) => Promise<void> = foldersListRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'list', 'list virtual folders')
      .alias('ls')
      .option('--limit <n>', 'at most this many folders (1-500, server default 100)', intArg(1, 500))
      .option('--offset <n>', 'skip this many folders', intArg(0))
      .option('--order <order>', 'ASC or DESC by name', orderArg),
  ).action((flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), limit: flags.limit, offset: flags.offset, order: flags.order })),
  );
}

export async function foldersListRun(o: FoldersListOptions): Promise<void> {
  const c = await o.client();
  const folders = await c.listFolders({ limit: o.limit, offset: o.offset, order: o.order });
  printResult(o.io, o, folders, () =>
    printTable(
      o.io,
      ['name', 'storage', 'used size', 'used files', 'last quota update', 'users', 'mapped path'],
      folders.map((x) => [
        x.name ?? '',
        providerName(x.filesystem?.provider),
        formatBytes(x.used_quota_size ?? 0),
        String(x.used_quota_files ?? 0),
        formatTime(x.last_quota_update),
        (x.users ?? []).join(','),
        x.mapped_path ?? '',
      ]),
    ),
  );
}
