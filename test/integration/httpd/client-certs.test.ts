/**
 * REST API over HTTPS with client_auth_type 1 (as upstream: a verified client certificate is
 * required in addition to the JWT or Basic credentials), with curl: a certificate from the CA
 * gets through, none, an untrusted one or a revoked one (CRL) is refused in the handshake; the
 * plain binding next to it is unaffected; a binding with client_auth_type but no HTTPS, or no
 * CA, refuses the start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run, testCerts, type TestCerts } from '../../helpers/ftpd.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { requireTool } from '../../helpers/ssh.js';

void describe('httpd: client certificates (client_auth_type 1)', () => {
  let srv: TestServer;
  let certs: TestCerts;
  let port: number;

  before(async () => {
    requireTool('curl', 'curl');
    requireTool('openssl', 'openssl');
    certs = await testCerts();
    port = await freePort();
    srv = await startServer({
      config: {
        httpd: {
          // bindings[0] stays the harness's plain HTTP one
          bindings: [{}, { port, address: '127.0.0.1', enable_https: true, client_auth_type: 1 }],
          certificate_file: certs.serverCert,
          certificate_key_file: certs.serverKey,
          ca_certificates: [certs.caCert],
          ca_revocation_lists: [certs.crl],
        },
      },
    });
  });
  after(async () => {
    await srv.stop();
  });

  const curl = (args: string[]): ReturnType<typeof run> =>
    run('curl', [
      '-sS',
      '--max-time',
      '20',
      '--cacert',
      certs.caCert,
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      ...args,
    ]);

  void it('a client certificate signed by the CA reaches the API; credentials are still required', async () => {
    const c = await certs.client('api-client');
    const ok = await curl(['--cert', c.cert, '--key', c.key, `https://127.0.0.1:${port}/healthz`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok\n200$/);
    const noCreds = await curl([
      '--cert',
      c.cert,
      '--key',
      c.key,
      `https://127.0.0.1:${port}/api/v2/users`,
    ]);
    assert.match(noCreds.stdout, /\n401$/);
    const token = await curl([
      '--cert',
      c.cert,
      '--key',
      c.key,
      '-u',
      `${srv.admin.username}:${srv.admin.password}`,
      `https://127.0.0.1:${port}/api/v2/token`,
    ]);
    assert.match(token.stdout, /"access_token"[\s\S]*\n200$/);
  });

  void it('no certificate, an untrusted one or a revoked one is refused in the handshake', async () => {
    const none = await curl([`https://127.0.0.1:${port}/healthz`]);
    assert.notEqual(none.code, 0, none.stdout);
    const untrusted = await certs.untrustedClient('intruder');
    const u = await curl([
      '--cert',
      untrusted.cert,
      '--key',
      untrusted.key,
      `https://127.0.0.1:${port}/healthz`,
    ]);
    assert.notEqual(u.code, 0, u.stdout);
    const revoked = await curl([
      '--cert',
      certs.revoked.cert,
      '--key',
      certs.revoked.key,
      `https://127.0.0.1:${port}/healthz`,
    ]);
    assert.notEqual(revoked.code, 0, revoked.stdout);
    assert.doesNotMatch(`${none.stdout}${u.stdout}${revoked.stdout}`, /\nok\n/);
    // the plain binding next to it does not ask for one
    const plain = await fetch(`${srv.httpUrl}/healthz`);
    assert.equal(await plain.text(), 'ok');
  });

  void it('client_auth_type without HTTPS, or without a CA, refuses the start', async () => {
    const noHttps = startServer({ config: { httpd: { bindings: [{ client_auth_type: 1 }] } } });
    await assert.rejects(noHttps, /client_auth_type needs enable_https/);
    const p = await freePort();
    const noCa = startServer({
      config: {
        httpd: {
          bindings: [
            {},
            { port: p, address: '127.0.0.1', enable_https: true, client_auth_type: 1 },
          ],
          certificate_file: certs.serverCert,
          certificate_key_file: certs.serverKey,
        },
      },
    });
    await assert.rejects(noCa, /client_auth_type needs httpd\.ca_certificates/);
  });
});
