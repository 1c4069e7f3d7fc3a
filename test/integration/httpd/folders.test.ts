/** /api/v2/folders CRUD and listing. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError, folderBody, userBody } from './util.js';

interface Folder {
  id?: number;
  name: string;
  mapped_path: string;
  description?: string;
  users?: string[];
  filesystem?: { provider: number };
}

void describe('httpd: folders', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.stop();
  });

  void it('creates, reads, updates and deletes a folder', async () => {
    const body = folderBody(s, 'f-crud', { description: 'shared' });
    const created = await s.api<Folder>('POST', '/folders', body);
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'f-crud');
    assert.equal(created.body.mapped_path, body.mapped_path);
    assert.equal(created.body.description, 'shared');
    assert.equal(created.body.filesystem?.provider, 0);

    const upd = await s.api('PUT', '/folders/f-crud', { description: 'changed', name: 'other' });
    assert.equal(upd.status, 200);
    assert.deepEqual(upd.body, { message: 'Folder updated' });
    const got = await s.api<Folder>('GET', '/folders/f-crud');
    assert.equal(got.status, 200);
    assert.equal(got.body.description, 'changed');
    assert.equal(got.body.mapped_path, body.mapped_path, 'omitted fields are kept');
    assertApiError(await s.api('GET', '/folders/other'), 404, /other/);

    const del = await s.api('DELETE', '/folders/f-crud');
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { message: 'Folder deleted' });
    assertApiError(await s.api('GET', '/folders/f-crud'), 404, /f-crud/);
    assertApiError(await s.api('DELETE', '/folders/f-crud'), 404, /f-crud/);
    assertApiError(await s.api('PUT', '/folders/f-crud', { description: 'x' }), 404, /f-crud/);
  });

  void it('shows which users map a folder', async () => {
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'f-mapped'))).status, 201);
    const u = userBody(s, 'mapper', { virtual_folders: [{ name: 'f-mapped', virtual_path: '/vdir' }] });
    const r = await s.api('POST', '/users', u);
    assert.equal(r.status, 201, r.text);
    const got = await s.api<Folder>('GET', '/folders/f-mapped');
    assert.deepEqual(got.body.users, ['mapper']);
  });

  void it('rejects invalid folders', async () => {
    assertApiError(await s.api('POST', '/folders', folderBody(s, 'bad name')), 400, /bad name/);
    assertApiError(await s.api('POST', '/folders', { name: 'relative', mapped_path: 'rel/path' }), 400, /path/);
    assertApiError(await s.api('POST', '/folders', { mapped_path: '/tmp/x' }), 400, /name/);
  });

  void it('lists folders with limit, offset and order', async () => {
    const names = ['lf-a', 'lf-b', 'lf-c', 'lf-d'];
    for (const n of names) assert.equal((await s.api('POST', '/folders', folderBody(s, n))).status, 201);
    const list = async (q: string): Promise<string[]> => {
      const r = await s.api<Folder[]>('GET', `/folders${q}`);
      assert.equal(r.status, 200, r.text);
      return r.body.map((f) => f.name).filter((n) => n.startsWith('lf-'));
    };
    assert.deepEqual(await list(''), names);
    assert.deepEqual(await list('?order=DESC'), [...names].reverse());
    const all = (await s.api<Folder[]>('GET', '/folders?order=ASC')).body.map((f) => f.name);
    const page = (await s.api<Folder[]>('GET', '/folders?limit=2&offset=1')).body.map((f) => f.name);
    assert.deepEqual(page, all.slice(1, 3));
    assertApiError(await s.api('GET', '/folders?limit=x'), 400, 'invalid limit');
    assertApiError(await s.api('GET', '/folders?order=random'), 400, 'invalid order');
  });
});
