import type { DefenderEntry } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import type { IO } from '../io.js';
import { printResult, printTable } from '../output.js';

export type DefenderListOptions = BaseOptions;

export function defenderListCommand(f: Factory, run: (o: DefenderListOptions) => Promise<void> = defenderListRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'list', 'list banned hosts and hosts with a score').alias('ls')).action((flags) =>
    runAction(f, () => run(baseOptions(f, flags))),
  );
}

export function printHosts(io: IO, hosts: readonly DefenderEntry[]): void {
  printTable(
    io,
    ['id', 'ip', 'score', 'banned until'],
    hosts.map((h) => [h.id ?? '', h.ip ?? '', h.score === undefined ? '-' : String(h.score), h.ban_time ?? '-']),
  );
}

export async function defenderListRun(o: DefenderListOptions): Promise<void> {
  const c = await o.client();
  const hosts = await c.listDefenderHosts();
  printResult(o.io, o, hosts, () => {
    if (hosts.length === 0 && o.io.isTTY) o.io.stdout.write('No banned or scored hosts\n');
    else printHosts(o.io, hosts);
  });
}
