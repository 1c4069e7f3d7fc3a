/** GET /healthz, /api/v2/version, /api/v2/status; unknown routes and wrong methods. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError } from './util.js';

interface Status {
  ssh: { is_active: boolean; bindings: { address: string; port: number }[] | null; ssh_commands: string[] };
  ftp: { is_active: boolean };
  webdav: { is_active: boolean };
  data_provider: { is_active: boolean; driver: string; error?: string };
  defender: { is_active: boolean };
}

void describe('httpd: health, version, status', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.stop();
  });

  void it('GET /healthz answers ok without authentication', async () => {
    const r = await s.api('GET', '/healthz', undefined, null);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const head = await fetch(`${s.httpUrl}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  void it('GET /version reports 2.1.2 and the build features', async () => {
    const r = await s.api<{ version: string; build_date: string; commit_hash: string; features: string[] }>('GET', '/version');
    assert.equal(r.status, 200);
    assert.equal(r.body.version, '2.1.2');
    assert.ok(r.body.build_date.length > 0);
    assert.ok(r.body.commit_hash.length > 0);
    assert.ok(r.body.features.includes('+sqlite'));
    assert.ok(r.body.features.every((f) => /^[+-][a-z0-9]+$/.test(f)), r.text);
    assertApiError(await s.api('GET', '/version', undefined, null), 401, 'Unauthorized');
  });

  void it('GET /status reports the services actually running', async () => {
    const r = await s.api<Status>('GET', '/status');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data_provider, { is_active: true, driver: 'sqlite', error: '' });
    assert.equal(r.body.ftp.is_active, false);
    assert.equal(r.body.webdav.is_active, false);
    assert.equal(typeof r.body.defender.is_active, 'boolean');
    if (s.sftpPort === undefined) {
      assert.equal(r.body.ssh.is_active, false);
      assert.equal(r.body.ssh.bindings, null);
    } else {
      assert.equal(r.body.ssh.is_active, true);
      assert.deepEqual(
        r.body.ssh.bindings?.map((b) => b.port),
        [s.sftpPort],
      );
    }
    assert.deepEqual(r.body.ssh.ssh_commands, ['md5sum', 'sha1sum', 'cd', 'pwd', 'scp']);
  });

  void it('answers unknown routes with 404 and wrong methods with 405, in the API error shape', async () => {
    assertApiError(await s.api('GET', '/nonexistent'), 404, 'Not Found');
    assertApiError(await s.api('GET', '/nonexistent', undefined, null), 404, 'Not Found');
    assertApiError(await s.api('GET', '/api/v1/users'), 404, 'Not Found');
    assertApiError(await s.api('GET', '/user/folders'), 404, 'Not Found');
    assertApiError(await s.api('GET', '/quotas/users'), 404, 'Not Found');
    const m1 = await s.api('DELETE', '/users');
    assertApiError(m1, 405, 'Method Not Allowed');
    assert.match(m1.headers.get('allow') ?? '', /GET/);
    assert.match(m1.headers.get('allow') ?? '', /POST/);
    assertApiError(await s.api('POST', '/users/someone', {}), 405, 'Method Not Allowed');
    assertApiError(await s.api('PATCH', '/admins/admin', {}), 405, 'Method Not Allowed');
    assertApiError(await s.api('POST', '/version'), 405, 'Method Not Allowed');
    assertApiError(await s.api('POST', '/healthz', 'x', null), 405, 'Method Not Allowed');
  });
});
