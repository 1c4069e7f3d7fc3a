import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execute, harness } from '../testing.js';
import { dumpCommand } from './dump.js';

void describe('dump', () => {
  void it('prints the backup the server returns (output-data=1)', async () => {
    const backup = { users: [{ username: 'alice' }], folders: [], admins: [], version: 10 };
    const h = harness({ routes: { 'GET /dumpdata': (r) => ({ text: JSON.stringify(backup, null, r.query.indent === '1' ? 2 : 0) }) } });
    assert.equal(await execute(dumpCommand(h.f), ['--indent']), 0, h.io.err());
    assert.deepEqual(h.calls[0]?.query, { 'output-data': '1', indent: '1' });
    assert.deepEqual(JSON.parse(h.io.out()), backup);
    assert.ok(h.io.out().endsWith('}\n'));
  });

  void it('asks the server to write the file with --output-file', async () => {
    const h = harness({ routes: { 'GET /dumpdata': () => ({ body: { message: 'Data saved' } }) } });
    assert.equal(await execute(dumpCommand(h.f), ['--output-file', 'b.json']), 0);
    assert.deepEqual(h.calls[0]?.query, { 'output-file': 'b.json' });
    assert.equal(h.io.out(), 'Backup written on the server to b.json\n');
    const j = harness({ routes: { 'GET /dumpdata': () => ({ body: { message: 'Data saved' } }) } });
    await execute(dumpCommand(j.f), ['--output-file', 'b.json', '--json']);
    assert.deepEqual(JSON.parse(j.io.out()), { message: 'Data saved' });
  });
});
