import type { ServicesStatus } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult, printTable } from '../output.js';

export type StatusOptions = BaseOptions;

export function statusCommand(f: Factory, run: (o: StatusOptions) => Promise<void> = statusRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'status', 'show which services are running and where')).action((flags) =>
    runAction(f, () => run(baseOptions(f, flags))),
  );
}

function bindings(list: readonly { address?: string; port?: number }[] | null | undefined): string {
  return (list ?? []).map((b) => `${b.address === undefined || b.address === '' ? '*' : b.address}:${b.port ?? 0}`).join(', ');
}

/** One row per service: name, active, details. */
export function statusRows(s: ServicesStatus): string[][] {
  const on = (v: boolean | undefined): string => (v === true ? 'active' : 'inactive');
  return [
    ['SSH/SFTP', on(s.ssh?.is_active), bindings(s.ssh?.bindings)],
    ['FTP', on(s.ftp?.is_active), bindings(s.ftp?.bindings)],
    ['WebDAV', on(s.webdav?.is_active), bindings(s.webdav?.bindings)],
    ['data provider', on(s.data_provider?.is_active), [s.data_provider?.driver, s.data_provider?.error].filter((x) => x !== undefined && x !== '').join(': ')],
    ['defender', on(s.defender?.is_active), ''],
  ];
}

export async function statusRun(o: StatusOptions): Promise<void> {
  const c = await o.client();
  const s = await c.status();
  printResult(o.io, o, s, () => printTable(o.io, ['service', 'status', 'details'], statusRows(s)));
}
