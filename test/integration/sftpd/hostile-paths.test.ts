/**
 * Hostile paths cannot leave the user's home: `..` sequences, symlinks to "/" (made by an admin
 * or by the client), renames "out of" the home, and SCP file names with slashes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sftpCode, ssh2Connect, startSftpTestServer, type SftpTestEnv, type Ssh2Session, type TestUser } from '../../helpers/sftpd.js';
import { remote, scp, sftpBatch } from '../../helpers/ssh.js';

void describe('sftpd: hostile paths', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let s: Ssh2Session;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser();
    await writeFile(join(user.home, 'mine.txt'), 'mine\n');
    // an admin-made symlink leading out of the home
    await symlink('/', join(user.home, 'rootlink'));
    await symlink('/etc/passwd', join(user.home, 'passwdlink'));
    s = await ssh2Connect(env.port, user.username, { password: user.password });
  });
  after(async () => {
    await s.end();
    await env.stop();
  });

  async function refused(p: Promise<unknown>, what: string): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      const c = sftpCode(e);
      assert.ok(c === 2 || c === 3 || c === 4, `${what}: status ${String(c)}`);
      return true;
    });
  }

  void it('resolves ".." inside the home: ../../etc/passwd is not the system file', async () => {
    await refused(s.call('stat', '../../etc/passwd'), 'stat ../../etc/passwd');
    await refused(s.call('open', '/../../../etc/passwd', 'r'), 'open /../../../etc/passwd');
    const real = await s.call<string>('realpath', '../../..');
    assert.equal(real, '/');
    const local = join(env.dir, 'passwd-copy');
    const r = await sftpBatch(env.target, user.creds, [`get ../../etc/passwd ${local}`]);
    assert.notEqual(r.code, 0);
    await assert.rejects(stat(local));
  });

  void it('does not follow symlinks that lead out of the home', async () => {
    await refused(s.call('readdir', '/rootlink'), 'readdir /rootlink');
    await refused(s.call('stat', '/rootlink/etc/passwd'), 'stat through /rootlink');
    await refused(s.call('open', '/rootlink/etc/passwd', 'r'), 'open through /rootlink');
    await refused(s.call('open', '/passwdlink', 'r'), 'open /passwdlink');
    await refused(s.call('open', '/rootlink/tmp/evil.txt', 'w'), 'write through /rootlink');
    const local = join(env.dir, 'rootlink-copy');
    const r = await scp(env.target, user.creds, [remote(user.creds, '/passwdlink'), local], { legacy: true });
    assert.notEqual(r.code, 0);
    await assert.rejects(stat(local));
  });

  void it('keeps client-made symlinks inside the home', async () => {
    // The server reads SYMLINK in OpenSSH's order (target first) from every client, as
    // pkg/sftp does; ssh2's client writes the draft's order (link first), so its arguments are
    // swapped here. "/etc/passwd" is a path of the user's namespace.
    await s.call('symlink', '/mylink', '/etc/passwd');
    assert.equal(await readlink(join(user.home, 'mylink')), 'etc/passwd');
    await refused(s.call('open', '/mylink', 'r'), 'open /mylink (home/etc/passwd does not exist)');
    // a link to the root itself is refused
    await assert.rejects(s.call('symlink', '/up', '../../../../../../'), (e: unknown) => sftpCode(e) === 3);
    await assert.rejects(lstat(join(user.home, 'up')));
  });

  void it('cannot rename a file out of the home', async () => {
    const marker = `escaped-${randomBytes(4).toString('hex')}`;
    await refused(s.call('rename', '/mine.txt', `../../../../..${tmpdir()}/${marker}`), 'rename to ../../tmp');
    await assert.rejects(stat(join(tmpdir(), marker)), 'nothing was created in the real tmp dir');
    await refused(s.call('rename', '/mine.txt', '/rootlink/tmp/x'), 'rename through a symlink');
    assert.equal(await readFile(join(user.home, 'mine.txt'), 'utf8'), 'mine\n');
  });

  void it('refuses SCP names with slashes and keeps ../ targets inside the home', async () => {
    const f = join(env.dir, 'scp-evil.txt');
    await writeFile(f, 'evil\n');
    const marker = `scp-escape-${randomBytes(4).toString('hex')}`;
    const r = await scp(env.target, user.creds, [f, remote(user.creds, `../../../../..${tmpdir()}/${marker}`)], { legacy: true });
    // resolved inside the home, where the tmp directory does not exist
    assert.notEqual(r.code, 0);
    await assert.rejects(stat(join(tmpdir(), marker)));
  });
});
