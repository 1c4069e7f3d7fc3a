/**
 * rsync as a system command over SSH: a real `rsync -a -e ssh` upload of a small tree into the
 * user's home (byte-identical) and a download back; refused when rsync is not in
 * enabled_ssh_commands and when a needed permission is missing (upstream requires list,
 * download, upload, create_dirs, overwrite and delete).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, sha256File, startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey, requireTool, run, type KeyPair, type RunResult } from '../../helpers/ssh.js';

function sshCommand(port: number, key: KeyPair): string {
  return `ssh -F /dev/null -p ${port} -i ${key.privatePath} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes`;
}

function rsync(port: number, key: KeyPair, from: string, to: string): Promise<RunResult> {
  return run('rsync', ['-a', '-e', sshCommand(port, key), from, to], { timeoutMs: 60_000 });
}

/** a small tree: two files at the top, one in a sub directory */
async function makeTree(dir: string): Promise<Record<string, string>> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  return {
    'a.bin': await randomFile(join(dir, 'a.bin'), 65_536 + 17),
    'b.txt': await randomFile(join(dir, 'b.txt'), 10),
    'sub/c.bin': await randomFile(join(dir, 'sub', 'c.bin'), 300_000),
  };
}

void describe('sftpd: rsync over SSH (system command)', () => {
  let env: SftpTestEnv;
  let key: KeyPair;

  before(async () => {
    requireTool('rsync', 'rsync');
    env = await startSftpTestServer({ config: { sftpd: { enabled_ssh_commands: ['rsync'] } } });
    key = await generateKey(env.dir, 'rsync-key');
  });
  after(async () => {
    await env.stop();
  });

  void it('uploads a tree byte-identical into the home and downloads it back', async () => {
    const user = await env.createUser({ public_keys: [key.publicKey] });
    const src = join(env.dir, 'src-up');
    const sums = await makeTree(src);
    const up = await rsync(env.port, key, `${src}/`, `${user.username}@127.0.0.1:/dst/`);
    assert.equal(up.code, 0, up.stderr);
    for (const [rel, sum] of Object.entries(sums)) {
      assert.equal(await sha256File(join(user.home, 'dst', rel)), sum, `uploaded ${rel}`);
    }

    const back = join(env.dir, 'back');
    const down = await rsync(env.port, key, `${user.username}@127.0.0.1:/dst/`, `${back}/`);
    assert.equal(down.code, 0, down.stderr);
    for (const [rel, sum] of Object.entries(sums)) {
      assert.equal(await sha256File(join(back, rel)), sum, `downloaded ${rel}`);
    }
    assert.deepEqual(await readFile(join(back, 'b.txt')), await readFile(join(src, 'b.txt')));
  });

  void it('refuses a user missing one of the needed permissions (delete)', async () => {
    const perms = ['list', 'download', 'upload', 'create_dirs', 'overwrite', 'rename', 'create_symlinks'];
    const user = await env.createUser({ public_keys: [key.publicKey], permissions: { '/': perms } as never });
    const src = join(env.dir, 'src-noperm');
    await makeTree(src);
    const r = await rsync(env.port, key, `${src}/`, `${user.username}@127.0.0.1:/dst/`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /permission denied/i);
    await assert.rejects(readFile(join(user.home, 'dst', 'b.txt')), { code: 'ENOENT' });
  });
});

void describe('sftpd: rsync over SSH, not enabled', () => {
  let env: SftpTestEnv;
  let key: KeyPair;

  before(async () => {
    requireTool('rsync', 'rsync');
    env = await startSftpTestServer({ config: { sftpd: { enabled_ssh_commands: ['md5sum', 'sha1sum', 'cd', 'pwd', 'scp'] } } });
    key = await generateKey(env.dir, 'rsync-key');
  });
  after(async () => {
    await env.stop();
  });

  void it('refuses rsync when it is not in enabled_ssh_commands', async () => {
    const user = await env.createUser({ public_keys: [key.publicKey] });
    const src = join(env.dir, 'src');
    await makeTree(src);
    const r = await rsync(env.port, key, `${src}/`, `${user.username}@127.0.0.1:/dst/`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"rsync" is not enabled/);
    await assert.rejects(readFile(join(user.home, 'dst', 'b.txt')), { code: 'ENOENT' });
  });
});
