import type { Admin } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printSuccess } from '../output.js';
import { readJsonObject } from '../shared/input.js';
import { applyAdminFlags, hasAdminFieldFlags, pickAdminFlags, withAdminFlags, type AdminFlags } from './admin-flags.js';

export interface AdminsUpdateOptions extends BaseOptions {
  username: string;
  flags: AdminFlags;
}

export function adminsUpdateCommand(f: Factory, run: (o: AdminsUpdateOptions) => Promise<void> = adminsUpdateRun): AnyCommand {
  return withGlobalFlags(
    withAdminFlags(leafCommand(f, 'update', 'change an admin: fetches it, applies the flags, stores it').alias('edit').argument('<admin>', 'admin username')),
  ).action((username, flags) =>
    runAction(f, async () => {
      const picked = pickAdminFlags(flags as AdminFlags);
      if (picked.fromFile === undefined && !hasAdminFieldFlags(picked)) {
        throw new FlagError('nothing to update: give at least one field flag or --from-file');
      }
      await run({ ...baseOptions(f, flags), username, flags: picked });
    }),
  );
}

export async function adminsUpdateRun(o: AdminsUpdateOptions): Promise<void> {
  const c = await o.client();
  let base: Admin;
  if (o.flags.fromFile !== undefined) {
    base = (await readJsonObject(o.io, o.flags.fromFile, 'admin')) as Admin;
    if (base.username !== undefined && base.username !== o.username) {
      throw new FlagError(`--from-file describes admin "${base.username}", not "${o.username}"`);
    }
  } else {
    base = await c.getAdmin(o.username);
  }
  base.username = o.username;
  const answer = await c.updateAdmin(o.username, applyAdminFlags(base, o.flags));
  printSuccess(o.io, o, answer, `Admin "${o.username}" updated`);
}
