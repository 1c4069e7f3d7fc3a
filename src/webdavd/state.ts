/**
 * What the WebDAV server keeps per user in memory: locks and dead properties (2.1.2 keeps
 * locks per cached user and stores no dead properties; we keep both for the process lifetime,
 * so PROPPATCH works and litmus' props suite passes). Nothing here survives a restart and
 * nothing is shared between instances: documented in the README.
 */
import { isSameOrBelow } from './paths.js';

export interface StoredLock {
  token: string;
  /** the lock root, a virtual path */
  path: string;
  date: Date;
  timeout: number;
  scope: 'exclusive' | 'shared';
  depth: '0' | 'infinity';
  provisional: boolean;
  owner: unknown;
  username: string;
}

export type DeadProps = Map<string, unknown>;

export class UserDavState {
  /** lock root path -> locks */
  private readonly locks = new Map<string, Map<string, StoredLock>>();
  /** virtual path -> dead properties */
  private readonly props = new Map<string, DeadProps>();

  locksAt(path: string): StoredLock[] {
    const now = Date.now();
    const at = this.locks.get(path);
    if (!at) return [];
    for (const [t, l] of at) if (l.date.getTime() + l.timeout <= now) at.delete(t);
    if (at.size === 0) this.locks.delete(path);
    return [...at.values()];
  }

  saveLock(l: StoredLock): void {
    let at = this.locks.get(l.path);
    if (!at) this.locks.set(l.path, (at = new Map()));
    at.set(l.token, l);
  }

  deleteLock(l: Pick<StoredLock, 'path' | 'token'>): void {
    const at = this.locks.get(l.path);
    if (!at) return;
    at.delete(l.token);
    if (at.size === 0) this.locks.delete(l.path);
  }

  /** locks rooted strictly below `path` (their tokens must be submitted to remove `path`) */
  locksBelow(path: string): StoredLock[] {
    const out: StoredLock[] = [];
    for (const p of [...this.locks.keys()]) {
      if (p !== path && isSameOrBelow(p, path)) out.push(...this.locksAt(p));
    }
    return out;
  }

  /** drops the locks rooted at or below `path` (after a DELETE or a MOVE of it) */
  dropLocks(path: string): void {
    for (const p of [...this.locks.keys()]) if (isSameOrBelow(p, path)) this.locks.delete(p);
  }

  deadProps(path: string): DeadProps | undefined {
    return this.props.get(path);
  }

  setDeadProps(path: string, props: DeadProps): void {
    if (props.size === 0) this.props.delete(path);
    else this.props.set(path, props);
  }

  /** the dead properties of `from` and below, copied (or moved) to `to` */
  copyProps(from: string, to: string, move: boolean): void {
    this.dropProps(to);
    for (const [p, v] of [...this.props]) {
      if (!isSameOrBelow(p, from)) continue;
      this.props.set(to + p.slice(from.length), new Map(v));
      if (move) this.props.delete(p);
    }
  }

  dropProps(path: string): void {
    for (const p of [...this.props.keys()]) if (isSameOrBelow(p, path)) this.props.delete(p);
  }

  /** some lock is stored (possibly expired: locksAt drops those when asked) */
  get hasLocks(): boolean {
    return this.locks.size > 0;
  }

  get empty(): boolean {
    return this.locks.size === 0 && this.props.size === 0;
  }
}
