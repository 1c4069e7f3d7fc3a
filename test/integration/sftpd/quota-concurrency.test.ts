/**
 * Quota that holds under concurrency (beyond upstream, which checks only when a transfer
 * starts): 20 OpenSSH sftp clients upload 150 KiB each at once against quota_files 8 and
 * quota_size 1,000,000. Bytes and files of uploads in progress count, so the quota is never
 * overshot, the failed uploads leave nothing behind and the counters equal a fresh scan.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, sha256File, startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

const CLIENTS = 20;
const FILE_SIZE = 150 * 1024;
const QUOTA_SIZE = 1_000_000;
const QUOTA_FILES = 8;

interface Usage {
  size: number;
  files: number;
}

async function onDisk(dir: string): Promise<Usage> {
  let size = 0;
  let files = 0;
  for (const e of await readdir(dir)) {
    size += (await stat(join(dir, e))).size;
    files++;
  }
  return { size, files };
}

void describe('sftpd: quota under concurrent uploads', () => {
  let env: SftpTestEnv;
  let src: string;
  let srcSum: string;

  before(async () => {
    env = await startSftpTestServer();
    src = join(env.dir, 'src.bin');
    srcSum = await randomFile(src, FILE_SIZE);
  });
  after(async () => {
    await env.stop();
  });

  async function uploadAll(creds: { user: string; password?: string }, dir: string): Promise<number> {
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => sftpBatch(env.target, creds, [`put ${src} ${dir}/f${i}.bin`])),
    );
    return results.filter((r) => r.code === 0).length;
  }

  async function scanned<T>(scanPath: string, listPath: string, read: () => Promise<T>): Promise<T> {
    const r = await env.srv.api('POST', scanPath);
    assert.equal(r.status, 202, r.text);
    await waitFor(async () => ((await env.srv.api<unknown[]>('GET', listPath)).body ?? []).length === 0, 10_000, 'quota scan');
    return read();
  }

  void it('user quota: never overshot, complete files only, counters equal a fresh scan', async () => {
    const user = await env.createUser({ quota_size: QUOTA_SIZE, quota_files: QUOTA_FILES });
    const ok = await uploadAll(user.creds, '');
    const disk = await onDisk(user.home);
    assert.ok(disk.files <= QUOTA_FILES, `${disk.files} files on disk`);
    assert.ok(disk.size <= QUOTA_SIZE, `${disk.size} bytes on disk`);
    assert.equal(disk.files, ok, 'one complete file per successful upload, no partial file');
    assert.ok(ok >= 1 && ok < CLIENTS, `${ok} uploads succeeded`);
    for (const e of await readdir(user.home)) assert.equal(await sha256File(join(user.home, e)), srcSum, e);

    const counted = await env.getUser(user.username);
    assert.deepEqual({ size: counted.used_quota_size, files: counted.used_quota_files }, disk);
    const rescanned = await scanned(`/quotas/users/${user.username}/scan`, '/quotas/users/scans', () => env.getUser(user.username));
    assert.deepEqual({ size: rescanned.used_quota_size, files: rescanned.used_quota_files }, disk);
  });

  void it('a virtual folder with its own quota: the same holds for the folder', async () => {
    const mapped = join(env.dir, 'vf-quota');
    await mkdir(mapped);
    const folder = `vfq${Date.now()}`;
    const user = await env.createUser({
      quota_size: 100 * 1024 * 1024,
      virtual_folders: [{ name: folder, mapped_path: mapped, virtual_path: '/vdir', quota_size: QUOTA_SIZE, quota_files: QUOTA_FILES }],
    });
    const ok = await uploadAll(user.creds, '/vdir');
    const disk = await onDisk(mapped);
    assert.ok(disk.files <= QUOTA_FILES, `${disk.files} files in the folder`);
    assert.ok(disk.size <= QUOTA_SIZE, `${disk.size} bytes in the folder`);
    assert.equal(disk.files, ok);
    assert.ok(ok >= 1 && ok < CLIENTS, `${ok} uploads succeeded`);

    const read = async (): Promise<Usage> => {
      const f = await env.srv.api<{ used_quota_size?: number; used_quota_files?: number }>('GET', `/folders/${folder}`);
      return { size: f.body.used_quota_size ?? -1, files: f.body.used_quota_files ?? -1 };
    };
    assert.deepEqual(await read(), disk);
    assert.deepEqual(await scanned(`/quotas/folders/${folder}/scan`, '/quotas/folders/scans', read), disk);
    // the folder does not count in the user's quota
    const u = await env.getUser(user.username);
    assert.deepEqual({ size: u.used_quota_size, files: u.used_quota_files }, { size: 0, files: 0 });
  });
});
