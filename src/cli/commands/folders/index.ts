import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { foldersAddCommand } from './add.js';
import { foldersDeleteCommand } from './delete.js';
import { foldersGetCommand } from './get.js';
import { foldersListCommand } from './list.js';
import { foldersUpdateCommand } from './update.js';

export function foldersCommand(f: Factory): Command {
  return groupCommand(f, 'folders', 'manage virtual folders', [
    foldersListCommand(f),
    foldersGetCommand(f),
    foldersAddCommand(f),
    foldersUpdateCommand(f),
    foldersDeleteCommand(f),
  ]);
}
