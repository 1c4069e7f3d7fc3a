import { setTimeout as sleep } from 'node:timers/promises';
import type { SftpgoClient } from '../../../client/index.js';
import {
  type AnyCommand,
  baseOptions,
  intArg,
  leafCommand,
  runAction,
  withGlobalFlags,
  type BaseOptions,
} from '../cmd.js';
import type { Factory } from '../factory.js';
import { formatDuration, printResult } from '../output.js';
import { fetchUsage, kindArg, usageLine, type QuotaKind } from './kind.js';

export interface QuotaScanOptions extends BaseOptions {
  kind: QuotaKind;
  name: string;
  wait: boolean;
  /** polling interval while waiting, ms */
  intervalMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export function quotaScanCommand(
  f: Factory,
  run: (o: QuotaScanOptions) => Promise<void> = quotaScanRun,
): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'scan', 'start a quota scan of a user or folder (recounts its files and size)')
      .argument('<kind>', 'user or folder', kindArg)
      .argument('<name>', 'user or folder name')
      .option('--wait', 'wait for the scan to end, then print the new usage')
      .option('--interval <ms>', 'polling interval while waiting', intArg(50, 60_000), 500),
  ).action((kind, name, flags) =>
    runAction(f, () =>
      run({
        ...baseOptions(f, flags),
        kind,
        name,
        wait: flags.wait === true,
        intervalMs: flags.interval,
        now: f.now,
        sleep: (ms) => sleep(ms),
      }),
    ),
  );
}

async function scanActive(c: SftpgoClient, kind: QuotaKind, name: string): Promise<boolean> {
  if (kind === 'user') return (await c.listUserQuotaScans()).some((s) => s.username === name);
  return (await c.listFolderQuotaScans()).some((s) => s.name === name);
}

const SPINNER = ['|', '/', '-', '\\'];

export async function quotaScanRun(o: QuotaScanOptions): Promise<void> {
  const c = await o.client();
  const started =
    o.kind === 'user' ? await c.startUserQuotaScan(o.name) : await c.startFolderQuotaScan(o.name);
  if (!o.wait) {
    printResult(o.io, o, started, () =>
      o.io.stdout.write(`Quota scan of ${o.kind} "${o.name}" started\n`),
    );
    return;
  }
  const t0 = o.now();
  const progress = o.io.isTTY && o.json !== true && o.quiet !== true;
  let tick = 0;
  while (await scanActive(c, o.kind, o.name)) {
    if (progress) {
      o.io.stderr.write(
        `\r${SPINNER[tick++ % SPINNER.length]} scanning ${o.kind} "${o.name}"... ${formatDuration(o.now() - t0)}`,
      );
    }
    await o.sleep(o.intervalMs);
  }
  if (progress) o.io.stderr.write('\r\x1b[K');
  const usage = await fetchUsage(c, o.kind, o.name);
  printResult(o.io, o, usage, () =>
    o.io.stdout.write(
      `Quota scan done in ${formatDuration(o.now() - t0)}. ${usageLine(o.kind, o.name, usage)}\n`,
    ),
  );
}
