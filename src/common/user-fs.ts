/**
 * Builds a user's mount table at login (upstream User.GetFilesystem + CheckFsRoot): the home
 * filesystem at "/" and every virtual folder at its virtual path. Unless
 * `filters.disable_fs_checks` is set, the home directory, the folders' roots and the missing
 * parent directories of the mount points are created (on backends with real directories).
 */
import type { ApiVirtualFolder } from '../api/index.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import {
  createFs,
  MountTable,
  normalizeVirtualPath,
  storageLocationOf,
  virtualDir,
  type CreateFsOptions,
  type FilesystemConfig,
  type Fs,
  type Mount,
  type SecretDecrypter,
} from '../vfs/index.js';
import { silentLogger, type Logger } from './types.js';

export interface UserFsDeps {
  /** common.temp_path (atomic upload temp files), absolute or empty */
  tempPath?: string;
  /**
   * fsync every upload before reporting it complete (common.fsync_uploads); default false:
   * only atomic uploads are synced, before their rename
   */
  fsync?: boolean;
  logger?: Logger;
  /** decrypts the secrets of filesystem configs (the service's KMS) */
  decryptSecret?: SecretDecrypter;
  /**
   * the SHA256 fingerprints of this server's SSH host keys, asked at each login (the SSH
   * service loads them when it starts): the SFTP backend's loop guard
   */
  localHostKeyFingerprints?: () => readonly string[];
  /** whether a local user has an SFTP backend, for the same guard (see userUsesSftpOf) */
  userUsesSftp?: (username: string) => Promise<boolean>;
  /** backend factory, replaceable in tests */
  createFs?: (config: FilesystemConfig | undefined, o: CreateFsOptions) => Promise<Fs>;
}

function ownerOf(user: User): { uid?: number; gid?: number } {
  const o: { uid?: number; gid?: number } = {};
  if ((user.uid ?? 0) > 0) o.uid = user.uid as number;
  if ((user.gid ?? 0) > 0) o.gid = user.gid as number;
  return o;
}

/** true when a virtual folder counts in the user quota (quota_size and quota_files both -1) */
export function isFolderIncludedInUserQuota(f: { quotaSize: number; quotaFiles: number }): boolean {
  return f.quotaFiles === -1 && f.quotaSize === -1;
}

const SFTP_PROVIDER = 5;

/**
 * The SFTP backend's lookup for its loop guard (upstream getForbiddenSFTPSelfUsers): whether the
 * local user `username` serves its home or any virtual folder from an SFTP backend. Such a user
 * may not be the remote user of an SFTP backend pointing at this very server (A → B → A); an
 * unknown user is not a loop, other provider errors propagate (the login fails, as upstream).
 */
export function userUsesSftpOf(
  provider: Pick<DataProvider, 'getUser'>,
): (username: string) => Promise<boolean> {
  return async (username) => {
    let u: User;
    try {
      u = await provider.getUser(username);
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND')) return false;
      throw e;
    }
    return (
      u.filesystem?.provider === SFTP_PROVIDER ||
      (u.virtual_folders ?? []).some((f) => f.filesystem?.provider === SFTP_PROVIDER)
    );
  };
}

export async function createUserFs(user: User, deps: UserFsDeps = {}): Promise<MountTable> {
  const log = deps.logger ?? silentLogger;
  const make = deps.createFs ?? createFs;
  const checks = user.filters?.disable_fs_checks !== true;
  const home = user.home_dir ?? '';
  if (home === '') throw new SftpgoError('INVALID_INPUT', 'the user has no home directory');
  const common: Omit<CreateFsOptions, 'root'> = {
    createRoot: checks,
    ...(deps.tempPath ? { tempDir: deps.tempPath } : {}),
    ...(deps.fsync !== undefined ? { fsync: deps.fsync } : {}),
    ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
    ...(deps.decryptSecret !== undefined ? { decryptSecret: deps.decryptSecret } : {}),
    ...(user.username ? { username: user.username } : {}),
    ...(deps.localHostKeyFingerprints
      ? { localHostKeyFingerprints: deps.localHostKeyFingerprints() }
      : {}),
    ...(deps.userUsesSftp ? { userUsesSftp: deps.userUsesSftp } : {}),
    ...ownerOf(user),
  };

  const mounts: Mount[] = [];
  const homeFs = await make(user.filesystem, { ...common, root: home, displayPrefix: '/' });
  mounts.push({ path: '/', fs: homeFs, location: storageLocationOf(user.filesystem) });
  const folders: ApiVirtualFolder[] = user.virtual_folders ?? [];
  try {
    for (const f of folders) {
      const vpath = normalizeVirtualPath(f.virtual_path);
      if (vpath === '/')
        throw new SftpgoError(
          'INVALID_INPUT',
          `invalid virtual folder path ${JSON.stringify(f.virtual_path)}`,
        );
      const fs = await make(f.filesystem, {
        ...common,
        root: f.mapped_path ?? '',
        displayPrefix: vpath,
      });
      mounts.push({
        path: vpath,
        fs,
        folder: {
          name: f.name ?? '',
          quotaSize: f.quota_size ?? 0,
          quotaFiles: f.quota_files ?? 0,
        },
        location: storageLocationOf(f.filesystem),
      });
    }
  } catch (e) {
    await Promise.allSettled(mounts.map((m) => m.fs.close()));
    throw e;
  }
  const table = new MountTable(mounts);
  if (!checks) return table;

  // roots: the home and the folders' own roots (created on first access, createRoot). Object
  // stores have no root to create: upstream creates a local home dir for them anyway, as
  // scratch space for its pipes; our cloud backends stream and need none
  for (const m of table.all()) {
    if (m.fs.capabilities.emulatedDirs) continue;
    try {
      await m.fs.stat('/');
    } catch (e) {
      log.warn(
        { sender: 'common', username: user.username, mount: m.path, err: e },
        'unable to check the root directory',
      );
    }
  }
  // missing parents of mount points, in whichever filesystem serves the parent (upstream
  // CheckFsRoot); not in object stores, where directories need no parents (HasVirtualFolders)
  for (const m of table.all()) {
    if (m.path === '/') continue;
    const parent = table.mountFor(virtualDir(m.path));
    if (parent.fs.capabilities.emulatedDirs) continue;
    const rel = parent.path === '/' ? m.path : m.path.slice(parent.path.length);
    try {
      await parent.fs.mkdir(rel, { recursive: true });
    } catch (e) {
      log.debug(
        { sender: 'common', username: user.username, mount: m.path, err: e },
        'unable to create the mount point directory',
      );
    }
  }
  return table;
}
