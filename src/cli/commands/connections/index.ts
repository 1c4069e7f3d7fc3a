import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { connectionsCloseCommand } from './close.js';
import { connectionsListCommand } from './list.js';

export function connectionsCommand(f: Factory): Command {
  return groupCommand(f, 'connections', 'active client connections', [connectionsListCommand(f), connectionsCloseCommand(f)]);
}
