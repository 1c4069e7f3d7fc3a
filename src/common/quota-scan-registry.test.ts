import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { User } from '../dataprovider/provider.js';
import { QuotaScanRegistry } from './quota-scan-registry.js';

void describe('QuotaScanRegistry', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quota-scan-test-'));
    await mkdir(join(dir, 'home', 'sub'), { recursive: true });
    await writeFile(join(dir, 'home', 'a'), 'x'.repeat(10));
    await writeFile(join(dir, 'home', 'sub', 'b'), 'y'.repeat(5));
    await mkdir(join(dir, 'in-quota'), { recursive: true });
    await writeFile(join(dir, 'in-quota', 'c'), 'z'.repeat(7));
    await mkdir(join(dir, 'own-quota'), { recursive: true });
    await writeFile(join(dir, 'own-quota', 'd'), 'w'.repeat(100));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('tracks one scan per name, runs it in the background and resets the counters', async () => {
    const writes: unknown[] = [];
    let t = 5000;
    const reg = new QuotaScanRegistry({
      provider: {
        updateUserQuota: (u, size, files, reset) => Promise.resolve(void writes.push(['user', u, size, files, reset])),
        updateFolderQuota: (f, size, files, reset) => Promise.resolve(void writes.push(['folder', f, size, files, reset])),
      },
      now: () => t++,
    });
    const user: User = {
      username: 'u1',
      home_dir: join(dir, 'home'),
      status: 1,
      permissions: { '/': ['*'] } as unknown as User['permissions'],
      virtual_folders: [
        { name: 'inq', mapped_path: join(dir, 'in-quota'), virtual_path: '/inq', quota_size: -1, quota_files: -1 },
        { name: 'own', mapped_path: join(dir, 'own-quota'), virtual_path: '/own', quota_size: 0, quota_files: 0 },
      ],
    };
    assert.equal(reg.startUserScan(user), true);
    assert.equal(reg.startUserScan(user), false);
    assert.deepEqual(reg.getUserScans(), [{ username: 'u1', start_time: 5000 }]);
    assert.equal(reg.startFolderScan({ name: 'own', mapped_path: join(dir, 'own-quota') }), true);
    assert.deepEqual(reg.getFolderScans(), [{ name: 'own', start_time: 5001 }]);
    await reg.idle();
    assert.deepEqual(reg.getUserScans(), []);
    assert.deepEqual(reg.getFolderScans(), []);
    assert.deepEqual(
      writes.sort((a, b) => String(a).localeCompare(String(b))),
      [
        ['folder', 'own', 100, 1, true],
        ['user', 'u1', 22, 3, true],
      ],
    );
    // a usage update holds the slot like a scan
    assert.equal(reg.addUserScan('u1'), true);
    assert.equal(reg.startUserScan(user), false);
    assert.equal(reg.removeUserScan('u1'), true);
  });

  void it('a failing scan is logged and releases its slot', async () => {
    const warnings: string[] = [];
    const reg = new QuotaScanRegistry({
      provider: {
        updateUserQuota: () => Promise.reject(new Error('unexpected')),
        updateFolderQuota: () => Promise.reject(new Error('unexpected')),
      },
      logger: { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_o, m) => warnings.push(m ?? '') },
    });
    assert.equal(reg.startFolderScan({ name: 'missing', mapped_path: join(dir, 'does-not-exist') }), true);
    await reg.idle();
    assert.deepEqual(warnings, ['error scanning folder quota']);
    assert.deepEqual(reg.getFolderScans(), []);
  });
});
