/**
 * Host keys (auto-generation, formats, fingerprints in /api/v2/status), the server ident /
 * banner, the login banner file and the algorithm lists.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { parseHostKey } from '../../../src/sftpd/host-keys.js';
import { startSftpTestServer, type SftpTestEnv, type TestUser } from '../../helpers/sftpd.js';
import { run, sshExec } from '../../helpers/ssh.js';

function readIdent(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) {
        s.destroy();
        resolve(buf.slice(0, nl));
      }
    });
    s.on('error', reject);
  });
}

void describe('sftpd: host keys, banner, algorithms', () => {
  let env: SftpTestEnv;
  let user: TestUser;

  before(async () => {
    env = await startSftpTestServer({ autoHostKeys: true });
    user = await env.createUser();
  });
  after(async () => {
    await env.stop();
  });

  void it('generates id_rsa, id_ecdsa and id_ed25519 (mode 0600) and reports their SHA256 fingerprints', async () => {
    const st = await env.srv.api<{ ssh: { is_active: boolean; host_keys: { path: string; fingerprint: string }[]; bindings: { port: number }[] } }>(
      'GET',
      '/status',
    );
    assert.equal(st.status, 200);
    assert.equal(st.body.ssh.is_active, true);
    assert.equal(st.body.ssh.bindings[0]?.port, env.port);
    const keys = st.body.ssh.host_keys;
    assert.deepEqual(
      keys.map((k) => k.path),
      ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((n) => join(env.srv.configDir, n)),
    );
    const expectedTypes = ['RSA', 'ECDSA', 'ED25519'];
    for (const [i, k] of keys.entries()) {
      const s = await stat(k.path);
      assert.equal(s.mode & 0o777, 0o600, k.path);
      // OpenSSH reads the file and computes the same fingerprint
      const r = await run('ssh-keygen', ['-l', '-f', k.path]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(k.fingerprint), `${r.stdout} vs ${k.fingerprint}`);
      assert.ok(r.stdout.includes(`(${expectedTypes[i] ?? ''})`), r.stdout);
    }
    const rsa = await run('ssh-keygen', ['-l', '-f', keys[0]?.path ?? '']);
    assert.match(rsa.stdout, /^4096 /);
    const ec = await readFile(join(env.srv.configDir, 'id_ecdsa'), 'utf8');
    assert.match(ec, /^-----BEGIN EC PRIVATE KEY-----/);
    const r = await readFile(join(env.srv.configDir, 'id_rsa'), 'utf8');
    assert.match(r, /^-----BEGIN RSA PRIVATE KEY-----/);
  });

  void it('sends the SSH-2.0-SFTPGo_2.1.2 ident', async () => {
    assert.equal(await readIdent(env.port), 'SSH-2.0-SFTPGo_2.1.2');
  });

  void it('loads PKCS#8 ed25519 keys as written by upstream SFTPGo', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const k = parseHostKey('/x/id_ed25519', Buffer.from(pem));
    assert.equal(k.type, 'ssh-ed25519');
    assert.ok(!(ssh2.utils.parseKey(k.privateKey) instanceof Error));
  });

  void it('uses sftpd.banner, the login banner file and the configured ciphers', async () => {
    const bannerFile = join(env.dir, 'banner.txt');
    await writeFile(bannerFile, 'Authorized access only\n');
    const other = await startSftpTestServer({
      config: { sftpd: { banner: 'MyBanner_1.0', login_banner_file: bannerFile, ciphers: ['aes256-ctr'], macs: ['hmac-sha2-256'] } },
    });
    try {
      assert.equal(await readIdent(other.port), 'SSH-2.0-MyBanner_1.0');
      const u = await other.createUser();
      const ok = await sshExec(other.target, u.creds, 'pwd', { extraArgs: ['-o', 'LogLevel=INFO', '-c', 'aes256-ctr'] });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, '/\n');
      assert.ok(ok.stderr.includes('Authorized access only'), ok.stderr);
      const refused = await sshExec(other.target, u.creds, 'pwd', { extraArgs: ['-c', 'aes128-gcm@openssh.com'] });
      // the server offers only aes256-ctr: the negotiation fails
      assert.equal(refused.code, 255);
    } finally {
      await other.stop();
    }
    // the default server still works with the client's defaults
    const r = await sshExec(env.target, user.creds, 'pwd');
    assert.equal(r.code, 0, r.stderr);
  });

  void it('refuses to start with an unknown algorithm, naming the key', async () => {
    await assert.rejects(
      startSftpTestServer({ config: { sftpd: { ciphers: ['rot13'] } } }),
      (e: Error) => /sftpd\.ciphers/.test(e.message) || /sftpd\.ciphers/.test(String((e.cause as Error | undefined)?.message)),
    );
  });
});
