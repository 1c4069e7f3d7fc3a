import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';

export interface UsersSetStatusOptions extends BaseOptions {
  username: string;
  status: 0 | 1;
  disconnect: boolean;
}

/** `users disable` and `users enable` share this shape; see disable.ts and enable.ts. */
export function usersSetStatusCommand(
  f: Factory,
  name: 'enable' | 'disable',
  run: (o: UsersSetStatusOptions) => Promise<void> = usersSetStatusRun,
): AnyCommand {
  const status = name === 'enable' ? 1 : 0;
  return withGlobalFlags(
    leafCommand(f, name, name === 'enable' ? 'allow a user to log in again' : 'forbid a user to log in')
      .argument('<username>', 'user name')
      .option('--disconnect', 'also close the sessions the user has open'),
  ).action((username, flags) =>
    runAction(f, () =>
      run({ ...baseOptions(f, flags), username, status, disconnect: flags.disconnect === true }),
    ),
  );
}

export async function usersSetStatusRun(o: UsersSetStatusOptions): Promise<void> {
  const c = await o.client();
  const user = await c.getUser(o.username);
  user.status = o.status;
  const answer = await c.updateUser(o.username, user, { disconnect: o.disconnect });
  printSuccess(o.io, o, answer, `User "${o.username}" ${o.status === 1 ? 'enabled' : 'disabled'}`);
}
