/**
 * Quota scans and usage updates (current and deprecated routes): background scans, conflicts
 * with a running scan, update modes and their validation, quota tracking disabled.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { addAdmin, assertApiError, folderBody, userBody } from './util.js';

interface Usage {
  used_quota_size: number;
  used_quota_files: number;
}

async function waitScans(s: TestServer): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const u = await s.api<unknown[]>('GET', '/quotas/users/scans');
    const f = await s.api<unknown[]>('GET', '/quotas/folders/scans');
    if (u.body.length === 0 && f.body.length === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the quota scans did not finish');
}

void describe('httpd: quota', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    const home = join(s.configDir, 'homes', 'q1');
    await mkdir(join(home, 'd'), { recursive: true });
    await writeFile(join(home, 'f1'), Buffer.alloc(100));
    await writeFile(join(home, 'd', 'f2'), Buffer.alloc(50));
    await mkdir(join(s.configDir, 'folders', 'in'), { recursive: true });
    await writeFile(join(s.configDir, 'folders', 'in', 'x'), Buffer.alloc(7));
    await mkdir(join(s.configDir, 'folders', 'own'), { recursive: true });
    await writeFile(join(s.configDir, 'folders', 'own', 'y'), Buffer.alloc(1000));
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'in'))).status, 201);
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'own'))).status, 201);
    const r = await s.api(
      'POST',
      '/users',
      userBody(s, 'q1', {
        quota_size: 100_000,
        virtual_folders: [
          { name: 'in', virtual_path: '/in', quota_size: -1, quota_files: -1 },
          { name: 'own', virtual_path: '/own', quota_size: 0, quota_files: 0 },
        ],
      }),
    );
    assert.equal(r.status, 201, r.text);
    assert.equal((await s.api('POST', '/users', userBody(s, 'unlimited'))).status, 201);
  });
  after(async () => {
    await s.stop();
  });

  void it('scans a user (home + folders counted in the user quota) and a folder in the background', async () => {
    const r = await s.api('POST', '/quotas/users/q1/scan');
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body, { message: 'Scan started' });
    assert.equal((await s.api('POST', '/quotas/folders/own/scan')).status, 202);
    await waitScans(s);
    const u = await s.api<Usage>('GET', '/users/q1');
    assert.deepEqual([u.body.used_quota_size, u.body.used_quota_files], [157, 3]);
    const f = await s.api<Usage>('GET', '/folders/own');
    assert.deepEqual([f.body.used_quota_size, f.body.used_quota_files], [1000, 1]);
    // deprecated forms
    assert.equal((await s.api('POST', '/quota-scans', { username: 'q1' })).status, 202);
    assert.equal((await s.api('POST', '/folder-quota-scans', { name: 'in' })).status, 202);
    await waitScans(s);
    assert.equal((await s.api<Usage>('GET', '/folders/in')).body.used_quota_size, 7);
  });

  void it('a scan or update already holding a name is a 409', async () => {
    assert.ok(s.service.quotaScans.addUserScan('q1'));
    try {
      assertApiError(await s.api('POST', '/quotas/users/q1/scan'), 409, 'Another scan is already in progress');
      assertApiError(await s.api('PUT', '/quotas/users/q1/usage', { used_quota_size: 1 }), 409, 'A quota scan is in progress for this user');
      const list = await s.api<{ username: string; start_time: number }[]>('GET', '/quota-scans');
      assert.equal(list.body[0]?.username, 'q1');
      assert.ok((list.body[0]?.start_time ?? 0) > 1_600_000_000_000);
    } finally {
      s.service.quotaScans.removeUserScan('q1');
    }
    assert.ok(s.service.quotaScans.addFolderScan('own'));
    try {
      assertApiError(await s.api('POST', '/quotas/folders/own/scan'), 409, 'Another scan is already in progress');
      assertApiError(await s.api('PUT', '/quotas/folders/own/usage', { used_quota_files: 1 }), 409, 'A quota scan is in progress for this folder');
      const list = await s.api<{ name: string }[]>('GET', '/folder-quota-scans');
      assert.equal(list.body[0]?.name, 'own');
    } finally {
      s.service.quotaScans.removeFolderScan('own');
    }
  });

  void it('usage updates: reset by default, add, validation', async () => {
    assert.equal((await s.api('PUT', '/quotas/users/q1/usage', { used_quota_size: 500, used_quota_files: 5 })).status, 200);
    assert.equal((await s.api('PUT', '/quotas/users/q1/usage?mode=add', { used_quota_size: 10 })).status, 200);
    const u = await s.api<Usage>('GET', '/users/q1');
    assert.deepEqual([u.body.used_quota_size, u.body.used_quota_files], [510, 5]);
    assert.equal((await s.api('PUT', '/quota-update?mode=reset', { username: 'q1', used_quota_size: 1, used_quota_files: 1 })).status, 200);
    assert.equal((await s.api<Usage>('GET', '/users/q1')).body.used_quota_size, 1);
    assert.equal((await s.api('PUT', '/quotas/folders/own/usage?mode=add', { used_quota_size: 5, used_quota_files: 1 })).status, 200);
    assert.equal((await s.api('PUT', '/folder-quota-update', { name: 'own', used_quota_size: 3, used_quota_files: 3 })).status, 200);
    assert.equal((await s.api<Usage>('GET', '/folders/own')).body.used_quota_files, 3);

    assertApiError(await s.api('PUT', '/quotas/users/q1/usage', { used_quota_size: -1 }), 400, 'invalid used quota parameters, negative values are not allowed');
    assertApiError(await s.api('PUT', '/quotas/users/q1/usage?mode=sub', { used_quota_size: 1 }), 400, 'invalid mode');
    assertApiError(await s.api('PUT', '/quotas/users/q1/usage', { used_quota_size: '1' }), 400, /used_quota_size/);
    assertApiError(await s.api('PUT', '/quotas/users/q1/usage', { used_quota_size: 1.5 }), 400, /used_quota_size/);
    assertApiError(await s.api('PUT', '/quotas/users/q1/usage', [1]), 400, /must be an object/);
    assertApiError(await s.api('PUT', '/quotas/users/q1/usage', '{'), 400, /invalid JSON/);
    assertApiError(await s.api('PUT', '/quotas/users/unlimited/usage?mode=add', { used_quota_size: 1 }), 400, 'this user has no quota restrictions, only reset mode is supported');
    assert.equal((await s.api('PUT', '/quotas/users/unlimited/usage?mode=reset', { used_quota_size: 1 })).status, 200);
    assert.equal((await s.api('PUT', '/quotas/users/nobody/usage', { used_quota_size: 1 })).status, 404);
    assert.equal((await s.api('PUT', '/quotas/folders/nofolder/usage', { used_quota_size: 1 })).status, 404);
    assert.equal((await s.api('PUT', '/quota-update', { used_quota_size: 1 })).status, 404);
    assert.equal((await s.api('POST', '/quotas/users/nobody/scan')).status, 404);
    assert.equal((await s.api('POST', '/quotas/folders/nofolder/scan')).status, 404);
    assert.equal((await s.api('POST', '/quota-scans', { username: 5 })).status, 400);
  });

  void it('permissions: quota_scans for scans, edit_users for usage updates', async () => {
    const viewer = await addAdmin(s, 'qviewer', ['view_users']);
    const t = await viewer.token();
    assertApiError(await s.api('GET', '/quotas/users/scans', undefined, t), 403, 'Forbidden');
    assertApiError(await s.api('POST', '/quotas/users/q1/scan', undefined, t), 403, 'Forbidden');
    assertApiError(await s.api('PUT', '/quotas/users/q1/usage', { used_quota_size: 1 }, t), 403, 'Forbidden');
    const scanner = await addAdmin(s, 'qscanner', ['quota_scans']);
    assert.equal((await s.api('GET', '/quotas/folders/scans', undefined, await scanner.token())).status, 200);
  });
});

void describe('httpd: quota tracking disabled', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ config: { data_provider: { track_quota: 0 } } });
    assert.equal((await s.api('POST', '/users', userBody(s, 'nq', { quota_size: 10 }))).status, 201);
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'nqf'))).status, 201);
  });
  after(async () => {
    await s.stop();
  });

  void it('scans and usage updates are refused with 403', async () => {
    assertApiError(await s.api('POST', '/quotas/users/nq/scan'), 403, 'Quota tracking is disabled!');
    assertApiError(await s.api('POST', '/quotas/folders/nqf/scan'), 403, 'Quota tracking is disabled!');
    assertApiError(await s.api('POST', '/quota-scans', { username: 'nq' }), 403, 'Quota tracking is disabled!');
    assertApiError(await s.api('PUT', '/quotas/users/nq/usage', { used_quota_size: 1 }), 403, 'Quota tracking is disabled!');
    assertApiError(await s.api('PUT', '/quotas/folders/nqf/usage', { used_quota_size: 1 }), 403, 'Quota tracking is disabled!');
    // a missing object is still a 404 for usage updates, as upstream checks it first
    assert.equal((await s.api('PUT', '/quotas/users/nobody/usage', { used_quota_size: 1 })).status, 404);
  });
});
