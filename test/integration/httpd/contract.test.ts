/**
 * The REST contract: every operationId of src/api/openapi.yaml is called against a real server
 * and every response is validated against the spec (test/helpers/openapi.ts, through api()).
 * The test fails when the spec has an operation without a case here, or when a case did not
 * actually reach its operation with a success status.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { hostId } from '../../../src/common/defender.js';
import { basicAuth, startServer, type ApiOptions, type ApiResult, type TestServer, type TokenArg } from '../../helpers/server.js';
import { folderBody, userBody } from './util.js';

type Case = () => Promise<void>;

const USER = 'contract-user';
const USER_PASSWORD = `pw-${USER}-secret`;
const ED25519_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVILdH2u3yV5SAeE6XksD1z1vXRg0E4hJUov8ITDAZ2 user@host';

function specOperationIds(s: TestServer): string[] {
  const ids: string[] = [];
  const paths = s.validator.document.paths as Record<string, Record<string, { operationId?: string }>>;
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item)) {
      if (typeof op === 'object' && op !== null && typeof op.operationId === 'string') ids.push(op.operationId);
    }
  }
  return ids;
}

void describe('httpd: the OpenAPI contract, operation by operation', () => {
  let s: TestServer;
  /** operationId -> statuses seen */
  const seen = new Map<string, number[]>();

  /** api() that records which operation each call reached */
  async function call<T = unknown>(method: string, path: string, body?: unknown, token?: TokenArg, o?: ApiOptions): Promise<ApiResult<T>> {
    const r = await s.api<T>(method, path, body, token, o);
    const full = path.startsWith('/api/') || path.startsWith('/healthz') ? path : `/api/v2${path}`;
    const op = s.validator.findOperation(method, full);
    if (op) seen.set(op.operationId, [...(seen.get(op.operationId) ?? []), r.status]);
    return r;
  }

  async function userToken(): Promise<string> {
    const r = await call<{ access_token: string }>('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth(USER, USER_PASSWORD) },
    });
    assert.equal(r.status, 200, r.text);
    return r.body.access_token;
  }

  async function waitNoScans(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const u = await s.api<unknown[]>('GET', '/quotas/users/scans');
      const f = await s.api<unknown[]>('GET', '/quotas/folders/scans');
      if (u.body.length === 0 && f.body.length === 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('quota scans did not finish');
  }

  /** a failed user login from 127.0.0.1: a defender score without a ban (threshold 100) */
  async function defenderEvent(): Promise<void> {
    const r = await s.api('GET', '/user/token', undefined, null, { headers: { authorization: basicAuth(USER, 'wrong-password') } });
    assert.equal(r.status, 401);
  }

  const expect = (r: ApiResult, status: number): void => assert.equal(r.status, status, `${status} expected: ${r.text}`);

  const cases: Record<string, Case> = {
    healthz: async () => expect(await call('GET', '/healthz', undefined, null), 200),
    get_token: async () => {
      const r = await call('GET', '/token', undefined, null, { headers: { authorization: basicAuth(s.admin.username, s.admin.password) } });
      expect(r, 200);
      expect(await call('GET', '/token', undefined, null), 401);
    },
    logout: async () => {
      const t = await s.token(s.admin.username, s.admin.password);
      expect(await call('GET', '/logout', undefined, t), 200);
      expect(await call('GET', '/version', undefined, t), 401);
    },
    get_user_token: async () => {
      await userToken();
    },
    client_logout: async () => {
      const t = await userToken();
      expect(await call('GET', '/user/logout', undefined, t), 200);
      expect(await call('GET', '/user/folder', undefined, t), 401);
    },
    get_version: async () => expect(await call('GET', '/version'), 200),
    change_admin_password_deprecated: async () => {
      await s.api('POST', '/admins', { username: 'pwd-old', password: 'old-password', status: 1, permissions: ['*'] });
      const t = await s.token('pwd-old', 'old-password');
      expect(await call('PUT', '/changepwd/admin', { current_password: 'old-password', new_password: 'new-password' }, t), 200);
      await s.token('pwd-old', 'new-password');
    },
    change_admin_password: async () => {
      await s.api('POST', '/admins', { username: 'pwd-new', password: 'old-password', status: 1, permissions: ['*'] });
      const t = await s.token('pwd-new', 'old-password');
      expect(await call('PUT', '/admin/changepwd', { current_password: 'old-password', new_password: 'new-password' }, t), 200);
      expect(await call('PUT', '/admin/changepwd', { current_password: 'nope', new_password: 'x' }, t), 400);
    },
    get_connections: async () => expect(await call('GET', '/connections'), 200),
    close_connection: async () => {
      assert.ok(s.sftpPort, 'the SFTP service runs');
      const client = new ssh2.Client();
      await new Promise<void>((resolve, reject) => {
        client.on('ready', () => resolve());
        client.on('error', reject);
        client.connect({ host: '127.0.0.1', port: s.sftpPort, username: USER, password: USER_PASSWORD });
      });
      try {
        const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((e, w) => (e ? reject(e) : resolve(w))));
        // closing the connection ends the SFTP channel (the SSH transport may stay, as upstream)
        const channelClosed = new Promise<void>((resolve) => sftp.on('close', () => resolve()));
        const list = await call<{ connection_id: string; username: string; protocol: string }[]>('GET', '/connections');
        const mine = list.body.find((c) => c.username === USER && c.protocol === 'SFTP');
        assert.ok(mine, list.text);
        expect(await call('DELETE', `/connections/${encodeURIComponent(mine.connection_id)}`), 200);
        await channelClosed;
        const after = await s.api<{ connection_id: string }[]>('GET', '/connections');
        assert.ok(!after.body.some((c) => c.connection_id === mine.connection_id), after.text);
      } finally {
        client.end();
      }
      expect(await call('DELETE', '/connections/SFTP_unknown_1'), 404);
    },
    get_defender_hosts: async () => {
      await defenderEvent();
      const r = await call<{ ip: string; score?: number }[]>('GET', '/defender/hosts');
      expect(r, 200);
      assert.ok(r.body.some((h) => h.ip === '127.0.0.1' && (h.score ?? 0) > 0), r.text);
    },
    get_defender_host_by_id: async () => {
      await defenderEvent();
      expect(await call('GET', `/defender/hosts/${hostId('127.0.0.1')}`), 200);
      expect(await call('GET', `/defender/hosts/${hostId('10.9.9.9')}`), 404);
      expect(await call('GET', '/defender/hosts/zz'), 400);
    },
    delete_defender_host_by_id: async () => {
      await defenderEvent();
      expect(await call('DELETE', `/defender/hosts/${hostId('127.0.0.1')}`), 200);
      expect(await call('DELETE', `/defender/hosts/${hostId('127.0.0.1')}`), 404);
    },
    get_ban_time: async () => {
      const r = await call<{ date_time: string | null }>('GET', '/defender/bantime?ip=127.0.0.1');
      expect(r, 200);
      assert.equal(r.body.date_time, null);
      expect(await call('GET', '/defender/bantime?ip=not-an-ip'), 400);
    },
    unban_host: async () => {
      await defenderEvent();
      expect(await call('POST', '/defender/unban', { ip: '127.0.0.1' }), 200);
      expect(await call('POST', '/defender/unban', { ip: '127.0.0.1' }), 404);
      expect(await call('POST', '/defender/unban', { ip: 5 }), 400);
    },
    get_score: async () => {
      await defenderEvent();
      const r = await call<{ score: number }>('GET', '/defender/score?ip=127.0.0.1');
      expect(r, 200);
      assert.ok(r.body.score > 0);
      await s.api('DELETE', `/defender/hosts/${hostId('127.0.0.1')}`);
    },
    get_users_quota_scans: async () => expect(await call('GET', '/quotas/users/scans'), 200),
    start_user_quota_scan: async () => {
      expect(await call('POST', `/quotas/users/${USER}/scan`), 202);
      await waitNoScans();
      expect(await call('POST', '/quotas/users/nobody/scan'), 404);
    },
    user_quota_update_usage: async () => {
      await waitNoScans();
      expect(await call('PUT', `/quotas/users/${USER}/usage?mode=reset`, { used_quota_size: 10, used_quota_files: 1 }), 200);
      expect(await call('PUT', `/quotas/users/${USER}/usage?mode=add`, { used_quota_size: 10, used_quota_files: 1 }), 200);
      expect(await call('PUT', `/quotas/users/${USER}/usage`, { used_quota_size: -1 }), 400);
    },
    get_folders_quota_scans: async () => expect(await call('GET', '/quotas/folders/scans'), 200),
    start_folder_quota_scan: async () => {
      expect(await call('POST', '/quotas/folders/contract-folder/scan'), 202);
      await waitNoScans();
    },
    folder_quota_update_usage: async () => {
      await waitNoScans();
      expect(await call('PUT', '/quotas/folders/contract-folder/usage', { used_quota_size: 5, used_quota_files: 1 }), 200);
      expect(await call('PUT', '/quotas/folders/contract-folder/usage?mode=bogus', { used_quota_size: 5 }), 400);
    },
    get_users_quota_scans_deprecated: async () => expect(await call('GET', '/quota-scans'), 200),
    start_user_quota_scan_deprecated: async () => {
      await waitNoScans();
      expect(await call('POST', '/quota-scans', { username: USER }), 202);
      await waitNoScans();
    },
    user_quota_update_usage_deprecated: async () => {
      await waitNoScans();
      expect(await call('PUT', '/quota-update', { username: USER, used_quota_size: 1, used_quota_files: 1 }), 200);
    },
    folder_quota_update_usage_deprecated: async () => {
      await waitNoScans();
      expect(await call('PUT', '/folder-quota-update', { name: 'contract-folder', used_quota_size: 1, used_quota_files: 1 }), 200);
    },
    get_folders_quota_scans_deprecated: async () => expect(await call('GET', '/folder-quota-scans'), 200),
    start_folder_quota_scan_deprecated: async () => {
      await waitNoScans();
      expect(await call('POST', '/folder-quota-scans', { name: 'contract-folder' }), 202);
      await waitNoScans();
    },
    get_folders: async () => expect(await call('GET', '/folders?limit=10&order=DESC'), 200),
    add_folder: async () => expect(await call('POST', '/folders', folderBody(s, 'contract-added')), 201),
    get_folder_by_name: async () => {
      expect(await call('GET', '/folders/contract-folder'), 200);
      expect(await call('GET', '/folders/missing-folder'), 404);
    },
    update_folder: async () => expect(await call('PUT', '/folders/contract-added', folderBody(s, 'contract-added', { description: 'd' })), 200),
    delete_folder: async () => expect(await call('DELETE', '/folders/contract-added'), 200),
    get_admins: async () => expect(await call('GET', '/admins'), 200),
    add_admin: async () => expect(await call('POST', '/admins', { username: 'contract-admin', password: 'p4ss', status: 1, permissions: ['view_users'] }), 201),
    get_admin_by_username: async () => expect(await call('GET', '/admins/contract-admin'), 200),
    update_admin: async () => expect(await call('PUT', '/admins/contract-admin', { status: 1, permissions: ['view_users', 'add_users'] }), 200),
    delete_admin: async () => expect(await call('DELETE', '/admins/contract-admin'), 200),
    get_users: async () => expect(await call('GET', '/users?offset=0&limit=5'), 200),
    add_user: async () => expect(await call('POST', '/users', userBody(s, 'contract-added-user')), 201),
    get_user_by_username: async () => expect(await call('GET', `/users/${USER}`), 200),
    update_user: async () => expect(await call('PUT', '/users/contract-added-user', { description: 'updated' }), 200),
    delete_user: async () => expect(await call('DELETE', '/users/contract-added-user'), 200),
    get_status: async () => {
      const r = await call<{ ssh: { is_active: boolean; host_keys: { fingerprint: string }[] }; defender: { is_active: boolean } }>('GET', '/status');
      expect(r, 200);
      assert.equal(r.body.defender.is_active, true);
      assert.equal(r.body.ssh.is_active, true);
      assert.ok(r.body.ssh.host_keys.length > 0 && r.body.ssh.host_keys.every((k) => k.fingerprint.startsWith('SHA256:')), r.text);
    },
    dumpdata: async () => {
      expect(await call('GET', '/dumpdata?output-file=contract/dump.json&indent=1'), 200);
      const r = await call<{ version: number }>('GET', '/dumpdata?output-data=1');
      expect(r, 200);
      assert.equal(r.body.version, 8);
      expect(await call('GET', '/dumpdata?output-file=../../x'), 400);
    },
    loaddata_from_file: async () => {
      await s.api('GET', '/dumpdata?output-file=contract/load.json');
      expect(await call('GET', `/loaddata?input-file=${encodeURIComponent(join(s.configDir, 'backups', 'contract', 'load.json'))}&mode=1`), 200);
      expect(await call('GET', '/loaddata?input-file=contract/load.json&mode=1&scan-quota=0'), 200);
      expect(await call('GET', '/loaddata?input-file=/nonexistent/dump.json'), 400);
    },
    loaddata_from_request_body: async () => {
      const dump = await s.api('GET', '/dumpdata?output-data=1');
      expect(await call('POST', '/loaddata?mode=1', dump.body), 200);
      expect(await call('POST', '/loaddata', '{"users": 5}'), 400);
    },
    change_user_password: async () => {
      await s.api('POST', '/users', userBody(s, 'pwd-user'));
      const login = await s.api<{ access_token: string }>('GET', '/user/token', undefined, null, {
        headers: { authorization: basicAuth('pwd-user', 'pw-pwd-user-secret') },
      });
      const t = login.body.access_token;
      expect(await call('PUT', '/user/changepwd', { current_password: 'pw-pwd-user-secret', new_password: 'brand-new' }, t), 200);
      expect(await call('PUT', '/user/changepwd', { current_password: 'wrong', new_password: 'other' }, t), 400);
    },
    get_user_public_keys: async () => {
      const r = await call<string[]>('GET', '/user/publickeys', undefined, await userToken());
      expect(r, 200);
    },
    set_user_public_keys: async () => {
      const t = await userToken();
      expect(await call('PUT', '/user/publickeys', [ED25519_KEY], t), 200);
      const r = await s.api<string[]>('GET', '/user/publickeys', undefined, t);
      assert.deepEqual(r.body, [ED25519_KEY]);
      expect(await call('PUT', '/user/publickeys', ['not a key'], t), 400);
    },
    get_user_folder_contents: async () => {
      const t = await userToken();
      const r = await call<{ name: string; size?: number; mode: number }[]>('GET', '/user/folder?path=%2F', undefined, t);
      expect(r, 200);
      const file = r.body.find((e) => e.name === 'hello.txt');
      assert.equal(file?.size, 11);
      const dir = r.body.find((e) => e.name === 'sub');
      assert.ok(dir && (dir.mode & 2147483648) !== 0, r.text);
      expect(await call('GET', '/user/folder?path=/missing', undefined, t), 404);
    },
    get_user_file: async () => {
      const t = await userToken();
      const r = await call('GET', '/user/file?path=hello.txt', undefined, t);
      expect(r, 200);
      assert.equal(r.text, 'hello world');
      const part = await call('GET', '/user/file?path=/hello.txt', undefined, t, { headers: { range: 'bytes=6-' } });
      expect(part, 206);
      assert.equal(part.text, 'world');
      expect(await call('GET', '/user/file?path=/sub', undefined, t), 400);
    },
    streamzip: async () => {
      const t = await userToken();
      const r = await call('POST', '/user/streamzip', ['/hello.txt', '/sub'], t);
      expect(r, 200);
      assert.equal(r.headers.get('content-type'), 'application/zip');
      expect(await call('POST', '/user/streamzip', { not: 'a list' }, t), 400);
    },
  };

  before(async () => {
    s = await startServer({
      config: {
        common: { defender: { enabled: true, threshold: 100, score_valid: 1, score_invalid: 2, score_limit_exceeded: 3 } },
      },
    });
    const home = join(s.configDir, 'homes', USER);
    await mkdir(join(home, 'sub'), { recursive: true });
    await writeFile(join(home, 'hello.txt'), 'hello world');
    await writeFile(join(home, 'sub', 'inner.bin'), Buffer.alloc(1000, 7));
    await mkdir(join(s.configDir, 'folders', 'contract-folder'), { recursive: true });
    let r = await s.api('POST', '/folders', folderBody(s, 'contract-folder'));
    assert.equal(r.status, 201, r.text);
    r = await s.api(
      'POST',
      '/users',
      userBody(s, USER, {
        quota_size: 1_000_000,
        virtual_folders: [{ name: 'contract-folder', virtual_path: '/vfolder', quota_size: -1, quota_files: -1 }],
      }),
    );
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    await s.stop();
  });

  void it('has a case for every operationId of the spec', () => {
    const ids = specOperationIds(s);
    assert.equal(ids.length, 53, `the spec has ${ids.length} operations`);
    const missing = ids.filter((id) => !(id in cases));
    assert.deepEqual(missing, [], `operations without a contract case: ${missing.join(', ')}`);
    const unknown = Object.keys(cases).filter((id) => !ids.includes(id));
    assert.deepEqual(unknown, [], `cases for operations not in the spec: ${unknown.join(', ')}`);
  });

  for (const [id, run] of Object.entries(cases)) {
    void it(id, async () => {
      await run();
      const statuses = seen.get(id) ?? [];
      assert.ok(
        statuses.some((st) => st >= 200 && st < 300),
        `${id} was never answered with a success status (seen: ${statuses.join(', ') || 'none'})`,
      );
    });
  }
});
