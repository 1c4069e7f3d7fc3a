import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { usersAddCommand } from './add.js';
import { usersDeleteCommand } from './delete.js';
import { usersDisableCommand } from './disable.js';
import { usersEnableCommand } from './enable.js';
import { usersGetCommand } from './get.js';
import { usersListCommand } from './list.js';
import { usersUpdateCommand } from './update.js';

export function usersCommand(f: Factory): Command {
  return groupCommand(f, 'users', 'manage SFTPGo users', [
    usersListCommand(f),
    usersGetCommand(f),
    usersAddCommand(f),
    usersUpdateCommand(f),
    usersDeleteCommand(f),
    usersDisableCommand(f),
    usersEnableCommand(f),
  ]);
}
