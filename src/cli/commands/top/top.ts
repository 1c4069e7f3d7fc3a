// the TUI (ink, react, yoga: ~47 MiB) is imported only when `top` runs, so `serve` and the other
// commands do not carry it
import type { TopDataSource } from '../../../tui/index.js';
import {
  type AnyCommand,
  connectionOf,
  intArg,
  leafCommand,
  runAction,
  withGlobalFlags,
} from '../cmd.js';
import { FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import type { IO } from '../io.js';

export interface TopOptions {
  io: IO;
  source: () => Promise<TopDataSource>;
  intervalMs: number;
  /** runs the dashboard (tests replace it) */
  show: (source: TopDataSource, intervalMs: number) => Promise<void>;
}

export function topCommand(f: Factory, run: (o: TopOptions) => Promise<void> = topRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(
      f,
      'top',
      'live dashboard of connections and transfers (keys: arrows/j/k, / filter, s sort, d close, q quit)',
    ).option('--interval <seconds>', 'refresh period in seconds (1-60)', intArg(1, 60), 1),
  ).action((flags) =>
    runAction(f, () =>
      run({
        io: f.io,
        source: async () => {
          const { clientDataSource } = await import('../../../tui/index.js');
          return clientDataSource(await f.client(connectionOf(flags)), f.now);
        },
        intervalMs: flags.interval * 1000,
        show: async (source, intervalMs) => {
          const { runTop } = await import('../../../tui/index.js');
          await runTop({ source, intervalMs });
        },
      }),
    ),
  );
}

export async function topRun(o: TopOptions): Promise<void> {
  if (!o.io.isTTY || !o.io.canPrompt) {
    throw new FlagError('top needs a terminal; use "sftpgo connections list" in scripts');
  }
  const source = await o.source();
  // log in before the screen switches, so a password prompt or a bad password shows normally
  await source.poll();
  await o.show(source, o.intervalMs);
}
