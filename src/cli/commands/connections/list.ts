import type { ConnectionStatus } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { formatBytes, formatDuration, printResult, printTable } from '../output.js';

export interface ConnectionsListOptions extends BaseOptions {
  now: () => number;
}

export function connectionsListCommand(f: Factory, run: (o: ConnectionsListOptions) => Promise<void> = connectionsListRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'list', 'list active connections and their transfers').alias('ls')).action((flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), now: f.now })),
  );
}

function activity(c: ConnectionStatus): string {
  const t = c.active_transfers ?? [];
  if (t.length === 0) return c.command ?? '';
  return t.map((x) => `${x.operation_type === 'upload' ? 'UL' : 'DL'} ${x.path ?? ''} ${formatBytes(x.size ?? 0)}`).join('; ');
}

export async function connectionsListRun(o: ConnectionsListOptions): Promise<void> {
  const c = await o.client();
  const conns = await c.listConnections();
  printResult(o.io, o, conns, () => {
    if (conns.length === 0 && o.io.isTTY) {
      o.io.stdout.write('No active connections\n');
      return;
    }
    const now = o.now();
    printTable(
      o.io,
      ['id', 'user', 'protocol', 'remote address', 'connected', 'idle', 'activity'],
      conns.map((x) => [
        x.connection_id ?? '',
        x.username ?? '',
        x.protocol ?? '',
        x.remote_address ?? '',
        x.connection_time ? formatDuration(now - x.connection_time) : '-',
        x.last_activity ? formatDuration(now - x.last_activity) : '-',
        activity(x),
      ]),
    );
  });
}
