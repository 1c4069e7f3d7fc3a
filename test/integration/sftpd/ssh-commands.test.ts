/**
 * SSH commands over exec channels: hash commands equal to the local tools, cd / pwd,
 * sftpgo-copy / sftpgo-remove, disabled and unknown commands, shells refused.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, startSftpTestServer, type SftpTestEnv, type TestUser } from '../../helpers/sftpd.js';
import { run, sshExec } from '../../helpers/ssh.js';

void describe('sftpd: SSH commands (all enabled)', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let local: string;

  before(async () => {
    env = await startSftpTestServer({ config: { sftpd: { enabled_ssh_commands: ['*'] } } });
    user = await env.createUser({ quota_size: 50 * 1024 * 1024 });
    local = join(user.home, 'data.bin');
    await randomFile(local, 1024 * 1024 + 11);
  });
  after(async () => {
    await env.stop();
  });

  for (const cmd of ['md5sum', 'sha1sum', 'sha256sum', 'sha384sum', 'sha512sum']) {
    void it(`${cmd} equals the local ${cmd}`, async () => {
      const r = await sshExec(env.target, user.creds, `${cmd} /data.bin`);
      assert.equal(r.code, 0, r.stderr);
      const l = await run(cmd, [local]);
      assert.equal(r.stdout, `${l.stdout.split(' ')[0] ?? ''}  /data.bin\n`);
    });
  }

  void it('hashes stdin without arguments', async () => {
    const r = await sshExec(env.target, user.creds, 'sha256sum', { input: 'hello\n' });
    assert.equal(r.code, 0, r.stderr);
    const l = await run('sha256sum', [], { input: 'hello\n' });
    assert.equal(r.stdout, l.stdout);
  });

  void it('pwd prints / and cd succeeds', async () => {
    const p = await sshExec(env.target, user.creds, 'pwd');
    assert.equal(p.code, 0);
    assert.equal(p.stdout, '/\n');
    const c = await sshExec(env.target, user.creds, 'cd /anything');
    assert.equal(c.code, 0);
    assert.equal(c.stdout, '');
  });

  void it('reports a hash of a missing file on stderr with exit status 1', async () => {
    const r = await sshExec(env.target, user.creds, 'md5sum /missing.bin');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /md5sum: \/missing\.bin/);
  });

  void it('sftpgo-copy copies files and trees, updating the quota; sftpgo-remove removes them', async () => {
    await mkdir(join(user.home, 'src', 'sub'), { recursive: true });
    await writeFile(join(user.home, 'src', 'a.txt'), 'a\n');
    await writeFile(join(user.home, 'src', 'sub', 'b.txt'), 'bb\n');
    const before = await env.getUser(user.username);
    const cp = await sshExec(env.target, user.creds, 'sftpgo-copy /src /dst');
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(cp.stdout, 'OK\n');
    assert.equal(await readFile(join(user.home, 'dst', 'sub', 'b.txt'), 'utf8'), 'bb\n');
    const afterCopy = await env.getUser(user.username);
    assert.equal((afterCopy.used_quota_files ?? 0) - (before.used_quota_files ?? 0), 2);
    assert.equal((afterCopy.used_quota_size ?? 0) - (before.used_quota_size ?? 0), 5);
    const again = await sshExec(env.target, user.creds, 'sftpgo-copy /src /dst');
    assert.equal(again.code, 1, 'no overwrite');
    const file = await sshExec(env.target, user.creds, 'sftpgo-copy /data.bin /data-copy.bin');
    assert.equal(file.code, 0, file.stderr);
    assert.equal((await stat(join(user.home, 'data-copy.bin'))).size, 1024 * 1024 + 11);

    const rm = await sshExec(env.target, user.creds, 'sftpgo-remove /dst');
    assert.equal(rm.code, 0, rm.stderr);
    await assert.rejects(stat(join(user.home, 'dst')));
    const afterRm = await env.getUser(user.username);
    assert.equal(afterRm.used_quota_files, (afterCopy.used_quota_files ?? 0) + 1 - 2);
    const root = await sshExec(env.target, user.creds, 'sftpgo-remove /');
    assert.equal(root.code, 1);
  });

  void it('sftpgo-copy and sftpgo-remove check every entry of the tree before changing anything', async () => {
    const u = await env.createUser({
      permissions: { '/': ['*'], '/t/a/nodl': ['list', 'delete'], '/t/b/keep': ['list', 'download'] } as never,
    });
    await mkdir(join(u.home, 't', 'a', 'nodl'), { recursive: true });
    await mkdir(join(u.home, 't', 'b', 'keep'), { recursive: true });
    await writeFile(join(u.home, 't', 'top.txt'), 'top');
    await writeFile(join(u.home, 't', 'a', 'nodl', 'secret.txt'), 'no download');
    await writeFile(join(u.home, 't', 'b', 'keep', 'k.txt'), 'kept');
    const cp = await sshExec(env.target, u.creds, 'sftpgo-copy /t /copy');
    assert.equal(cp.code, 1);
    assert.match(cp.stderr, /sftpgo-copy: \/copy .*download/);
    await assert.rejects(stat(join(u.home, 'copy')), 'nothing copied');
    const rm = await sshExec(env.target, u.creds, 'sftpgo-remove /t');
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /permission denied/);
    assert.equal(await readFile(join(u.home, 't', 'top.txt'), 'utf8'), 'top', 'nothing removed');
    const sub = await sshExec(env.target, u.creds, 'sftpgo-remove /t/a');
    assert.equal(sub.code, 0, sub.stderr);
    await assert.rejects(stat(join(u.home, 't', 'a')));
  });

  void it('refuses unknown commands with a message and exit status 1', async () => {
    const r = await sshExec(env.target, user.creds, 'ls -la /');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"ls" is not enabled or not supported/);
    const q = await sshExec(env.target, user.creds, "md5sum 'unterminated");
    assert.equal(q.code, 1);
  });

  void it('refuses a shell, with or without a pty request', async () => {
    const r = await sshExec(env.target, user.creds, undefined);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /shell access is not supported/);
    const t = await sshExec(env.target, user.creds, undefined, { extraArgs: ['-tt'] });
    assert.equal(t.code, 1);
    assert.match(t.stdout + t.stderr, /shell access is not supported/);
  });
});

void describe('sftpd: SSH commands (default list)', () => {
  let env: SftpTestEnv;
  let user: TestUser;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser();
    await writeFile(join(user.home, 'f.txt'), 'f\n');
  });
  after(async () => {
    await env.stop();
  });

  void it('lists md5sum sha1sum cd pwd scp in /api/v2/status', async () => {
    const st = await env.srv.api<{ ssh: { ssh_commands: string[] } }>('GET', '/status');
    assert.deepEqual(st.body.ssh.ssh_commands, ['md5sum', 'sha1sum', 'cd', 'pwd', 'scp']);
  });

  void it('runs md5sum but refuses the disabled sha256sum', async () => {
    const ok = await sshExec(env.target, user.creds, 'md5sum /f.txt');
    assert.equal(ok.code, 0, ok.stderr);
    const r = await sshExec(env.target, user.creds, 'sha256sum /f.txt');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"sha256sum" is not enabled/);
    assert.equal(r.stdout, '');
  });
});
