/**
 * Bad input on every endpoint of quota, defender, connections, dump/load and the user API:
 * wrong JSON types, malformed bodies, unknown names, hostile paths and names. Every answer is
 * the documented 4xx in the API error shape (validated against the spec by api()), never a 500.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { folderBody, userBody } from './util.js';

interface Probe {
  method: string;
  path: string;
  body?: unknown;
  /** which token: admin (default) or user */
  as?: 'user';
  /** accepted statuses (default: any 4xx) */
  status?: number[];
}

void describe('httpd: bad input is a 4xx on every endpoint of quota, defender, maintenance and the user API', () => {
  let s: TestServer;
  let userToken: string;

  before(async () => {
    s = await startServer({ config: { common: { defender: { enabled: true, threshold: 1000 } } } });
    const home = join(s.configDir, 'homes', 'prober');
    await mkdir(home, { recursive: true });
    await writeFile(join(home, 'f.txt'), 'x');
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'pf'))).status, 201);
    assert.equal((await s.api('POST', '/users', userBody(s, 'prober', { quota_size: 10 }))).status, 201);
    const r = await s.api<{ access_token: string }>('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth('prober', 'pw-prober-secret') },
    });
    userToken = r.body.access_token;
  });
  after(async () => {
    await s.stop();
  });

  const longName = 'n'.repeat(5000);
  const weird = encodeURIComponent('../../etc/passwd');
  const probes: Probe[] = [
    // quota
    { method: 'POST', path: '/quotas/users/nobody/scan', status: [404] },
    { method: 'POST', path: `/quotas/users/${weird}/scan`, status: [404] },
    { method: 'POST', path: `/quotas/users/${longName}/scan`, status: [404] },
    { method: 'POST', path: '/quotas/folders/nofolder/scan', status: [404] },
    { method: 'PUT', path: '/quotas/users/prober/usage', body: 'not json', status: [400] },
    { method: 'PUT', path: '/quotas/users/prober/usage', body: { used_quota_size: 'big' }, status: [400] },
    { method: 'PUT', path: '/quotas/users/prober/usage', body: { used_quota_files: 1e300 }, status: [400] },
    { method: 'PUT', path: '/quotas/users/prober/usage', body: { used_quota_files: -5 }, status: [400] },
    { method: 'PUT', path: '/quotas/users/prober/usage?mode=', body: {}, status: [400] },
    { method: 'PUT', path: '/quotas/users/nobody/usage', body: {}, status: [404] },
    { method: 'PUT', path: '/quotas/folders/pf/usage', body: null, status: [400] },
    { method: 'PUT', path: '/quotas/folders/pf/usage', body: { used_quota_size: true }, status: [400] },
    { method: 'PUT', path: '/quotas/folders/nofolder/usage', body: {}, status: [404] },
    { method: 'POST', path: '/quota-scans', body: 'x', status: [400] },
    { method: 'POST', path: '/quota-scans', body: { username: 'nobody' }, status: [404] },
    { method: 'POST', path: '/quota-scans', body: { username: ['prober'] }, status: [400] },
    { method: 'PUT', path: '/quota-update', body: { username: 'prober', used_quota_size: 'x' }, status: [400] },
    { method: 'PUT', path: '/quota-update', body: { username: 'nobody' }, status: [404] },
    { method: 'POST', path: '/folder-quota-scans', body: { name: 5 }, status: [400] },
    { method: 'POST', path: '/folder-quota-scans', body: {}, status: [404] },
    { method: 'PUT', path: '/folder-quota-update', body: { name: 'nofolder' }, status: [404] },
    { method: 'PUT', path: '/folder-quota-update', body: [], status: [400] },
    // defender
    { method: 'GET', path: '/defender/hosts/0', status: [400] },
    { method: 'GET', path: '/defender/hosts/gg', status: [400] },
    { method: 'GET', path: `/defender/hosts/${Buffer.from('\0\0\0').toString('hex')}`, status: [400] },
    { method: 'GET', path: `/defender/hosts/${'61'.repeat(3000)}`, status: [400] },
    { method: 'DELETE', path: '/defender/hosts/zz', status: [400] },
    { method: 'DELETE', path: `/defender/hosts/${Buffer.from('10.1.1.1').toString('hex')}`, status: [404] },
    { method: 'GET', path: '/defender/bantime', status: [400] },
    { method: 'GET', path: '/defender/bantime?ip=localhost', status: [400] },
    { method: 'GET', path: '/defender/score?ip=1.2.3.4/24', status: [400] },
    { method: 'POST', path: '/defender/unban', body: '', status: [400] },
    { method: 'POST', path: '/defender/unban', body: { ip: null }, status: [400] },
    { method: 'POST', path: '/defender/unban', body: { ip: '::ffff:zz' }, status: [400] },
    { method: 'POST', path: '/defender/unban', body: { ip: '10.2.2.2' }, status: [404] },
    // connections
    { method: 'DELETE', path: '/connections/nope', status: [404] },
    { method: 'DELETE', path: `/connections/${weird}`, status: [404] },
    // dump / load
    { method: 'GET', path: '/dumpdata', status: [400] },
    { method: 'GET', path: '/dumpdata?output-file=..', status: [400] },
    { method: 'GET', path: '/dumpdata?output-file=../../x', status: [400] },
    { method: 'GET', path: '/dumpdata?output-file=%2Fetc%2Fx', status: [400] },
    { method: 'GET', path: '/dumpdata?output-file=a%00b', status: [400] },
    { method: 'GET', path: '/dumpdata?output-file=.', status: [400] },
    { method: 'GET', path: '/loaddata', status: [400] },
    { method: 'GET', path: '/loaddata?input-file=x&mode=9', status: [400] },
    { method: 'GET', path: '/loaddata?input-file=%2Fproc%2Fself%2Fenviron', status: [400] },
    { method: 'GET', path: '/loaddata?input-file=%2Fetc', status: [400] },
    { method: 'GET', path: '/loaddata?input-file=missing.json', status: [400] },
    { method: 'GET', path: '/loaddata?input-file=..%2F..%2Fsftpgo.db', status: [400] },
    { method: 'POST', path: '/loaddata', body: '{}}', status: [400] },
    { method: 'POST', path: '/loaddata', body: { users: [{ username: 'z', home_dir: '/tmp/z', permissions: 'all' }] }, status: [400] },
    { method: 'POST', path: '/loaddata', body: { folders: [{ name: 'bad name', mapped_path: '/tmp/x' }] }, status: [400] },
    { method: 'POST', path: '/loaddata', body: { admins: [{ username: 'a', password: 'p', permissions: ['fly'] }] }, status: [400] },
    { method: 'POST', path: '/loaddata?scan-quota=x', body: {}, status: [400] },
    // user API
    { method: 'GET', path: '/user/folder?path=%00', as: 'user', status: [400] },
    { method: 'GET', path: '/user/folder?path=/f.txt', as: 'user', status: [400, 404] },
    { method: 'GET', path: `/user/folder?path=${weird}`, as: 'user', status: [404] },
    { method: 'GET', path: '/user/file?path=', as: 'user', status: [400] },
    { method: 'GET', path: '/user/file?path=..', as: 'user', status: [400] },
    { method: 'GET', path: `/user/file?path=${weird}`, as: 'user', status: [404] },
    { method: 'GET', path: `/user/file?path=${encodeURIComponent('/f.txt/..%2f..%2fsftpgo.db')}`, as: 'user', status: [400, 404] },
    { method: 'POST', path: '/user/streamzip', body: 'x', as: 'user', status: [400] },
    { method: 'POST', path: '/user/streamzip', body: ['/nope'], as: 'user', status: [404] },
    { method: 'POST', path: '/user/streamzip', body: [`${'../'.repeat(50)}etc/passwd`], as: 'user', status: [404] },
    { method: 'POST', path: '/user/streamzip', body: ['\0'], as: 'user', status: [400] },
    { method: 'POST', path: '/user/streamzip', body: [{}], as: 'user', status: [400] },
    { method: 'PUT', path: '/user/publickeys', body: 'ssh-rsa', as: 'user', status: [400] },
    { method: 'PUT', path: '/user/publickeys', body: [42], as: 'user', status: [400] },
    { method: 'PUT', path: '/user/publickeys', body: ['ssh-ed25519 !!!'], as: 'user', status: [400] },
    { method: 'PUT', path: '/user/changepwd', body: [], as: 'user', status: [400] },
    { method: 'PUT', path: '/user/changepwd', body: { current_password: {}, new_password: 'x' }, as: 'user', status: [400] },
    { method: 'PUT', path: '/user/changepwd', body: {}, as: 'user', status: [400] },
    // a user token on admin routes and the reverse
    { method: 'GET', path: '/defender/hosts', as: 'user', status: [401] },
    { method: 'GET', path: '/user/publickeys', status: [401] },
  ];

  void it('every probe gets its 4xx', async () => {
    const failures: string[] = [];
    for (const p of probes) {
      const token = p.as === 'user' ? userToken : undefined;
      const r = await s.api(p.method, p.path, p.body === null ? 'null' : p.body, token);
      const ok = p.status ? p.status.includes(r.status) : r.status >= 400 && r.status < 500;
      if (!ok) failures.push(`${p.method} ${p.path.slice(0, 80)} -> ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status >= 400) assert.equal(typeof (r.body as { message?: unknown }).message, 'string', `${p.method} ${p.path}: ${r.text}`);
    }
    assert.deepEqual(failures, []);
    // nothing was created or changed by the probes
    assert.equal((await s.api<unknown[]>('GET', '/users')).body.length, 1);
    assert.equal((await s.api<{ used_quota_files: number }>('GET', '/users/prober')).body.used_quota_files, 0);
  });
});
