import type { QuotaMode, QuotaUsage } from '../../../client/index.js';
import {
  type AnyCommand,
  baseOptions,
  leafCommand,
  runAction,
  withGlobalFlags,
  type BaseOptions,
} from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import { printResult } from '../output.js';
import {
  fetchUsage,
  kindArg,
  quotaFilesArg,
  quotaSizeArg,
  usageLine,
  type QuotaKind,
} from './kind.js';

export interface QuotaUsageUpdateOptions extends BaseOptions {
  kind: QuotaKind;
  name: string;
  mode: QuotaMode;
  size: number | undefined;
  files: number | undefined;
}

/** `quota set` (mode reset) and `quota add` (mode add) share this shape; see set.ts and add.ts. */
export function quotaUsageUpdateCommand(
  f: Factory,
  verb: 'set' | 'add',
  run: (o: QuotaUsageUpdateOptions) => Promise<void> = quotaUsageUpdateRun,
): AnyCommand {
  const description =
    verb === 'set'
      ? 'set the used quota counters of a user or folder (a counter not given keeps its value)'
      : 'add to the used quota counters of a user or folder (values must not be negative, as the API requires)';
  return withGlobalFlags(
    leafCommand(f, verb, description)
      .argument('<kind>', 'user or folder', kindArg)
      .argument('<name>', 'user or folder name')
      .option(
        '--size <bytes>',
        verb === 'set' ? 'used size (suffixes K, M, G, T)' : 'size to add (suffixes K, M, G, T)',
        quotaSizeArg,
      )
      .option(
        '--files <n>',
        verb === 'set' ? 'used number of files' : 'number of files to add',
        quotaFilesArg,
      ),
  ).action((kind, name, flags) =>
    runAction(f, async () => {
      if (flags.size === undefined && flags.files === undefined)
        throw new FlagError('give --size, --files or both');
      await run({
        ...baseOptions(f, flags),
        kind,
        name,
        mode: verb === 'set' ? 'reset' : 'add',
        size: flags.size,
        files: flags.files,
      });
    }),
  );
}

export async function quotaUsageUpdateRun(o: QuotaUsageUpdateOptions): Promise<void> {
  const c = await o.client();
  const usage: QuotaUsage = {};
  if (o.mode === 'reset' && (o.size === undefined || o.files === undefined)) {
    // the API resets a missing counter to 0: keep the current value instead
    const cur = await fetchUsage(c, o.kind, o.name);
    usage.used_quota_size = o.size ?? cur.used_quota_size ?? 0;
    usage.used_quota_files = o.files ?? cur.used_quota_files ?? 0;
  } else {
    if (o.size !== undefined) usage.used_quota_size = o.size;
    if (o.files !== undefined) usage.used_quota_files = o.files;
  }
  const answer =
    o.kind === 'user'
      ? await c.updateUserQuotaUsage(o.name, usage, o.mode)
      : await c.updateFolderQuotaUsage(o.name, usage, o.mode);
  if (o.json === true || o.quiet === true) {
    printResult(o.io, o, answer, () => undefined);
    return;
  }
  const after = await fetchUsage(c, o.kind, o.name);
  o.io.stdout.write(`${usageLine(o.kind, o.name, after)}\n`);
}
