/**
 * `serve --loaddata-from`: restore a dump (the dumpdata format) before the servers start, as
 * upstream service.go:loadInitialData. The restore itself (order folders, users, admins; modes
 * 0 add+update, 1 add only, 2 add+update+disconnect; quota scans 0/1/2) is the one the REST
 * loaddata uses (common/restore.ts over dataprovider/dump.ts). With `clean` the file is removed
 * after a successful load.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { QuotaScanRegistry } from '../common/quota-scan-registry.js';
import { restoreWithScans } from '../common/restore.js';
import type { Logger, TrackQuota } from '../common/index.js';
import { readBackupFile } from '../dataprovider/dump.js';
import type { DataProvider } from '../dataprovider/provider.js';
import { invalidInput } from '../errors/index.js';

export interface LoaddataOptions {
  file: string;
  mode: number;
  scanQuota: number;
  clean: boolean;
}

export interface LoaddataDeps {
  provider: DataProvider;
  quotaScans: QuotaScanRegistry;
  trackQuota: TrackQuota;
  logger: Logger;
}

export async function loadInitialData(o: LoaddataOptions, deps: LoaddataDeps): Promise<void> {
  if (!isAbsolute(o.file)) throw invalidInput(`--loaddata-from: ${o.file} must be an absolute path`);
  const backup = await readBackupFile(o.file, '--loaddata-from');
  const result = await restoreWithScans(deps.provider, backup, {
    mode: o.mode,
    scanQuota: o.scanQuota,
    quotaScans: deps.quotaScans,
    trackQuota: deps.trackQuota,
    logger: deps.logger,
  });
  deps.logger.info({ sender: 'service', file: o.file, ...result }, 'initial data loaded');
  if (o.clean) {
    await rm(o.file);
    deps.logger.info({ sender: 'service', file: o.file }, 'initial data file removed (--loaddata-clean)');
  }
}
