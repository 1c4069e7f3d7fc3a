import type { User } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';
import { readJsonObject } from '../shared/input.js';
import { applyUserFlags, pickUserFlags, withUserFlags, type UserFlags } from './user-flags.js';

export interface UsersAddOptions extends BaseOptions {
  username: string | undefined;
  flags: UserFlags;
}

export function usersAddCommand(f: Factory, run: (o: UsersAddOptions) => Promise<void> = usersAddRun): AnyCommand {
  return withGlobalFlags(
    withUserFlags(
      leafCommand(f, 'add', 'add a user (permissions default to "/=*", status to enabled)')
        .alias('create')
        .argument('[username]', 'user name (may come from --from-file instead)'),
    ),
  ).action((username, flags) =>
    runAction(f, async () => {
      if (username === undefined && (flags as UserFlags).fromFile === undefined) {
        throw new FlagError('a username is required (or --from-file with a "username" field)');
      }
      await run({ ...baseOptions(f, flags), username, flags: pickUserFlags(flags as UserFlags) });
    }),
  );
}

export async function usersAddRun(o: UsersAddOptions): Promise<void> {
  const base: User = o.flags.fromFile !== undefined ? ((await readJsonObject(o.io, o.flags.fromFile, 'user')) as User) : {};
  if (o.username !== undefined) base.username = o.username;
  if (base.username === undefined || base.username === '') throw new FlagError('the user has no username');
  const user = await applyUserFlags(base, o.flags);
  if (user.permissions === undefined) user.permissions = { '/': ['*'] } as unknown as User['permissions'];
  if (user.status === undefined) user.status = 1;
  const c = await o.client();
  const created = await c.addUser(user);
  printSuccess(o.io, o, created, `User "${created.username ?? user.username}" added`);
}
