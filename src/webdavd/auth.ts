/**
 * WebDAV authentication (upstream webdavd/server.go authenticate + dataprovider/cacheduser.go):
 * HTTP Basic against the data provider, TLS client certificates on bindings that ask for them,
 * and the user cache of `webdavd.cache.users`.
 *
 * The cache spares the password hash check (bcrypt/argon2: tens of ms) and the user's
 * filesystem set-up on every request. A hit re-reads the stored user (one indexed query, no
 * hashing) when the entry was last checked more than RECHECK_MS ago or a write through this
 * process's data provider changed the user (`onUserChanged`, as 2.1.2's API updates evict
 * entries in-process), and compares it with the entry: a changed password hash evicts it (full
 * authentication), a changed filesystem (home_dir, filesystem, virtual folders) rebuilds the
 * mounts, anything else replaces the user in place. A deleted user is a failed login. So a change
 * made through this process applies to the next request; one made by another instance sharing
 * the database (or straight in the database) within RECHECK_MS, the same bound as the admin
 * cache of the REST API (dataprovider/admin-cache.ts). Without the interval every request cost a
 * database read (bench/README.md, webdav-vs-nginx: TypeORM 12 % of a small-file PUT/GET).
 *
 * The entry keeps an HMAC (random per-process key) of the password, never the password.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataProvider, User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import type { Logger } from '../common/types.js';
import type { MountTable } from '../vfs/index.js';

/** the longest a cached user is used without reading it again from the data provider */
export const RECHECK_MS = 1000;

export interface UserCacheOptions {
  /** minutes, 0 = entries never expire */
  expirationMinutes: number;
  /** 0 = unlimited */
  maxSize: number;
}

export interface CachedUser {
  user: User;
  mounts: MountTable;
  /** requests using the mounts (an evicted entry closes them when the last one ends) */
  refs: number;
  evicted: boolean;
  lastLoginUpdate: number;
}

interface Entry extends CachedUser {
  secret: Buffer;
  passwordHash: string;
  fsKey: string;
  expiresAt: number;
  /** when the stored user was last read and found matching (ms; -Infinity: read it again) */
  checkedAt: number;
  /** bumped by every change notification: a read that started before one does not count */
  gen: number;
}

export interface UserCacheDeps {
  provider: Pick<DataProvider, 'getUser' | 'authenticateUser' | 'onUserChanged'>;
  createMounts: (user: User) => Promise<MountTable>;
  log: Logger;
  now?: () => number;
}

/** what decides the user's mount table */
function fsKeyOf(u: User): string {
  return JSON.stringify([u.home_dir, u.filesystem ?? null, u.virtual_folders ?? []]);
}

export class UserCache {
  private readonly entries = new Map<string, Entry>();
  private readonly key = randomBytes(32);
  private readonly now: () => number;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(
    private readonly o: UserCacheOptions,
    private readonly deps: UserCacheDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.unsubscribe = deps.provider.onUserChanged?.((username) => this.changed(username));
  }

  /** the stored user (undefined: every user) changed: the next hit reads it again */
  private changed(username: string | undefined): void {
    const stale = (e: Entry): void => {
      e.checkedAt = Number.NEGATIVE_INFINITY;
      e.gen++;
    };
    if (username === undefined) for (const e of this.entries.values()) stale(e);
    else {
      const e = this.entries.get(username);
      if (e) stale(e);
    }
  }

  /** stops following the data provider's changes (the server stopped) */
  dispose(): void {
    this.unsubscribe?.();
    this.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private secretOf(password: string): Buffer {
    return createHmac('sha256', this.key).update(password).digest();
  }

  /**
   * The user for these credentials, with its mounts acquired (call release() when the request
   * ends). A miss goes through the data provider's login (login hooks included); a hit does not,
   * as upstream. Throws AUTH_FAILED (cause NOT_FOUND for an unknown user).
   */
  async authenticate(username: string, password: string, ip: string): Promise<CachedUser> {
    if (password === '') throw new SftpgoError('AUTH_FAILED', 'invalid credentials');
    const hit = this.entries.get(username);
    const now = this.now();
    if (hit && (hit.expiresAt === 0 || hit.expiresAt > now)) {
      // checked recently and not changed since: no read (a clock that went back reads again)
      if (now >= hit.checkedAt && now - hit.checkedAt < RECHECK_MS) {
        if (!timingSafeEqual(this.secretOf(password), hit.secret)) {
          throw new SftpgoError('AUTH_FAILED', 'invalid credentials');
        }
        return this.acquire(username);
      }
      const gen = hit.gen;
      let fresh: User;
      try {
        fresh = await this.deps.provider.getUser(username);
      } catch (e) {
        this.evict(username);
        throw new SftpgoError('AUTH_FAILED', 'invalid credentials', { cause: e });
      }
      if ((fresh.password ?? '') === hit.passwordHash) {
        // as upstream: a password different from the one that created the entry is a 401
        if (!timingSafeEqual(this.secretOf(password), hit.secret)) {
          throw new SftpgoError('AUTH_FAILED', 'invalid credentials');
        }
        const key = fsKeyOf(fresh);
        if (key !== hit.fsKey) {
          await this.replace(username, fresh, hit.secret, undefined, { gen, at: now });
          return this.acquire(username);
        }
        hit.user = fresh;
        if (gen === hit.gen) hit.checkedAt = now;
        return this.acquire(username);
      }
    }
    if (hit) this.evict(username);
    const user = await this.deps.provider.authenticateUser({ username, method: 'password', password, ip, protocol: 'DAV' });
    const stored = await this.deps.provider.getUser(username).catch(() => user);
    // not counted as checked: a change during this login is seen by the next request
    await this.replace(username, user, this.secretOf(password), stored.password ?? '');
    return this.acquire(username);
  }

  /** a user authenticated by other means (TLS certificate only): not cached */
  async wrap(user: User): Promise<CachedUser> {
    return { user, mounts: await this.deps.createMounts(user), refs: 1, evicted: true, lastLoginUpdate: 0 };
  }

  private async replace(
    username: string,
    user: User,
    secret: Buffer,
    passwordHash?: string,
    /** read at `at` while the entry's generation was `gen` */
    checked?: { gen: number; at: number },
  ): Promise<void> {
    const prev = this.entries.get(username);
    const mounts = await this.deps.createMounts(user);
    const checkedAt =
      checked && prev?.gen === checked.gen && this.entries.get(username) === prev
        ? checked.at
        : Number.NEGATIVE_INFINITY;
    if (prev) this.evict(username);
    if (this.o.maxSize > 0 && this.entries.size >= this.o.maxSize) this.evictOne();
    const expiresAt = this.o.expirationMinutes > 0 ? this.now() + this.o.expirationMinutes * 60_000 : 0;
    this.entries.set(username, {
      user,
      mounts,
      refs: 0,
      evicted: false,
      lastLoginUpdate: prev?.lastLoginUpdate ?? 0,
      secret,
      passwordHash: passwordHash ?? prev?.passwordHash ?? user.password ?? '',
      fsKey: fsKeyOf(user),
      expiresAt,
      checkedAt,
      gen: 0,
    });
  }

  private acquire(username: string): CachedUser {
    const e = this.entries.get(username);
    if (!e) throw new SftpgoError('INTERNAL', 'user cache entry vanished');
    e.refs++;
    return e;
  }

  /** the request using `c` ended */
  release(c: CachedUser): void {
    c.refs--;
    if (c.evicted && c.refs <= 0) this.closeMounts(c);
  }

  /** the entry with the earliest expiry (any, when entries never expire) */
  private evictOne(): void {
    let victim: string | undefined;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [name, e] of this.entries) {
      const t = e.expiresAt === 0 ? Number.MAX_SAFE_INTEGER : e.expiresAt;
      if (victim === undefined || t < earliest) {
        victim = name;
        earliest = t;
      }
    }
    if (victim !== undefined) this.evict(victim);
  }

  evict(username: string): void {
    const e = this.entries.get(username);
    if (!e) return;
    this.entries.delete(username);
    e.evicted = true;
    if (e.refs <= 0) this.closeMounts(e);
  }

  clear(): void {
    for (const name of [...this.entries.keys()]) this.evict(name);
  }

  private closeMounts(c: CachedUser): void {
    c.mounts.close().catch((e: unknown) => this.deps.log.debug({ err: e }, 'closing a user filesystem'));
  }
}

/** `Authorization: Basic` credentials; undefined when absent or not Basic */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
