import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execute, harness } from '../testing.js';
import { connectionsCloseCommand } from './close.js';
import { connectionsListCommand } from './list.js';

void describe('connections', () => {
  void it('lists connections with their transfers', async () => {
    const now = Date.now();
    const conn = {
      connection_id: 'SFTP_abc_1', username: 'alice', protocol: 'SFTP', remote_address: '127.0.0.1:5555',
      connection_time: now - 65_000, last_activity: now - 1000,
      active_transfers: [{ operation_type: 'upload', path: '/big.bin', size: 3 * 1024 * 1024, start_time: now - 2000 }],
    };
    const h = harness({ routes: { 'GET /connections': () => ({ body: [conn] }) } });
    assert.equal(await execute(connectionsListCommand(h.f), []), 0);
    assert.match(h.io.out(), /^SFTP_abc_1\talice\tSFTP\t127\.0\.0\.1:5555\t1m0[45]s\t[01]s\tUL \/big\.bin 3\.0 MiB\n$/);
    const j = harness({ routes: { 'GET /connections': () => ({ body: [conn] }) } });
    await execute(connectionsListCommand(j.f), ['--json']);
    assert.deepEqual(JSON.parse(j.io.out()), [conn]);
  });

  void it('close needs confirmation; a missing id is exit 1', async () => {
    const h = harness({ routes: { 'DELETE /connections/SFTP_abc_1': () => ({ body: { message: 'Connection closed' } }) } });
    assert.equal(await execute(connectionsCloseCommand(h.f), ['SFTP_abc_1']), 2);
    assert.equal(await execute(connectionsCloseCommand(h.f), ['SFTP_abc_1', '-y']), 0);
    assert.equal(h.io.out(), 'Connection SFTP_abc_1 closed\n');
    assert.equal(await execute(connectionsCloseCommand(h.f), ['nope', '-y']), 1);
  });
});
