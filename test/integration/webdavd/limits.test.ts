/**
 * Admission limits on WebDAV requests, through the same registry and gate as SFTP: the per-host
 * connection limit (503), the user's max_sessions (403), and the DAV rate limiter (429 with
 * Retry-After).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../helpers/sftpd.js';
import { dav, startDavTestServer, type DavTestEnv, type DavUser } from '../../helpers/webdavd.js';

/** a PUT that sends its body slowly; abort() drops it */
function heldPut(env: DavTestEnv, u: DavUser, path: string): { abort: () => void; done: Promise<void> } {
  const req = request(`${env.url}${path}`, {
    method: 'PUT',
    headers: { authorization: u.auth, 'content-length': String(1024 * 1024) },
  });
  const timer = setInterval(() => {
    if (!req.destroyed) req.write(randomBytes(256));
  }, 100);
  const done = new Promise<void>((resolve) => {
    req.on('error', () => resolve());
    req.on('close', () => resolve());
  }).finally(() => clearInterval(timer));
  return {
    abort: () => {
      clearInterval(timer);
      req.destroy();
    },
    done,
  };
}

void describe('webdavd admission limits', () => {
  let env: DavTestEnv;

  before(async () => {
    env = await startDavTestServer({
      config: {
        common: {
          max_per_host_connections: 2,
          rate_limiters: [{ average: 4, period: 1000, burst: 6, type: 2, protocols: ['DAV'] }],
        },
      } as never,
    });
  });

  after(async () => {
    await env?.stop();
  });

  void it('refuses a user over max_sessions with 403 and a host over its connection limit with 503', async () => {
    const u = await env.createUser({ max_sessions: 1 });
    const first = heldPut(env, u, '/held1.bin');
    await waitFor(() => env.connections().some((c) => c.username === u.username), 5000, 'the first session');
    const second = await dav(env, u, 'PROPFIND', '/', { headers: { depth: '0' } });
    assert.equal(second.status, 403);
    assert.match(await second.text(), /too many open sessions/);

    const other = await env.createUser();
    const held = heldPut(env, other, '/held2.bin');
    await waitFor(() => env.connections().some((c) => c.username === other.username), 5000, 'the second connection');
    const third = await dav(env, other, 'PROPFIND', '/', { headers: { depth: '0' } });
    assert.equal(third.status, 503);
    assert.match(await third.text(), /you are not allowed to connect/);
    first.abort();
    held.abort();
    await Promise.all([first.done, held.done]);
    await waitFor(() => env.connections().length === 0, 5000, 'the held uploads to end');
  });

  void it('answers 429 with Retry-After over the DAV rate limit', async () => {
    await new Promise((r) => setTimeout(r, 2000)); // the bucket refills after the test above
    const u = await env.createUser();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await dav(env, u, 'PROPFIND', '/', { headers: { depth: '0' } });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
      await r.arrayBuffer();
    }
    assert.ok(statuses.includes(207), statuses.join(','));
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.match(retryAfter ?? '', /^\d+$/);
  });
});
