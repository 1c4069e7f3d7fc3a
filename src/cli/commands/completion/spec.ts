import type { Argument, Command, Option } from '@commander-js/extra-typings';
import type { AnyCommand } from '../cmd.js';

/**
 * A neutral description of the command tree, built from commander, from which the completion
 * scripts and man pages are generated (so they never drift from the real flags).
 */

/** Live names the shell asks the binary for (`sftpgo __complete <kind>`); `@prev` = the word before + "s". */
export type DynamicKind = 'users' | 'folders' | 'admins' | 'connections' | 'defender' | '@prev';

export type ValueCompletion =
  | { type: 'none' }
  | { type: 'file' }
  | { type: 'words'; words: string[] }
  | { type: 'dynamic'; kind: DynamicKind };

export interface OptionSpec {
  long: string | undefined;
  short: string | undefined;
  /** e.g. "--limit <n>" */
  flags: string;
  takesValue: boolean;
  valueName: string | undefined;
  description: string;
  values: ValueCompletion;
}

export interface ArgSpec {
  name: string;
  required: boolean;
  variadic: boolean;
  description: string;
  values: ValueCompletion;
}

export interface CommandSpec {
  name: string;
  aliases: string[];
  /** names from the root, e.g. ["users", "add"]; [] for the root */
  path: string[];
  description: string;
  usage: string;
  options: OptionSpec[];
  args: ArgSpec[];
  commands: CommandSpec[];
}

/** Arguments whose values are live names, by argument name. */
const DYNAMIC_ARGS: Readonly<Record<string, DynamicKind>> = {
  username: 'users',
  folder: 'folders',
  admin: 'admins',
  'connection-id': 'connections',
  'host-id': 'defender',
};

function optionValues(o: Option): ValueCompletion {
  if (o.argChoices !== undefined && o.argChoices.length > 0)
    return { type: 'words', words: [...o.argChoices] };
  const long = o.long ?? '';
  if (long.endsWith('-file') || long === '--config-dir' || long === '--dir')
    return { type: 'file' };
  if (long === '--order') return { type: 'words', words: ['ASC', 'DESC'] };
  if (long === '--status') return { type: 'words', words: ['enabled', 'disabled'] };
  if (long === '--mode' && o.description.includes('add-only')) {
    return { type: 'words', words: ['update', 'add-only', 'update-disconnect'] };
  }
  return { type: 'none' };
}

function argValues(cmdPath: readonly string[], a: Argument): ValueCompletion {
  if (a.argChoices !== undefined && a.argChoices.length > 0)
    return { type: 'words', words: [...a.argChoices] };
  const name = a.name();
  const dyn = DYNAMIC_ARGS[name];
  if (dyn !== undefined) return { type: 'dynamic', kind: dyn };
  if (name === 'kind') return { type: 'words', words: ['user', 'folder'] };
  if (name === 'name' && cmdPath[0] === 'quota') return { type: 'dynamic', kind: '@prev' };
  if (name === 'shell') return { type: 'words', words: ['bash', 'zsh', 'fish'] };
  if (name === 'file') return { type: 'file' };
  return { type: 'none' };
}

function isHidden(c: AnyCommand): boolean {
  return (c as unknown as { _hidden?: boolean })._hidden === true;
}

/** The spec of `cmd` and everything below it (hidden commands and the implicit help command are left out). */
export function commandSpec(cmd: AnyCommand, path: string[] = []): CommandSpec {
  const help = cmd.createHelp();
  const options = help.visibleOptions(cmd as unknown as Command).map((o): OptionSpec => {
    const takesValue = o.required || o.optional;
    const m = /[<[]([^>\]]+)[>\]]/.exec(o.flags);
    return {
      long: o.long,
      short: o.short,
      flags: o.flags,
      takesValue,
      valueName: m?.[1],
      description: o.description,
      values: takesValue ? optionValues(o) : { type: 'none' },
    };
  });
  const args = cmd.registeredArguments.map((a): ArgSpec => ({
    name: a.name(),
    required: a.required,
    variadic: a.variadic,
    description: a.description,
    values: argValues(path, a),
  }));
  const commands = (cmd.commands as readonly AnyCommand[])
    .filter((c) => !isHidden(c) && c.name() !== 'help')
    .map((c) => commandSpec(c, [...path, c.name()]));
  return {
    name: cmd.name(),
    aliases: [...cmd.aliases()],
    path,
    description: cmd.description(),
    usage: cmd.usage(),
    options,
    args,
    commands,
  };
}

/** Every command of the tree, depth first, root included. */
export function allCommands(root: CommandSpec): CommandSpec[] {
  return [root, ...root.commands.flatMap(allCommands)];
}

/** The root of the tree a command belongs to. */
export function rootOf(cmd: AnyCommand): AnyCommand {
  let c = cmd;
  while (c.parent !== null) c = c.parent as AnyCommand;
  return c;
}
