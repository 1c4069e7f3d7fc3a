import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../client/index.js';
import { healthCommand } from '../health/health.js';
import { execute, harness } from '../testing.js';
import { versionCommand } from '../version/version.js';
import { statusCommand } from './status.js';

void describe('status, version, health', () => {
  void it('status shows one row per service', async () => {
    const st = { ssh: { is_active: true, bindings: [{ address: '127.0.0.1', port: 2022 }] }, ftp: { is_active: false }, webdav: { is_active: false }, data_provider: { is_active: true, driver: 'sqlite' }, defender: { is_active: false } };
    const h = harness({ routes: { 'GET /status': () => ({ body: st }) } });
    assert.equal(await execute(statusCommand(h.f), []), 0);
    assert.match(h.io.out(), /^SSH\/SFTP\tactive\t127\.0\.0\.1:2022$/m);
    assert.match(h.io.out(), /^data provider\tactive\tsqlite$/m);
  });

  void it('version prints the version line, --json the object', async () => {
    const v = { version: '2.1.2', build_date: 'd', commit_hash: 'c', features: ['+sqlite'] };
    const h = harness({ routes: { 'GET /version': () => ({ body: v }) } });
    assert.equal(await execute(versionCommand(h.f), []), 0);
    assert.equal(h.io.out(), 'SFTPGo 2.1.2-c-d at http://127.0.0.1:9\nfeatures: +sqlite\n');
    const j = harness({ routes: { 'GET /version': () => ({ body: v }) } });
    await execute(versionCommand(j.f), ['--json']);
    assert.deepEqual(JSON.parse(j.io.out()), v);
  });

  void it('health needs no login', async () => {
    const h = harness({ routes: { 'GET /healthz': () => ({ text: 'ok' }) }, env: { SFTPGO_ADMIN_PASSWORD: '' } });
    assert.equal(await execute(healthCommand(h.f), []), 0);
    assert.equal(h.io.out(), 'ok\n');
    assert.equal(h.calls[0]?.auth, null);
  });

  void it('a wrong password is exit 1 with a hint', async () => {
    const h = harness({ env: { SFTPGO_ADMIN_PASSWORD: 'wrong' } });
    assert.equal(await execute(statusCommand(h.f), []), 1);
    assert.match(h.io.err(), /^Error: invalid credentials\nhint: check the admin username and password/);
    assert.ok(ApiError.is(new ApiError('x', { kind: 'http', status: 401 })));
  });
});
