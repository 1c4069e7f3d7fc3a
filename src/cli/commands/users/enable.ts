import type { AnyCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { usersSetStatusCommand, usersSetStatusRun, type UsersSetStatusOptions } from './set-status.js';

export type UsersEnableOptions = UsersSetStatusOptions;

export function usersEnableCommand(f: Factory, run: (o: UsersEnableOptions) => Promise<void> = usersEnableRun): AnyCommand {
  return usersSetStatusCommand(f, 'enable', run);
}

export const usersEnableRun = usersSetStatusRun;
