/**
 * A user whose home is the encrypted local backend, through the core's Connection: uploads go
 * through openWrite (no random access), and the quota counts plaintext sizes everywhere, so the
 * counters kept by uploads, overwrites, aborted overwrites and deletes always equal a scan.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  Connection,
  createUserFs,
  scanUserQuota,
  silentLogger,
  type ConnectionConfig,
} from '../../../src/common/index.js';
import type { MountTable } from '../../../src/vfs/index.js';
import { encryptedFileSize } from '../../../src/vfs/backends/crypt/index.js';
import { code, exists, makeEnv, upload, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

async function connect(
  uploadMode: ConnectionConfig['upload_mode'],
): Promise<{ c: Connection; mounts: MountTable }> {
  const user = env.user({
    filesystem: { provider: 4, cryptconfig: { passphrase: { status: 'Plain', payload: 'pw' } } },
  });
  const mounts = await createUserFs(user, {
    decryptSecret: (s) => Promise.resolve(s.payload ?? ''),
  });
  const c = new Connection({
    id: `SFTP_crypt_${uploadMode}`,
    protocol: 'SFTP',
    user,
    mounts,
    remoteAddress: '127.0.0.1:1',
    logger: silentLogger,
    provider: env.quota,
    config: { upload_mode: uploadMode, setstat_mode: 0, track_quota: 1 },
  });
  return { c, mounts };
}

async function download(c: Connection, vpath: string): Promise<Buffer> {
  const d = await c.openDownload(vpath);
  const out: Buffer[] = [];
  let at = 0;
  for (let b = await d.read(0, 65536); b; b = await d.read(at, 65536)) {
    out.push(b);
    at += b.length;
  }
  await d.close();
  return Buffer.concat(out);
}

async function scanned(mounts: MountTable): Promise<{ size: number; files: number }> {
  return scanUserQuota(mounts);
}

void describe('crypt home through the Connection', () => {
  for (const mode of [0, 1, 2] as const) {
    void it(`upload_mode ${mode}: quota counters equal a scan, in plaintext bytes`, async () => {
      const { c, mounts } = await connect(mode);
      const old = randomBytes(100_000);
      await upload(c, '/f.bin', old);
      await upload(c, '/g.bin', 'small');
      assert.deepEqual(env.quota.user(), { size: 100_005, files: 2 });
      assert.equal((await fsp.stat(path.join(env.home, 'f.bin'))).size, encryptedFileSize(100_000));

      // an overwrite that fails midway
      const t = await c.openUpload('/f.bin');
      await t.write(0, randomBytes(70_000));
      await t.abort();
      if (mode === 0) {
        // written in place: the old file went when the upload opened
        assert.equal(await exists(path.join(env.home, 'f.bin')), false);
        assert.deepEqual(env.quota.user(), { size: 5, files: 1 });
      } else {
        assert.deepEqual(
          await download(c, '/f.bin'),
          old,
          'an atomic overwrite keeps the old file',
        );
        assert.deepEqual(env.quota.user(), { size: 100_005, files: 2 });
      }
      assert.deepEqual(env.quota.user(), await scanned(mounts), 'counters after the abort');

      await upload(c, '/g.bin', randomBytes(3 * 65536 + 1));
      await c.remove('/g.bin');
      await upload(c, '/h.bin', '');
      assert.deepEqual(env.quota.user(), await scanned(mounts), 'counters at the end');
      await c.close();
    });
  }

  void it('refuses resumed and in-place uploads before touching the file', async () => {
    const { c } = await connect(0);
    await upload(c, '/r.bin', 'base');
    const before = await fsp.readFile(path.join(env.home, 'r.bin'));
    await assert.rejects(c.openUpload('/r.bin', { mode: 'append' }), code('OP_UNSUPPORTED'));
    await assert.rejects(
      c.openUpload('/r.bin', { mode: 'resume', offset: 2 }),
      code('OP_UNSUPPORTED'),
    );
    await assert.rejects(c.openUpload('/r.bin', { mode: 'inplace' }), code('OP_UNSUPPORTED'));
    await assert.rejects(c.truncate('/r.bin', 1), code('OP_UNSUPPORTED'));
    assert.deepEqual(await fsp.readFile(path.join(env.home, 'r.bin')), before);
    await c.close();
  });
});
