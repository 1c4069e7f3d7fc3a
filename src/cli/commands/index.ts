import type { Command } from '@commander-js/extra-typings';
import { adminsCommand } from './admins/index.js';
import { completeCommand } from './completion/complete.js';
import { completionCommand } from './completion/completion.js';
import { connectionsCommand } from './connections/index.js';
import { defenderCommand } from './defender/index.js';
import { dumpCommand } from './dump/dump.js';
import { createFactory, type Factory } from './factory.js';
import { foldersCommand } from './folders/index.js';
import { genCommand } from './gen/index.js';
import { healthCommand } from './health/health.js';
import { loadCommand } from './load/load.js';
import { loginCommand } from './login/login.js';
import { logoutCommand } from './logout/logout.js';
import { quotaCommand } from './quota/index.js';
import { statusCommand } from './status/status.js';
import { topCommand } from './top/top.js';
import { usersCommand } from './users/index.js';
import { versionCommand } from './version/version.js';

export { createFactory, type Factory } from './factory.js';

/**
 * Registers every REST-client subcommand (users, folders, admins, quota, dump, load, defender,
 * connections, status, version, health, login, logout, top), `completion`, `gen` and the hidden
 * `__complete` on the root program. serve/initprovider are registered by src/cli/main.ts.
 */
export function registerClientCommands(program: Command, f: Factory = createFactory()): void {
  for (const c of [
    usersCommand(f),
    foldersCommand(f),
    adminsCommand(f),
    quotaCommand(f),
    dumpCommand(f),
    loadCommand(f),
    defenderCommand(f),
    connectionsCommand(f),
    statusCommand(f),
    versionCommand(f),
    healthCommand(f),
    loginCommand(f),
    logoutCommand(f),
    topCommand(f),
    completionCommand(f),
    genCommand(f),
  ]) {
    program.addCommand(c);
  }
  program.addCommand(completeCommand(f), { hidden: true });
}
