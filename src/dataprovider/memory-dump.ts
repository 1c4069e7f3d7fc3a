/**
 * The `memory` data provider (upstream dataprovider/memory.go at v2.1.2): users, folders and
 * admins live in memory only (here an in-memory SQLite database behind the same provider code)
 * and are lost at stop. `data_provider.name`, when set, names a dump (the dumpdata format,
 * relative to the config dir unless absolute) loaded at start and again on SIGHUP; it is never
 * written back.
 *
 * Where this differs from upstream, on purpose:
 * - a dump that exists but cannot be read, parsed or restored at start refuses the start
 *   (upstream logs the error and serves with an empty provider, so every login fails); a
 *   missing file starts empty with a warning, as upstream;
 * - a reload that fails puts back what was loaded before (upstream clears first and keeps
 *   whatever part of the new dump was restored);
 * - a reload keeps the quota counters of the users and folders the new dump still has
 *   (upstream resets them to 0, so a SIGHUP meant for certificates also reset every user's used
 *   quota); last logins start again at 0, as upstream.
 */
import { access } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { SftpgoError } from '../errors/index.js';
import { readBackupFile, restoreBackup, type Backup, type RestoreResult } from './dump.js';
import type { DataProvider, ProviderLogger } from './provider.js';

const LABEL = 'data_provider.name (memory driver dump)';

/** the dump file of a memory provider, undefined when none is configured */
export function memoryDumpFile(cfg: { driver: string; name: string }, configDir: string): string | undefined {
  if (cfg.driver !== 'memory' || cfg.name.trim() === '') return undefined;
  return isAbsolute(cfg.name) ? cfg.name : join(configDir, cfg.name);
}

const restore = (provider: DataProvider, backup: Backup): Promise<RestoreResult> =>
  restoreBackup(provider, backup, { mode: 0 });

/**
 * start: restores the dump into the (empty) memory provider. A missing file starts empty with a
 * warning, as upstream (the default `name` is "sftpgo.db": switching only the driver must not
 * refuse the start); a file that cannot be read, parsed or restored refuses it.
 */
export async function loadMemoryDump(provider: DataProvider, file: string, log: ProviderLogger | undefined): Promise<void> {
  if (!(await dumpExists(file, log))) return;
  const result = await restore(provider, await readBackupFile(file, LABEL));
  log?.info({ sender: 'dataprovider_memory', file, ...result }, 'dump loaded into the memory provider');
}

/** false (with a warning) when the file does not exist; other access errors reject */
async function dumpExists(file: string, log: ProviderLogger | undefined): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    log?.warn({ sender: 'dataprovider_memory', file }, 'no dump to load into the memory provider: the file does not exist');
    return false;
  }
}

/**
 * SIGHUP: replaces everything with the dump read now. A missing file changes nothing (a
 * warning); one that cannot be read or parsed changes nothing and rejects; a restore that fails
 * midway restores the previous content, then rejects.
 */
export async function reloadMemoryDump(provider: DataProvider, file: string, log: ProviderLogger | undefined): Promise<void> {
  if (!(await dumpExists(file, log))) return;
  const next = await readBackupFile(file, LABEL);
  const previous = await provider.dump();
  await provider.clearAll();
  let result: RestoreResult;
  try {
    result = await restore(provider, next);
  } catch (e) {
    await provider.clearAll();
    await restore(provider, previous as Backup);
    await keepCounters(provider, previous as Backup);
    throw e;
  }
  await keepCounters(provider, previous as Backup);
  log?.info({ sender: 'dataprovider_memory', file, ...result }, 'memory provider reloaded from the dump');
}

/** puts back the counters the objects had before the reload, for those that are still there */
async function keepCounters(provider: DataProvider, before: Backup): Promise<void> {
  const set = async (write: () => Promise<void>): Promise<void> => {
    try {
      await write();
    } catch (e) {
      // track_quota 0: there are no counters to keep
      if (!SftpgoError.is(e, 'METHOD_DISABLED')) throw e;
    }
  };
  const users = new Set((await provider.dumpUsers()).map((u) => u.username));
  for (const u of before.users) {
    const { username, used_quota_size: size = 0, used_quota_files: files = 0 } = u;
    if (username === undefined || !users.has(username) || (size === 0 && files === 0)) continue;
    await set(() => provider.updateUserQuota(username, size, files, true));
  }
  const folders = new Set((await provider.dumpFolders()).map((f) => f.name));
  for (const f of before.folders) {
    const { name, used_quota_size: size = 0, used_quota_files: files = 0 } = f;
    if (name === undefined || !folders.has(name) || (size === 0 && files === 0)) continue;
    await set(() => provider.updateFolderQuota(name, size, files, true));
  }
}
