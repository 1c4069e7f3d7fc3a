import type { Permission, Schemas } from '../../../api/index.js';
import type { User } from '../../../client/index.js';
import { collect, collectCsv, intArg, sizeArg, type AnyCommand } from '../cmd.js';
import { FlagError } from '../errors.js';
import { applyFsFlags, withFsFlags, type FsFlags } from '../shared/fs-flags.js';
import { dateArg, readTextFlagFile, statusArg } from '../shared/input.js';

type LoginMethod = Schemas['LoginMethods'];
type Protocol = Schemas['SupportedProtocols'];

export const PERMISSIONS: readonly Permission[] = [
  '*', 'list', 'download', 'upload', 'overwrite', 'delete', 'rename', 'create_dirs',
  'create_symlinks', 'chmod', 'chown', 'chtimes',
];
export const PROTOCOLS: readonly Protocol[] = ['SSH', 'FTP', 'DAV', 'HTTP'];
export const LOGIN_METHODS: readonly LoginMethod[] = [
  'publickey', 'password', 'keyboard-interactive', 'publickey+password',
  'publickey+keyboard-interactive', 'TLSCertificate', 'TLSCertificate+password',
];

/** The user fields as flags, named after the API fields in kebab-case. */
export function withUserFlags<C extends AnyCommand>(cmd: C): C {
  cmd
      .option('--from-file <file>', 'read the user object (JSON, as in the API) from a file, - for stdin; flags override it')
      .option('--password <password>', 'login password (stored hashed)')
      .option('--home-dir <dir>', 'home directory (absolute path)')
      .option('--public-key <key>', 'SSH public key; repeatable; replaces the list ("" clears it)', collect)
      .option('--perm <dir=perms>', 'permissions of a directory, e.g. "/=*" or "/in=list,upload"; repeatable; "/dir=" removes the entry', collect)
      .option('--quota-size <size>', 'quota in bytes (suffixes K, M, G, T); 0 = unlimited', sizeArg)
      .option('--quota-files <n>', 'quota as number of files; 0 = unlimited', intArg(0))
      .option('--upload-bandwidth <KB/s>', 'upload bandwidth limit in KB/s; 0 = unlimited', intArg(0))
      .option('--download-bandwidth <KB/s>', 'download bandwidth limit in KB/s; 0 = unlimited', intArg(0))
      .option('--max-sessions <n>', 'concurrent sessions limit; 0 = unlimited', intArg(0))
      .option('--expiration-date <date>', 'account expiration: ISO date, unix ms, or 0 for never', dateArg)
      .option('--status <status>', 'enabled or disabled', statusArg)
      .option('--description <text>', 'free description')
      .option('--additional-info <text>', 'free text for external systems')
      .option('--uid <n>', 'owner uid of created files (when running as root)', intArg(0, 2147483647))
      .option('--gid <n>', 'owner gid of created files (when running as root)', intArg(0, 2147483647))
      .option('--allowed-ip <cidr>', 'allowed client networks; repeatable or comma-separated ("" clears)', collectCsv)
      .option('--denied-ip <cidr>', 'denied client networks; repeatable or comma-separated ("" clears)', collectCsv)
      .option('--denied-protocols <protocols>', `denied protocols (${PROTOCOLS.join(', ')}); repeatable or comma-separated`, collectCsv)
      .option('--denied-login-methods <methods>', 'denied login methods; repeatable or comma-separated', collectCsv)
      .option('--max-upload-file-size <size>', 'largest file a single upload may write; 0 = unlimited', sizeArg);
  return withFsFlags(cmd);
}

export interface UserFlags extends FsFlags {
  fromFile?: string | undefined;
  password?: string | undefined;
  homeDir?: string | undefined;
  publicKey?: string[] | undefined;
  perm?: string[] | undefined;
  quotaSize?: number | undefined;
  quotaFiles?: number | undefined;
  uploadBandwidth?: number | undefined;
  downloadBandwidth?: number | undefined;
  maxSessions?: number | undefined;
  expirationDate?: number | undefined;
  status?: 0 | 1 | undefined;
  description?: string | undefined;
  additionalInfo?: string | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  allowedIp?: string[] | undefined;
  deniedIp?: string[] | undefined;
  deniedProtocols?: string[] | undefined;
  deniedLoginMethods?: string[] | undefined;
  maxUploadFileSize?: number | undefined;
}

/** Picks the user flags out of a command's parsed options (so the Options stay explicit). */
export function pickUserFlags(o: UserFlags): UserFlags {
  const out: UserFlags = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined && !['url', 'username', 'passwordFile', 'json', 'quiet', 'yes', 'disconnect'].includes(k)) {
      (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

/** Parses repeated --perm values into the API's permissions map, merged onto `current`. */
export function parsePerms(
  values: readonly string[],
  current: Record<string, Permission[]> = {},
): Record<string, Permission[]> {
  const out: Record<string, Permission[]> = { ...current };
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new FlagError(`--perm ${v}: expected DIR=PERM[,PERM...], e.g. /=* or /uploads=list,upload`);
    const dir = v.slice(0, eq).trim();
    if (!dir.startsWith('/')) throw new FlagError(`--perm ${v}: the directory must be an absolute path`);
    const list = v.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length === 0) {
      delete out[dir];
      continue;
    }
    const bad = list.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
    if (bad.length > 0) {
      throw new FlagError(`--perm ${v}: unknown permission ${bad.join(', ')} (valid: ${PERMISSIONS.join(', ')})`);
    }
    out[dir] = list as Permission[];
  }
  return out;
}

function checkEnum<T extends string>(flag: string, values: readonly string[], valid: readonly T[]): T[] {
  const bad = values.filter((v) => !(valid as readonly string[]).includes(v));
  if (bad.length > 0) throw new FlagError(`${flag}: unknown value ${bad.join(', ')} (valid: ${valid.join(', ')})`);
  return values as T[];
}

/** True when at least one field flag (anything but --from-file) was given. */
export function hasUserFieldFlags(f: UserFlags): boolean {
  return Object.entries(f).some(([k, v]) => k !== 'fromFile' && v !== undefined);
}

/**
 * Applies the flags to a user object (a copy is returned). Lists given by flags replace the
 * stored lists; --perm entries are merged per directory.
 */
export async function applyUserFlags(
  base: User,
  f: UserFlags,
  readText: (path: string) => Promise<string> = readTextFlagFile,
): Promise<User> {
  const u: User = structuredClone(base);
  if (f.password !== undefined) u.password = f.password;
  if (f.homeDir !== undefined) u.home_dir = f.homeDir;
  if (f.publicKey !== undefined) u.public_keys = f.publicKey.filter((k) => k.trim() !== '');
  if (f.perm !== undefined) {
    // the spec types `permissions` as an object of nothing (`type: object` + `items`); it is a map
    u.permissions = parsePerms(f.perm, (u.permissions ?? {}) as Record<string, Permission[]>) as unknown as User['permissions'];
  }
  if (f.quotaSize !== undefined) u.quota_size = f.quotaSize;
  if (f.quotaFiles !== undefined) u.quota_files = f.quotaFiles;
  if (f.uploadBandwidth !== undefined) u.upload_bandwidth = f.uploadBandwidth;
  if (f.downloadBandwidth !== undefined) u.download_bandwidth = f.downloadBandwidth;
  if (f.maxSessions !== undefined) u.max_sessions = f.maxSessions;
  if (f.expirationDate !== undefined) u.expiration_date = f.expirationDate;
  if (f.status !== undefined) u.status = f.status;
  if (f.description !== undefined) u.description = f.description;
  if (f.additionalInfo !== undefined) u.additional_info = f.additionalInfo;
  if (f.uid !== undefined) u.uid = f.uid;
  if (f.gid !== undefined) u.gid = f.gid;
  const filters = { ...u.filters };
  let touched = false;
  if (f.allowedIp !== undefined) {
    filters.allowed_ip = f.allowedIp;
    touched = true;
  }
  if (f.deniedIp !== undefined) {
    filters.denied_ip = f.deniedIp;
    touched = true;
  }
  if (f.deniedProtocols !== undefined) {
    filters.denied_protocols = checkEnum('--denied-protocols', f.deniedProtocols, PROTOCOLS);
    touched = true;
  }
  if (f.deniedLoginMethods !== undefined) {
    filters.denied_login_methods = checkEnum('--denied-login-methods', f.deniedLoginMethods, LOGIN_METHODS);
    touched = true;
  }
  if (f.maxUploadFileSize !== undefined) {
    filters.max_upload_file_size = f.maxUploadFileSize;
    touched = true;
  }
  if (touched) u.filters = filters;
  const fs = await applyFsFlags(u.filesystem, f, readText);
  if (fs !== undefined) u.filesystem = fs;
  return u;
}
