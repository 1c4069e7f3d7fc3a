/**
 * Quota scans (upstream User.ScanQuota / VirtualFolder.ScanQuota): walk the storage and count
 * files and bytes, for POST /api/v2/quotas/.../scan and loaddata with scan-quota.
 */
import { SftpgoError } from '../errors/index.js';
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
    const u = await rootUsage(m.fs, signal);
    files += u.files;
    size += u.bytes;
  }
  return { files, size };
}

/** a virtual folder's usage */
export async function scanFolderQuota(fs: Fs, signal?: AbortSignal): Promise<ScanResult> {
  const u = await rootUsage(fs, signal);
  return { files: u.files, size: u.bytes };
}

/**
 * The usage of a storage root. A root directory that does not exist yet (a folder mapped to a
 * directory created on first use, a home never logged into) holds nothing: 0 files, 0 bytes,
 * not a failed scan. Object stores already answer 0 for a missing prefix; this makes the local
 * backends agree. Upstream (vfs/osfs.go:GetDirSize at v2.1.2) fails the scan instead.
 */
async function rootUsage(fs: Fs, signal?: AbortSignal): Promise<{ files: number; bytes: number }> {
  try {
    return await fs.usage('/', signal ? { signal } : undefined);
  } catch (e) {
    if (SftpgoError.is(e, 'NOT_FOUND')) return { files: 0, bytes: 0 };
    throw e;
  }
}
