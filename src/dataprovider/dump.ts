/**
 * The backup format of `dumpdata` / `loaddata` (upstream dataprovider.BackupData and
 * httpd/api_maintenance.go restoreBackup at v2.1.2): `{"users": [...], "folders": [...],
 * "admins": [...], "version": 8}` with the field names of the REST API, NOT redacted (password
 * hashes and encrypted secrets as stored), so a dump made by SFTPGo 2.1.2 loads here and ours
 * loads there. Version 7 (SFTPGo 2.0.x) has the same shape and is accepted too.
 *
 * Restore order is folders, users, admins, one object at a time and without a transaction: a
 * failure stops the restore and what was restored before stays (as upstream). Modes:
 * 0 add new objects and update existing ones, 1 add only (existing objects untouched),
 * 2 as 0 and report every updated user (the caller disconnects them).
 *
 * Quota counters and last login are not part of a restore: new objects start at zero (scan them
 * with scan-quota), existing objects keep their counters.
 */
import { readFile, stat } from 'node:fs/promises';
import { SftpgoError, invalidInput } from '../errors/index.js';
import type { Admin, DataProvider, Folder, User } from './provider.js';

/** SFTPGo's dump format version at v2.1.2 */
export const DUMP_VERSION = 8;

/** dump versions restore accepts: the current one and the previous one */
export const SUPPORTED_DUMP_VERSIONS: readonly number[] = [DUMP_VERSION, DUMP_VERSION - 1];

export interface Backup {
  users: User[];
  folders: Folder[];
  admins: Admin[];
  version: number;
}

export type RestoreMode = 0 | 1 | 2;

export interface RestoreOptions {
  /** 0 add + update (default), 1 add only, 2 add + update + onUserUpdated */
  mode?: number;
  /** mode 2: called after a user was updated (disconnect its sessions); errors are the caller's */
  onUserUpdated?: (username: string) => unknown;
  /** called after a folder was added or updated (quota scan) */
  onFolderRestored?: (folder: Folder) => unknown;
  /** called after a user was added or updated (quota scan) */
  onUserRestored?: (user: User) => unknown;
}

export interface RestoreCounts {
  added: number;
  updated: number;
  skipped: number;
}

export interface RestoreResult {
  folders: RestoreCounts;
  users: RestoreCounts;
  admins: RestoreCounts;
}

/** the whole store, unredacted, in the backup format */
export async function createBackup(provider: DataProvider): Promise<Backup> {
  const d = await provider.dump();
  return {
    users: d.users ?? [],
    folders: d.folders ?? [],
    admins: d.admins ?? [],
    version: DUMP_VERSION,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectList(
  doc: Record<string, unknown>,
  key: string,
  nameKey: string,
): Record<string, unknown>[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidInput(`invalid backup: "${key}" must be a list of objects`);
  v.forEach((item, i) => {
    if (!isObject(item)) throw invalidInput(`invalid backup: ${key}[${i}] must be an object`);
    const name = item[nameKey];
    if (typeof name !== 'string' || name === '') {
      throw invalidInput(`invalid backup: ${key}[${i}] has no "${nameKey}"`);
    }
  });
  return v as Record<string, unknown>[];
}

/**
 * Validates the shape of a parsed backup document (not the objects themselves: each one goes
 * through the provider's validation on restore). A missing version is taken as the current one;
 * a version other than 7 or 8 is refused. Unknown top-level keys (api_keys, shares of newer
 * SFTPGo versions) are ignored. Throws INVALID_INPUT with a message naming the problem.
 */
export function parseBackup(doc: unknown): Backup {
  if (!isObject(doc))
    throw invalidInput(
      'invalid backup: expected a JSON object with "users", "folders", "admins" and "version"',
    );
  let version = DUMP_VERSION;
  const v = doc['version'];
  if (v !== undefined && v !== null) {
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw invalidInput('invalid backup: "version" must be an integer');
    if (!SUPPORTED_DUMP_VERSIONS.includes(v)) {
      throw invalidInput(
        `unsupported backup version ${v}: only versions ${SUPPORTED_DUMP_VERSIONS.join(' and ')} can be restored`,
      );
    }
    version = v;
  }
  const users = objectList(doc, 'users', 'username') as User[];
  const folders = objectList(doc, 'folders', 'name') as Folder[];
  const admins = objectList(doc, 'admins', 'username') as Admin[];
  const dup = (list: { name: string }[], what: string): void => {
    const seen = new Set<string>();
    for (const { name } of list) {
      if (seen.has(name))
        throw invalidInput(`invalid backup: ${what} ${JSON.stringify(name)} is listed twice`);
      seen.add(name);
    }
  };
  dup(
    users.map((u) => ({ name: u.username ?? '' })),
    'user',
  );
  dup(
    folders.map((f) => ({ name: f.name ?? '' })),
    'folder',
  );
  dup(
    admins.map((a) => ({ name: a.username ?? '' })),
    'admin',
  );
  return { users, folders, admins, version };
}

/** parses backup bytes (a dump file or a request body) */
/** the largest dump accepted from a file, as the REST loaddata (upstream MaxRestoreSize) */
const MAX_DUMP_FILE_SIZE = 10 * 1024 * 1024;

/** reads and parses a dump file; `label` names its origin in the errors */
export async function readBackupFile(file: string, label: string): Promise<Backup> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw invalidInput(`${label}: cannot read ${file}: ${(e as Error).message}`, e);
  }
  if (size > MAX_DUMP_FILE_SIZE) throw invalidInput(`${label}: ${file} is larger than 10 MiB`);
  try {
    return parseBackupJson(await readFile(file));
  } catch (e) {
    throw invalidInput(`${label}: ${file}: ${(e as Error).message}`, e);
  }
}

export function parseBackupJson(data: string | Buffer): Backup {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  if (text.trim() === '') throw invalidInput('invalid backup: the content is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalidInput(`Unable to parse backup content: ${jsonErrorMessage(e)}`, e);
  }
  return parseBackup(doc);
}

/**
 * JSON.parse's message without the excerpt of the input V8 quotes in it (`Unexpected token 'P',
 * "PATH=/usr/"... is not valid JSON`): loaddata may be pointed at any server file, whose
 * content must not come back in an error.
 */
export function jsonErrorMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, ' (not valid JSON)');
}

export function parseRestoreMode(mode: number | undefined): RestoreMode {
  const m = mode ?? 0;
  if (m !== 0 && m !== 1 && m !== 2)
    throw invalidInput(`invalid restore mode ${String(mode)}: expected 0, 1 or 2`);
  return m;
}

/** the provider's error with the object named, keeping its code (400 stays 400) */
function restoreError(what: string, name: string, e: unknown): SftpgoError {
  if (!SftpgoError.is(e))
    return new SftpgoError('INTERNAL', `unable to restore ${what} ${JSON.stringify(name)}`, {
      cause: e,
    });
  return new SftpgoError(
    e.code,
    `unable to restore ${what} ${JSON.stringify(name)}: ${e.message}`,
    {
      cause: e,
      expose: e.expose,
    },
  );
}

async function exists(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return true;
  } catch (e) {
    if (SftpgoError.is(e, 'NOT_FOUND')) return false;
    throw e;
  }
}

/** a fresh counter */
const counts = (): RestoreCounts => ({ added: 0, updated: 0, skipped: 0 });

/**
 * Restores a parsed backup into the provider: folders, users, admins, in this order. Throws the
 * first failure (code kept, message naming the object); what was restored before stays.
 */
export async function restoreBackup(
  provider: DataProvider,
  backup: Backup,
  o: RestoreOptions = {},
): Promise<RestoreResult> {
  const mode = parseRestoreMode(o.mode);
  const result: RestoreResult = { folders: counts(), users: counts(), admins: counts() };

  for (const folder of backup.folders) {
    const name = folder.name ?? '';
    try {
      if (await exists(() => provider.getFolder(name))) {
        if (mode === 1) {
          result.folders.skipped++;
          continue;
        }
        const updated = await provider.updateFolder(name, folder, { mode: 'restore' });
        result.folders.updated++;
        await o.onFolderRestored?.(updated);
      } else {
        // the users mapping a folder are restored with the users
        const { users: _users, ...rest } = folder;
        const added = await provider.addFolder(rest);
        result.folders.added++;
        await o.onFolderRestored?.(added);
      }
    } catch (e) {
      throw restoreError('folder', name, e);
    }
  }

  for (const user of backup.users) {
    const name = user.username ?? '';
    try {
      if (await exists(() => provider.getUser(name))) {
        if (mode === 1) {
          result.users.skipped++;
          continue;
        }
        const updated = await provider.updateUser(name, user, { mode: 'restore' });
        result.users.updated++;
        if (mode === 2) await o.onUserUpdated?.(name);
        await o.onUserRestored?.(updated);
      } else {
        const added = await provider.addUser(user);
        result.users.added++;
        await o.onUserRestored?.(added);
      }
    } catch (e) {
      throw restoreError('user', name, e);
    }
  }

  for (const admin of backup.admins) {
    const name = admin.username ?? '';
    try {
      if (await exists(() => provider.getAdmin(name))) {
        if (mode === 1) {
          result.admins.skipped++;
          continue;
        }
        await provider.updateAdmin(name, admin, { mode: 'restore' });
        result.admins.updated++;
      } else {
        await provider.addAdmin(admin);
        result.admins.added++;
      }
    } catch (e) {
      throw restoreError('admin', name, e);
    }
  }
  return result;
}
