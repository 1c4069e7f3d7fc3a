import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { defenderGetCommand } from './get.js';
import { defenderListCommand } from './list.js';
import { defenderUnbanCommand } from './unban.js';

export function defenderCommand(f: Factory): Command {
  return groupCommand(f, 'defender', 'hosts banned or scored by the defender', [
    defenderListCommand(f),
    defenderGetCommand(f),
    defenderUnbanCommand(f),
  ]);
}
