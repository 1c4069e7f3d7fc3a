/**
 * `tls_cipher_suites` (Go's suite names, as in SFTPGo 2.1.2) on the TLS listeners besides FTPS
 * (test/integration/ftpd/ftps.test.ts): an HTTPS binding of the REST API, a WebDAV binding and
 * the telemetry server. TLS 1.2 handshakes get only the configured suites, TLS 1.3 keeps its
 * defaults (Go's suites cannot be chosen for 1.3), and a name that is not a suite is logged.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testCerts } from '../../helpers/ftpd.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { tlsHandshake } from '../../helpers/tls.js';

// the test certificate has an EC key: ECDSA suites
const SUITES = ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'NOT_A_SUITE'];

void describe('tls_cipher_suites on the REST API, WebDAV and telemetry listeners', () => {
  let srv: TestServer;
  const ports: Record<string, number> = {};

  before(async () => {
    const certs = await testCerts();
    ports.httpd = await freePort();
    ports.webdavd = await freePort();
    ports.telemetry = await freePort();
    const tls = { certificate_file: certs.serverCert, certificate_key_file: certs.serverKey };
    srv = await startServer({
      config: {
        httpd: {
          bindings: [
            {},
            {
              port: ports.httpd,
              address: '127.0.0.1',
              enable_https: true,
              tls_cipher_suites: SUITES,
            },
          ],
          ...tls,
        },
        webdavd: {
          bindings: [
            {
              port: ports.webdavd,
              address: '127.0.0.1',
              enable_https: true,
              tls_cipher_suites: SUITES,
            },
          ],
          ...tls,
        },
        telemetry: {
          bind_port: ports.telemetry,
          bind_address: '127.0.0.1',
          tls_cipher_suites: SUITES,
          ...tls,
        },
      },
    });
  });
  after(async () => {
    await srv.stop();
  });

  for (const name of ['httpd', 'webdavd', 'telemetry']) {
    void it(`${name}: TLS 1.2 only with the configured suites, TLS 1.3 with its defaults`, async () => {
      const port = ports[name] as number;
      assert.equal(
        await tlsHandshake(port, { maxVersion: 'TLSv1.2' }),
        'TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384',
      );
      await assert.rejects(
        tlsHandshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }),
      );
      assert.match(await tlsHandshake(port), /^TLSv1\.3 TLS_/);
    });
  }

  void it('a name that is not a cipher suite is logged for each listener', async () => {
    const want = [
      /httpd: binding 127\.0\.0\.1:\d+: tls_cipher_suites: unsupported cipher suite/,
      /webdavd.*tls_cipher_suites: unsupported cipher suite/,
      /telemetry\.tls_cipher_suites: unsupported cipher suite/,
    ];
    let log = '';
    for (let i = 0; i < 50; i++) {
      log = await readFile(join(srv.configDir, 'sftpgo.log'), 'utf8').catch(() => '');
      if (want.every((w) => w.test(log))) break;
      await sleep(100);
    }
    for (const w of want) assert.match(log, w);
    assert.match(log, /NOT_A_SUITE/);
  });
});
