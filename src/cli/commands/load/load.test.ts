import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execute, harness } from '../testing.js';
import { loadCommand } from './load.js';

const backup = { users: [{ username: 'alice', home_dir: '/a', password: 'x' }], folders: [], admins: [], version: 10 };
const routes = {
  'POST /loaddata': () => ({ body: { message: 'Data restored' } }),
  'GET /loaddata': () => ({ body: { message: 'Data restored' } }),
};

void describe('load', () => {
  void it('needs exactly one source', async () => {
    const h = harness({ routes });
    assert.equal(await execute(loadCommand(h.f), []), 2);
    assert.equal(await execute(loadCommand(h.f), ['x.json', '--server-path', 'y.json']), 2);
    assert.equal(await execute(loadCommand(h.f), ['x.json', '--mode', '7']), 2);
  });

  void it('mode 0 (default) and 2 need confirmation; mode 1 does not', async () => {
    const h = harness({ routes });
    const file = join(h.configHome, 'b.json');
    await writeFile(file, JSON.stringify(backup));
    assert.equal(await execute(loadCommand(h.f), [file]), 2);
    assert.match(h.io.err(), /refusing without --yes/);
    assert.equal(h.calls.length, 0);
    assert.equal(await execute(loadCommand(h.f), [file, '--mode', 'add-only', '--scan-quota', '2']), 0, h.io.err());
    assert.deepEqual(h.calls[0]?.query, { mode: '1', 'scan-quota': '2' });
    assert.deepEqual(h.calls[0]?.body, backup);
    const tty = harness({ tty: true, answers: ['yes'], routes });
    assert.equal(await execute(loadCommand(tty.f), [file, '--mode', '2']), 0);
    assert.match(tty.io.questions[0] ?? '', /disconnecting them\? \[y\/N\]/);
  });

  void it('reads stdin with -, and rejects what is not a backup', async () => {
    const h = harness({ routes, stdin: JSON.stringify(backup) });
    assert.equal(await execute(loadCommand(h.f), ['-', '--yes']), 0, h.io.err());
    assert.equal(h.io.out(), 'Backup restored from stdin\n');
    const bad = harness({ routes, stdin: 'not json' });
    assert.equal(await execute(loadCommand(bad.f), ['-', '--yes']), 2);
    assert.match(bad.io.err(), /stdin: not valid JSON/);
    assert.equal(bad.calls.length, 0);
  });

  void it('restores a file on the server with --server-path', async () => {
    const h = harness({ routes });
    assert.equal(await execute(loadCommand(h.f), ['--server-path', '/backups/b.json', '--yes', '--json']), 0);
    assert.deepEqual(h.calls[0]?.query, { 'input-file': '/backups/b.json' });
    assert.deepEqual(JSON.parse(h.io.out()), { message: 'Data restored' });
  });

  void it('shows upload progress on a terminal for large files', async () => {
    const h = harness({ tty: true, routes });
    const big = { ...backup, users: Array.from({ length: 4000 }, (_, i) => ({ username: `user${i}`, home_dir: `/home/user${i}`, description: 'x'.repeat(50) })) };
    const file = join(h.configHome, 'big.json');
    await writeFile(file, JSON.stringify(big));
    assert.equal(await execute(loadCommand(h.f), [file, '--yes']), 0, h.io.err());
    assert.match(h.io.err(), /sending backup: \d+% of/);
    assert.match(h.io.err(), /100% of .*restoring/);
    assert.equal((h.calls[0]?.body as typeof big).users.length, 4000);
  });
});
