/** When the data provider fails, answers are 5xx with a generic body and /status says so. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../helpers/server.js';

void describe('httpd: data provider unavailable', () => {
  void it('answers 5xx without internals and reports the provider inactive', async () => {
    const s = await startServer();
    try {
      const token = await s.adminToken();
      await s.provider.close();
      const r = await s.api<{ message: string; error?: string }>('GET', '/users', undefined, token);
      assert.ok(r.status >= 500 && r.status !== 501, `${r.status} ${r.text}`);
      assert.ok(['internal error', 'the service is temporarily unavailable'].includes(r.body.error ?? ''), r.text);
      assert.ok(!r.text.includes(s.configDir), 'no server paths in the body');
      assert.ok(!/sqlite|typeorm|stack/i.test(r.text), r.text);
      const st = await s.api<{ data_provider: { is_active: boolean; driver: string; error: string } }>(
        'GET',
        '/status',
        undefined,
        token,
      );
      assert.equal(st.status, 200);
      assert.equal(st.body.data_provider.is_active, false);
      assert.equal(st.body.data_provider.driver, 'sqlite');
      assert.ok(st.body.data_provider.error.length > 0);
      // the failure is in the log, with its cause, for the operator
      const log = await readFile(join(s.configDir, 'sftpgo.log'), 'utf8');
      assert.match(log, /request failed/);
    } finally {
      await s.stop();
    }
  });
});
