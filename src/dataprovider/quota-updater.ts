/**
 * data_provider.delayed_quota_update (upstream dataprovider/quotaupdater.go): quota deltas
 * (reset=false) are accumulated in memory per user/folder and written every `delaySeconds`
 * seconds, one atomic `used = used + ?` UPDATE per pending name. Readers add the pending deltas
 * to the stored values so quota checks stay right. A reset drops the pending delta of that name.
 *
 * As upstream, the next flush is scheduled only after the previous one ended (a sleep loop, not a
 * fixed-rate ticker). One instance per provider; no module-level state.
 */

export interface QuotaDelta {
  size: number;
  files: number;
}

/** setTimeout/clearTimeout, injectable for tests; `fn` returns the flush promise */
export interface QuotaTimers {
  set(fn: () => Promise<void>, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realQuotaTimers: QuotaTimers = {
  set(fn, ms) {
    const h = setTimeout(() => void fn(), ms);
    // pending quota is flushed by close(); the loop alone must not keep the process alive
    h.unref();
    return h;
  },
  clear(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

export type QuotaKind = 'user' | 'folder';

export interface QuotaUpdaterOptions {
  /** data_provider.delayed_quota_update, seconds (> 0) */
  delaySeconds: number;
  /** writes a delta (reset=false) to the store */
  store(kind: QuotaKind, name: string, sizeDelta: number, filesDelta: number): Promise<void>;
  /**
   * a failed write keeps its delta for the next flush (upstream) unless this returns true
   * (e.g. the user/folder no longer exists); default: keep
   */
  isPermanentError?: (e: unknown) => boolean;
  onError?: (kind: QuotaKind, name: string, e: unknown) => void;
  timers?: QuotaTimers;
}

interface Entry {
  size: number;
  files: number;
}

export class DelayedQuotaUpdater {
  readonly #delayMs: number;
  readonly #o: QuotaUpdaterOptions;
  readonly #timers: QuotaTimers;
  readonly #pending: Record<QuotaKind, Map<string, Entry>> = {
    user: new Map(),
    folder: new Map(),
  };
  #handle: unknown;
  #running = false;
  #flushTail: Promise<void> = Promise.resolve();

  constructor(o: QuotaUpdaterOptions) {
    if (!Number.isFinite(o.delaySeconds) || o.delaySeconds <= 0) {
      throw new RangeError('delaySeconds must be > 0');
    }
    this.#delayMs = o.delaySeconds * 1000;
    this.#o = o;
    this.#timers = o.timers ?? realQuotaTimers;
  }

  /** starts the flush loop (idempotent) */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** stops the loop; pending deltas stay (call flush() to write them) */
  stop(): void {
    this.#running = false;
    if (this.#handle !== undefined) this.#timers.clear(this.#handle);
    this.#handle = undefined;
  }

  add(kind: QuotaKind, name: string, sizeDelta: number, filesDelta: number): void {
    const m = this.#pending[kind];
    const e = m.get(name);
    if (e === undefined) {
      if (sizeDelta !== 0 || filesDelta !== 0) m.set(name, { size: sizeDelta, files: filesDelta });
      return;
    }
    e.size += sizeDelta;
    e.files += filesDelta;
    if (e.size === 0 && e.files === 0) m.delete(name);
  }

  /** drops the pending delta of `name` (a reset, a delete) */
  reset(kind: QuotaKind, name: string): void {
    this.#pending[kind].delete(name);
  }

  pending(kind: QuotaKind, name: string): QuotaDelta {
    const e = this.#pending[kind].get(name);
    return e === undefined ? { size: 0, files: 0 } : { size: e.size, files: e.files };
  }

  /** number of names with a pending delta */
  size(kind?: QuotaKind): number {
    if (kind !== undefined) return this.#pending[kind].size;
    return this.#pending.user.size + this.#pending.folder.size;
  }

  /** writes every pending delta; concurrent calls are serialized */
  flush(): Promise<void> {
    const r = this.#flushTail.then(() => this.#flushNow());
    this.#flushTail = r.catch(() => undefined);
    return r;
  }

  async #flushNow(): Promise<void> {
    for (const kind of ['user', 'folder'] as const) {
      const m = this.#pending[kind];
      for (const [name, e] of [...m.entries()]) {
        const size = e.size;
        const files = e.files;
        if (size === 0 && files === 0) continue;
        try {
          await this.#o.store(kind, name, size, files);
        } catch (err) {
          this.#o.onError?.(kind, name, err);
          if (!(this.#o.isPermanentError?.(err) ?? false)) continue;
        }
        // subtract what was written, unless the entry was reset (and maybe recreated) meanwhile
        if (m.get(name) === e) this.add(kind, name, -size, -files);
      }
    }
  }

  #schedule(): void {
    this.#handle = this.#timers.set(() => this.#tick(), this.#delayMs);
  }

  async #tick(): Promise<void> {
    this.#handle = undefined;
    if (!this.#running) return;
    try {
      await this.flush();
    } catch {
      // store errors are reported through onError; nothing else can throw here
    }
    if (this.#running && this.#handle === undefined) this.#schedule();
  }
}
