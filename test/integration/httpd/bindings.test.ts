/** httpd bindings: several listeners, HTTPS, a unix socket, proxy_allowed and X-Forwarded-For. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, freePort, startServer, type TestServer } from '../../helpers/server.js';
import { addAdmin } from './util.js';

function get(
  req: typeof httpRequest | typeof httpsRequest,
  opts: Record<string, unknown>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = req(opts, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

void describe('httpd: bindings', () => {
  let dir: string;
  let s: TestServer;
  let httpsPort: number;
  let proxyPort: number;
  let socketPath: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-bindings-'));
    // a self-signed certificate for 127.0.0.1 (openssl is a test tool, see scripts/test.sh)
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt'), '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    httpsPort = await freePort();
    proxyPort = await freePort();
    socketPath = join(dir, 'api.sock');
    s = await startServer({
      configDir: dir,
      config: {
        httpd: {
          certificate_file: 'server.crt',
          certificate_key_file: 'server.key',
          bindings: [
            {},
            { port: httpsPort, address: '127.0.0.1', enable_https: true },
            { port: proxyPort, address: '127.0.0.1', proxy_allowed: ['127.0.0.1'] },
            { port: 0, address: socketPath },
          ],
        },
      },
    });
  });
  after(async () => {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('listens on every enabled binding', () => {
    const addrs = s.service.httpd?.addresses() ?? [];
    assert.equal(addrs.length, 4);
    assert.deepEqual(addrs[1], { address: '127.0.0.1', port: httpsPort });
    assert.deepEqual(addrs[3], { address: socketPath, port: 0 });
    assert.ok(s.summary.includes(`REST API listening on https://127.0.0.1:${httpsPort}/api/v2`), s.summary);
    assert.ok(s.summary.includes(`REST API listening on http://127.0.0.1:${proxyPort}/api/v2`), s.summary);
    assert.ok(s.summary.includes(`REST API listening on unix:${socketPath}:/api/v2`), s.summary);
  });

  void it('serves HTTPS with the configured certificate', async () => {
    const ca = await readFile(join(dir, 'server.crt'));
    const r = await get(httpsRequest, { host: '127.0.0.1', port: httpsPort, path: '/healthz', ca });
    assert.deepEqual(r, { status: 200, body: 'ok' });
  });

  void it('serves on a unix socket', async () => {
    const r = await get(httpRequest, { socketPath, path: '/healthz' });
    assert.deepEqual(r, { status: 200, body: 'ok' });
  });

  void it('trusts X-Forwarded-For only from proxy_allowed peers', async () => {
    await addAdmin(s, 'behind-proxy', ['view_users'], { filters: { allow_list: ['192.0.2.0/24'] } });
    const headers = {
      authorization: basicAuth('behind-proxy', 'pw-behind-proxy-secret'),
      'x-forwarded-for': '192.0.2.7, 10.0.0.1',
    };
    const viaProxy = await fetch(`http://127.0.0.1:${proxyPort}/api/v2/token`, { headers });
    assert.equal(viaProxy.status, 200);
    const direct = await fetch(`${s.httpUrl}/api/v2/token`, { headers });
    assert.equal(direct.status, 401);
    const body = (await direct.json()) as { error: string };
    assert.match(body.error, /login from IP 127\.0\.0\.1 not allowed/);
  });
});
