/**
 * Authentication methods with OpenSSH's client: public keys (several per user, several key
 * types) and the multi-step publickey+password login (partial success). Keyboard-interactive
 * (only with sftpd.keyboard_interactive_auth_hook) and publickey+keyboard-interactive are in
 * keyboard-interactive.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keyCreds, startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, sshExec, type KeyPair } from '../../helpers/ssh.js';

void describe('sftpd: authentication methods', () => {
  let env: SftpTestEnv;
  let ed: KeyPair;
  let ec: KeyPair;
  let rsa: KeyPair;
  let other: KeyPair;

  before(async () => {
    env = await startSftpTestServer();
    ed = await generateKey(env.dir, 'k-ed25519', 'ed25519');
    ec = await generateKey(env.dir, 'k-ecdsa', 'ecdsa');
    rsa = await generateKey(env.dir, 'k-rsa', 'rsa');
    other = await generateKey(env.dir, 'k-other', 'ed25519');
  });
  after(async () => {
    await env.stop();
  });

  void it('accepts every listed key (ed25519, ecdsa, rsa-sha2) and refuses an unlisted one', async () => {
    const u = await env.createUser({ public_keys: [ed.publicKey, ec.publicKey, rsa.publicKey] });
    for (const k of [ed, ec, rsa]) {
      const r = await sshExec(env.target, keyCreds(u.username, k), 'pwd');
      assert.equal(r.code, 0, `${k.privatePath}: ${r.stderr}`);
    }
    const r = await sshExec(env.target, keyCreds(u.username, other), 'pwd');
    assert.notEqual(r.code, 0);
  });

  void it('requires key and password for publickey+password', async () => {
    const u = await env.createUser({
      public_keys: [ed.publicKey],
      filters: { denied_login_methods: ['publickey', 'password', 'keyboard-interactive', 'publickey+keyboard-interactive'] },
    });
    const keyOnly = await sshExec(env.target, keyCreds(u.username, ed), 'pwd');
    assert.notEqual(keyOnly.code, 0, 'the key alone is not enough');
    const passwordOnly = await sshExec(env.target, u.creds, 'pwd');
    assert.notEqual(passwordOnly.code, 0, 'the password alone is not enough');
    const both = await sshExec(env.target, keyCreds(u.username, ed, u.password), 'pwd', {
      extraArgs: ['-o', 'PreferredAuthentications=publickey,password'],
    });
    assert.equal(both.code, 0, both.stderr);
    assert.equal(both.stdout, '/\n');
    const wrongPassword = await sshExec(env.target, keyCreds(u.username, ed, 'nope'), 'pwd', {
      extraArgs: ['-o', 'PreferredAuthentications=publickey,password', '-o', 'NumberOfPasswordPrompts=1'],
    });
    assert.notEqual(wrongPassword.code, 0);
  });
});
