import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { confirmOrYes, type Factory } from '../factory.js';
import { printSuccess } from '../output.js';

export interface AdminsDeleteOptions extends BaseOptions {
  username: string;
  yes: boolean;
}

export function adminsDeleteCommand(f: Factory, run: (o: AdminsDeleteOptions) => Promise<void> = adminsDeleteRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'delete', 'delete an admin').alias('rm').argument('<admin>', 'admin username')).action(
    (username, flags) => runAction(f, () => run({ ...baseOptions(f, flags), username, yes: flags.yes === true })),
  );
}

export async function adminsDeleteRun(o: AdminsDeleteOptions): Promise<void> {
  await confirmOrYes(o.io, o.yes, `Delete admin "${o.username}"?`);
  const c = await o.client();
  const answer = await c.deleteAdmin(o.username);
  printSuccess(o.io, o, answer, `Admin "${o.username}" deleted`);
}
