/**
 * Quota tracking rules, independent of where the counters are stored (upstream
 * dataprovider/dataprovider.go at v2.1.2: UpdateUserQuota, UpdateVirtualFolderQuota,
 * GetUsedQuota, GetUsedVirtualFolderQuota, and the quota updater):
 * - track_quota 0: the quota methods are refused (METHOD_DISABLED);
 * - track_quota 2: the deltas of a user without quota restrictions are never written (resets
 *   are), and such a user's pending deltas are not shown;
 * - delayed_quota_update > 0: deltas wait in memory (DelayedQuotaUpdater) and every read adds
 *   them to the stored counters; a reset or a delete drops them.
 * The counters themselves are written by the store, one atomic UPDATE per write.
 */
import { SftpgoError } from '../errors/index.js';
import type { Folder, ProviderLogger, QuotaUsage, User } from './provider.js';
import { DelayedQuotaUpdater, type QuotaKind, type QuotaTimers } from './quota-updater.js';
import { invalid, q } from './validation/common.js';

export type { QuotaKind };

/** one write of a user's or folder's counters */
export interface QuotaWrite {
  sizeDelta: number;
  filesDelta: number;
  /** true: set the counters to the values; false: add the (possibly negative) deltas atomically */
  reset: boolean;
  /** the new last_quota_update, ms */
  at: number;
  /** users only: write only if the user has a quota restriction (quota_size or quota_files > 0) */
  onlyIfRestricted: boolean;
}

/** the stored counters (and, for a user, its quota restrictions) */
export interface QuotaCounters {
  used_quota_size: number;
  used_quota_files: number;
  quota_size?: number;
  quota_files?: number;
}

/** where the counters live */
export interface QuotaStore {
  /** one atomic UPDATE; throws NOT_FOUND when the user or folder does not exist */
  writeQuota(kind: QuotaKind, name: string, w: QuotaWrite): Promise<void>;
  /** throws NOT_FOUND when the user or folder does not exist */
  readQuota(kind: QuotaKind, name: string): Promise<QuotaCounters>;
}

export interface QuotaTrackerOptions {
  /** data_provider.track_quota: 0 off, 1 every user, 2 only users with quota restrictions */
  trackQuota: number;
  /** data_provider.delayed_quota_update, seconds (0: every delta is written at once) */
  delaySeconds: number;
  store: QuotaStore;
  now: () => number;
  /** timers of the delayed update loop (tests) */
  timers?: QuotaTimers | undefined;
  logger?: ProviderLogger | undefined;
}

function checkInt(v: number, label: string): void {
  if (!Number.isSafeInteger(v)) throw invalid(`invalid ${label}: expected an integer`);
}

export class QuotaTracker {
  readonly #track: number;
  readonly #store: QuotaStore;
  readonly #now: () => number;
  /** set when delayed_quota_update > 0 and quota is tracked */
  readonly #delayed: DelayedQuotaUpdater | undefined;

  constructor(o: QuotaTrackerOptions) {
    this.#track = o.trackQuota;
    this.#store = o.store;
    this.#now = o.now;
    if (o.delaySeconds > 0 && o.trackQuota !== 0) {
      const log = o.logger;
      this.#delayed = new DelayedQuotaUpdater({
        delaySeconds: o.delaySeconds,
        timers: o.timers,
        store: (kind, name, sizeDelta, filesDelta) =>
          this.#write(kind, name, { sizeDelta, filesDelta, reset: false }),
        // the user/folder was deleted: its delta has nowhere to go
        isPermanentError: (e) => SftpgoError.is(e, 'NOT_FOUND'),
        onError: (kind, name, e) =>
          log?.warn(
            { sender: 'dataprovider', [kind === 'user' ? 'username' : 'folder']: name, err: e },
            `unable to update quota delayed for ${kind} ${q(name)}`,
          ),
      });
      this.#delayed.start();
    }
  }

  #checkEnabled(): void {
    if (this.#track === 0) {
      throw new SftpgoError(
        'METHOD_DISABLED',
        'please enable track_quota in your configuration to use this method',
      );
    }
  }

  /** with track_quota 2 the deltas of a user without quota restrictions are never written */
  #tracksUser(quotaSize: number | undefined, quotaFiles: number | undefined): boolean {
    return this.#track !== 2 || (quotaSize ?? 0) > 0 || (quotaFiles ?? 0) > 0;
  }

  /** stored used quota plus the pending delayed delta of `name` */
  #withPending<T extends { used_quota_size?: number; used_quota_files?: number }>(
    kind: QuotaKind,
    name: string | undefined,
    o: T,
  ): T {
    if (this.#delayed === undefined || name === undefined) return o;
    const p = this.#delayed.pending(kind, name);
    if (p.size === 0 && p.files === 0) return o;
    return {
      ...o,
      used_quota_size: (o.used_quota_size ?? 0) + p.size,
      used_quota_files: (o.used_quota_files ?? 0) + p.files,
    };
  }

  #write(
    kind: QuotaKind,
    name: string,
    d: Omit<QuotaWrite, 'at' | 'onlyIfRestricted'>,
  ): Promise<void> {
    return this.#store.writeQuota(kind, name, {
      ...d,
      at: this.#now(),
      // track_quota 2: only users with quota restrictions are tracked (resets always apply)
      onlyIfRestricted: kind === 'user' && this.#track === 2 && !d.reset,
    });
  }

  /** reset=false adds the (possibly negative) deltas; reset=true sets the values */
  async update(
    kind: QuotaKind,
    name: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void> {
    this.#checkEnabled();
    checkInt(sizeDelta, 'used_quota_size');
    checkInt(filesDelta, 'used_quota_files');
    if (!reset && sizeDelta === 0 && filesDelta === 0) return;
    if (this.#delayed !== undefined) {
      if (!reset) {
        this.#delayed.add(kind, name, sizeDelta, filesDelta);
        return;
      }
      this.#delayed.reset(kind, name);
    }
    await this.#write(kind, name, { sizeDelta, filesDelta, reset });
  }

  /** the used quota of a user or folder, pending deltas included */
  async usage(kind: QuotaKind, name: string): Promise<QuotaUsage> {
    this.#checkEnabled();
    const c = await this.#store.readQuota(kind, name);
    const r =
      kind === 'folder' || this.#tracksUser(c.quota_size, c.quota_files)
        ? this.#withPending(kind, name, c)
        : c;
    return { usedQuotaSize: r.used_quota_size, usedQuotaFiles: r.used_quota_files };
  }

  /** a stored user with its and its virtual folders' pending deltas */
  user(u: User): User {
    const out = this.#tracksUser(u.quota_size, u.quota_files)
      ? this.#withPending('user', u.username, u)
      : u;
    if (this.#delayed !== undefined && out.virtual_folders !== undefined) {
      out.virtual_folders = out.virtual_folders.map((vf) =>
        this.#withPending('folder', vf.name, vf),
      );
    }
    return out;
  }

  /** a stored folder with its pending deltas */
  folder(f: Folder): Folder {
    return this.#withPending('folder', f.name, f);
  }

  /** drops the pending deltas of a deleted user or folder */
  forget(kind: QuotaKind, name: string): void {
    this.#delayed?.reset(kind, name);
  }

  /** writes the pending delayed deltas now (the loop goes on) */
  async flush(): Promise<void> {
    await this.#delayed?.flush();
  }

  /** stops the delayed update loop and writes what is pending */
  async close(): Promise<void> {
    if (this.#delayed === undefined) return;
    this.#delayed.stop();
    await this.#delayed.flush();
  }
}
