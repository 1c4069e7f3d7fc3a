/**
 * Quota that holds under concurrency (beyond upstream, which checks the quota only when a
 * transfer starts, so N parallel uploads can each use the whole remaining space).
 *
 * The tracker is process-wide (one per ConnectionRegistry) and keyed by quota scope: a user
 * (`u:<name>`) or a virtual folder (`f:<name>`). Per scope it keeps
 * - the bytes and files RESERVED by uploads in progress, and
 * - a monotonic counter of the deltas APPLIED to the data provider by this process
 *   (Connection.updateQuota), so an upload can tell how the usage moved since it read it.
 *
 * An upload takes a lease when it opens. Its view of the usage is
 *   used (read from the provider at open) + applied since a snapshot taken BEFORE that read
 *   + every reservation of the scope (its own included).
 * A delta applied between the snapshot and the read is then counted twice: conservative (a
 * write may be refused a little early), never an overshoot. Every check-and-reserve step is
 * synchronous, so two uploads cannot both take the last bytes. A finished upload first applies
 * its final delta to the provider, then releases its lease.
 *
 * Per process only: several instances sharing one database each enforce their own share.
 */
import { quotaExceededError } from './transfer.js';

interface ScopeState {
  reservedSize: number;
  reservedFiles: number;
  appliedSize: number;
  appliedFiles: number;
}

export interface QuotaLeaseInit {
  /** the scope whose limits apply (the folder with its own quota, or the user) */
  check: string;
  /** every scope the upload's delta is applied to (folder and/or user) */
  targets: readonly string[];
  quotaSize: number;
  quotaFiles: number;
  usedSize: number;
  usedFiles: number;
  /** appliedSnapshot(check) taken before `used*` were read */
  applied: { size: number; files: number };
  /** the upload creates a file (counts against quota_files) */
  newFile: boolean;
}

/** the reservation of one upload */
export interface QuotaLease {
  /** sets the bytes this upload adds to the scope; false (nothing changed) when over quota */
  reserve(bytes: number): boolean;
  /** drops the reservation (after the final delta was applied). Idempotent. */
  release(): void;
}

export class QuotaTracker {
  private readonly scopes = new Map<string, ScopeState>();

  static userKey(username: string): string {
    return `u:${username}`;
  }

  static folderKey(name: string): string {
    return `f:${name}`;
  }

  private state(key: string): ScopeState {
    let s = this.scopes.get(key);
    if (!s) {
      s = { reservedSize: 0, reservedFiles: 0, appliedSize: 0, appliedFiles: 0 };
      this.scopes.set(key, s);
    }
    return s;
  }

  /** the applied-delta counter of a scope, to snapshot before reading its usage */
  appliedSnapshot(key: string): { size: number; files: number } {
    const s = this.state(key);
    return { size: s.appliedSize, files: s.appliedFiles };
  }

  /** bytes and files reserved by uploads in progress */
  reserved(key: string): { size: number; files: number } {
    const s = this.scopes.get(key);
    return { size: s?.reservedSize ?? 0, files: s?.reservedFiles ?? 0 };
  }

  /** records a delta this process applied to the provider (Connection.updateQuota) */
  applied(targets: readonly string[], files: number, size: number): void {
    for (const key of targets) {
      // kept for every scope ever updated (a few numbers per user or folder): a lease compares
      // it with the snapshot taken before its provider read, whenever that was
      const s = this.state(key);
      s.appliedFiles += files;
      s.appliedSize += size;
    }
  }

  /**
   * Opens a lease: refuses (QUOTA_EXCEEDED) a new file when the files in use plus those being
   * uploaded reach quota_files, or when the bytes in use plus those reserved reach quota_size.
   */
  lease(o: QuotaLeaseInit): QuotaLease {
    const check = this.state(o.check);
    // usage now, as seen from the provider read plus what moved since the snapshot
    const usedSize = (): number => o.usedSize + (check.appliedSize - o.applied.size);
    const usedFiles = (): number => o.usedFiles + (check.appliedFiles - o.applied.files);
    if (o.newFile && o.quotaFiles > 0 && usedFiles() + check.reservedFiles + 1 > o.quotaFiles) {
      throw quotaExceededError();
    }
    if (o.quotaSize > 0 && usedSize() + check.reservedSize >= o.quotaSize) {
      throw quotaExceededError();
    }
    const targets = o.targets.map((k) => ({ key: k, s: this.state(k) }));
    const files = o.newFile ? 1 : 0;
    for (const t of targets) t.s.reservedFiles += files;
    let mine = 0;
    let released = false;
    return {
      reserve: (bytes: number): boolean => {
        if (released) return false;
        const next = Math.max(0, bytes);
        const delta = next - mine;
        if (delta > 0 && o.quotaSize > 0 && usedSize() + check.reservedSize + delta > o.quotaSize) {
          return false;
        }
        for (const t of targets) t.s.reservedSize += delta;
        mine = next;
        return true;
      },
      release: (): void => {
        if (released) return;
        released = true;
        for (const t of targets) {
          t.s.reservedSize -= mine;
          t.s.reservedFiles -= files;
        }
      },
    };
  }
}
