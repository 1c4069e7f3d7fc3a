/**
 * Active quota scans and their background runs (upstream common.ActiveScans + httpd
 * doUserQuotaScan / doFolderQuotaScan at v2.1.2). One registry per running service, passed
 * down by src/service: no globals.
 *
 * A name is "busy" while a scan runs or while a quota usage update holds it (the REST usage
 * update takes the same slot, so a manual update never races a scan). A scan walks the storage
 * (scanUserQuota / scanFolderQuota of quota-scan.ts) and then resets the counters to what it
 * found.
 */
import type { DataProvider, Folder, User } from '../dataprovider/provider.js';
import { createFs, type FilesystemConfig, type CreateFsOptions, type Fs } from '../vfs/index.js';
import { scanFolderQuota, scanUserQuota, type ScanResult } from './quota-scan.js';
import { silentLogger, type Logger } from './types.js';
import { createUserFs, type UserFsDeps } from './user-fs.js';

/** QuotaScan of the spec */
export interface UserQuotaScan {
  username: string;
  /** ms since epoch */
  start_time: number;
}

/** FolderQuotaScan of the spec */
export interface FolderQuotaScan {
  name: string;
  /** ms since epoch */
  start_time: number;
}

export interface QuotaScanRegistryOptions {
  /** where the counters are written */
  provider: Pick<DataProvider, 'updateUserQuota' | 'updateFolderQuota'>;
  /** how a user's filesystems are built (temp path, backend factory) */
  userFs?: UserFsDeps;
  /** backend factory for folders (tests) */
  createFs?: (config: FilesystemConfig | undefined, o: CreateFsOptions) => Promise<Fs>;
  logger?: Logger;
  now?: () => number;
}

export class QuotaScanRegistry {
  private readonly users = new Map<string, number>();
  private readonly folders = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly provider: QuotaScanRegistryOptions['provider'];
  private readonly userFs: UserFsDeps;
  private readonly makeFs: NonNullable<QuotaScanRegistryOptions['createFs']>;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(o: QuotaScanRegistryOptions) {
    this.provider = o.provider;
    this.userFs = o.userFs ?? {};
    this.makeFs = o.createFs ?? createFs;
    // `sender: 'quota'` is bound by the service (src/service/start.ts), not repeated per line
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  getUserScans(): UserQuotaScan[] {
    return [...this.users].map(([username, start_time]) => ({ username, start_time }));
  }

  getFolderScans(): FolderQuotaScan[] {
    return [...this.folders].map(([name, start_time]) => ({ name, start_time }));
  }

  /** takes the user's slot; false when a scan (or an update) already holds it */
  addUserScan(username: string): boolean {
    if (this.users.has(username)) return false;
    this.users.set(username, this.now());
    return true;
  }

  removeUserScan(username: string): boolean {
    return this.users.delete(username);
  }

  addFolderScan(name: string): boolean {
    if (this.folders.has(name)) return false;
    this.folders.set(name, this.now());
    return true;
  }

  removeFolderScan(name: string): boolean {
    return this.folders.delete(name);
  }

  /** counts a user's files (home + folders included in the user quota), without tracking */
  async scanUser(user: User): Promise<ScanResult> {
    const mounts = await createUserFs(user, this.userFs);
    try {
      return await scanUserQuota(mounts);
    } finally {
      await mounts.close();
    }
  }

  /** counts a folder's files, without tracking */
  async scanFolder(folder: Folder): Promise<ScanResult> {
    const decryptSecret = this.userFs.decryptSecret;
    const fs = await this.makeFs(folder.filesystem, {
      root: folder.mapped_path ?? '',
      displayPrefix: '/',
      createRoot: false,
      ...(decryptSecret ? { decryptSecret } : {}),
    });
    try {
      return await scanFolderQuota(fs);
    } finally {
      await fs.close();
    }
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /**
   * Starts a background scan of the user; false when one is already running. The counters are
   * reset to the result; a failure is logged (the counters stay as they were).
   */
  startUserScan(user: User): boolean {
    const username = user.username ?? '';
    if (!this.addUserScan(username)) return false;
    this.track(
      (async () => {
        try {
          const r = await this.scanUser(user);
          await this.provider.updateUserQuota(username, r.size, r.files, true);
          this.log.debug({ username, files: r.files, size: r.size }, 'user quota scanned');
        } catch (e) {
          this.log.warn({ username, err: e }, 'error scanning user quota');
        } finally {
          this.removeUserScan(username);
        }
      })(),
    );
    return true;
  }

  /** starts a background scan of the folder; false when one is already running */
  startFolderScan(folder: Folder): boolean {
    const name = folder.name ?? '';
    if (!this.addFolderScan(name)) return false;
    this.track(
      (async () => {
        try {
          const r = await this.scanFolder(folder);
          await this.provider.updateFolderQuota(name, r.size, r.files, true);
          this.log.debug({ folder: name, files: r.files, size: r.size }, 'folder quota scanned');
        } catch (e) {
          this.log.warn({ folder: name, err: e }, 'error scanning folder quota');
        } finally {
          this.removeFolderScan(name);
        }
      })(),
    );
    return true;
  }

  /** resolves once no background scan runs (tests, service stop) */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
