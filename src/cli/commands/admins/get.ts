import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printFields, printResult } from '../output.js';

export interface AdminsGetOptions extends BaseOptions {
  username: string;
}

export function adminsGetCommand(f: Factory, run: (o: AdminsGetOptions) => Promise<void> = adminsGetRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'get', 'show one admin').alias('show').argument('<admin>', 'admin username')).action(
    (username, flags) => runAction(f, () => run({ ...baseOptions(f, flags), username })),
  );
}

export async function adminsGetRun(o: AdminsGetOptions): Promise<void> {
  const c = await o.client();
  const a = await c.getAdmin(o.username);
  printResult(o.io, o, a, () => printFields(o.io, a));
}
