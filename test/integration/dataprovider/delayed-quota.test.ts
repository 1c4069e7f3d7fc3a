/**
 * data_provider.delayed_quota_update against a real SQLite file: provider `a` has the delayed
 * updates, provider `b` (delayed_quota_update 0, same file) shows what is in the database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  createProvider,
  type DataProvider,
  type DataProviderConfigInput,
  type QuotaTimers,
  type User,
} from '../../../src/dataprovider/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sftpgo-delayed-quota-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

class ManualTimers implements QuotaTimers {
  scheduled: { fn: () => Promise<void>; ms: number } | undefined;
  set(fn: () => Promise<void>, ms: number): unknown {
    this.scheduled = { fn, ms };
    return this.scheduled;
  }
  clear(handle: unknown): void {
    if (this.scheduled === handle) this.scheduled = undefined;
  }
  async fire(): Promise<void> {
    const s = this.scheduled;
    assert.ok(s !== undefined, 'a flush is scheduled');
    this.scheduled = undefined;
    await s.fn();
  }
}

const user = (username: string, extra: Partial<User> = {}): User => ({
  username,
  password: 'secret',
  home_dir: `/srv/sftpgo/${username}`,
  status: 1,
  permissions: { '/': ['*'] } as unknown as User['permissions'],
  ...extra,
});

interface Pair {
  a: DataProvider;
  b: DataProvider;
  timers: ManualTimers;
  close(): Promise<void>;
}

async function openPair(extra: DataProviderConfigInput = {}, manual = true): Promise<Pair> {
  const base: DataProviderConfigInput = {
    driver: 'sqlite',
    name: join(dir, `db${++n}.sqlite`),
    password_hashing: { bcrypt_options: { cost: 4 } },
    track_quota: 1,
    ...extra,
  };
  const timers = new ManualTimers();
  const a = await createProvider(
    { ...base, delayed_quota_update: 1 },
    { configDir: dir, ...(manual ? { quotaTimers: timers } : {}) },
  );
  const b = await createProvider({ ...base, delayed_quota_update: 0 }, { configDir: dir });
  let closed = false;
  return {
    a,
    b,
    timers,
    close: async () => {
      if (closed) return;
      closed = true;
      await a.close();
      await b.close();
    },
  };
}

async function stored(p: DataProvider, username: string): Promise<[number, number]> {
  const u = await p.getUser(username);
  return [u.used_quota_size ?? -1, u.used_quota_files ?? -1];
}

void describe('delayed_quota_update (sqlite)', () => {
  void test('user deltas stay in memory until the flush, reads include them', async () => {
    const t = await openPair();
    try {
      await t.a.addFolder({ name: 'vf', mapped_path: join(dir, 'vf') });
      await t.a.addUser(
        user('alice', {
          quota_size: 1000,
          virtual_folders: [
            { name: 'vf', mapped_path: join(dir, 'vf'), virtual_path: '/vf' },
          ] as User['virtual_folders'],
        }),
      );
      assert.equal(t.timers.scheduled?.ms, 1000, 'flush loop every delayed_quota_update s');

      await t.a.updateUserQuota('alice', 100, 2, false);
      await t.a.updateUserQuota('alice', 50, 1, false);
      await t.a.updateFolderQuota('vf', 30, 1, false);

      // the database is unchanged
      assert.deepEqual(await stored(t.b, 'alice'), [0, 0]);
      assert.deepEqual(await t.b.getFolderUsedQuota('vf'), { usedQuotaSize: 0, usedQuotaFiles: 0 });

      // provider a reads stored + pending everywhere
      assert.deepEqual(await stored(t.a, 'alice'), [150, 3]);
      assert.deepEqual(await t.a.getUserUsedQuota('alice'), {
        usedQuotaSize: 150,
        usedQuotaFiles: 3,
      });
      const listed = (await t.a.getUsers()).find((u) => u.username === 'alice');
      assert.deepEqual([listed?.used_quota_size, listed?.used_quota_files], [150, 3]);
      const vf = (await t.a.getUser('alice')).virtual_folders?.[0];
      assert.deepEqual([vf?.used_quota_size, vf?.used_quota_files], [30, 1]);
      const f = await t.a.getFolder('vf');
      assert.deepEqual([f.used_quota_size, f.used_quota_files], [30, 1]);
      const fl = (await t.a.getFolders())[0];
      assert.deepEqual([fl?.used_quota_size, fl?.used_quota_files], [30, 1]);
      assert.deepEqual(await t.a.getFolderUsedQuota('vf'), {
        usedQuotaSize: 30,
        usedQuotaFiles: 1,
      });
      const dump = await t.a.dump();
      const du = dump.users?.find((u) => u.username === 'alice');
      assert.deepEqual([du?.used_quota_size, du?.used_quota_files], [150, 3]);
      const df = dump.folders?.find((x) => x.name === 'vf');
      assert.deepEqual([df?.used_quota_size, df?.used_quota_files], [30, 1]);

      // the timer fires: one atomic add per name, then a is back to the stored values
      await t.timers.fire();
      assert.deepEqual(await stored(t.b, 'alice'), [150, 3]);
      assert.deepEqual(await t.b.getFolderUsedQuota('vf'), {
        usedQuotaSize: 30,
        usedQuotaFiles: 1,
      });
      assert.deepEqual(await stored(t.a, 'alice'), [150, 3], 'no double counting');
      assert.ok(t.timers.scheduled !== undefined, 'next flush scheduled');

      // another instance's concurrent write is kept: the flush adds, it does not overwrite
      await t.b.updateUserQuota('alice', 1000, 10, false);
      await t.a.updateUserQuota('alice', -50, -1, false);
      assert.deepEqual(await stored(t.a, 'alice'), [1100, 12]);
      await t.timers.fire();
      assert.deepEqual(await stored(t.b, 'alice'), [1100, 12]);
    } finally {
      await t.close();
    }
  });

  void test('reset=true is written at once and drops the pending delta', async () => {
    const t = await openPair();
    try {
      await t.a.addUser(user('bob'));
      await t.a.addFolder({ name: 'f1', mapped_path: join(dir, 'f1') });
      await t.a.updateUserQuota('bob', 500, 5, false);
      await t.a.updateFolderQuota('f1', 70, 7, false);
      await t.a.updateUserQuota('bob', 10, 1, true);
      await t.a.updateFolderQuota('f1', 20, 2, true);
      assert.deepEqual(await stored(t.b, 'bob'), [10, 1]);
      assert.deepEqual(await t.b.getFolderUsedQuota('f1'), {
        usedQuotaSize: 20,
        usedQuotaFiles: 2,
      });
      assert.deepEqual(await stored(t.a, 'bob'), [10, 1]);
      await t.timers.fire();
      assert.deepEqual(await stored(t.b, 'bob'), [10, 1], 'the dropped delta is not written');
      assert.deepEqual(await t.b.getFolderUsedQuota('f1'), {
        usedQuotaSize: 20,
        usedQuotaFiles: 2,
      });
      // reset of an unknown user still fails at once
      await assert.rejects(t.a.updateUserQuota('nobody', 0, 0, true), /does not exist/);
    } finally {
      await t.close();
    }
  });

  void test('close() flushes the pending deltas', async () => {
    const t = await openPair();
    try {
      await t.a.addUser(user('carol'));
      await t.a.addFolder({ name: 'f2', mapped_path: join(dir, 'f2') });
      await t.a.updateUserQuota('carol', 42, 4, false);
      await t.a.updateFolderQuota('f2', 8, 1, false);
      assert.deepEqual(await stored(t.b, 'carol'), [0, 0]);
      await t.a.close();
      assert.equal(t.timers.scheduled, undefined, 'loop stopped');
      assert.deepEqual(await stored(t.b, 'carol'), [42, 4]);
      assert.deepEqual(await t.b.getFolderUsedQuota('f2'), { usedQuotaSize: 8, usedQuotaFiles: 1 });
    } finally {
      await t.b.close();
    }
  });

  void test('deltas of a deleted user are dropped, not retried', async () => {
    const t = await openPair();
    try {
      await t.a.addUser(user('dave'));
      await t.a.updateUserQuota('dave', 1, 1, false);
      await t.b.deleteUser('dave');
      await t.timers.fire();
      await t.a.addUser(user('dave'));
      await t.timers.fire();
      assert.deepEqual(await stored(t.b, 'dave'), [0, 0]);
    } finally {
      await t.close();
    }
  });

  void test('track_quota 2: pending deltas of a user without quota limits are not shown', async () => {
    const t = await openPair({ track_quota: 2 });
    try {
      await t.a.addUser(user('free'));
      await t.a.addUser(user('limited', { quota_files: 10 }));
      await t.a.updateUserQuota('free', 5, 1, false);
      await t.a.updateUserQuota('limited', 5, 1, false);
      assert.deepEqual(await stored(t.a, 'free'), [0, 0]);
      assert.deepEqual(await stored(t.a, 'limited'), [5, 1]);
      await t.timers.fire();
      assert.deepEqual(await stored(t.b, 'free'), [0, 0]);
      assert.deepEqual(await stored(t.b, 'limited'), [5, 1]);
    } finally {
      await t.close();
    }
  });

  void test('the real timer flushes within a few seconds', async () => {
    const t = await openPair({}, false);
    try {
      await t.a.addUser(user('erin'));
      await t.a.updateUserQuota('erin', 9, 3, false);
      const deadline = Date.now() + 10_000;
      let row = await stored(t.b, 'erin');
      while (row[0] !== 9 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        row = await stored(t.b, 'erin');
      }
      assert.deepEqual(row, [9, 3]);
      assert.deepEqual(await stored(t.a, 'erin'), [9, 3]);
    } finally {
      await t.close();
    }
  });
});
