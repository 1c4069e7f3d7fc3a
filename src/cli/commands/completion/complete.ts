import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { SftpgoClient } from '../../../client/index.js';
import { type AnyCommand, leafCommand, runAction } from '../cmd.js';
import type { ConnectionFlags, Factory } from '../factory.js';
import type { IO } from '../io.js';

export const COMPLETE_KINDS = ['users', 'folders', 'admins', 'connections', 'defender'] as const;
export type CompleteKind = (typeof COMPLETE_KINDS)[number];

/** How long the shell may wait for live names. */
export const COMPLETE_TIMEOUT_MS = 2000;

export interface CompleteOptions {
  io: IO;
  kind: CompleteKind;
  client: () => Promise<SftpgoClient>;
}

function kindArg(v: string): CompleteKind {
  const k = v.endsWith('s') || v === 'defender' ? v : `${v}s`;
  if (!(COMPLETE_KINDS as readonly string[]).includes(k))
    throw new InvalidArgumentError(`expected one of ${COMPLETE_KINDS.join(', ')}.`);
  return k as CompleteKind;
}

/**
 * `sftpgo __complete KIND` (hidden): prints live names for the shell completion scripts, one per
 * line. Never prompts, gives up after 2 s, and prints nothing at all on any failure.
 */
export function completeCommand(
  f: Factory,
  run: (o: CompleteOptions) => Promise<void> = completeRun,
): AnyCommand {
  return leafCommand(f, '__complete', 'print live names for shell completion')
    .argument('<kind>', COMPLETE_KINDS.join(', '), kindArg)
    .option('--url <url>', 'SFTPGo server URL')
    .option('--username <name>', 'admin username')
    .option('--password-file <file>', 'admin password file')
    .action((kind, flags) => {
      const conn: ConnectionFlags = {
        url: flags.url,
        username: flags.username,
        passwordFile: flags.passwordFile,
      };
      return runAction(f, () =>
        run({
          io: f.io,
          kind,
          client: () => f.client(conn, { timeoutMs: COMPLETE_TIMEOUT_MS, noPrompt: true }),
        }),
      );
    });
}

async function names(c: SftpgoClient, kind: CompleteKind, signal: AbortSignal): Promise<string[]> {
  const o = { signal, timeoutMs: COMPLETE_TIMEOUT_MS };
  switch (kind) {
    case 'users':
      return (await c.listUsers({ ...o, limit: 500 })).map((u) => u.username ?? '');
    case 'folders':
      return (await c.listFolders({ ...o, limit: 500 })).map((x) => x.name ?? '');
    case 'admins':
      return (await c.listAdmins({ ...o, limit: 500 })).map((a) => a.username ?? '');
    case 'connections':
      return (await c.listConnections(o)).map((x) => x.connection_id ?? '');
    case 'defender':
      return (await c.listDefenderHosts(o)).flatMap((h) => [h.id ?? '', h.ip ?? '']);
  }
}

export async function completeRun(o: CompleteOptions): Promise<void> {
  let list: string[];
  try {
    list = await names(await o.client(), o.kind, AbortSignal.timeout(COMPLETE_TIMEOUT_MS));
  } catch {
    return; // completion must never print errors into the user's command line
  }
  for (const n of list) if (n !== '') o.io.stdout.write(`${n}\n`);
}
