/**
 * The quota tracking rules on counters held in memory: what reaches the store and what readers
 * see. The provider suites in test/integration/dataprovider run the same rules on real databases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { QuotaTracker, type QuotaCounters, type QuotaKind, type QuotaWrite } from './quota.js';
import type { QuotaTimers } from './quota-updater.js';

class Counters {
  writes: [QuotaKind, string, QuotaWrite][] = [];
  rows = new Map<string, QuotaCounters>();
  writeQuota(kind: QuotaKind, name: string, w: QuotaWrite): Promise<void> {
    this.writes.push([kind, name, w]);
    return Promise.resolve();
  }
  readQuota(kind: QuotaKind, name: string): Promise<QuotaCounters> {
    const r = this.rows.get(`${kind}/${name}`);
    return r === undefined
      ? Promise.reject(new SftpgoError('NOT_FOUND', `${kind} ${name} does not exist`))
      : Promise.resolve(r);
  }
}

/** a flush loop that never fires by itself */
const idleTimers: QuotaTimers = { set: () => 'handle', clear: () => undefined };

void describe('QuotaTracker', () => {
  void test('track_quota 0 refuses every quota method', async () => {
    const t = new QuotaTracker({
      trackQuota: 0,
      delaySeconds: 0,
      store: new Counters(),
      now: Date.now,
    });
    const disabled = (e: unknown) => SftpgoError.is(e, 'METHOD_DISABLED');
    await assert.rejects(t.update('user', 'u', 1, 1, false), disabled);
    await assert.rejects(t.usage('folder', 'f'), disabled);
  });

  void test('writes: integers only, nothing for a zero delta, track_quota 2 restricts user deltas', async () => {
    const store = new Counters();
    const t = new QuotaTracker({ trackQuota: 2, delaySeconds: 0, store, now: () => 42 });
    await assert.rejects(t.update('user', 'u', 1.5, 1, false), (e: unknown) =>
      SftpgoError.is(e, 'INVALID_INPUT'),
    );
    await t.update('user', 'u', 0, 0, false);
    assert.equal(store.writes.length, 0);
    await t.update('user', 'u', 5, 1, false);
    await t.update('user', 'u', 0, 0, true);
    await t.update('folder', 'f', 5, 1, false);
    const w = (reset: boolean, onlyIfRestricted: boolean, size = 5, files = 1) => ({
      sizeDelta: size,
      filesDelta: files,
      reset,
      at: 42,
      onlyIfRestricted,
    });
    assert.deepEqual(store.writes, [
      ['user', 'u', w(false, true)],
      ['user', 'u', w(true, false, 0, 0)],
      ['folder', 'f', w(false, false)],
    ]);
  });

  void test('delayed updates: pending deltas shown to readers, dropped by a reset, written on close', async () => {
    const store = new Counters();
    store.rows.set('user/free', { used_quota_size: 1, used_quota_files: 1 });
    store.rows.set('user/limited', {
      used_quota_size: 1,
      used_quota_files: 1,
      quota_size: 0,
      quota_files: 9,
    });
    store.rows.set('folder/f', { used_quota_size: 0, used_quota_files: 0 });
    const t = new QuotaTracker({
      trackQuota: 2,
      delaySeconds: 1,
      store,
      now: () => 7,
      timers: idleTimers,
    });
    await t.update('user', 'free', 10, 1, false);
    await t.update('user', 'limited', 10, 1, false);
    await t.update('folder', 'f', 3, 1, false);
    assert.equal(store.writes.length, 0, 'nothing written before the flush');
    assert.deepEqual(await t.usage('user', 'free'), { usedQuotaSize: 1, usedQuotaFiles: 1 });
    assert.deepEqual(await t.usage('user', 'limited'), { usedQuotaSize: 11, usedQuotaFiles: 2 });
    const u = t.user({
      username: 'limited',
      quota_files: 9,
      used_quota_size: 1,
      used_quota_files: 1,
      virtual_folders: [{ name: 'f', virtual_path: '/f', used_quota_size: 0 }],
    });
    assert.deepEqual([u.used_quota_size, u.virtual_folders?.[0]?.used_quota_size], [11, 3]);
    assert.equal(t.folder({ name: 'f', used_quota_files: 1 }).used_quota_files, 2);

    await t.update('folder', 'f', 0, 0, true);
    assert.deepEqual(await t.usage('folder', 'f'), { usedQuotaSize: 0, usedQuotaFiles: 0 });
    t.forget('user', 'free');
    await t.close();
    assert.deepEqual(
      store.writes.map(([kind, name, w]) => [kind, name, w.sizeDelta, w.reset, w.onlyIfRestricted]),
      [
        ['folder', 'f', 0, true, false],
        ['user', 'limited', 10, false, true],
      ],
    );
  });
});
