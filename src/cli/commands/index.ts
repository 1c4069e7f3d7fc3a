import type { Command } from '@commander-js/extra-typings';

/**
 * Registers every REST-client subcommand (users, folders, admins, quota, dump, load, defender,
 * connections, status, version, health, login, logout, top, completion) on the root program.
 * Owned by the CLI client work (issue 5); serve/initprovider are registered by src/cli/main.ts.
 */
export function registerClientCommands(_program: Command): void {
  // filled in by the CLI client work
}
