import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './errors.js';
import { SftpgoClient, normalizeServerUrl, type FetchFn } from './client.js';
import { defenderHostId } from './ids.js';

interface Seen {
  method: string;
  url: string;
  auth: string | null;
  body: string;
}

/** A fetch that answers from a route table and records what it was asked. */
function fakeFetch(
  routes: Record<string, (req: Request, body: string) => Response | Promise<Response>>,
): { fetch: FetchFn; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch: FetchFn = async (req) => {
    const body = req.body === null ? '' : await req.text();
    const u = new URL(req.url);
    seen.push({ method: req.method, url: `${u.pathname}${u.search}`, auth: req.headers.get('authorization'), body });
    const h = routes[`${req.method} ${decodeURIComponent(u.pathname)}`];
    if (h === undefined) return json(404, { message: 'Not Found', error: 'no route' });
    return h(req, body);
  };
  return { fetch, seen };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function tokenRoute(counter: { n: number }, ttlMs = 15 * 60_000, now = (): number => T0) {
  return (req: Request): Response => {
    const expected = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
    if (req.headers.get('authorization') !== expected) return json(401, { message: 'Unauthorized', error: 'bad creds' });
    counter.n++;
    return json(200, { access_token: `jwt${counter.n}`, expires_at: iso(now() + ttlMs) });
  };
}

void describe('SftpgoClient', () => {
  void it('normalizes server URLs', () => {
    assert.equal(normalizeServerUrl('127.0.0.1:8080'), 'http://127.0.0.1:8080');
    assert.equal(normalizeServerUrl('https://h.example/prefix/'), 'https://h.example/prefix');
    assert.throws(() => normalizeServerUrl('ftp://x'), /only http and https/);
  });

  void it('gets a token with Basic auth, caches it, and sends it as Bearer', async () => {
    const counter = { n: 0 };
    const { fetch, seen } = fakeFetch({
      'GET /api/v2/token': tokenRoute(counter),
      'GET /api/v2/users': () => json(200, [{ username: 'u1' }]),
    });
    const c = new SftpgoClient({ url: 'http://h:1', username: 'admin', password: () => Promise.resolve('secret'), fetch, now: () => T0 });
    assert.deepEqual(await c.listUsers({ limit: 5, order: 'DESC' }), [{ username: 'u1' }]);
    await c.listUsers();
    assert.equal(counter.n, 1);
    assert.equal(seen.filter((s) => s.url.startsWith('/api/v2/users')).every((s) => s.auth === 'Bearer jwt1'), true);
    assert.equal(seen[1]?.url, '/api/v2/users?limit=5&order=DESC');
  });

  void it('renews the token a minute before it expires', async () => {
    const counter = { n: 0 };
    let now = T0;
    const { fetch, seen } = fakeFetch({
      'GET /api/v2/token': tokenRoute(counter, 15 * 60_000, () => now),
      'GET /api/v2/status': () => json(200, {}),
    });
    const c = new SftpgoClient({ url: 'http://h:1', username: 'admin', password: () => Promise.resolve('secret'), fetch, now: () => now });
    await c.status();
    now = T0 + 13 * 60_000; // 2 minutes left: still used
    await c.status();
    assert.equal(counter.n, 1);
    now = T0 + 14 * 60_000 + 30_000; // 30 s left: renewed
    await c.status();
    assert.equal(counter.n, 2);
    assert.equal(seen.at(-1)?.auth, 'Bearer jwt2');
  });

  void it('shares one token request between concurrent calls', async () => {
    const counter = { n: 0 };
    const { fetch } = fakeFetch({
      'GET /api/v2/token': tokenRoute(counter),
      'GET /api/v2/connections': () => json(200, []),
      'GET /api/v2/status': () => json(200, {}),
    });
    const c = new SftpgoClient({ url: 'http://h:1', username: 'admin', password: () => Promise.resolve('secret'), fetch, now: () => T0 });
    await Promise.all([c.listConnections(), c.status(), c.listConnections()]);
    assert.equal(counter.n, 1);
  });

  void it('uses a stored token without asking for the password, and retries once on 401', async () => {
    const counter = { n: 0 };
    let asked = 0;
    const { fetch, seen } = fakeFetch({
      'GET /api/v2/token': tokenRoute(counter),
      'GET /api/v2/version': (req) =>
        req.headers.get('authorization') === 'Bearer revoked'
          ? json(401, { message: 'Unauthorized', error: 'token is invalidated' })
          : json(200, { version: '2.1.2' }),
    });
    const c = new SftpgoClient({
      url: 'http://h:1',
      username: 'admin',
      password: () => {
        asked++;
        return Promise.resolve('secret');
      },
      token: { access_token: 'revoked', expires_at: iso(T0 + 10 * 60_000) },
      fetch,
      now: () => T0,
    });
    assert.deepEqual(await c.version(), { version: '2.1.2' });
    assert.equal(asked, 1);
    assert.deepEqual(seen.map((s) => s.auth), ['Bearer revoked', `Basic ${Buffer.from('admin:secret').toString('base64')}`, 'Bearer jwt1']);
  });

  void it('turns error answers into one ApiError with the server message', async () => {
    const counter = { n: 0 };
    const { fetch } = fakeFetch({
      'GET /api/v2/token': tokenRoute(counter),
      'GET /api/v2/users/nobody': () => json(404, { message: 'Not Found', error: 'user "nobody" does not exist' }),
      'DELETE /api/v2/users/empty': () => new Response('', { status: 500 }),
    });
    const c = new SftpgoClient({ url: 'http://h:1', username: 'admin', password: () => Promise.resolve('secret'), fetch, now: () => T0 });
    await assert.rejects(c.getUser('nobody'), (e: unknown) => {
      assert.ok(ApiError.is(e));
      assert.equal(e.status, 404);
      assert.equal(e.kind, 'http');
      assert.equal(e.notFound, true);
      assert.equal(e.serverError, 'user "nobody" does not exist');
      assert.equal(e.message, 'user "nobody" does not exist');
      return true;
    });
    await assert.rejects(c.deleteUser('empty'), /500 Internal Server Error/);
  });

  void it('reports wrong credentials on /token as a 401 ApiError', async () => {
    const counter = { n: 0 };
    const { fetch } = fakeFetch({ 'GET /api/v2/token': tokenRoute(counter) });
    const c = new SftpgoClient({ url: 'http://h:1', username: 'admin', password: () => Promise.resolve('wrong'), fetch, now: () => T0 });
    await assert.rejects(c.listUsers(), (e: unknown) => ApiError.is(e) && e.status === 401 && /bad creds/.test(e.message));
  });

  void it('says clearly when the server cannot be reached', async () => {
    const fetch: FetchFn = () => {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      return Promise.reject(new TypeError('fetch failed', { cause }));
    };
    const c = new SftpgoClient({ url: 'http://127.0.0.1:1', fetch });
    await assert.rejects(c.health(), (e: unknown) => {
      assert.ok(ApiError.is(e));
      assert.equal(e.kind, 'unreachable');
      assert.equal(e.message, 'cannot reach the SFTPGo server at http://127.0.0.1:1: ECONNREFUSED');
      return true;
    });
  });

  void it('times out with a clear message', async () => {
    // a server that never answers; the ref'd timer stands for its open socket (the timeout's is unref'd)
    const fetch: FetchFn = (req) =>
      new Promise((_resolve, reject) => {
        const socket = setTimeout(() => reject(new Error('test: not aborted')), 10_000);
        req.signal.addEventListener('abort', () => {
          clearTimeout(socket);
          reject(req.signal.reason as Error);
        });
      });
    const c = new SftpgoClient({ url: 'http://h:1', fetch, timeoutMs: 20 });
    await assert.rejects(c.health(), (e: unknown) => ApiError.is(e) && e.kind === 'timeout' && /did not answer within/.test(e.message));
  });

  void it('reads /healthz outside /api/v2 without auth', async () => {
    const { fetch, seen } = fakeFetch({ 'GET /healthz': () => new Response('ok', { headers: { 'content-type': 'text/plain' } }) });
    const c = new SftpgoClient({ url: 'http://h:1', fetch });
    assert.equal(await c.health(), 'ok');
    assert.equal(seen[0]?.auth, null);
  });

  void it('sends query parameters and bodies the spec defines', async () => {
    const counter = { n: 0 };
    const { fetch, seen } = fakeFetch({
      'GET /api/v2/token': tokenRoute(counter),
      'PUT /api/v2/users/a b': () => json(200, { message: 'User updated' }),
      'PUT /api/v2/quotas/folders/f1/usage': () => json(200, { message: 'Quota updated' }),
      'GET /api/v2/dumpdata': () => json(200, { users: [], folders: [], admins: [], version: 10 }),
      'POST /api/v2/loaddata': () => json(200, { message: 'Data restored' }),
      'DELETE /api/v2/defender/hosts/3132372e302e302e31': () => json(200, { message: 'OK' }),
    });
    const c = new SftpgoClient({ url: 'http://h:1', username: 'admin', password: () => Promise.resolve('secret'), fetch, now: () => T0 });
    assert.deepEqual(await c.updateUser('a b', { username: 'a b' }, { disconnect: true }), { message: 'User updated' });
    await c.updateFolderQuotaUsage('f1', { used_quota_files: 2 }, 'add');
    assert.equal(await c.dumpData({ indent: true }), '{"users":[],"folders":[],"admins":[],"version":10}');
    const progress: number[] = [];
    const big = new TextEncoder().encode(JSON.stringify({ users: [], pad: 'x'.repeat(300_000) }));
    await c.loadData(big, { mode: 1, scanQuota: 2, onProgress: (s) => progress.push(s) });
    await c.deleteDefenderHost(defenderHostId('127.0.0.1'));
    const urls = seen.filter((s) => !s.url.endsWith('/token')).map((s) => `${s.method} ${s.url}`);
    assert.deepEqual(urls, [
      'PUT /api/v2/users/a%20b?disconnect=1',
      'PUT /api/v2/quotas/folders/f1/usage?mode=add',
      'GET /api/v2/dumpdata?output-data=1&indent=1',
      'POST /api/v2/loaddata?mode=1&scan-quota=2',
      'DELETE /api/v2/defender/hosts/3132372e302e302e31',
    ]);
    assert.equal(seen.find((s) => s.url.startsWith('/api/v2/loaddata'))?.body.length, big.byteLength);
    assert.ok(progress.length > 2, 'progress reported while streaming');
    assert.equal(progress.at(-1), big.byteLength);
  });

  void it('maps defender ids from IPs and leaves ids alone', () => {
    assert.equal(defenderHostId('::1'), '3a3a31');
    assert.equal(defenderHostId('3a3a31'), '3a3a31');
  });
});

void describe('httpErrorMessage', () => {
  void it('joins message and error, dropping the bare status text', async () => {
    const { httpErrorMessage } = await import('./errors.js');
    assert.equal(httpErrorMessage(404, { message: 'user "x" does not exist', error: 'Not Found' }), 'user "x" does not exist');
    assert.equal(httpErrorMessage(400, { message: 'home_dir is mandatory', error: 'home_dir is mandatory' }), 'home_dir is mandatory');
    assert.equal(httpErrorMessage(400, { message: 'Bad Request', error: 'invalid json' }), 'invalid json');
    assert.equal(httpErrorMessage(400, { message: 'invalid user', error: 'bad home_dir' }), 'invalid user: bad home_dir');
    assert.equal(httpErrorMessage(401, { message: 'Unauthorized', error: 'invalid credentials' }), 'invalid credentials');
    assert.equal(httpErrorMessage(502, 'bad gateway from proxy'), 'bad gateway from proxy');
    assert.equal(httpErrorMessage(503, ''), '503 Service Unavailable');
  });
});
