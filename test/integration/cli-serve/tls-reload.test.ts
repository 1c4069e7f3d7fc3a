/**
 * SIGHUP's certificate reload (RunningService.reload) on every TLS listener of one server: FTPS
 * (implicit), WebDAV over HTTPS, the REST API over HTTPS and the telemetry server. New
 * handshakes get the new certificate, a connection opened before keeps working, and a broken
 * file keeps the current certificate in force and is reported.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { run, testCerts } from '../../helpers/ftpd.js';
import { freePort, startServer, type TestServer } from '../../helpers/server.js';
import { requireTool } from '../../helpers/ssh.js';

function fingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

/** an HTTPS keep-alive connection on which requests can be sent one after another */
async function keepAlive(
  port: number,
): Promise<{ get(path: string): Promise<string>; close(): void }> {
  const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', () => resolve());
    s.once('error', reject);
  });
  return {
    get: (path) =>
      new Promise((resolve, reject) => {
        let buf = '';
        const onData = (d: Buffer): void => {
          buf += d.toString();
          const m = /\r\n\r\n/.exec(buf);
          const len = /content-length: (\d+)/i.exec(buf);
          if (m && len && buf.length >= m.index + 4 + Number(len[1])) {
            s.off('data', onData);
            resolve(buf.split('\r\n')[0] ?? '');
          }
        };
        s.on('data', onData);
        s.once('error', reject);
        s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
      }),
    close: () => s.destroy(),
  };
}

void describe('SIGHUP: TLS certificates reload on every listener', () => {
  let srv: TestServer;
  let dir: string;
  let certFile: string;
  let keyFile: string;
  const ports = { ftp: 0, dav: 0, api: 0, telemetry: 0 };

  before(async () => {
    requireTool('openssl', 'openssl');
    const certs = await testCerts();
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-hup-'));
    certFile = join(dir, 'c.crt');
    keyFile = join(dir, 'c.key');
    await copyFile(certs.serverCert, certFile);
    await copyFile(certs.serverKey, keyFile);
    ports.ftp = await freePort();
    ports.dav = await freePort();
    ports.api = await freePort();
    ports.telemetry = await freePort();
    const tlsFiles = { certificate_file: certFile, certificate_key_file: keyFile };
    srv = await startServer({
      config: {
        ftpd: { bindings: [{ port: ports.ftp, address: '127.0.0.1', tls_mode: 2 }], ...tlsFiles },
        webdavd: {
          bindings: [{ port: ports.dav, address: '127.0.0.1', enable_https: true }],
          ...tlsFiles,
        },
        // bindings[0] stays the harness's plain HTTP one
        httpd: {
          bindings: [{}, { port: ports.api, address: '127.0.0.1', enable_https: true }],
          ...tlsFiles,
        },
        telemetry: { bind_port: ports.telemetry, bind_address: '127.0.0.1', ...tlsFiles },
      },
    });
  });
  after(async () => {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('new handshakes get the new certificate, open connections go on, a broken file keeps the current one', async () => {
    const before = await Promise.all([
      fingerprint(ports.ftp),
      fingerprint(ports.dav),
      fingerprint(ports.api),
      fingerprint(ports.telemetry),
    ]);
    assert.equal(new Set(before).size, 1, 'one certificate everywhere');
    const open = await keepAlive(ports.api);
    assert.match(await open.get('/healthz'), /^HTTP\/1\.1 200/);

    const r = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=after-hup',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await srv.service.reload();
    const after = await Promise.all([
      fingerprint(ports.ftp),
      fingerprint(ports.dav),
      fingerprint(ports.api),
      fingerprint(ports.telemetry),
    ]);
    for (const [i, fp] of after.entries())
      assert.notEqual(fp, before[i], `listener ${i} serves the new certificate`);
    assert.equal(new Set(after).size, 1);
    assert.match(
      await open.get('/healthz'),
      /^HTTP\/1\.1 200/,
      'the connection opened before the reload still works',
    );
    open.close();

    await writeFile(certFile, 'not a certificate');
    await assert.rejects(srv.service.reload(), /certificate/);
    const kept = await Promise.all([
      fingerprint(ports.ftp),
      fingerprint(ports.dav),
      fingerprint(ports.api),
      fingerprint(ports.telemetry),
    ]);
    assert.deepEqual(kept, after);
  });
});
