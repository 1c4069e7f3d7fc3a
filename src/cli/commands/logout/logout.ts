import { ApiError, profileToken, readProfile, tokenIsFresh, writeProfile, type SftpgoClient } from '../../../client/index.js';
import { type AnyCommand, leafCommand, runAction, withGlobalFlags, type BaseOptions } from '../cmd.js';
import type { Factory } from '../factory.js';
import { printResult } from '../output.js';

export interface LogoutOptions extends Omit<BaseOptions, 'client'> {
  profilePath: string;
  now: () => number;
  /** builds a client for the profile's server holding its token */
  clientFor: (url: string, token: { access_token: string; expires_at: string }) => SftpgoClient;
}

export function logoutCommand(f: Factory, run: (o: LogoutOptions) => Promise<void> = logoutRun): AnyCommand {
  return withGlobalFlags(leafCommand(f, 'logout', 'invalidate the stored token on the server and forget it')).action((flags) =>
    runAction(f, () =>
      run({
        io: f.io,
        json: flags.json,
        quiet: flags.quiet,
        profilePath: f.profilePath(),
        now: f.now,
        clientFor: (url, token) => f.newClient({ url, token }),
      }),
    ),
  );
}

export async function logoutRun(o: LogoutOptions): Promise<void> {
  const profile = await readProfile(o.profilePath);
  const token = profileToken(profile);
  if (profile === undefined || token === undefined) {
    printResult(o.io, o, { message: 'not logged in' }, () => o.io.stdout.write('Not logged in\n'));
    return;
  }
  let failure: unknown;
  if (tokenIsFresh(token, o.now(), 0)) {
    try {
      await o.clientFor(profile.url, token).logout();
    } catch (e) {
      // a token the server no longer accepts is as good as invalidated
      if (!(ApiError.is(e) && e.kind === 'http' && e.status === 401)) failure = e;
    }
  }
  await writeProfile(o.profilePath, { url: profile.url, username: profile.username });
  if (failure !== undefined) throw failure;
  printResult(o.io, o, { message: 'logged out' }, () => o.io.stdout.write(`Logged out of ${profile.url}\n`));
}
