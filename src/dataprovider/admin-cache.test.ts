import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { ADMIN_CACHE_TTL_MS, AdminCache } from './admin-cache.js';
import type { Admin } from './provider.js';

/** a cache over an in-memory table with a hand-driven clock; `loads` counts reads */
function fixture() {
  const table = new Map<string, Admin>([
    ['alice', { username: 'alice', status: 1, permissions: ['view_users'] }],
  ]);
  let t = 1_000_000;
  const state = { loads: 0, failWith: undefined as SftpgoError | undefined };
  const cache = new AdminCache({
    now: () => t,
    load: (u) => {
      state.loads++;
      if (state.failWith) return Promise.reject(state.failWith);
      const a = table.get(u);
      if (a === undefined)
        return Promise.reject(new SftpgoError('NOT_FOUND', `admin "${u}" does not exist`));
      return Promise.resolve(structuredClone(a));
    },
  });
  return { table, cache, state, advance: (ms: number) => (t += ms) };
}

void describe('AdminCache', () => {
  void it('answers from one read until the TTL has passed, then reads again', async () => {
    const { table, cache, state, advance } = fixture();
    assert.deepEqual((await cache.get('alice')).permissions, ['view_users']);
    table.set('alice', { username: 'alice', status: 0, permissions: [] });
    advance(ADMIN_CACHE_TTL_MS - 1);
    assert.equal((await cache.get('alice')).status, 1, 'another instance changed it: not seen yet');
    assert.equal(state.loads, 1);
    advance(1);
    assert.equal((await cache.get('alice')).status, 0);
    assert.equal(state.loads, 2);
  });

  void it('shares one read between concurrent callers and hands out a frozen admin', async () => {
    const { cache, state } = fixture();
    const [a, b] = await Promise.all([cache.get('alice'), cache.get('alice')]);
    assert.equal(state.loads, 1);
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.permissions));
  });

  void it('forget drops the entry, also a read that started before the write', async () => {
    const { table, cache, state } = fixture();
    const before = cache.get('alice');
    table.set('alice', { username: 'alice', status: 1, permissions: ['*'] });
    cache.forget('alice');
    assert.deepEqual((await cache.get('alice')).permissions, ['*']);
    assert.deepEqual(
      (await before).permissions,
      ['view_users'],
      'the early caller got the row it read',
    );
    assert.equal(state.loads, 2);
  });

  void it('keeps "not found" for the TTL but not other failures', async () => {
    const { table, cache, state, advance } = fixture();
    await assert.rejects(cache.get('bob'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
    table.set('bob', { username: 'bob', status: 1, permissions: ['*'] });
    await assert.rejects(cache.get('bob'), (e: unknown) => SftpgoError.is(e, 'NOT_FOUND'));
    assert.equal(state.loads, 1);
    advance(ADMIN_CACHE_TTL_MS);
    assert.equal((await cache.get('bob')).username, 'bob');

    state.failWith = new SftpgoError('BACKEND_UNAVAILABLE', 'data provider is closed');
    advance(ADMIN_CACHE_TTL_MS);
    await assert.rejects(cache.get('alice'), (e: unknown) =>
      SftpgoError.is(e, 'BACKEND_UNAVAILABLE'),
    );
    state.failWith = undefined;
    assert.equal((await cache.get('alice')).username, 'alice', 'read again at once');
    assert.equal(state.loads, 4);
  });

  void it('reads again when the clock went back, and after clear', async () => {
    const { cache, state, advance } = fixture();
    await cache.get('alice');
    advance(-5000);
    await cache.get('alice');
    assert.equal(state.loads, 2);
    cache.clear();
    await cache.get('alice');
    assert.equal(state.loads, 3);
  });
});
