import {
  type AnyCommand,
  baseOptions,
  leafCommand,
  runAction,
  withGlobalFlags,
  type BaseOptions,
} from '../cmd.js';
import type { Factory } from '../factory.js';
import { formatDuration, formatTime, printResult, printTable } from '../output.js';
import { kindArg, type QuotaKind } from './kind.js';

export interface QuotaScansOptions extends BaseOptions {
  /** only this kind; both when undefined */
  kind: QuotaKind | undefined;
  now: () => number;
}

export function quotaScansCommand(
  f: Factory,
  run: (o: QuotaScansOptions) => Promise<void> = quotaScansRun,
): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'scans', 'list the quota scans in progress').argument(
      '[kind]',
      'user or folder (default: both)',
      kindArg,
    ),
  ).action((kind, flags) =>
    runAction(f, () => run({ ...baseOptions(f, flags), kind, now: f.now })),
  );
}

export async function quotaScansRun(o: QuotaScansOptions): Promise<void> {
  const c = await o.client();
  const users = o.kind !== 'folder' ? await c.listUserQuotaScans() : [];
  const folders = o.kind !== 'user' ? await c.listFolderQuotaScans() : [];
  const json = o.kind === 'user' ? users : o.kind === 'folder' ? folders : { users, folders };
  printResult(o.io, o, json, () => {
    const rows = [
      ...users.map((s) => [
        'user',
        s.username ?? '',
        formatTime(s.start_time),
        formatDuration(o.now() - (s.start_time ?? o.now())),
      ]),
      ...folders.map((s) => [
        'folder',
        s.name ?? '',
        formatTime(s.start_time),
        formatDuration(o.now() - (s.start_time ?? o.now())),
      ]),
    ];
    if (rows.length === 0 && o.io.isTTY) o.io.stdout.write('No quota scans in progress\n');
    else printTable(o.io, ['kind', 'name', 'started', 'running for'], rows);
  });
}
