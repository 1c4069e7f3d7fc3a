import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { confirmOrYes, type Factory } from '../factory.js';
import { printSuccess } from '../output.js';

export interface UsersDeleteOptions extends BaseOptions {
  username: string;
  yes: boolean;
}

export function usersDeleteCommand(f: Factory, run: (o: UsersDeleteOptions) => Promise<void> = usersDeleteRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'delete', 'delete a user (its files are left in place)').alias('rm').argument('<username>', 'user name'),
  ).action((username, flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), username, yes: flags.yes === true })),
  );
}

export async function usersDeleteRun(o: UsersDeleteOptions): Promise<void> {
  await confirmOrYes(o.io, o.yes, `Delete user "${o.username}"?`);
  const c = await o.client();
  const answer = await c.deleteUser(o.username);
  printSuccess(o.io, o, answer, `User "${o.username}" deleted`);
}
