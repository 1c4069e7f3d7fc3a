import { readFile } from 'node:fs/promises';
import { type AnyCommand, baseOptions, connectionOf, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import { CancelError, FlagError } from '../errors.js';
import type { Factory } from '../factory.js';
import type { IO } from '../io.js';
import { printSuccess } from '../output.js';

export interface AdminsPasswdOptions extends BaseOptions {
  /** the current password (from --password-file, $SFTPGO_ADMIN_PASSWORD or a prompt) */
  currentPassword: () => Promise<string>;
  /** the new password (from --new-password-file or a prompt typed twice) */
  newPassword: () => Promise<string>;
}

export function adminsPasswdCommand(f: Factory, run: (o: AdminsPasswdOptions) => Promise<void> = adminsPasswdRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'passwd', 'change your own admin password (PUT /admin/changepwd)').option(
      '--new-password-file <file>',
      'read the new password from a file (else it is asked twice on a terminal)',
    ),
  ).action((flags) =>
    runAction(f, () => {
      const file = flags.newPasswordFile;
      return run({
        ...baseOptions(f, flags),
        currentPassword: async () => (await f.connection(connectionOf(flags))).password(),
        newPassword: () => (file !== undefined ? readPasswordFile(file) : promptNewPassword(f.io)),
      });
    }),
  );
}

async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new FlagError(`cannot read --new-password-file ${path}: ${(e as Error).message}`);
  }
  const p = text.replace(/\r?\n$/, '');
  if (p === '') throw new FlagError(`--new-password-file ${path} is empty`);
  return p;
}

async function promptNewPassword(io: IO): Promise<string> {
  if (!io.canPrompt) throw new FlagError('--new-password-file is required when not running interactively');
  const a = await io.prompt('New password: ', { hidden: true });
  if (a === '') throw new CancelError('no password given');
  const b = await io.prompt('Repeat the new password: ', { hidden: true });
  if (a !== b) throw new FlagError('the two passwords differ');
  return a;
}

export async function adminsPasswdRun(o: AdminsPasswdOptions): Promise<void> {
  const current = await o.currentPassword();
  const next = await o.newPassword();
  const c = await o.client();
  const answer = await c.changeAdminPassword(current, next);
  printSuccess(o.io, o, answer, 'Password changed');
}
