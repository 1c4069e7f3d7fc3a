/**
 * Malformed requests across the CRUD endpoints: bad JSON, wrong types, oversized bodies, bad
 * query parameters, path traversal in names, unknown names. None may get a 500; each gets the
 * exact status and a message naming the problem.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError, folderBody, userBody } from './util.js';
import { MALFORMED_CASES as cases } from './malformed-cases.js';


void describe('httpd: malformed requests', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    assert.equal((await s.api('POST', '/users', userBody(s, 'victim'))).status, 201);
    assert.equal((await s.api('POST', '/folders', folderBody(s, 'fold'))).status, 201);
  });
  after(async () => {
    await s.stop();
  });

  void it(`has at least 30 cases (${cases.length})`, () => {
    assert.ok(cases.length >= 30);
  });

  for (const c of cases) {
    void it(`${c.method} ${c.path.slice(0, 60)}: ${c.name} -> ${c.status}`, async () => {
      const body = typeof c.body === 'function' ? (c.body as (s: TestServer) => unknown)(s) : c.body;
      const r = await s.api(c.method, c.path, body);
      assert.notEqual(r.status, 500, r.text);
      assertApiError(r, c.status, c.message);
    });
  }

  void it('ignores unknown fields of any type, as upstream', async () => {
    const r = await s.api<Record<string, unknown>>(
      'POST',
      '/users',
      userBody(s, 'extra-fields', { unknown: { deep: [1, { x: null }] }, also: 12, __proto__x: true }),
    );
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.unknown, undefined);
    assert.equal(r.body.also, undefined);
  });

  void it('the victim objects survived every malformed request unchanged', async () => {
    const u = await s.api<{ username: string; max_sessions: number }>('GET', '/users/victim');
    assert.equal(u.status, 200);
    assert.equal(u.body.max_sessions, 0);
    assert.equal((await s.api('GET', '/folders/fold')).status, 200);
    // and the server still answers normally
    assert.equal((await s.api('GET', '/healthz', undefined, null)).text, 'ok');
  });
});
