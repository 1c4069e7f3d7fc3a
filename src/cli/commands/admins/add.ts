import type { Admin } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';
import { readJsonObject } from '../shared/input.js';
import { applyAdminFlags, pickAdminFlags, withAdminFlags, type AdminFlags } from './admin-flags.js';

export interface AdminsAddOptions extends BaseOptions {
  username: string | undefined;
  flags: AdminFlags;
}

export function adminsAddCommand(f: Factory, run: (o: AdminsAddOptions) => Promise<void> = adminsAddRun): AnyCommand {
  return withGlobalFlags(
    withAdminFlags(leafCommand(f, 'add', 'add an admin (status defaults to enabled)').alias('create').argument('[admin]', 'admin username (may come from --from-file instead)')),
  ).action((username, flags) =>
    runAction(f, async () => {
      const picked = pickAdminFlags(flags as AdminFlags);
      if (username === undefined && picked.fromFile === undefined) {
        throw new FlagError('an admin username is required (or --from-file with a "username" field)');
      }
      await run({ ...baseOptions(f, flags), username, flags: picked });
    }),
  );
}

export async function adminsAddRun(o: AdminsAddOptions): Promise<void> {
  const base: Admin = o.flags.fromFile !== undefined ? ((await readJsonObject(o.io, o.flags.fromFile, 'admin')) as Admin) : {};
  if (o.username !== undefined) base.username = o.username;
  if (base.username === undefined || base.username === '') throw new FlagError('the admin has no username');
  const admin = applyAdminFlags(base, o.flags);
  if (admin.status === undefined) admin.status = 1;
  const c = await o.client();
  const created = await c.addAdmin(admin);
  printSuccess(o.io, o, created, `Admin "${created.username ?? admin.username}" added`);
}
