import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { adminsAddCommand } from './add.js';
import { adminsDeleteCommand } from './delete.js';
import { adminsGetCommand } from './get.js';
import { adminsListCommand } from './list.js';
import { adminsPasswdCommand } from './passwd.js';
import { adminsUpdateCommand } from './update.js';

export function adminsCommand(f: Factory): Command {
  return groupCommand(f, 'admins', 'manage SFTPGo admins', [
    adminsListCommand(f),
    adminsGetCommand(f),
    adminsAddCommand(f),
    adminsUpdateCommand(f),
    adminsDeleteCommand(f),
    adminsPasswdCommand(f),
  ]);
}
