/**
 * The legacy SCP protocol with OpenSSH's `scp -O`: single files, recursive trees in both
 * directions with `-p` (times), target naming, symlinks in downloaded trees, and errors.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, sha256File, startSftpTestServer, type SftpTestEnv, type TestUser } from '../../helpers/sftpd.js';
import { remote, scp } from '../../helpers/ssh.js';

const OLD = new Date('2018-03-04T05:06:07Z');

async function walk(root: string): Promise<Map<string, { sum: string | null; mtime: number }>> {
  const out = new Map<string, { sum: string | null; mtime: number }>();
  const rec = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const st = await stat(p);
      if (e.isDirectory()) {
        out.set(relative(root, p), { sum: null, mtime: st.mtimeMs });
        await rec(p);
      } else out.set(relative(root, p), { sum: await sha256File(p), mtime: st.mtimeMs });
    }
  };
  await rec(root);
  return out;
}

void describe('sftpd: scp -O (legacy protocol)', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let tree: string;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser();
    tree = join(env.dir, 'tree');
    await mkdir(join(tree, 'a', 'b'), { recursive: true });
    await mkdir(join(tree, 'empty'));
    await randomFile(join(tree, 'top.bin'), 1024 * 1024 + 3);
    await writeFile(join(tree, 'a', 'one.txt'), 'one\n');
    await writeFile(join(tree, 'a', 'b', 'zero.txt'), '');
    await randomFile(join(tree, 'a', 'b', 'two.bin'), 70_000);
    for (const p of ['top.bin', 'a/one.txt', 'a/b/zero.txt', 'a/b/two.bin', 'a/b', 'a', 'empty']) {
      await utimes(join(tree, p), OLD, OLD);
    }
    await utimes(tree, OLD, OLD);
  });
  after(async () => {
    await env.stop();
  });

  void it('uploads and downloads a single file byte-exact, into a directory or under a new name', async () => {
    const f = join(env.dir, 'single.bin');
    const sum = await randomFile(f, 2 * 1024 * 1024 + 1);
    await mkdir(join(user.home, 'incoming'));
    const up1 = await scp(env.target, user.creds, [f, remote(user.creds, '/incoming')], { legacy: true });
    assert.equal(up1.code, 0, up1.stderr);
    assert.equal(await sha256File(join(user.home, 'incoming', 'single.bin')), sum);
    const up2 = await scp(env.target, user.creds, [f, remote(user.creds, '/renamed.bin')], { legacy: true });
    assert.equal(up2.code, 0, up2.stderr);
    assert.equal(await sha256File(join(user.home, 'renamed.bin')), sum);
    const back = join(env.dir, 'single.back');
    const down = await scp(env.target, user.creds, [remote(user.creds, '/renamed.bin'), back], { legacy: true });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await sha256File(back), sum);
  });

  void it('copies a tree recursively to the server with -r -p, keeping content and times', async () => {
    const r = await scp(env.target, user.creds, ['-r', '-p', tree, remote(user.creds, '/')], { legacy: true });
    assert.equal(r.code, 0, r.stderr);
    const local = await walk(tree);
    const remoteTree = await walk(join(user.home, 'tree'));
    assert.deepEqual([...remoteTree.keys()].sort(), [...local.keys()].sort());
    for (const [k, v] of local) {
      const rv = remoteTree.get(k);
      assert.equal(rv?.sum, v.sum, k);
      assert.equal(rv?.mtime, OLD.getTime(), `mtime of ${k}`);
    }
  });

  void it('copies a tree recursively from the server with -r -p, keeping content and times', async () => {
    const dst = join(env.dir, 'download');
    await mkdir(dst);
    const r = await scp(env.target, user.creds, ['-r', '-p', remote(user.creds, '/tree'), dst], { legacy: true });
    assert.equal(r.code, 0, r.stderr);
    const src = await walk(join(user.home, 'tree'));
    const got = await walk(join(dst, 'tree'));
    assert.deepEqual([...got.keys()].sort(), [...src.keys()].sort());
    for (const [k, v] of src) {
      assert.equal(got.get(k)?.sum, v.sum, k);
      assert.equal(got.get(k)?.mtime, OLD.getTime(), `mtime of ${k}`);
    }
  });

  void it('names the copy after a missing target directory (scp -r dir host:/new)', async () => {
    const r = await scp(env.target, user.creds, ['-r', tree, remote(user.creds, '/newname')], { legacy: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(user.home, 'newname', 'a', 'one.txt'), 'utf8'), 'one\n');
  });

  void it('downloads a tree with symlinks: links to files are sent as files, loops are not followed, links out of the home refused', async () => {
    const u = await env.createUser();
    await mkdir(join(u.home, 'lt', 'sub'), { recursive: true });
    await writeFile(join(u.home, 'lt', 'f.txt'), 'file');
    await writeFile(join(env.dir, 'outside-secret.txt'), 'outside');
    await symlink('..', join(u.home, 'lt', 'sub', 'loop'));
    await symlink('../f.txt', join(u.home, 'lt', 'sub', 'to-file'));
    const dst = join(env.dir, 'links-down');
    await mkdir(dst);
    const r = await scp(env.target, u.creds, ['-r', remote(u.creds, '/lt'), dst], { legacy: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(join(dst, 'lt'))).sort(), ['f.txt', 'sub']);
    assert.deepEqual(await readdir(join(dst, 'lt', 'sub')), ['to-file']);
    assert.equal((await lstat(join(dst, 'lt', 'sub', 'to-file'))).isFile(), true);
    assert.equal(await readFile(join(dst, 'lt', 'sub', 'to-file'), 'utf8'), 'file');
    await symlink(join(env.dir, 'outside-secret.txt'), join(u.home, 'lt', 'out-file'));
    const out = await scp(env.target, u.creds, ['-r', remote(u.creds, '/lt'), join(dst, 'again')], { legacy: true });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /out-file.*outside the root/);
    await assert.rejects(stat(join(dst, 'again', 'out-file')));
  });

  void it('a file the patterns deny stops a recursive download with an error, as a single file does', async () => {
    const u = await env.createUser({ filters: { file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }] } } as never);
    await mkdir(join(u.home, 'pd', 'deep'), { recursive: true });
    await writeFile(join(u.home, 'pd', 'ok.txt'), 'ok');
    await writeFile(join(u.home, 'pd', 'deep', 'tool.exe'), 'MZ');
    const dst = join(env.dir, 'pattern-down');
    await mkdir(dst);
    const r = await scp(env.target, u.creds, ['-r', remote(u.creds, '/pd'), dst], { legacy: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tool\.exe.*not allowed/);
    await assert.rejects(stat(join(dst, 'pd', 'deep', 'tool.exe')));
  });

  void it('reports errors: missing source, directory without -r, permission denied', async () => {
    const missing = await scp(env.target, user.creds, [remote(user.creds, '/nope.bin'), join(env.dir, 'nope')], { legacy: true });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /nope\.bin|no such file|not found/i);
    const dir = await scp(env.target, user.creds, [remote(user.creds, '/tree'), join(env.dir, 'x')], { legacy: true });
    assert.notEqual(dir.code, 0);
    const ro = await env.createUser({ permissions: { '/': ['list', 'download'] } as never });
    const f = join(env.dir, 'ro.txt');
    await writeFile(f, 'ro');
    const denied = await scp(env.target, ro.creds, [f, remote(ro.creds, '/ro.txt')], { legacy: true });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /permission denied/i);
    await assert.rejects(stat(join(ro.home, 'ro.txt')));
  });
});
