/**
 * Restoring a backup with the side effects of upstream RestoreFolders / RestoreUsers
 * (httpd/api_maintenance.go at v2.1.2), shared by POST/GET /api/v2/loaddata and
 * `serve --loaddata-from`: quota scans of the restored objects (scan-quota 1: everything,
 * 2: folders and the users with quota limits) and, in mode 2, the disconnection of every
 * updated user.
 */
import { restoreBackup, type Backup, type RestoreResult } from '../dataprovider/dump.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { invalidInput } from '../errors/index.js';
import type { QuotaScanRegistry } from './quota-scan-registry.js';
import { silentLogger, type Logger, type TrackQuota } from './types.js';
import { userHasQuotaRestrictions } from './user-policy.js';

export interface RestoreWithScansOptions {
  /** 0 add + update, 1 add only, 2 add + update + disconnect */
  mode: number;
  /** 0 none, 1 every restored user and folder, 2 folders and users with quota limits */
  scanQuota: number;
  quotaScans?: QuotaScanRegistry | undefined;
  /** quota scans are skipped when quota tracking is off */
  trackQuota: TrackQuota;
  /** mode 2 */
  disconnectUser?: ((username: string) => unknown) | undefined;
  logger?: Logger;
}

function checkOption(name: string, v: number): void {
  if (v !== 0 && v !== 1 && v !== 2) throw invalidInput(`invalid ${name} ${String(v)}: expected 0, 1 or 2`);
}

export async function restoreWithScans(provider: DataProvider, backup: Backup, o: RestoreWithScansOptions): Promise<RestoreResult> {
  checkOption('mode', o.mode);
  checkOption('scan_quota', o.scanQuota);
  const log = o.logger ?? silentLogger;
  const scans = o.trackQuota !== 0 && o.scanQuota !== 0 ? o.quotaScans : undefined;
  const scanUser = (u: User): boolean => o.scanQuota === 1 || (o.scanQuota === 2 && userHasQuotaRestrictions(u));
  const result = await restoreBackup(provider, backup, {
    mode: o.mode,
    onFolderRestored: (f) => {
      if (scans?.startFolderScan(f)) log.debug({ sender: 'loaddata', folder: f.name }, 'quota scan started for restored folder');
    },
    onUserRestored: (u) => {
      if (scans && scanUser(u) && scans.startUserScan(u)) {
        log.debug({ sender: 'loaddata', username: u.username }, 'quota scan started for restored user');
      }
    },
    onUserUpdated: async (username) => {
      try {
        await o.disconnectUser?.(username);
      } catch (e) {
        // the user is already updated: a failure to kick sessions must not fail the restore
        log.warn({ sender: 'loaddata', username, err: e }, 'unable to disconnect the restored user');
      }
    },
  });
  log.info(
    { sender: 'loaddata', folders: result.folders, users: result.users, admins: result.admins, mode: o.mode, scan_quota: o.scanQuota },
    'backup restored',
  );
  return result;
}
