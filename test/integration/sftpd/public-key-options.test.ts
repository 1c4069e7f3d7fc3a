/**
 * A public key saved through the REST API with an authorized_keys options prefix and a comment
 * with spaces logs in with OpenSSH's ssh and sftp: the save-time validation and the login match
 * run the same parser (src/util/ssh-public-keys.ts). A malformed line is refused at save with the
 * parser's message. Options are stored as given and, as in SFTPGo 2.1.2, not enforced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keyCreds, startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, sftpBatch, sshExec, type KeyPair } from '../../helpers/ssh.js';

void describe('sftpd: public keys with options and comments', () => {
  let env: SftpTestEnv;
  let ed: KeyPair;
  let rsa: KeyPair;

  before(async () => {
    env = await startSftpTestServer();
    ed = await generateKey(env.dir, 'opt-ed25519', 'ed25519');
    rsa = await generateKey(env.dir, 'opt-rsa', 'rsa');
  });
  after(async () => {
    await env.stop();
  });

  void it('logs in with ssh and sftp using a key saved with options and a comment', async () => {
    const [type, b64] = ed.publicKey.split(' ');
    // the quoted value holds another key: only the key after the options may match
    const line = `from="127.0.0.1,::1",command="echo \\"hi\\" ${rsa.publicKey}",no-pty ${type} ${b64} laptop of  alice`;
    const u = await env.createUser({ public_keys: [line] });
    const stored = await env.getUser(u.username);
    assert.deepEqual(stored.public_keys, [line]);

    const r = await sshExec(env.target, keyCreds(u.username, ed), 'pwd');
    assert.equal(r.code, 0, r.stderr);
    const s = await sftpBatch(env.target, keyCreds(u.username, ed), ['ls /']);
    assert.equal(s.code, 0, s.stderr);
    const decoy = await sshExec(env.target, keyCreds(u.username, rsa), 'pwd');
    assert.notEqual(decoy.code, 0, 'the key inside the quoted option value must not log in');
  });

  void it('refuses a line whose declared type differs from its key at save, with the reason', async () => {
    const b64 = ed.publicKey.split(' ')[1] ?? '';
    const r = await env.srv.api<{ error?: string; message?: string }>('POST', '/users', {
      username: 'badkey',
      password: 'pw',
      status: 1,
      home_dir: `${env.dir}/badkey`,
      permissions: { '/': ['*'] },
      public_keys: [`no-pty ssh-rsa ${b64} c`],
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /could not parse key nr\. 1: key type mismatch/);
  });
});
