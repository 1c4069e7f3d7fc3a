import type { AnyCommand } from '../cmd.js';
import type { Factory } from '../factory.js';
import { usersSetStatusCommand, usersSetStatusRun, type UsersSetStatusOptions } from './set-status.js';

export type UsersDisableOptions = UsersSetStatusOptions;

export function usersDisableCommand(f: Factory, run: (o: UsersDisableOptions) => Promise<void> = usersDisableRun): AnyCommand {
  return usersSetStatusCommand(f, 'disable', run);
}

export const usersDisableRun = usersSetStatusRun;
