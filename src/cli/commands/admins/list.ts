import { type AnyCommand, baseOptions, intArg, leafCommand, orderArg, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult, printTable } from '../output.js';
import { statusText } from '../shared/input.js';

export interface AdminsListOptions extends BaseOptions {
  limit?: number | undefined;
  offset?: number | undefined;
  order?: 'ASC' | 'DESC' | undefined;
}

export function adminsListCommand(f: Factory, run: (o: AdminsListOptions) => Promise<void> = adminsListRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'list', 'list admins')
      .alias('ls')
      .option('--limit <n>', 'at most this many admins (1-500, server default 100)', intArg(1, 500))
      .option('--offset <n>', 'skip this many admins', intArg(0))
      .option('--order <order>', 'ASC or DESC by username', orderArg),
  ).action((flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), limit: flags.limit, offset: flags.offset, order: flags.order })),
  );
}

export async function adminsListRun(o: AdminsListOptions): Promise<void> {
  const c = await o.client();
  const admins = await c.listAdmins({ limit: o.limit, offset: o.offset, order: o.order });
  printResult(o.io, o, admins, () =>
    printTable(
      o.io,
      ['username', 'status', 'email', 'permissions'],
      admins.map((a) => [a.username ?? '', statusText(a.status), a.email ?? '', (a.permissions ?? []).join(',')]),
    ),
  );
}
