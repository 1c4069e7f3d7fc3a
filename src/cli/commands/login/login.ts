import { writeProfile, type SftpgoClient } from '../../../client/index.js';
import { type AnyCommand, connectionOf, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { formatTime, printResult } from '../output.js';

export interface LoginOptions extends BaseOptions {
  profilePath: string;
}

export function loginCommand(f: Factory, run: (o: LoginOptions) => Promise<void> = loginRun): AnyCommand {
  return withGlobalFlags(
    leafCommand(f, 'login', 'get an API token and keep it (with the URL and username, never the password) for later commands'),
  ).action((flags) =>
    runAction(f, () =>
      run({
        io: f.io,
        client: () => f.client(connectionOf(flags), { ignoreStoredToken: true }),
        json: flags.json,
        quiet: flags.quiet,
        profilePath: f.profilePath(),
      }),
    ),
  );
}

export async function loginRun(o: LoginOptions): Promise<void> {
  const c: SftpgoClient = await o.client();
  const token = await c.login();
  const username = c.username ?? '';
  await writeProfile(o.profilePath, { url: c.url, username, token: token.access_token, expires_at: token.expires_at });
  printResult(o.io, o, { url: c.url, username, expires_at: token.expires_at }, () =>
    o.io.stdout.write(`Logged in to ${c.url} as ${username}; the token is valid until ${formatTime(Date.parse(token.expires_at))}\n`),
  );
}
