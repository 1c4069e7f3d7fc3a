/**
 * Malformed requests across the CRUD endpoints: bad JSON, wrong types, oversized bodies, bad
 * query parameters, path traversal in names, unknown names. None may get a 500; each gets the
 * exact status and a message naming the problem.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { assertApiError, folderBody, userBody } from './util.js';

interface Case {
  name: string;
  method: string;
  path: string;
  /** object -> JSON; string/Buffer -> sent verbatim; function -> built with the server */
  body?: unknown | ((s: TestServer) => unknown);
  status: number;
  /** a string is the exact `message`; a RegExp is matched against message and error */
  message: RegExp | string;
}

const big = (n: number): string => JSON.stringify({ username: 'big', description: 'x'.repeat(n) });
const deepArray = (depth: number): string => `{"public_keys": ${'['.repeat(depth)}${']'.repeat(depth)}}`;

const cases: Case[] = [
  // --- bodies that are not JSON objects
  { name: 'truncated JSON', method: 'POST', path: '/users', body: '{"username": "a"', status: 400, message: /invalid JSON body/ },
  { name: 'JSON syntax error', method: 'POST', path: '/admins', body: "{'username': 'a'}", status: 400, message: /invalid JSON body/ },
  { name: 'empty body', method: 'POST', path: '/users', body: '', status: 400, message: /request body is empty/ },
  { name: 'whitespace body', method: 'POST', path: '/folders', body: '  \n ', status: 400, message: /request body is empty/ },
  { name: 'array body', method: 'POST', path: '/users', body: '[]', status: 400, message: /request body must be an object, got an array/ },
  { name: 'string body', method: 'POST', path: '/admins', body: '"admin"', status: 400, message: /request body must be an object, got a string/ },
  { name: 'null body', method: 'POST', path: '/folders', body: 'null', status: 400, message: /request body must be an object, got null/ },
  { name: 'number body', method: 'PUT', path: '/users/victim', body: '42', status: 400, message: /request body must be an object, got an integer/ },
  { name: 'invalid UTF-8', method: 'POST', path: '/folders', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), status: 400, message: /not valid UTF-8/ },
  { name: 'body over 1 MiB', method: 'POST', path: '/users', body: big(2 * 1024 * 1024), status: 400, message: /request body too large: the limit is 1048576 bytes/ },
  { name: 'body just over 1 MiB on PUT', method: 'PUT', path: '/users/victim', body: big(1024 * 1024), status: 400, message: /request body too large/ },
  // --- known fields with the wrong JSON type
  { name: 'status as string', method: 'POST', path: '/users', body: { username: 'w1', status: '1' }, status: 400, message: /field "status" must be an integer, got a string/ },
  { name: 'permissions as array', method: 'POST', path: '/users', body: { username: 'w2', permissions: ['*'] }, status: 400, message: /field "permissions" must be an object, got an array/ },
  { name: 'permission list as string', method: 'POST', path: '/users', body: { username: 'w3', permissions: { '/': '*' } }, status: 400, message: /field "permissions\.\/" must be an array, got a string/ },
  { name: 'public_keys as string', method: 'POST', path: '/users', body: { username: 'w4', public_keys: 'ssh-ed25519 AAAA' }, status: 400, message: /field "public_keys" must be an array, got a string/ },
  { name: 'fractional quota', method: 'POST', path: '/users', body: { username: 'w5', quota_size: 1.5 }, status: 400, message: /field "quota_size" must be an integer, got a number with a fraction/ },
  { name: 'integer out of range', method: 'POST', path: '/users', body: '{"username": "w6", "uid": 1e300}', status: 400, message: /field "uid" must be an integer/ },
  { name: 'nested filter type', method: 'POST', path: '/users', body: { username: 'w7', filters: { allowed_ip: '10.0.0.0/8' } }, status: 400, message: /field "filters\.allowed_ip" must be an array, got a string/ },
  { name: 'hook flag as string', method: 'POST', path: '/users', body: { username: 'w8', filters: { hooks: { pre_login_disabled: 'yes' } } }, status: 400, message: /field "filters\.hooks\.pre_login_disabled" must be a boolean, got a string/ },
  { name: 'provider as string', method: 'POST', path: '/users', body: { username: 'w9', filesystem: { provider: 's3' } }, status: 400, message: /field "filesystem\.provider" must be an integer, got a string/ },
  { name: 'secret as string', method: 'POST', path: '/users', body: { username: 'w10', filesystem: { provider: 1, s3config: { access_secret: 'plain' } } }, status: 400, message: /field "filesystem\.s3config\.access_secret" must be an object, got a string/ },
  { name: 'virtual_folders as object', method: 'POST', path: '/users', body: { username: 'w11', virtual_folders: { name: 'x' } }, status: 400, message: /field "virtual_folders" must be an array, got an object/ },
  { name: 'virtual folder name as number', method: 'POST', path: '/users', body: { username: 'w12', virtual_folders: [{ name: 7, virtual_path: '/v' }] }, status: 400, message: /field "virtual_folders\[0\]\.name" must be a string, got an integer/ },
  { name: 'deeply nested array in a string list', method: 'POST', path: '/users', body: deepArray(5000), status: 400, message: /field "public_keys\[0\]" must be a string, got an array/ },
  { name: 'unknown field plus a bad known one', method: 'POST', path: '/users', body: { username: 'w13', whatever: { a: [1, null] }, expiration_date: 'tomorrow' }, status: 400, message: /field "expiration_date" must be an integer, got a string/ },
  { name: 'admin permissions as string', method: 'POST', path: '/admins', body: { username: 'a1', password: 'p', permissions: '*' }, status: 400, message: /field "permissions" must be an array, got a string/ },
  { name: 'admin status as boolean', method: 'POST', path: '/admins', body: { username: 'a2', password: 'p', status: true, permissions: ['*'] }, status: 400, message: /field "status" must be an integer, got a boolean/ },
  { name: 'admin allow_list entry as number', method: 'POST', path: '/admins', body: { username: 'a3', password: 'p', permissions: ['*'], filters: { allow_list: [10] } }, status: 400, message: /field "filters\.allow_list\[0\]" must be a string, got an integer/ },
  { name: 'admin update with wrong type', method: 'PUT', path: '/admins/admin', body: { email: 42 }, status: 400, message: /field "email" must be a string, got an integer/ },
  { name: 'folder mapped_path as number', method: 'POST', path: '/folders', body: { name: 'f1', mapped_path: 5 }, status: 400, message: /field "mapped_path" must be a string, got an integer/ },
  { name: 'folder update with wrong type', method: 'PUT', path: '/folders/fold', body: { description: ['x'] }, status: 400, message: /field "description" must be a string, got an array/ },
  { name: 'user update with wrong type', method: 'PUT', path: '/users/victim', body: { max_sessions: '3' }, status: 400, message: /field "max_sessions" must be an integer, got a string/ },
  { name: 'changepwd with a number', method: 'PUT', path: '/admin/changepwd', body: { current_password: 1, new_password: 'x' }, status: 400, message: /field "current_password" must be a string, got an integer/ },
  { name: 'changepwd with bad JSON', method: 'PUT', path: '/changepwd/admin', body: '{"current_password":', status: 400, message: /invalid JSON body/ },
  // --- semantic validation by the provider
  { name: 'invalid user status value', method: 'POST', path: '/users', body: (s: TestServer) => userBody(s, 'w14', { status: 5 }), status: 400, message: /status/ },
  { name: 'invalid permission name', method: 'POST', path: '/users', body: (s: TestServer) => userBody(s, 'w15', { permissions: { '/': ['teleport'] } }), status: 400, message: /teleport/ },
  // --- query parameters
  { name: 'limit not a number', method: 'GET', path: '/users?limit=abc', status: 400, message: 'invalid limit' },
  { name: 'negative limit', method: 'GET', path: '/folders?limit=-1', status: 400, message: 'invalid limit' },
  { name: 'fractional offset', method: 'GET', path: '/admins?offset=1.5', status: 400, message: 'invalid offset' },
  { name: 'huge offset', method: 'GET', path: '/users?offset=123456789012345678901234567890', status: 400, message: 'invalid offset' },
  { name: 'lowercase order', method: 'GET', path: '/admins?order=asc', status: 400, message: 'invalid order' },
  { name: 'disconnect not an integer', method: 'PUT', path: '/users/victim?disconnect=maybe', body: {}, status: 400, message: 'invalid disconnect parameter' },
  // --- names: traversal, encoding, unknown
  { name: 'traversal in a user name (path)', method: 'GET', path: '/users/..%2F..%2Fetc%2Fpasswd', status: 404, message: /\.\.\/\.\.\/etc\/passwd/ },
  { name: 'traversal in a folder name (path)', method: 'DELETE', path: '/folders/..%2Ffold', status: 404, message: /\.\.\/fold/ },
  { name: 'traversal in a new user name', method: 'POST', path: '/users', body: (s: TestServer) => userBody(s, '../evil'), status: 400, message: /\.\.\/evil/ },
  { name: 'traversal in a new folder name', method: 'POST', path: '/folders', body: (s: TestServer) => folderBody(s, '../../x'), status: 400, message: /\.\.\/\.\.\/x/ },
  { name: 'NUL in a name', method: 'GET', path: '/admins/ad%00min', status: 404, message: /admin "ad\\u0000min" does not exist/ },
  { name: 'very long name', method: 'GET', path: `/users/${'x'.repeat(4000)}`, status: 404, message: /x{100}/ },
  { name: 'undecodable percent-encoding in a name', method: 'GET', path: '/users/%E0%A4%A', status: 404, message: /%E0%A4%A/ },
  { name: 'duplicate user', method: 'POST', path: '/users', body: (s: TestServer) => userBody(s, 'victim'), status: 409, message: /victim.*already exists/ },
  { name: 'duplicate folder', method: 'POST', path: '/folders', body: (s: TestServer) => folderBody(s, 'fold'), status: 409, message: /fold.*already exists/ },
  { name: 'duplicate admin', method: 'POST', path: '/admins', body: { username: 'admin', password: 'x', status: 1, permissions: ['*'] }, status: 409, message: /admin.*already exists/ },
  { name: 'unknown user', method: 'GET', path: '/users/ghost', status: 404, message: /ghost/ },
  { name: 'unknown folder update', method: 'PUT', path: '/folders/ghost', body: { description: 'x' }, status: 404, message: /ghost/ },
  { name: 'unknown admin delete', method: 'DELETE', path: '/admins/ghost', status: 404, message: /ghost/ },
  { name: 'unknown user checked before the body', method: 'PUT', path: '/users/ghost', body: '{not json', status: 404, message: /ghost/ },
];

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
