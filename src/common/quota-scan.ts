/**
 * Quota scans (upstream User.ScanQuota / VirtualFolder.ScanQuota): walk the storage and count
 * files and bytes, for POST /api/v2/quotas/.../scan and loaddata with scan-quota.
 */
import type { Fs, MountTable } from '../vfs/index.js';
import { isFolderIncludedInUserQuota } from './user-fs.js';

export interface ScanResult {
  files: number;
  size: number;
}

/** the user's usage: the home plus the virtual folders counted in the user quota */
export async function scanUserQuota(mounts: MountTable, signal?: AbortSignal): Promise<ScanResult> {
  let files = 0;
  let size = 0;
  for (const m of mounts.all()) {
    if (m.folder && !isFolderIncludedInUserQuota(m.folder)) continue;
    const u = await m.fs.usage('/', signal ? { signal } : undefined);
    files += u.files;
    size += u.bytes;
  }
  return { files, size };
}

/** a virtual folder's usage */
export async function scanFolderQuota(fs: Fs, signal?: AbortSignal): Promise<ScanResult> {
  const u = await fs.usage('/', signal ? { signal } : undefined);
  return { files: u.files, size: u.bytes };
}
