/**
 * File pattern filters (allowed / denied shell patterns per directory, case-insensitive) for
 * SFTP uploads, downloads and renames, SCP and the hash commands.
 */
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectStatus, ssh2Connect, startSftpTestServer, type SftpTestEnv, type Ssh2Session, type TestUser } from '../../helpers/sftpd.js';
import { remote, scp, sftpBatch, sshExec } from '../../helpers/ssh.js';

void describe('sftpd: file patterns', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let s: Ssh2Session;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser({
      filters: {
        file_patterns: [
          { path: '/', denied_patterns: ['*.exe', '*.zip'] },
          { path: '/docs', allowed_patterns: ['*.txt'] },
        ],
      },
    });
    await mkdir(join(user.home, 'docs'));
    await writeFile(join(user.home, 'already.exe'), 'MZ');
    await writeFile(join(user.home, 'docs', 'ok.txt'), 'ok\n');
    await writeFile(join(user.home, 'docs', 'secret.pdf'), '%PDF');
    s = await ssh2Connect(env.port, user.username, { password: user.password });
  });
  after(async () => {
    await s.end();
    await env.stop();
  });

  void it('refuses uploads of denied names (case-insensitive) and allows the others', async () => {
    await expectStatus(s.call('open', '/tool.exe', 'w'), 3, 'upload *.exe');
    await expectStatus(s.call('open', '/TOOL.EXE', 'w'), 3, 'upload *.EXE');
    await expectStatus(s.call('open', '/docs/a.pdf', 'w'), 3, 'upload a non-allowed name in /docs');
    const h = await s.call<Buffer>('open', '/docs/a.txt', 'w');
    await s.call('close', h);
    const h2 = await s.call<Buffer>('open', '/notes.md', 'w');
    await s.call('close', h2);
    await assert.rejects(stat(join(user.home, 'tool.exe')));
  });

  void it('refuses downloads, renames and hashes of denied files', async () => {
    await expectStatus(s.call('open', '/already.exe', 'r'), 3, 'download *.exe');
    await expectStatus(s.call('open', '/docs/secret.pdf', 'r'), 3, 'download a non-allowed name in /docs');
    await expectStatus(s.call('rename', '/docs/ok.txt', '/docs/ok.zip'), 3, 'rename to a denied name');
    const r = await sshExec(env.target, user.creds, 'md5sum /already.exe');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
  });

  void it('applies to OpenSSH sftp and scp -O alike', async () => {
    const f = join(env.dir, 'local.zip');
    await writeFile(f, 'PK');
    const r = await sftpBatch(env.target, user.creds, [`put ${f} /up.zip`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/);
    const c = await scp(env.target, user.creds, [f, remote(user.creds, '/up2.zip')], { legacy: true });
    assert.notEqual(c.code, 0);
    await assert.rejects(stat(join(user.home, 'up.zip')));
    await assert.rejects(stat(join(user.home, 'up2.zip')));
  });
});
