import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { silentLogger } from '../common/types.js';
import type { MountTable } from '../vfs/index.js';
import { parseBasicAuth, RECHECK_MS, UserCache } from './auth.js';

const IP = '127.0.0.1';

function fixture(o: { expirationMinutes?: number; maxSize?: number } = {}) {
  const users = new Map<string, User>();
  const passwords = new Map<string, string>();
  const calls = { check: 0, mounts: 0, closed: 0, reads: 0 };
  let now = 1_000_000;
  const listeners = new Set<(u: string | undefined) => void>();
  /** what the data provider does after a write through it */
  const notify = (u: string | undefined): void => listeners.forEach((l) => l(u));
  const add = (username: string, password: string, extra: Partial<User> = {}): void => {
    users.set(username, { username, password: `hash-of-${password}`, home_dir: `/h/${username}`, status: 1, ...extra } as User);
    passwords.set(username, password);
    notify(username);
  };
  const cache = new UserCache(
    { expirationMinutes: o.expirationMinutes ?? 0, maxSize: o.maxSize ?? 50 },
    {
      provider: {
        getUser: (u) => {
          calls.reads++;
          const x = users.get(u);
          return x ? Promise.resolve({ ...x }) : Promise.reject(new SftpgoError('NOT_FOUND', 'no user'));
        },
        authenticateUser: ({ username: u, password: p }) => {
          calls.check++;
          const x = users.get(u);
          if (!x || passwords.get(u) !== p) return Promise.reject(new SftpgoError('AUTH_FAILED', 'invalid credentials'));
          return Promise.resolve({ ...x });
        },
        onUserChanged: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
      },
      createMounts: () => {
        calls.mounts++;
        return Promise.resolve({ close: () => ((calls.closed++), Promise.resolve()) } as unknown as MountTable);
      },
      log: silentLogger,
      now: () => now,
    },
  );
  return { cache, add, users, calls, notify, listeners, tick: (ms: number) => (now += ms) };
}

void describe('webdavd user cache', () => {
  void it('checks the password hash once, then answers from the cache', async () => {
    const f = fixture();
    f.add('a', 'pw');
    for (let i = 0; i < 3; i++) f.cache.release(await f.cache.authenticate('a', 'pw', IP));
    assert.equal(f.calls.check, 1);
    assert.equal(f.calls.mounts, 1);
    await assert.rejects(f.cache.authenticate('a', 'other', IP), (e) => SftpgoError.is(e, 'AUTH_FAILED'));
    await assert.rejects(f.cache.authenticate('a', '', IP), (e) => SftpgoError.is(e, 'AUTH_FAILED'));
    assert.equal(f.calls.check, 1, 'a wrong password against a valid entry is a 401 without a hash check');
  });

  void it('evicts on a password change, rebuilds the mounts on a filesystem change', async () => {
    const f = fixture();
    f.add('a', 'pw');
    f.cache.release(await f.cache.authenticate('a', 'pw', IP));
    f.add('a', 'new');
    await assert.rejects(f.cache.authenticate('a', 'pw', IP));
    f.cache.release(await f.cache.authenticate('a', 'new', IP));
    assert.equal(f.calls.check, 3);
    const u = f.users.get('a');
    assert.ok(u);
    f.users.set('a', { ...u, home_dir: '/elsewhere' });
    f.notify('a');
    const c = await f.cache.authenticate('a', 'new', IP);
    assert.equal(c.user.home_dir, '/elsewhere');
    assert.equal(f.calls.mounts, 3);
    assert.equal(f.calls.check, 3);
    f.cache.release(c);
    f.users.delete('a');
    f.notify('a');
    await assert.rejects(f.cache.authenticate('a', 'new', IP), (e) => SftpgoError.is(e, 'AUTH_FAILED'));
    assert.equal(f.cache.size, 0);
  });

  void it('expires entries and keeps at most max_size, evicting the earliest expiry', async () => {
    const f = fixture({ expirationMinutes: 1, maxSize: 2 });
    f.add('a', 'pa');
    f.add('b', 'pb');
    f.add('c', 'pc');
    f.cache.release(await f.cache.authenticate('a', 'pa', IP));
    f.tick(1000);
    f.cache.release(await f.cache.authenticate('b', 'pb', IP));
    f.tick(1000);
    f.cache.release(await f.cache.authenticate('c', 'pc', IP));
    assert.equal(f.cache.size, 2);
    assert.ok(f.calls.closed >= 1, 'the evicted entry closed its mounts');
    const before = f.calls.check;
    f.cache.release(await f.cache.authenticate('b', 'pb', IP));
    assert.equal(f.calls.check, before, 'b is still cached');
    f.cache.release(await f.cache.authenticate('a', 'pa', IP));
    assert.equal(f.calls.check, before + 1, 'a was evicted');
    f.tick(61_000);
    f.cache.release(await f.cache.authenticate('a', 'pa', IP));
    assert.equal(f.calls.check, before + 2, 'expired');
  });

  void it('reads the stored user again only after RECHECK_MS or a change notification', async () => {
    const f = fixture();
    f.add('a', 'pw');
    f.add('b', 'pb');
    f.cache.release(await f.cache.authenticate('a', 'pw', IP));
    // the first hit after the login reads the user and marks the entry checked
    f.cache.release(await f.cache.authenticate('a', 'pw', IP));
    const reads = f.calls.reads;
    for (let i = 0; i < 5; i++) f.cache.release(await f.cache.authenticate('a', 'pw', IP));
    assert.equal(f.calls.reads, reads, 'no read within RECHECK_MS');
    await assert.rejects(f.cache.authenticate('a', 'bad', IP), (e) => SftpgoError.is(e, 'AUTH_FAILED'));
    // changed by another instance (no notification): seen once RECHECK_MS passed
    const u = f.users.get('a');
    assert.ok(u);
    f.users.set('a', { ...u, status: 0, home_dir: '/other' });
    f.cache.release(await f.cache.authenticate('a', 'pw', IP));
    assert.equal(f.calls.reads, reads);
    f.tick(RECHECK_MS);
    const c = await f.cache.authenticate('a', 'pw', IP);
    assert.equal(c.user.home_dir, '/other');
    assert.equal(f.calls.reads, reads + 1);
    f.cache.release(c);
    // a change notification (a write through this process): the next hit reads again
    f.users.set('a', { ...u, home_dir: '/third' });
    f.notify('a');
    const d = await f.cache.authenticate('a', 'pw', IP);
    assert.equal(d.user.home_dir, '/third');
    f.cache.release(d);
    // a folder change (undefined) concerns every user; a deletion is a failed login
    f.cache.release(await f.cache.authenticate('b', 'pb', IP));
    f.users.delete('b');
    f.notify(undefined);
    await assert.rejects(f.cache.authenticate('b', 'pb', IP), (e) => SftpgoError.is(e, 'AUTH_FAILED'));
    f.cache.dispose();
    assert.equal(f.listeners.size, 0);
    assert.equal(f.cache.size, 0);
  });

  void it('closes the mounts of an evicted entry only when its last request ends', async () => {
    const f = fixture();
    f.add('a', 'pw');
    const c = await f.cache.authenticate('a', 'pw', IP);
    f.cache.evict('a');
    assert.equal(f.calls.closed, 0);
    f.cache.release(c);
    assert.equal(f.calls.closed, 1);
  });

  void it('parses Basic credentials', () => {
    assert.deepEqual(parseBasicAuth(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { username: 'u', password: 'p:q' });
    assert.equal(parseBasicAuth('Bearer x'), undefined);
    assert.equal(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
    assert.equal(parseBasicAuth(undefined), undefined);
  });
});
