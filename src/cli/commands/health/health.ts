import { type AnyCommand, baseOptions, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult } from '../output.js';

export type HealthOptions = BaseOptions;

export function healthCommand(f: Factory, run: (o: HealthOptions) => Promise<void> = healthRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'health', 'check that the server answers (GET /healthz, no login needed)')).action((flags) =>
    runAction(f, () => run(baseOptions(f, flags))),
  );
}

export async function healthRun(o: HealthOptions): Promise<void> {
  const c = await o.client();
  const body = (await c.health()).trim();
  printResult(o.io, o, { status: body }, () => o.io.stdout.write(`${body === '' ? 'ok' : body}\n`));
}
