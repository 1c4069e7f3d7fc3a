/**
 * Per-directory permissions through SFTP: each denied operation answers SSH_FX_PERMISSION_DENIED
 * (3), and the same operation succeeds where the permission is granted. ssh2's Client gives the
 * exact status codes; OpenSSH `sftp` shows what users see.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectStatus, ssh2Connect, startSftpTestServer, type SftpTestEnv, type Ssh2Session, type TestUser } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

const DENIED = 3;

void describe('sftpd: permissions', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let s: Ssh2Session;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser({
      permissions: {
        '/': ['list', 'download'],
        '/full': ['*'],
        '/uponly': ['list', 'upload'],
        '/nolist': ['download', 'upload', 'overwrite'],
        '/nodelete': ['list', 'download', 'upload', 'overwrite', 'create_dirs', 'rename'],
        '/renamedst': ['list', 'upload'],
      } as never,
    });
    for (const d of ['full', 'uponly', 'nolist', 'nodelete', 'renamedst']) await mkdir(join(user.home, d));
    await writeFile(join(user.home, 'root.txt'), 'root\n');
    await writeFile(join(user.home, 'full', 'f.txt'), 'full\n');
    await writeFile(join(user.home, 'uponly', 'u.txt'), 'up\n');
    await writeFile(join(user.home, 'nolist', 'n.txt'), 'nolist\n');
    await writeFile(join(user.home, 'nodelete', 'd.txt'), 'nodelete\n');
    await mkdir(join(user.home, 'nodelete', 'sub'));
    s = await ssh2Connect(env.port, user.username, { password: user.password });
  });
  after(async () => {
    await s.end();
    await env.stop();
  });

  async function put(path: string, data: string): Promise<void> {
    const h = await s.call<Buffer>('open', path, 'w');
    await s.call('write', h, Buffer.from(data), 0, Buffer.byteLength(data), 0);
    await s.call('close', h);
  }

  async function get(path: string): Promise<string> {
    const h = await s.call<Buffer>('open', path, 'r');
    const buf = Buffer.alloc(1024);
    const n = await s.call<number>('read', h, buf, 0, 1024, 0);
    await s.call('close', h);
    return buf.subarray(0, n).toString();
  }

  void it('list: denied without it, allowed with it', async () => {
    await expectStatus(s.call('readdir', '/nolist'), DENIED, 'readdir /nolist');
    await expectStatus(s.call('stat', '/nolist/n.txt'), DENIED, 'stat /nolist/n.txt');
    const entries = await s.call<{ filename: string }[]>('readdir', '/full');
    assert.ok(entries.some((e) => e.filename === 'f.txt'));
    // download does not need list
    assert.equal(await get('/nolist/n.txt'), 'nolist\n');
  });

  void it('download: denied without it, allowed with it', async () => {
    await expectStatus(s.call('open', '/uponly/u.txt', 'r'), DENIED, 'open for read in /uponly');
    assert.equal(await get('/root.txt'), 'root\n');
  });

  void it('upload / overwrite: denied without them, allowed with them', async () => {
    await expectStatus(s.call('open', '/new.txt', 'w'), DENIED, 'upload in /');
    await put('/uponly/new.txt', 'new');
    assert.equal(await readFile(join(user.home, 'uponly', 'new.txt'), 'utf8'), 'new');
    // upload without overwrite: an existing file cannot be replaced
    await expectStatus(s.call('open', '/uponly/u.txt', 'w'), DENIED, 'overwrite in /uponly');
    assert.equal(await readFile(join(user.home, 'uponly', 'u.txt'), 'utf8'), 'up\n');
    await put('/nodelete/d.txt', 'replaced');
    assert.equal(await readFile(join(user.home, 'nodelete', 'd.txt'), 'utf8'), 'replaced');
  });

  void it('delete: denied without it, allowed with it', async () => {
    await expectStatus(s.call('unlink', '/nodelete/d.txt'), DENIED, 'remove in /nodelete');
    await expectStatus(s.call('rmdir', '/nodelete/sub'), DENIED, 'rmdir in /nodelete');
    await writeFile(join(user.home, 'full', 'gone.txt'), 'x');
    await s.call('unlink', '/full/gone.txt');
    await assert.rejects(stat(join(user.home, 'full', 'gone.txt')));
    await mkdir(join(user.home, 'full', 'gonedir'));
    await s.call('rmdir', '/full/gonedir');
  });

  void it('create_dirs: denied without it, allowed with it', async () => {
    await expectStatus(s.call('mkdir', '/newdir'), DENIED, 'mkdir in /');
    await s.call('mkdir', '/full/newdir');
    assert.ok((await stat(join(user.home, 'full', 'newdir'))).isDirectory());
  });

  void it('rename: needs rename on both sides (or delete + upload)', async () => {
    await writeFile(join(user.home, 'full', 'r1.txt'), 'r1');
    await s.call('rename', '/full/r1.txt', '/full/r2.txt');
    assert.equal(await readFile(join(user.home, 'full', 'r2.txt'), 'utf8'), 'r1');
    // source without rename/delete
    await expectStatus(s.call('rename', '/root.txt', '/full/root.txt'), DENIED, 'rename from /');
    // target without rename, source with delete: needs upload on the target (granted in /renamedst)
    await s.call('rename', '/full/r2.txt', '/renamedst/r3.txt');
    assert.equal(await readFile(join(user.home, 'renamedst', 'r3.txt'), 'utf8'), 'r1');
    // target without rename nor upload
    await writeFile(join(user.home, 'full', 'r4.txt'), 'r4');
    await expectStatus(s.call('rename', '/full/r4.txt', '/r4.txt'), DENIED, 'rename to /');
    assert.equal(await readFile(join(user.home, 'full', 'r4.txt'), 'utf8'), 'r4');
  });

  void it('create_symlinks, chmod, chtimes: denied without them, allowed with them', async () => {
    await expectStatus(s.call('symlink', '/root.txt', '/link'), DENIED, 'symlink in /');
    await expectStatus(s.call('chmod', '/root.txt', 0o600), DENIED, 'chmod in /');
    await expectStatus(s.call('utimes', '/root.txt', 1_000_000, 1_000_000), DENIED, 'utimes in /');
    await s.call('chmod', '/full/f.txt', 0o600);
    assert.equal((await stat(join(user.home, 'full', 'f.txt'))).mode & 0o777, 0o600);
    await s.call('utimes', '/full/f.txt', 1_000_000, 1_000_000);
    assert.equal((await stat(join(user.home, 'full', 'f.txt'))).mtimeMs, 1_000_000_000);
    await symlink('f.txt', join(user.home, 'full', 'existing-link'));
    const t = await s.call<string>('readlink', '/full/existing-link');
    assert.equal(t, '/full/f.txt');
  });

  void it('OpenSSH sftp reports "Permission denied"', async () => {
    const local = join(env.dir, 'perm-local.txt');
    await writeFile(local, 'x');
    const r = await sftpBatch(env.target, user.creds, [`put ${local} /denied.txt`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied/);
    await assert.rejects(stat(join(user.home, 'denied.txt')));
  });
});
