/**
 * httpd.signing_passphrase (sftpgo-ts addition): instances sharing it accept each other's tokens,
 * also across a restart; without it every start signs with a fresh random key (upstream).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../helpers/server.js';
import { assertApiError } from './util.js';

void describe('httpd: JWT signing passphrase', () => {
  void it('two servers with the same passphrase accept each other tokens', async () => {
    const config = { httpd: { signing_passphrase: 'correct horse battery staple' } };
    const a = await startServer({ config });
    const b = await startServer({ config });
    const c = await startServer({ config: { httpd: { signing_passphrase: 'another passphrase' } } });
    const d = await startServer();
    try {
      const ta = await a.adminToken();
      const tb = await b.adminToken();
      assert.equal((await b.api('GET', '/users', undefined, ta)).status, 200);
      assert.equal((await a.api('GET', '/users', undefined, tb)).status, 200);
      assertApiError(await c.api('GET', '/users', undefined, ta), 401, 'Unauthorized');
      assertApiError(await d.api('GET', '/users', undefined, ta), 401, 'Unauthorized');
      assertApiError(await a.api('GET', '/users', undefined, await d.adminToken()), 401, 'Unauthorized');
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop(), d.stop()]);
    }
  });

  void it('tokens survive a restart with a passphrase, not without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-restart-'));
    try {
      const admin = { username: 'admin', password: 'restart-password' };
      const withPass = { httpd: { signing_passphrase: 'restart secret' } };
      const first = await startServer({ configDir: dir, admin, config: withPass });
      const token = await first.adminToken();
      await first.stop();
      const second = await startServer({ configDir: dir, admin, config: withPass });
      try {
        assert.equal((await second.api('GET', '/users', undefined, token)).status, 200);
      } finally {
        await second.stop();
      }
      const third = await startServer({ configDir: dir, admin });
      try {
        assertApiError(await third.api('GET', '/users', undefined, token), 401, 'Unauthorized');
      } finally {
        await third.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
