import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { confirmOrYes, type Factory } from '../factory.js';
import { printSuccess } from '../output.js';

export interface ConnectionsCloseOptions extends BaseOptions {
  connectionId: string;
  yes: boolean;
}

export function connectionsCloseCommand(f: Factory, run: (o: ConnectionsCloseOptions) => Promise<void> = connectionsCloseRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'close', 'close an active connection').alias('kill').argument('<connection-id>', 'connection id (see connections list)'),
  ).action((connectionId, flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), connectionId, yes: flags.yes === true })),
  );
}

export async function connectionsCloseRun(o: ConnectionsCloseOptions): Promise<void> {
  await confirmOrYes(o.io, o.yes, `Close connection ${o.connectionId}?`);
  const c = await o.client();
  const answer = await c.closeConnection(o.connectionId);
  printSuccess(o.io, o, answer, `Connection ${o.connectionId} closed`);
}
