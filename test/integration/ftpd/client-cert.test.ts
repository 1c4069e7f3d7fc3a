/**
 * TLS client certificates: client_auth_type 1 (required, verified in the handshake against
 * ca_certificates and ca_revocation_lists) and 2 (verified if given); login methods
 * TLSCertificate (USER alone, CN = username) and TLSCertificate+password; CN mismatch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../../src/api/index.js';
import { PYTHON, RawFtp, run, startFtpTestServer, type FtpTestEnv } from '../../helpers/ftpd.js';

type Filters = NonNullable<ApiUser['filters']>;

void describe('ftpd: client certificates', () => {
  let env: FtpTestEnv;
  let requiredPort: number;
  let optionalPort: number;
  let cert: { cert: string; key: string };

  before(async () => {
    const { testCerts } = await import('../../helpers/ftpd.js');
    const certs = await testCerts();
    env = await startFtpTestServer({
      bindings: [
        { tls_mode: 2, client_auth_type: 1 },
        { tls_mode: 0, client_auth_type: 2 },
      ],
      ftpd: { ca_revocation_lists: [certs.crl] },
    });
    [requiredPort, optionalPort] = env.ports as [number, number];
    await env.createUser({ username: 'certuser', filters: { tls_username: 'CommonName' } as unknown as Filters });
    cert = await env.certs.client('certuser');
  });
  after(async () => {
    await env.stop();
  });

  void it('TLSCertificate: curl logs in with the certificate alone (implicit TLS, required cert)', async () => {
    const r = await run('curl', ['-sS', '-v', '-k', '--max-time', '20', '--cert', cert.cert, '--key', cert.key, '--user', 'certuser:', `ftps://127.0.0.1:${requiredPort}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /< 230 TLS certificate ok, continue/);
    assert.doesNotMatch(r.stderr, /> PASS/);
  });

  void it('without a certificate, with an untrusted or a revoked one, the handshake fails', async () => {
    const untrusted = await env.certs.untrustedClient('certuser');
    for (const extra of [[], ['--cert', untrusted.cert, '--key', untrusted.key], ['--cert', env.certs.revoked.cert, '--key', env.certs.revoked.key]]) {
      const r = await run('curl', ['-sS', '-k', '--max-time', '20', ...extra, '--user', 'certuser:x', `ftps://127.0.0.1:${requiredPort}/`]);
      assert.notEqual(r.code, 0, `${extra.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /230/);
    }
  });

  void it('a certificate whose CN is not the username: 530 and closed', async () => {
    const other = await env.certs.client('someoneelse');
    const c = await RawFtp.connect(requiredPort, { implicitTls: true, ...other });
    assert.equal((await c.read()).code, 220);
    const r = await c.cmd('USER certuser');
    assert.equal(r.code, 530);
    assert.match(r.text, /TLS verification failed: CN "someoneelse" does not match username "certuser"/);
  });

  void it('TLSCertificate denied: USER asks for the password, checked as TLSCertificate+password', async () => {
    const u = await env.createUser({
      username: 'certpass',
      filters: { tls_username: 'CommonName', denied_login_methods: ['TLSCertificate'] } as unknown as Filters,
    });
    const cp = await env.certs.client('certpass');
    let c = await RawFtp.connect(requiredPort, { implicitTls: true, ...cp });
    await c.read();
    assert.equal((await c.cmd('USER certpass')).code, 331);
    assert.equal((await c.cmd(`PASS ${u.password}`)).code, 230);
    c.close();
    c = await RawFtp.connect(requiredPort, { implicitTls: true, ...cp });
    await c.read();
    assert.equal((await c.cmd('USER certpass')).code, 331);
    assert.equal((await c.cmd('PASS wrong')).code, 530);
    c.close();
    // TLSCertificate+password denied as well: even the right password is refused
    await env.updateUser('certpass', { filters: { tls_username: 'CommonName', denied_login_methods: ['TLSCertificate', 'TLSCertificate+password'] } as unknown as Filters });
    c = await RawFtp.connect(requiredPort, { implicitTls: true, ...cp });
    await c.read();
    assert.equal((await c.cmd('USER certpass')).code, 331);
    const r = await c.cmd(`PASS ${u.password}`);
    assert.equal(r.code, 530);
    assert.match(r.text, /login method TLSCertificate\+password is not allowed/);
    c.close();
  });

  void it('client_auth_type 2: password login without a certificate; Python FTP_TLS with one logs in by certificate', async () => {
    const u = await env.createUser();
    const r = await run('curl', ['-sS', '-k', '--max-time', '20', '--ssl-reqd', '--user', `${u.username}:${u.password}`, `ftp://127.0.0.1:${optionalPort}/`]);
    assert.equal(r.code, 0, r.stderr);
    const py = await run(PYTHON, ['-c', `
import ftplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(${JSON.stringify(cert.cert)}, ${JSON.stringify(cert.key)})
f = ftplib.FTP_TLS(context=ctx)
f.connect('127.0.0.1', ${optionalPort})
print(f.auth())
print(f.login('certuser'))
f.prot_p()
print('nlst', f.nlst('/'))
f.quit()
`]);
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /^230 TLS certificate ok, continue$/m);
    assert.match(py.stdout, /^nlst \[/m);
  });
});

void describe('ftpd: client certificate required on an explicit binding', () => {
  let env: FtpTestEnv;

  before(async () => {
    env = await startFtpTestServer({ bindings: [{ tls_mode: 0, client_auth_type: 1 }] });
  });
  after(async () => {
    await env.stop();
  });

  void it('a plain control connection cannot log in (534): the certificate could not be checked', async () => {
    const u = await env.createUser();
    const c = await RawFtp.connect(env.ports[0] as number);
    assert.equal((await c.read()).code, 220);
    const r = await c.cmd(`USER ${u.username}`);
    assert.equal(r.code, 534);
    assert.match(r.text, /client certificate is required/);
    c.close();
  });
});
