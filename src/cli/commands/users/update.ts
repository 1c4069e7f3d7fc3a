import type { User } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';
import { readJsonObject } from '../shared/input.js';
import { applyUserFlags, hasUserFieldFlags, pickUserFlags, withUserFlags, type UserFlags } from './user-flags.js';

export interface UsersUpdateOptions extends BaseOptions {
  username: string;
  flags: UserFlags;
  disconnect: boolean;
}

export function usersUpdateCommand(f: Factory, run: (o: UsersUpdateOptions) => Promise<void> = usersUpdateRun): AnyCommand {
  return withGlobalFlags(
    withUserFlags(
      leafCommand(f, 'update', 'change a user: fetches it, applies the flags, stores it')
        .alias('edit')
        .argument('<username>', 'user name')
        .option('--disconnect', 'disconnect the user so the new settings apply at once'),
    ),
  ).action((username, flags) =>
    runAction(f, async () => {
      const picked = pickUserFlags(flags as UserFlags);
      if (picked.fromFile === undefined && !hasUserFieldFlags(picked)) {
        throw new FlagError('nothing to update: give at least one field flag or --from-file');
      }
      await run({ ...baseOptions(f, flags), username, flags: picked, disconnect: flags.disconnect === true });
    }),
  );
}

export async function usersUpdateRun(o: UsersUpdateOptions): Promise<void> {
  const c = await o.client();
  let base: User;
  if (o.flags.fromFile !== undefined) {
    base = (await readJsonObject(o.io, o.flags.fromFile, 'user')) as User;
    if (base.username !== undefined && base.username !== o.username) {
      throw new FlagError(`--from-file describes user "${base.username}", not "${o.username}"`);
    }
  } else {
    base = await c.getUser(o.username);
  }
  base.username = o.username;
  const user = await applyUserFlags(base, o.flags);
  const answer = await c.updateUser(o.username, user, { disconnect: o.disconnect });
  printSuccess(o.io, o, answer, `User "${o.username}" updated${o.disconnect ? ' (disconnected)' : ''}`);
}
