import { readFile } from 'node:fs/promises';
import { CommanderError } from '@commander-js/extra-typings';
import {
  ApiError,
  SftpgoClient,
  normalizeServerUrl,
  profilePath,
  profileToken,
  readProfile,
  type AccessToken,
  type FetchFn,
  type Profile,
  type SftpgoClientOptions,
} from '../../client/index.js';
import { CancelError, FlagError } from './errors.js';
import { confirm, systemIO, type IO } from './io.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_USERNAME = 'admin';

/** The connection flags every client subcommand accepts. */
export interface ConnectionFlags {
  url?: string | undefined;
  username?: string | undefined;
  passwordFile?: string | undefined;
}

export interface ClientRequest {
  /** a shorter request timeout (completion uses 2 s) */
  timeoutMs?: number | undefined;
  /** never prompt for the password, even on a terminal */
  noPrompt?: boolean | undefined;
  /** ignore the stored token (login) */
  ignoreStoredToken?: boolean | undefined;
}

export interface ResolvedConnection {
  url: string;
  username: string;
  /** the stored token when the profile is for this server and admin */
  token: AccessToken | undefined;
  profile: Profile | undefined;
  /** where the password comes from, for messages */
  passwordSource: 'file' | 'env' | 'prompt' | 'none';
  password: () => Promise<string>;
}

/**
 * Lazy dependencies of the client subcommands (gh's cmdutil.Factory): nothing is read or
 * connected until a command asks for it.
 */
export interface Factory {
  io: IO;
  env: Readonly<Record<string, string | undefined>>;
  now(): number;
  /** where `sftpgo login` keeps the profile */
  profilePath(): string;
  /** url, username, token and password source from flags, environment and profile */
  connection(flags: ConnectionFlags, o?: ClientRequest): Promise<ResolvedConnection>;
  /** a REST client for those flags */
  client(flags: ConnectionFlags, o?: ClientRequest): Promise<SftpgoClient>;
  /** a REST client from explicit settings (same fetch and clock as client()) */
  newClient(o: Omit<SftpgoClientOptions, 'fetch' | 'now'>): SftpgoClient;
  /** ends the process now (commander's own usage errors and --help) */
  exit(code: number): never;
  /**
   * Ends a command whose error was already reported on stderr, with this exit code. The default
   * throws a CommanderError ('commander.error'), which src/cli/main.ts turns into the exit code
   * without printing anything more.
   */
  fail(code: number): never;
}

export interface FactoryOptions {
  io?: IO;
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: FetchFn;
  now?: () => number;
  exit?: (code: number) => never;
  fail?: (code: number) => never;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** Strips one trailing newline, the way `echo secret > file` leaves it. */
function passwordFromFileText(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export function createFactory(o: FactoryOptions = {}): Factory {
  const io = o.io ?? systemIO();
  const env = o.env ?? process.env;
  const now = o.now ?? Date.now;
  const path = (): string => profilePath(env);

  const connection = async (flags: ConnectionFlags, req: ClientRequest = {}): Promise<ResolvedConnection> => {
    const profile = await readProfile(path());
    const rawUrl = nonEmpty(flags.url) ?? nonEmpty(env.SFTPGO_URL) ?? profile?.url ?? DEFAULT_URL;
    let url: string;
    try {
      url = normalizeServerUrl(rawUrl);
    } catch (e) {
      throw new FlagError(ApiError.is(e) ? e.message : `invalid --url ${rawUrl}`);
    }
    const username =
      nonEmpty(flags.username) ?? nonEmpty(env.SFTPGO_ADMIN_USERNAME) ?? profile?.username ?? DEFAULT_USERNAME;
    const sameTarget =
      profile !== undefined && profile.username === username && safeNormalize(profile.url) === url;
    const token = sameTarget && req.ignoreStoredToken !== true ? profileToken(profile) : undefined;

    const file = nonEmpty(flags.passwordFile);
    const envPassword = env.SFTPGO_ADMIN_PASSWORD;
    const canPrompt = io.canPrompt && req.noPrompt !== true;
    const passwordSource: ResolvedConnection['passwordSource'] =
      file !== undefined ? 'file' : envPassword !== undefined ? 'env' : canPrompt ? 'prompt' : 'none';
    let memo: Promise<string> | undefined;
    const obtain = async (): Promise<string> => {
      switch (passwordSource) {
        case 'file':
          try {
            return passwordFromFileText(await readFile(file ?? '', 'utf8'));
          } catch (e) {
            throw new FlagError(`cannot read --password-file ${file}: ${(e as Error).message}`);
          }
        case 'env':
          return envPassword ?? '';
        case 'prompt': {
          const p = await io.prompt(`Password for ${username} at ${url}: `, { hidden: true });
          if (p === '') throw new CancelError('no password given');
          return p;
        }
        case 'none':
          throw new ApiError(
            `a password is needed for admin "${username}": set SFTPGO_ADMIN_PASSWORD, pass --password-file, or run 'sftpgo login'`,
            { kind: 'auth' },
          );
      }
    };
    const password = (): Promise<string> => {
      memo ??= obtain();
      return memo;
    };
    return { url, username, token, profile, passwordSource, password };
  };

  return {
    io,
    env,
    now,
    profilePath: path,
    connection,
    async client(flags, req = {}) {
      const c = await connection(flags, req);
      return new SftpgoClient({
        url: c.url,
        username: c.username,
        password: c.password,
        token: c.token,
        timeoutMs: req.timeoutMs,
        fetch: o.fetch,
        now,
      });
    },
    newClient: (opts) => new SftpgoClient({ ...opts, fetch: o.fetch, now }),
    exit:
      o.exit ??
      ((code: number): never => {
        process.exit(code);
      }),
    fail:
      o.fail ??
      ((code: number): never => {
        throw new CommanderError(code, 'commander.error', '(error reported)');
      }),
  };
}

function safeNormalize(u: string): string | undefined {
  try {
    return normalizeServerUrl(u);
  } catch {
    return undefined; // a profile with a bad URL simply does not match
  }
}

/**
 * Destructive verbs: go on when --yes was given; otherwise ask on a terminal (no → cancelled),
 * and refuse with a usage error when nobody can be asked.
 */
export async function confirmOrYes(io: IO, yes: boolean | undefined, question: string): Promise<void> {
  if (yes === true) return;
  if (!io.canPrompt) {
    throw new FlagError(`${question.replace(/\?$/, '')}: refusing without --yes when not running interactively`);
  }
  if (!(await confirm(io, question))) throw new CancelError();
}
