/**
 * The shipped sftpgo.json of SFTPGo 2.1.2 (test/fixtures) starts cleanly, with only the ports
 * and addresses replaced through SFTPGO_* environment overrides; its telemetry server answers.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startService } from '../../../src/service/index.js';
import { basicAuth, freePort } from '../../helpers/server.js';

void describe('httpd: the upstream 2.1.2 sftpgo.json', () => {
  void it('starts and serves the API with env-overridden ports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-upstream-cfg-'));
    let summary = '';
    try {
      await copyFile(new URL('../../fixtures/sftpgo-2.1.2.json', import.meta.url), join(dir, 'sftpgo.json'));
      const httpPort = await freePort();
      const telemetryPort = await freePort();
      const env = {
        SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
        SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
        SFTPGO_SFTPD__BINDINGS__0__PORT: String(await freePort()),
        SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
        SFTPGO_TELEMETRY__BIND_PORT: String(telemetryPort),
        SFTPGO_DEFAULT_ADMIN_USERNAME: 'boss',
        SFTPGO_DEFAULT_ADMIN_PASSWORD: 'boss-password',
      };
      const svc = await startService({
        configDir: dir,
        env,
        logFilePath: 'sftpgo.log',
        summary: { write: (t: string) => (summary += t) },
      });
      try {
        assert.equal(svc.config.httpd.bindings[0]?.port, httpPort);
        assert.equal(svc.config.data_provider.driver, 'sqlite');
        assert.deepEqual(svc.httpd?.addresses(), [{ address: '127.0.0.1', port: httpPort }]);
        assert.match(summary, new RegExp(`http://127\\.0\\.0\\.1:${httpPort}/api/v2`));
        assert.match(summary, /sftpgo\.db/);
        assert.doesNotMatch(summary, /warning:/);
        assert.match(summary, new RegExp(`telemetry: +metrics on http://127\\.0\\.0\\.1:${telemetryPort}/metrics`));
        assert.equal(await (await fetch(`http://127.0.0.1:${telemetryPort}/healthz`)).text(), 'ok');
        assert.equal((await fetch(`http://127.0.0.1:${telemetryPort}/metrics`)).status, 200);
        const base = `http://127.0.0.1:${httpPort}`;
        assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok');
        const tok = await fetch(`${base}/api/v2/token`, { headers: { authorization: basicAuth('boss', 'boss-password') } });
        assert.equal(tok.status, 200);
        const { access_token } = (await tok.json()) as { access_token: string };
        const st = await fetch(`${base}/api/v2/status`, { headers: { authorization: `Bearer ${access_token}` } });
        assert.equal(st.status, 200);
        const status = (await st.json()) as { data_provider: { is_active: boolean } };
        assert.equal(status.data_provider.is_active, true);
      } finally {
        await svc.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
