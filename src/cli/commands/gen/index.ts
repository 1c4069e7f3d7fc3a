import type { Command } from '@commander-js/extra-typings';
import { groupCommand } from '../cmd.js';
import { completionCommand } from '../completion/completion.js';
import type { Factory } from '../factory.js';
import { genManCommand } from './man-command.js';

/** `sftpgo gen completion|man`, as in SFTPGo 2.1.2 (cmd/gencompletion.go, cmd/genman.go). */
export function genCommand(f: Factory): Command {
  return groupCommand(f, 'gen', 'generate shell completion scripts and man pages', [
    completionCommand(f, undefined, 'completion'),
    genManCommand(f),
  ]);
}
