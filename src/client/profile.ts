import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isAccessToken, type AccessToken } from './token.js';

/**
 * What `sftpgo login` remembers: where the server is, who logged in, and the token it got. Never
 * the password. Stored as JSON in `$XDG_CONFIG_HOME/sftpgo/profile.json` (mode 0600, dir 0700).
 */
export interface Profile {
  url: string;
  username: string;
  token?: string | undefined;
  expires_at?: string | undefined;
}

/** `$XDG_CONFIG_HOME/sftpgo/profile.json`, or `~/.config/sftpgo/profile.json`. */
export function profilePath(env: Readonly<Record<string, string | undefined>>, home = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== '' && xdg.startsWith('/') ? xdg : join(env.HOME ?? home, '.config');
  return join(base, 'sftpgo', 'profile.json');
}

/** The stored token of a profile, when it has one. */
export function profileToken(p: Profile | undefined): AccessToken | undefined {
  if (p === undefined) return undefined;
  const t = { access_token: p.token, expires_at: p.expires_at };
  return isAccessToken(t) ? t : undefined;
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/** Reads the profile; undefined when there is none. A malformed file is an error. */
export async function readProfile(path: string): Promise<Profile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON; remove it and run "sftpgo login" again`, { cause: e });
  }
  if (typeof v !== 'object' || v === null) throw new Error(`${path}: not a profile object`);
  const o = v as Record<string, unknown>;
  if (typeof o.url !== 'string' || typeof o.username !== 'string') {
    throw new Error(`${path}: url and username are missing; remove it and run "sftpgo login" again`);
  }
  const p: Profile = { url: o.url, username: o.username };
  if (typeof o.token === 'string') p.token = o.token;
  if (typeof o.expires_at === 'string') p.expires_at = o.expires_at;
  return p;
}

/**
 * Writes the profile atomically (temp file + rename) with mode 0600 in a 0700 directory. Only
 * the four known fields are written, so nothing else (a password) can end up in the file.
 */
export async function writeProfile(path: string, p: Profile): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const clean: Profile = { url: p.url, username: p.username };
  if (p.token !== undefined) clean.token = p.token;
  if (p.expires_at !== undefined) clean.expires_at = p.expires_at;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(clean, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
