import type { AnyCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import {
  quotaUsageUpdateCommand,
  quotaUsageUpdateRun,
  type QuotaUsageUpdateOptions,
} from './usage-update.js';

export type QuotaSetOptions = QuotaUsageUpdateOptions;

export function quotaSetCommand(
  f: Factory,
  run: (o: QuotaSetOptions) => Promise<void> = quotaSetRun,
): AnyCommand {
  return quotaUsageUpdateCommand(f, 'set', run);
}

export const quotaSetRun = quotaUsageUpdateRun;
