import { defenderHostId } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { confirmOrYes, type Factory } from '../factory.js';
import { printSuccess } from '../output.js';

export interface DefenderUnbanOptions extends BaseOptions {
  host: string;
  yes: boolean;
}

export function defenderUnbanCommand(f: Factory, run: (o: DefenderUnbanOptions) => Promise<void> = defenderUnbanRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'unban', 'remove a host from the defender lists (unban it, clear its score)').argument('<host-id>', 'host id or IP address'),
  ).action((host, flags) => runAction(f, () => run({ ...baseOptions(f, flags), host, yes: flags.yes === true })));
}

export async function defenderUnbanRun(o: DefenderUnbanOptions): Promise<void> {
  await confirmOrYes(o.io, o.yes, `Unban host ${o.host}?`);
  const c = await o.client();
  const answer = await c.deleteDefenderHost(defenderHostId(o.host));
  printSuccess(o.io, o, answer, `Host ${o.host} removed from the defender lists`);
}
