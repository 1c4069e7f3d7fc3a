import type { AnyCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import {
  quotaUsageUpdateCommand,
  quotaUsageUpdateRun,
  type QuotaUsageUpdateOptions,
} from './usage-update.js';

export type QuotaAddOptions = QuotaUsageUpdateOptions;

export function quotaAddCommand(
  f: Factory,
  run: (o: QuotaAddOptions) => Promise<void> = quotaAddRun,
): AnyCommand {
  return quotaUsageUpdateCommand(f, 'add', run);
}

export const quotaAddRun = quotaUsageUpdateRun;
