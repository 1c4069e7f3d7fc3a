import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { flatten, printFields, printResult } from '../output.js';
import { userSummary } from './format.js';

export interface UsersGetOptions extends BaseOptions {
  username: string;
}

export function usersGetCommand(f: Factory, run: (o: UsersGetOptions) => Promise<void> = usersGetRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'get', 'show one user').alias('show').argument('<username>', 'user name')).action(
    (username, flags) => runAction(f, () => run({ ...baseOptions(f, flags), username })),
  );
}

export async function usersGetRun(o: UsersGetOptions): Promise<void> {
  const c = await o.client();
  const u = await c.getUser(o.username);
  printResult(o.io, o, u, () => {
    const { permissions, filters, filesystem, virtual_folders, description, additional_info } = u;
    printFields(o.io, undefined, [
      ...userSummary(u),
      ...flatten({ description, additional_info, permissions, filters, filesystem, virtual_folders }),
    ]);
  });
}
