import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execute, harness } from '../testing.js';
import { foldersAddCommand } from './add.js';
import { foldersDeleteCommand } from './delete.js';
import { foldersGetCommand } from './get.js';
import { foldersListCommand } from './list.js';
import { foldersUpdateCommand } from './update.js';

const f1 = { id: 1, name: 'f1', mapped_path: '/data/f1', used_quota_size: 2048, used_quota_files: 2, users: ['alice'], filesystem: { provider: 0 } };

void describe('folders', () => {
  void it('list: table, tsv and json', async () => {
    const routes = { 'GET /folders': () => ({ body: [f1] }) };
    const tty = harness({ tty: true, routes });
    assert.equal(await execute(foldersListCommand(tty.f), ['--order', 'ASC']), 0);
    assert.equal(tty.calls[0]?.query.order, 'ASC');
    assert.match(tty.io.out(), /^NAME\s+STORAGE\s+USED SIZE\s+USED FILES/);
    const pipe = harness({ routes });
    await execute(foldersListCommand(pipe.f), []);
    assert.equal(pipe.io.out(), 'f1\tlocal\t2.0 KiB\t2\t-\talice\t/data/f1\n');
    const j = harness({ routes });
    await execute(foldersListCommand(j.f), ['--json']);
    assert.deepEqual(JSON.parse(j.io.out()), [f1]);
  });

  void it('get, add, update, delete', async () => {
    const h = harness({
      routes: {
        'GET /folders/f1': () => ({ body: f1 }),
        'POST /folders': (r) => ({ status: 201, body: { id: 2, ...(r.body as object) } }),
        'PUT /folders/f1': () => ({ body: { message: 'Folder updated' } }),
        'DELETE /folders/f1': () => ({ body: { message: 'Folder deleted' } }),
      },
    });
    assert.equal(await execute(foldersGetCommand(h.f), ['f1']), 0);
    assert.match(h.io.out(), /^mapped_path: +\/data\/f1$/m);
    assert.equal(await execute(foldersAddCommand(h.f), ['f2', '--mapped-path', '/data/f2', '--fs-provider', 'crypt', '--crypt-passphrase', 'pp']), 0, h.io.err());
    assert.deepEqual(h.calls[1]?.body, { name: 'f2', mapped_path: '/data/f2', filesystem: { provider: 4, cryptconfig: { passphrase: { status: 'Plain', payload: 'pp' } } } });
    assert.equal(await execute(foldersUpdateCommand(h.f), ['f1', '--description', 'shared']), 0);
    assert.deepEqual(h.calls[3]?.body, { ...f1, description: 'shared' });
    assert.equal(await execute(foldersUpdateCommand(h.f), ['f1']), 2);
    assert.equal(await execute(foldersDeleteCommand(h.f), ['f1']), 2);
    assert.equal(await execute(foldersDeleteCommand(h.f), ['f1', '--yes']), 0);
    assert.match(h.io.out(), /Folder "f2" added\nFolder "f1" updated\nFolder "f1" deleted\n$/);
  });
});
