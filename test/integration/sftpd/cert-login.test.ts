/**
 * OpenSSH user certificates: signed by a CA listed in sftpd.trusted_user_ca_keys, principal =
 * username, valid now, source-address honoured, and — as SFTPGo 2.1.2 requires — the
 * certificate itself listed in the user's public_keys.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, sftpBatch, signUserCert, sshExec, type KeyPair } from '../../helpers/ssh.js';

void describe('sftpd: user certificates', () => {
  let env: SftpTestEnv;
  let keys: string;
  let ca: KeyPair;
  let untrustedCa: KeyPair;

  before(async () => {
    keys = await mkdtemp(join(tmpdir(), 'sftpgo-certs-'));
    ca = await generateKey(keys, 'ca', 'ed25519');
    untrustedCa = await generateKey(keys, 'ca2', 'ed25519');
    const rsaCa = await generateKey(keys, 'ca-rsa', 'rsa');
    env = await startSftpTestServer({ config: { sftpd: { trusted_user_ca_keys: [ca.publicPath, rsaCa.publicPath] } } });
  });
  after(async () => {
    await env.stop();
  });

  async function login(username: string, key: KeyPair, cert: string): Promise<number | null> {
    const r = await sshExec(env.target, { user: username, identity: key.privatePath, certificate: cert }, 'pwd');
    return r.code;
  }

  void it('logs in with a valid certificate listed in public_keys (sftp and ssh)', async () => {
    const key = await generateKey(keys, 'u-valid', 'ed25519');
    const user = await env.createUser();
    const cert = await signUserCert(ca, key, { principals: [user.username], validity: '-5m:+1h', id: 'valid-cert' });
    await env.updateUser(user.username, { public_keys: [cert.line] });
    assert.equal(await login(user.username, key, cert.path), 0);
    const r = await sftpBatch(env.target, { user: user.username, identity: key.privatePath, certificate: cert.path }, ['ls /']);
    assert.equal(r.code, 0, r.stderr);
  });

  void it('works with an ecdsa user key signed by an RSA CA', async () => {
    const rsaCa = { privatePath: join(keys, 'ca-rsa'), publicPath: join(keys, 'ca-rsa.pub'), publicKey: '' };
    const key = await generateKey(keys, 'u-ecdsa', 'ecdsa');
    const user = await env.createUser();
    const cert = await signUserCert(rsaCa, key, { principals: [user.username] });
    await env.updateUser(user.username, { public_keys: [cert.line] });
    assert.equal(await login(user.username, key, cert.path), 0);
  });

  void it('refuses a certificate that is not listed in public_keys (SFTPGo 2.1.2)', async () => {
    const key = await generateKey(keys, 'u-unlisted', 'ed25519');
    const user = await env.createUser({ public_keys: [] });
    const cert = await signUserCert(ca, key, { principals: [user.username] });
    assert.notEqual(await login(user.username, key, cert.path), 0);
  });

  void it('refuses a wrong principal, an expired certificate, an untrusted CA and a wrong source address', async () => {
    const user = await env.createUser();
    const cases: { name: string; ca: KeyPair; principals: string[]; validity?: string; options?: string[] }[] = [
      { name: 'principal', ca, principals: ['someone-else'] },
      { name: 'expired', ca, principals: [user.username], validity: '20200101:20200102' },
      { name: 'not-yet', ca, principals: [user.username], validity: '+1d:+2d' },
      { name: 'untrusted', ca: untrustedCa, principals: [user.username] },
      { name: 'source', ca, principals: [user.username], options: ['source-address=10.1.2.0/24'] },
    ];
    const lines: string[] = [];
    const made: { name: string; key: KeyPair; path: string }[] = [];
    for (const c of cases) {
      const key = await generateKey(keys, `u-bad-${c.name}`, 'ed25519');
      const cert = await signUserCert(c.ca, key, {
        principals: c.principals,
        ...(c.validity ? { validity: c.validity } : {}),
        ...(c.options ? { options: c.options } : {}),
      });
      lines.push(cert.line);
      made.push({ name: c.name, key, path: cert.path });
    }
    await env.updateUser(user.username, { public_keys: lines });
    for (const m of made) assert.notEqual(await login(user.username, m.key, m.path), 0, m.name);
    // each was refused for its own reason
    const reasons = [
      'not in the set of valid principals',
      'cert has expired',
      'cert is not yet valid',
      'signed by unrecognized authority',
      'is not allowed by the certificate',
    ];
    const logFile = join(env.srv.configDir, 'sftpgo.log');
    await waitFor(async () => {
      const log = await readFile(logFile, 'utf8');
      return reasons.every((r) => log.includes(r));
    }, 10_000, `connection_failed lines with: ${reasons.join(' | ')}`);
    // the same source-address option with the right network works
    const okKey = await generateKey(keys, 'u-good-source', 'ed25519');
    const okCert = await signUserCert(ca, okKey, { principals: [user.username], options: ['source-address=127.0.0.0/8'] });
    await env.updateUser(user.username, { public_keys: [...lines, okCert.line] });
    assert.equal(await login(user.username, okKey, okCert.path), 0);
  });

  void it('refuses a host certificate used as a user certificate', async () => {
    const key = await generateKey(keys, 'u-hostcert', 'ed25519');
    const user = await env.createUser();
    const cert = await signUserCert(ca, key, { principals: [user.username], host: true });
    await env.updateUser(user.username, { public_keys: [cert.line] });
    assert.notEqual(await login(user.username, key, cert.path), 0);
  });
});
