/**
 * SFTP v3 protocol details with ssh2's Client: status codes, extensions (posix-rename,
 * statvfs, limits), handles, positional writes, SYMLINK argument order with OpenSSH,
 * connection ids in the registry and closing a connection from the registry.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectStatus, ssh2Connect, startSftpTestServer, waitFor, type SftpTestEnv, type Ssh2Session, type TestUser } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

void describe('sftpd: SFTP protocol', () => {
  let env: SftpTestEnv;
  let user: TestUser;
  let s: Ssh2Session;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser();
    await mkdir(join(user.home, 'dir', 'sub'), { recursive: true });
    await writeFile(join(user.home, 'file.txt'), '0123456789');
    s = await ssh2Connect(env.port, user.username, { password: user.password });
  });
  after(async () => {
    await s.end();
    await env.stop();
  });

  void it('advertises posix-rename, statvfs and limits', () => {
    const ext = (s.sftp as unknown as { _extensions: Record<string, string> })._extensions;
    assert.equal(ext['posix-rename@openssh.com'], '1');
    assert.equal(ext['statvfs@openssh.com'], '2');
    assert.equal(ext['limits@openssh.com'], '1');
  });

  void it('answers the expected status codes', async () => {
    await expectStatus(s.call('stat', '/missing'), 2, 'stat missing');
    await expectStatus(s.call('open', '/missing', 'r'), 2, 'open missing');
    await expectStatus(s.call('unlink', '/dir'), 4, 'remove a directory');
    await expectStatus(s.call('rmdir', '/dir'), 4, 'rmdir a non-empty directory');
    await expectStatus(s.call('mkdir', '/dir'), 4, 'mkdir an existing directory');
    await expectStatus(s.call('rmdir', '/file.txt'), 5, 'rmdir a file');
    await expectStatus(s.call('open', '/file.txt', 'wx'), 4, 'exclusive create of an existing file');
    await expectStatus(s.call('readdir', Buffer.from([0, 0, 0, 99])), 5, 'readdir with an unknown handle');
    await expectStatus(s.call('close', Buffer.from('bogus-handle')), 5, 'close of an invalid handle');
  });

  void it('answers the READs of a handle in the order they were asked', async () => {
    // OpenSSH's scp downloads "in place" and truncates the file at the first reply that arrives
    // out of order (exit status 0): short and long reads finishing in any order must not show.
    const data = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
    await writeFile(join(user.home, 'ordered.bin'), data);
    const h = await s.call<Buffer>('open', '/ordered.bin', 'r');
    const answered: number[] = [];
    const reads: Promise<void>[] = [];
    let pos = 0;
    for (let i = 0; pos < data.length; i++) {
      const len = i % 2 === 0 ? 32 * 1024 : 1 + (i % 7);
      const at = pos;
      pos += len;
      const buf = Buffer.alloc(len);
      reads.push(
        s.call<number>('read', h, buf, 0, len, at).then((n) => {
          answered.push(i);
          assert.ok(buf.subarray(0, n).equals(data.subarray(at, at + n)), `bytes of read ${i}`);
        }),
      );
    }
    await Promise.all(reads);
    await s.call('close', h);
    const firstOutOfOrder = answered.findIndex((v, k) => v !== k);
    assert.equal(firstOutOfOrder, -1, `reply ${answered[firstOutOfOrder]} came in position ${firstOutOfOrder} of ${answered.length}`);
  });

  void it('reads with EOF, fstat and a second CLOSE refused', async () => {
    const h = await s.call<Buffer>('open', '/file.txt', 'r');
    const st = await s.call<{ size: number; mode: number }>('fstat', h);
    assert.equal(st.size, 10);
    const buf = Buffer.alloc(64);
    const n = await s.call<number>('read', h, buf, 0, 64, 4);
    assert.equal(buf.subarray(0, n).toString(), '456789');
    await s.call('close', h);
    await expectStatus(s.call('close', h), 5, 'second close');
  });

  void it('applies positional writes in any order and in-place writes keep the rest of the file', async () => {
    const h = await s.call<Buffer>('open', '/pos.bin', 'w');
    const parts = ['cccc', 'aaaa', 'dddd', 'bbbb'];
    const at = [8, 0, 12, 4];
    await Promise.all(parts.map((p, i) => s.call('write', h, Buffer.from(p), 0, 4, at[i])));
    await s.call('close', h);
    assert.equal(await readFile(join(user.home, 'pos.bin'), 'utf8'), 'aaaabbbbccccdddd');
    // WRITE without TRUNC: in place
    const h2 = await s.call<Buffer>('open', '/pos.bin', 'r+');
    await s.call('write', h2, Buffer.from('XY'), 0, 2, 6);
    await s.call('close', h2);
    assert.equal(await readFile(join(user.home, 'pos.bin'), 'utf8'), 'aaaabbXYccccdddd');
  });

  void it('supports posix-rename@openssh.com and statvfs@openssh.com', async () => {
    await writeFile(join(user.home, 'pr-a.txt'), 'a');
    await writeFile(join(user.home, 'pr-b.txt'), 'b');
    await s.call('ext_openssh_rename', '/pr-a.txt', '/pr-b.txt');
    assert.equal(await readFile(join(user.home, 'pr-b.txt'), 'utf8'), 'a');
    const v = await s.call<{ f_bsize: number; f_blocks: number; f_bfree: number; f_namemax: number }>('ext_openssh_statvfs', '/');
    assert.ok(v.f_bsize > 0 && v.f_blocks > 0 && v.f_bfree <= v.f_blocks && v.f_namemax === 255, JSON.stringify(v));
  });

  void it('creates symlinks with OpenSSH ln -s (target first on the wire)', async () => {
    const r = await sftpBatch(env.target, user.creds, ['ln -s /file.txt /dir/link-to-file']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readlink(join(user.home, 'dir', 'link-to-file')), '../file.txt');
    assert.equal(await s.call<string>('readlink', '/dir/link-to-file'), '/file.txt');
    const st = await s.call<{ size: number }>('stat', '/dir/link-to-file');
    assert.equal(st.size, 10);
  });

  void it('accepts session channels only: port forwarding is refused', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => s.client.forwardOut('127.0.0.1', 0, '127.0.0.1', env.port, (err, ch) => (err ? reject(err) : resolve(ch)))),
      /prohibited|unknown|failure|open failure/i,
    );
    // the connection is still usable
    assert.equal((await s.call<{ size: number }>('stat', '/file.txt')).size, 10);
  });

  void it('registers the channel as SFTP_<session id>_<n> and lists active transfers', async () => {
    const h = await s.call<Buffer>('open', '/active.bin', 'w');
    await s.call('write', h, Buffer.alloc(1000, 1), 0, 1000, 0);
    const mine = env.connections().find((c) => c.username === user.username);
    assert.ok(mine, 'registered');
    assert.match(mine.connection_id, /^SFTP_[0-9a-f]{40,}_1$/);
    assert.equal(mine.protocol, 'SFTP');
    assert.match(mine.client_version ?? '', /^SSH-2\.0-/);
    assert.equal(mine.active_transfers?.[0]?.operation_type, 'upload');
    assert.equal(mine.active_transfers?.[0]?.path, '/active.bin');
    await s.call('close', h);
  });

  void it('closes the channel when the registry closes the connection, aborting the upload', async () => {
    const other = await ssh2Connect(env.port, user.username, { password: user.password });
    const closed = new Promise<void>((r) => other.sftp.once('close', () => r()));
    const h = await other.call<Buffer>('open', '/aborted.bin', 'w');
    await other.call('write', h, Buffer.alloc(4096, 2), 0, 4096, 0);
    const conn = env.connections().find((c) => c.username === user.username && c.active_transfers?.some((t) => t.path === '/aborted.bin'));
    assert.ok(conn);
    assert.equal(await env.srv.service.connections.closeAndWait(conn.connection_id), true);
    await closed;
    await waitFor(() => !env.connections().some((c) => c.connection_id === conn.connection_id));
    await other.end();
    // upload_mode 0 keeps what was written before the abort (upstream behaviour)
    assert.equal((await readFile(join(user.home, 'aborted.bin'))).length, 4096);
  });
});

void describe('sftpd: stop with clients connected', () => {
  void it('stops promptly, closing the sessions and aborting their uploads', async () => {
    const env = await startSftpTestServer();
    const user = await env.createUser();
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    const closed = new Promise<void>((r) => s.client.once('close', () => r()));
    const h = await s.call<Buffer>('open', '/during-stop.bin', 'w');
    await s.call('write', h, Buffer.alloc(1024, 3), 0, 1024, 0);
    await env.stop();
    await closed;
    assert.equal(env.connections().length, 0);
  });
});
