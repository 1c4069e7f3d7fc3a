/**
 * The WebDAV request pipeline on a server with three bindings: plain HTTP with a prefix and
 * proxy_allowed, HTTPS with client_auth_type 2 (certificate verified when given) and HTTPS
 * with client_auth_type 1 (required). Covers the prefix, X-Forwarded-For with the defender,
 * CORS, TLS client certificates (CN login, unknown CA), the user cache following API changes,
 * and /api/v2/status.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, freePort } from '../../helpers/server.js';
import { requireTool } from '../../helpers/ssh.js';
import { run, startDavTestServer, type DavTestEnv, type DavUser } from '../../helpers/webdavd.js';

interface Certs {
  dir: string;
  ca: string;
  /** a CRL of `ca` revoking the `revoked` client certificate */
  crl: string;
  revoked: { cert: string; key: string; cn: string };
  serverCert: string;
  serverKey: string;
  client(cn: string, otherCa?: boolean): Promise<{ cert: string; key: string }>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('sh', ['-c', `cd ${JSON.stringify(cwd)} && openssl ${args.map((a) => JSON.stringify(a)).join(' ')}`]);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

async function makeCerts(dir: string): Promise<Certs> {
  await mkdir(dir, { recursive: true });
  const ca = async (name: string): Promise<void> => {
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`], dir);
  };
  await ca('ca');
  await ca('otherca');
  const leaf = async (name: string, cn: string, caName: string, ext?: string): Promise<void> => {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    const extArgs = ext ? ['-extfile', ext] : [];
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...extArgs], dir);
  };
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await leaf('server', '127.0.0.1', 'ca', join(dir, 'san.ext'));
  // a revoked client certificate and the CA's CRL (openssl ca needs a minimal database)
  await leaf('revoked', 'revokeduser', 'ca');
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = d',
      '[d]',
      `database = ${join(dir, 'index.txt')}`,
      `certificate = ${join(dir, 'ca.crt')}`,
      `private_key = ${join(dir, 'ca.key')}`,
      'default_md = sha256',
      'default_crl_days = 2',
      '',
    ].join('\n'),
  );
  await openssl(['ca', '-config', 'ca.cnf', '-revoke', 'revoked.crt'], dir);
  await openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl'], dir);
  let n = 0;
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    crl: join(dir, 'ca.crl'),
    revoked: { cert: join(dir, 'revoked.crt'), key: join(dir, 'revoked.key'), cn: 'revokeduser' },
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    async client(cn, otherCa = false) {
      const name = `client${++n}`;
      await leaf(name, cn, otherCa ? 'otherca' : 'ca');
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
  };
}

void describe('webdavd pipeline: prefix, proxies, defender, CORS, TLS, user cache', () => {
  let env: DavTestEnv;
  let certs: Certs;
  let httpsPort: number;
  let requiredPort: number;
  let socketPath: string;

  before(async () => {
    requireTool('openssl', 'openssl');
    requireTool('curl', 'curl');
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    certs = await makeCerts(await mkdtemp(join(tmpdir(), 'sftpgo-dav-certs-')));
    httpsPort = await freePort();
    requiredPort = await freePort();
    const plain = await freePort();
    socketPath = join(certs.dir, 'dav.sock');
    env = await startDavTestServer({
      prefix: '/dav',
      config: {
        webdavd: {
          bindings: [
            { port: plain, address: '127.0.0.1', prefix: '/dav', proxy_allowed: ['127.0.0.1'] },
            { port: httpsPort, address: '127.0.0.1', enable_https: true, client_auth_type: 2 },
            { port: requiredPort, address: '127.0.0.1', enable_https: true, client_auth_type: 1 },
            { port: 1, address: socketPath },
          ],
          certificate_file: certs.serverCert,
          certificate_key_file: certs.serverKey,
          ca_certificates: [certs.ca],
          ca_revocation_lists: [certs.crl],
          cors: {
            enabled: true,
            allowed_origins: ['https://ok.example'],
            allowed_methods: ['GET', 'PROPFIND', 'PUT'],
            allowed_headers: ['Authorization', 'Depth'],
            exposed_headers: ['ETag'],
            max_age: 600,
          },
          cache: { users: { expiration_time: 10, max_size: 2 } },
        },
        common: { defender: { enabled: true, threshold: 8, score_valid: 3, score_invalid: 3, ban_time: 10 } },
      } as never,
    });
  });

  after(async () => {
    await env?.stop();
    if (certs) {
      const { rm } = await import('node:fs/promises');
      await rm(certs.dir, { recursive: true, force: true });
    }
  });

  const get = (u: DavUser | undefined, method: string, path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${env.url}${path}`, { method, headers: { ...(u ? { authorization: u.auth } : {}), ...headers } });

  void it('serves the prefix only, with hrefs under it', async () => {
    const u = await env.createUser();
    const outside = await fetch(`http://127.0.0.1:${env.port}/x`, { headers: { authorization: u.auth } });
    assert.equal(outside.status, 404);
    const lookalike = await fetch(`http://127.0.0.1:${env.port}/davx/`, { method: 'PROPFIND', headers: { authorization: u.auth } });
    assert.equal(lookalike.status, 404);
    assert.equal((await get(u, 'PUT', '/f.txt', {})).status, 201);
    const r = await get(u, 'PROPFIND', '/', { depth: '1' });
    assert.equal(r.status, 207);
    const xml = await r.text();
    assert.match(xml, /<href>[^<]*\/dav\/f\.txt<\/href>/);
  });

  void it('bans a forwarded client address after failed logins, not the proxy', async () => {
    const u = await env.createUser();
    const bad = { authorization: basicAuth(u.username, 'wrong'), 'x-forwarded-for': '10.9.9.9' };
    for (let i = 0; i < 3; i++) assert.equal((await get(undefined, 'PROPFIND', '/', bad)).status, 401);
    const banned = await get(u, 'PROPFIND', '/', { 'x-forwarded-for': '10.9.9.9', depth: '0' });
    assert.equal(banned.status, 403);
    const hosts = await env.srv.api<{ ip: string }[]>('GET', '/defender/hosts');
    assert.ok(hosts.body.some((h) => h.ip === '10.9.9.9'), JSON.stringify(hosts.body));
    // the proxy itself (and other forwarded clients) still get in
    assert.equal((await get(u, 'PROPFIND', '/', { depth: '0' })).status, 207);
    assert.equal((await get(u, 'PROPFIND', '/', { depth: '0', 'x-real-ip': '10.1.1.1' })).status, 207);
  });

  void it('answers CORS preflights without credentials and decorates allowed origins', async () => {
    const pre = await get(undefined, 'OPTIONS', '/', {
      origin: 'https://ok.example',
      'access-control-request-method': 'PROPFIND',
      'access-control-request-headers': 'authorization, depth',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://ok.example');
    assert.equal(pre.headers.get('access-control-allow-methods'), 'PROPFIND');
    assert.equal(pre.headers.get('access-control-max-age'), '600');
    const denied = await get(undefined, 'OPTIONS', '/', { origin: 'https://evil.example', 'access-control-request-method': 'PUT' });
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    const u = await env.createUser();
    await get(u, 'PUT', '/c.txt');
    const actual = await get(u, 'GET', '/c.txt', { origin: 'https://ok.example' });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers.get('access-control-allow-origin'), 'https://ok.example');
    assert.equal(actual.headers.get('access-control-expose-headers'), 'ETag');
  });

  void it('serves HTTPS with Basic auth and logs in by certificate CN where the user allows it', async () => {
    const u = await env.createUser();
    const cn = await env.createUser({ filters: { tls_username: 'CommonName' } as never });
    const url = `https://127.0.0.1:${httpsPort}/`;
    const curl = (args: string[]): Promise<string> =>
      run('curl', ['-sS', '--cacert', certs.ca, '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PROPFIND', '-H', 'Depth: 0', ...args, url]).then((r) => r.stdout || r.stderr);
    assert.equal(await curl(['-u', `${u.username}:${u.password}`]), '207');
    assert.equal(await curl([]), '401');
    const good = await certs.client(cn.username);
    assert.equal(await curl(['--cert', good.cert, '--key', good.key]), '207');
    // a certificate alone does not log in a user without tls_username CommonName
    const plainUserCert = await certs.client(u.username);
    assert.equal(await curl(['--cert', plainUserCert.cert, '--key', plainUserCert.key]), '401');
    // ... a certificate of another user with Basic credentials is a CN mismatch
    assert.equal(await curl(['--cert', good.cert, '--key', good.key, '-u', `${u.username}:${u.password}`]), '207');
    // a certificate from an unknown CA is refused
    const foreign = await certs.client(cn.username, true);
    assert.equal(await curl(['--cert', foreign.cert, '--key', foreign.key, '-u', `${cn.username}:${cn.password}`]), '403');
    // client_auth_type 1: no certificate, no TLS session
    const req = await run('curl', ['-sS', '--cacert', certs.ca, '-u', `${u.username}:${u.password}`, '-X', 'PROPFIND', `https://127.0.0.1:${requiredPort}/`]);
    assert.notEqual(req.code, 0);
    // a revoked certificate is refused in the handshake
    await env.createUser({ username: certs.revoked.cn, filters: { tls_username: 'CommonName' } as never });
    const revoked = await run('curl', ['-sS', '--cacert', certs.ca, '--cert', certs.revoked.cert, '--key', certs.revoked.key, '-X', 'PROPFIND', `https://127.0.0.1:${requiredPort}/`]);
    assert.notEqual(revoked.code, 0, revoked.stdout);
    const withCert = await run('curl', ['-sS', '--cacert', certs.ca, '--cert', good.cert, '--key', good.key, '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PROPFIND', '-H', 'Depth: 0', `https://127.0.0.1:${requiredPort}/`]);
    assert.equal(withCert.stdout, '207');
  });

  void it('follows user changes made through the API (password, home, deletion)', async () => {
    // the failed logins below come from forwarded addresses, so the defender does not ban the
    // test's own address (the REST API shares it)
    let n = 0;
    const get = (u: DavUser, method: string, path: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${env.url}${path}`, { method, headers: { authorization: u.auth, 'x-forwarded-for': `10.7.7.${++n}`, ...headers } });
    const u = await env.createUser();
    assert.equal((await get(u, 'PROPFIND', '/', { depth: '0' })).status, 207);
    // a new password: the old one stops working at once
    await env.updateUser(u.username, { password: 'new-password-1' });
    assert.equal((await get(u, 'PROPFIND', '/', { depth: '0' })).status, 401);
    const nu = { ...u, password: 'new-password-1', auth: basicAuth(u.username, 'new-password-1') };
    assert.equal((await get(nu, 'PROPFIND', '/', { depth: '0' })).status, 207);
    // a new home directory is used by the next request
    const home2 = join(env.dir, `${u.username}-home2`);
    await mkdir(home2);
    await writeFile(join(home2, 'marker.txt'), 'home2');
    await env.updateUser(u.username, { home_dir: home2 });
    const m = await get(nu, 'GET', '/marker.txt');
    assert.equal(m.status, 200);
    assert.equal(await m.text(), 'home2');
    // permissions changed in place
    await env.updateUser(u.username, { permissions: { '/': ['list'] } as never });
    assert.equal((await get(nu, 'GET', '/marker.txt')).status, 403);
    // disabled, then deleted
    await env.updateUser(u.username, { status: 0 });
    assert.equal((await get(nu, 'PROPFIND', '/', { depth: '0' })).status, 401);
    await env.updateUser(u.username, { status: 1 });
    assert.equal((await env.srv.api('DELETE', `/users/${u.username}`)).status, 200);
    assert.equal((await get(nu, 'PROPFIND', '/', { depth: '0' })).status, 401);
  });

  void it('listens on a Unix socket when the address is an absolute path', async () => {
    const u = await env.createUser();
    const r = await run('curl', ['-sS', '--unix-socket', socketPath, '-u', `${u.username}:${u.password}`, '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PROPFIND', '-H', 'Depth: 0', 'http://localhost/']);
    assert.equal(r.stdout, '207', r.stderr);
  });

  void it('describes its bindings in /api/v2/status', async () => {
    const r = await env.srv.api<{ webdav: { is_active: boolean; bindings: { port: number; enable_https: boolean; client_auth_type: number }[] } }>('GET', '/status');
    assert.equal(r.status, 200);
    assert.equal(r.body.webdav.is_active, true);
    assert.deepEqual(
      r.body.webdav.bindings.map((b) => [b.port, b.enable_https, b.client_auth_type]),
      [
        [env.port, false, 0],
        [httpsPort, true, 2],
        [requiredPort, true, 1],
        [1, false, 0],
      ],
    );
  });
});
