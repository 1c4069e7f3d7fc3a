/**
 * The admins behind API tokens, as the REST API checks them on every request (enabled, still
 * there, current permissions), kept for a short time so that a request does not cost a database
 * read (issue 16).
 *
 * Why a TTL and how short: several `sftpgo serve` instances may share one database, and an
 * instance only sees its own writes. Writes made through this process's provider drop the entry
 * at once (ProviderCore calls `forget`), so here a disabled or deleted admin is refused on the
 * next request and a permission change applies at once. A change made by another instance (or
 * straight in the database) is seen when the entry expires: after at most ADMIN_CACHE_TTL_MS,
 * one second, which is also the longest a disabled or deleted admin keeps access there. The
 * schema has no `updated_at` column to probe (it is SFTPGo 2.1.2's), and a probe would be a read
 * of the same row anyway; one read per admin per second per instance is what this costs.
 *
 * The load is shared: concurrent requests for an admin whose entry expired wait for one read.
 * The entry is stored when the read starts, so a `forget` after a write also drops a read that
 * began before the write and could return the old row. An unknown admin (NOT_FOUND) is kept like
 * a found one; any other failure is not kept.
 */
import { SftpgoError } from '../errors/index.js';
import type { Admin } from './provider.js';

/** the longest an admin changed by another instance is seen as it was */
export const ADMIN_CACHE_TTL_MS = 1000;
/** past this many entries, expired ones are dropped (keys come from signed tokens only) */
const PURGE_ABOVE = 1000;

interface Entry {
  /** when the read started (ms) */
  at: number;
  admin: Promise<Readonly<Admin>>;
}

export interface AdminCacheOptions {
  load: (username: string) => Promise<Admin>;
  now: () => number;
  ttlMs?: number;
}

export class AdminCache {
  readonly #load: (username: string) => Promise<Admin>;
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #entries = new Map<string, Entry>();

  constructor(o: AdminCacheOptions) {
    this.#load = o.load;
    this.#now = o.now;
    this.#ttl = o.ttlMs ?? ADMIN_CACHE_TTL_MS;
  }

  #fresh(e: Entry | undefined, t: number): e is Entry {
    // a clock that went back counts as expired
    return e !== undefined && t >= e.at && t - e.at < this.#ttl;
  }

  /** the admin, at most the TTL old; shared between callers: frozen, never to be modified */
  get(username: string): Promise<Readonly<Admin>> {
    const t = this.#now();
    const cached = this.#entries.get(username);
    if (this.#fresh(cached, t)) return cached.admin;
    const entry: Entry = {
      at: t,
      admin: this.#load(username).then((a) => {
        Object.freeze(a.permissions);
        return Object.freeze(a);
      }),
    };
    entry.admin.catch((e: unknown) => {
      // only "unknown admin" is an answer worth keeping; an unavailable database is not
      if (!SftpgoError.is(e, 'NOT_FOUND') && this.#entries.get(username) === entry) {
        this.#entries.delete(username);
      }
    });
    if (this.#entries.size >= PURGE_ABOVE) {
      for (const [k, e] of this.#entries) if (!this.#fresh(e, t)) this.#entries.delete(k);
    }
    this.#entries.set(username, entry);
    return entry.admin;
  }

  /** the admin was added, changed or deleted through this provider */
  forget(username: string): void {
    this.#entries.delete(username);
  }

  clear(): void {
    this.#entries.clear();
  }
}
