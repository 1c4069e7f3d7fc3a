import { defenderHostId } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printFields, printResult } from '../output.js';

export interface DefenderGetOptions extends BaseOptions {
  /** host id (hex) or IP address */
  host: string;
}

export function defenderGetCommand(f: Factory, run: (o: DefenderGetOptions) => Promise<void> = defenderGetRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'get', 'show one host').alias('show').argument('<host-id>', 'host id or IP address')).action(
    (host, flags) => runAction(f, () => run({ ...baseOptions(f, flags), host })),
  );
}

export async function defenderGetRun(o: DefenderGetOptions): Promise<void> {
  const c = await o.client();
  const h = await c.getDefenderHost(defenderHostId(o.host));
  printResult(o.io, o, h, () => printFields(o.io, h));
}
