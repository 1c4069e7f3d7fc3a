import { Option } from '@commander-js/extra-typings';
import { MAX_PAGE_SIZE } from '../../../client/index.js';
import { type AnyCommand, baseOptions, intArg, leafCommand, orderArg, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult } from '../output.js';
import { printUsersTable } from './format.js';

export interface UsersListOptions extends BaseOptions {
  limit?: number | undefined;
  offset?: number | undefined;
  order?: 'ASC' | 'DESC' | undefined;
  /** every user, page after page */
  all?: boolean | undefined;
}

export function usersListCommand(f: Factory, run: (o: UsersListOptions) => Promise<void> = usersListRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'list', 'list users')
      .alias('ls')
      .option('--limit <n>', 'at most this many users (1-500, server default 100)', intArg(1, 500))
      .option('--offset <n>', 'skip this many users', intArg(0))
      .option('--order <order>', 'ASC or DESC by username', orderArg)
      .addOption(
        new Option('--all', `every user, fetched in pages of ${MAX_PAGE_SIZE}`).conflicts(['limit', 'offset']),
      ),
  ).action((flags) =>
    runAction(f, () =>
      run({ ...baseOptions(f, flags), limit: flags.limit, offset: flags.offset, order: flags.order, all: flags.all }),
    ),
  );
}

export async function usersListRun(o: UsersListOptions): Promise<void> {
  const c = await o.client();
  const users =
    o.all === true
      ? await c.listAllUsers({ order: o.order })
      : await c.listUsers({ limit: o.limit, offset: o.offset, order: o.order });
  printResult(o.io, o, users, () => printUsersTable(o.io, users));
}
