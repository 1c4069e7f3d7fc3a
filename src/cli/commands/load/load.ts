import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { LoadMode, ScanQuotaMode } from '../../../client/index.js';
import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { FlagError } from '../errors.js';
import { confirmOrYes, type Factory } from '../factory.js';
import { readInput } from '../io.js';
import { formatBytes, printSuccess } from '../output.js';

export interface LoadOptions extends BaseOptions {
  /** local backup file, or - for stdin */
  file: string | undefined;
  /** a backup file on the server (GET /loaddata?input-file=) */
  serverPath: string | undefined;
  mode: LoadMode | undefined;
  scanQuota: ScanQuotaMode | undefined;
  yes: boolean;
}

const MODES: Readonly<Record<string, LoadMode>> = { '0': 0, '1': 1, '2': 2, update: 0, 'add-only': 1, 'update-disconnect': 2 };

function modeArg(v: string): LoadMode {
  const m = MODES[v.trim().toLowerCase()];
  if (m === undefined) throw new InvalidArgumentError('expected 0 (update), 1 (add-only) or 2 (update-disconnect).');
  return m;
}

function scanArg(v: string): ScanQuotaMode {
  const t = v.trim();
  if (t !== '0' && t !== '1' && t !== '2') throw new InvalidArgumentError('expected 0, 1 or 2.');
  return Number(t) as ScanQuotaMode;
}

export function loadCommand(f: Factory, run: (o: LoadOptions) => Promise<void> = loadRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'load', 'restore a backup made by dump (from a local file, stdin, or a file on the server)')
      .argument('[file]', 'local backup file, - for stdin')
      .option('--server-path <path>', 'restore a backup file that is on the server instead')
      .option(
        '--mode <mode>',
        '0/update: add new objects, update existing ones (default); 1/add-only: leave existing ones alone; 2/update-disconnect: update and disconnect updated users',
        modeArg,
      )
      .option('--scan-quota <n>', '0: no quota scan (default); 1: scan every restored user; 2: scan users with quota limits', scanArg),
  ).action((file, flags) =>
    runAction(f, async () => {
      if ((file === undefined) === (flags.serverPath === undefined)) {
        throw new FlagError('give either a local backup file (or - for stdin) or --server-path');
      }
      await run({
        ...baseOptions(f, flags),
        file,
        serverPath: flags.serverPath,
        mode: flags.mode,
        scanQuota: flags.scanQuota,
        yes: flags.yes === true,
      });
    }),
  );
}

export async function loadRun(o: LoadOptions): Promise<void> {
  let body: Buffer | undefined;
  if (o.file !== undefined) {
    try {
      body = await readInput(o.io, o.file);
    } catch (e) {
      throw new FlagError(`cannot read ${o.file}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new FlagError(`${o.file === '-' ? 'stdin' : o.file}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new FlagError(`${o.file === '-' ? 'stdin' : o.file}: not a backup (expected a JSON object)`);
    }
  }
  const source = o.file === undefined ? `server file ${o.serverPath ?? ''}` : o.file === '-' ? 'stdin' : o.file;
  if (o.mode !== 1) {
    await confirmOrYes(
      o.io,
      o.yes,
      `Restore the backup from ${source}, updating existing users, folders and admins${o.mode === 2 ? ' and disconnecting them' : ''}?`,
    );
  }
  const c = await o.client();
  const showProgress = o.io.isTTY && o.quiet !== true && o.json !== true;
  let answer;
  if (body !== undefined) {
    const total = body.byteLength;
    answer = await c.loadData(body, {
      mode: o.mode,
      scanQuota: o.scanQuota,
      timeoutMs: 0,
      onProgress: showProgress
        ? (sent) => {
            const pct = total === 0 ? 100 : Math.floor((sent * 100) / total);
            o.io.stderr.write(`\rsending backup: ${pct}% of ${formatBytes(total)}${sent >= total ? ', restoring...' : ''}`);
          }
        : undefined,
    });
    if (showProgress) o.io.stderr.write('\r\x1b[K');
  } else {
    answer = await c.loadDataFromServerFile(o.serverPath ?? '', { mode: o.mode, scanQuota: o.scanQuota, timeoutMs: 0 });
  }
  printSuccess(o.io, o, answer, `Backup restored from ${source}`);
}
