import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { quotaAddCommand } from './add.js';
import { quotaScanCommand } from './scan.js';
import { quotaScansCommand } from './scans.js';
import { quotaSetCommand } from './set.js';

export function quotaCommand(f: Factory): Command {
  return groupCommand(f, 'quota', 'quota scans and used-quota counters of users and folders', [
    quotaScanCommand(f),
    quotaScansCommand(f),
    quotaSetCommand(f),
    quotaAddCommand(f),
  ]);
}
