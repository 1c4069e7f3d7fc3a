import { Argument } from '@commander-js/extra-typings';
import { type AnyCommand, leafCommand, runAction } from '../cmd.js';
import type { Factory } from '../factory.js';
import type { IO } from '../io.js';
import { bashCompletion } from './bash.js';
import { fishCompletion } from './fish.js';
import { commandSpec, rootOf, type CommandSpec } from './spec.js';
import { zshCompletion } from './zsh.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionOptions {
  io: IO;
  shell: Shell;
  /** the whole command tree (built lazily from the root command) */
  root: () => CommandSpec;
}

export function completionScript(shell: Shell, root: CommandSpec): string {
  switch (shell) {
    case 'bash':
      return bashCompletion(root);
    case 'zsh':
      return zshCompletion(root);
    case 'fish':
      return fishCompletion(root);
  }
}

export function completionCommand(
  f: Factory,
  run: (o: CompletionOptions) => Promise<void> = completionRun,
  name = 'completion',
): AnyCommand {
  const cmd = leafCommand(
    f,
    name,
    'print the shell completion script for bash, zsh or fish',
  ).addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS));
  cmd.addHelpText(
    'after',
    '\nExamples:\n  source <(sftpgo completion bash)\n  sftpgo completion zsh > "${fpath[1]}/_sftpgo"\n  sftpgo completion fish > ~/.config/fish/completions/sftpgo.fish\n',
  );
  return cmd.action((shell) =>
    runAction(f, () => run({ io: f.io, shell, root: () => commandSpec(rootOf(cmd)) })),
  );
}

export function completionRun(o: CompletionOptions): Promise<void> {
  o.io.stdout.write(completionScript(o.shell, o.root()));
  return Promise.resolve();
}
