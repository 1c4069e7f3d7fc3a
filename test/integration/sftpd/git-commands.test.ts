/**
 * System commands (git-receive-pack / git-upload-pack) when enabled: a real `git push` and
 * `git clone` over SSH into a bare repository in the user's home, quota updated after; refused
 * without the needed permissions, and refused when not enabled.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, requireTool, run, sshExec, type KeyPair } from '../../helpers/ssh.js';

void describe('sftpd: git over SSH (system commands)', () => {
  let env: SftpTestEnv;
  let key: KeyPair;

  before(async () => {
    requireTool('git', 'git');
    env = await startSftpTestServer({ config: { sftpd: { enabled_ssh_commands: ['*'] } } });
    key = await generateKey(env.dir, 'git-key');
  });
  after(async () => {
    await env.stop();
  });

  function gitEnv(): NodeJS.ProcessEnv {
    return {
      GIT_SSH_COMMAND: `ssh -F /dev/null -i ${key.privatePath} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p ${env.port}`,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      HOME: env.dir,
    };
  }

  async function git(cwd: string, ...args: string[]): Promise<{ code: number | null; stderr: string }> {
    const r = await run('git', args, { cwd, env: gitEnv() });
    return { code: r.code, stderr: r.stderr };
  }

  void it('pushes to and clones from a bare repository in the home, updating the quota', async () => {
    const user = await env.createUser({ public_keys: [key.publicKey], quota_size: 100 * 1024 * 1024 });
    const init = await run('git', ['init', '-q', '--bare', join(user.home, 'repo.git')]);
    assert.equal(init.code, 0, init.stderr);
    await env.srv.api('POST', `/quotas/users/${user.username}/scan`);
    const work = join(env.dir, 'work');
    await mkdir(work);
    assert.equal((await git(work, 'init', '-q', '-b', 'main')).code, 0);
    await writeFile(join(work, 'README'), 'hello over ssh\n');
    assert.equal((await git(work, 'add', 'README')).code, 0);
    assert.equal((await git(work, 'commit', '-q', '-m', 'first')).code, 0);
    const url = `ssh://${user.username}@127.0.0.1/repo.git`;
    const push = await git(work, 'push', '-q', url, 'main');
    assert.equal(push.code, 0, push.stderr);
    const before = await env.getUser(user.username);
    assert.ok((before.used_quota_files ?? 0) > 0, 'objects counted in the quota');

    const clone = join(env.dir, 'clone');
    const c = await git(env.dir, 'clone', '-q', '-b', 'main', url, clone);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await readFile(join(clone, 'README'), 'utf8'), 'hello over ssh\n');
  });

  void it('refuses the commands without the needed permissions or outside a local home', async () => {
    const ro = await env.createUser({ public_keys: [key.publicKey], permissions: { '/': ['list', 'download'] } as never });
    await run('git', ['init', '-q', '--bare', join(ro.home, 'repo.git')]);
    const r = await sshExec(env.target, { user: ro.username, identity: key.privatePath }, "git-upload-pack '/repo.git'");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /permission denied/i);
  });
});

void describe('sftpd: git over SSH, not enabled', () => {
  let env: SftpTestEnv;

  before(async () => {
    env = await startSftpTestServer();
  });
  after(async () => {
    await env.stop();
  });

  void it('refuses git-upload-pack with the default enabled_ssh_commands', async () => {
    const u = await env.createUser();
    const r = await sshExec(env.target, u.creds, "git-upload-pack '/repo.git'");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"git-upload-pack" is not enabled/);
  });
});
