import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ERR_QUOTA_EXCEEDED } from '../../../src/common/index.js';
import { code, exists, makeEnv, upload, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

void describe('quota accounting', () => {
  void it('new files add one file and their size; overwrites add the size difference; removes subtract', async () => {
    const c = await env.connect(env.user());
    await upload(c, '/a.txt', '12345');
    assert.deepEqual(env.quota.user(), { size: 5, files: 1 });
    await upload(c, '/a.txt', '12');
    assert.deepEqual(env.quota.user(), { size: 2, files: 1 });
    const t = await c.openUpload('/a.txt', { mode: 'append' });
    await t.write(2, Buffer.from('345'));
    await t.close();
    assert.deepEqual(env.quota.user(), { size: 5, files: 1 });
    await c.remove('/a.txt');
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });

  void it('track_quota 0 never touches the counters; 2 skips users without limits', async () => {
    const off = await env.connect(env.user(), { config: { track_quota: 0 } });
    await upload(off, '/x', 'xx');
    assert.equal(env.quota.calls, 0);
    const two = await env.connect(env.user(), { config: { track_quota: 2 } });
    await upload(two, '/y', 'yy');
    assert.equal(env.quota.calls, 0);
    const limited = await env.connect(env.user({ quota_size: 1000 }), {
      config: { track_quota: 2 },
    });
    await upload(limited, '/z', 'zzz');
    assert.deepEqual(env.quota.user(), { size: 3, files: 1 });
  });

  void it('virtual folders: own quota vs counted in the user quota', async () => {
    const c = await env.connect(
      env.user({
        virtual_folders: [
          {
            name: 'own',
            mapped_path: env.p('own'),
            virtual_path: '/own',
            quota_size: 0,
            quota_files: 0,
          },
          {
            name: 'incl',
            mapped_path: env.p('incl'),
            virtual_path: '/incl',
            quota_size: -1,
            quota_files: -1,
          },
        ],
      }),
      { config: { track_quota: 1 } },
    );
    await upload(c, '/own/f', '1234');
    assert.deepEqual(env.quota.folder('own'), { size: 4, files: 1 });
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
    await upload(c, '/incl/f', '123');
    assert.deepEqual(env.quota.folder('incl'), { size: 3, files: 1 });
    assert.deepEqual(env.quota.user(), { size: 3, files: 1 });
  });
});

void describe('quota limits', () => {
  void it('refuses an upload when the quota is already used up', async () => {
    env.quota.users.set('alice', { usedQuotaSize: 100, usedQuotaFiles: 1 });
    const c = await env.connect(env.user({ quota_size: 100 }));
    await assert.rejects(c.openUpload('/f'), code('QUOTA_EXCEEDED', ERR_QUOTA_EXCEEDED));
    const files = await env.connect(env.user({ quota_files: 1 }));
    await assert.rejects(files.openUpload('/g'), code('QUOTA_EXCEEDED'));
    assert.equal(await exists(path.join(env.home, 'f')), false);
  });

  void it('an overrun mid-upload aborts, leaves no partial file and correct counters', async () => {
    for (const mode of [0, 1, 2] as const) {
      const name = `/big-${mode}.bin`;
      env.quota.users.set('alice', { usedQuotaSize: 10, usedQuotaFiles: 1 });
      const c = await env.connect(env.user({ quota_size: 1010 }), {
        config: { upload_mode: mode },
      });
      const t = await c.openUpload(name);
      await t.write(0, Buffer.alloc(600));
      await assert.rejects(
        t.write(600, Buffer.alloc(600)),
        code('QUOTA_EXCEEDED', ERR_QUOTA_EXCEEDED),
      );
      await assert.rejects(t.write(1200, Buffer.alloc(1)), code('QUOTA_EXCEEDED'));
      await assert.rejects(t.close(), code('QUOTA_EXCEEDED'));
      assert.equal(await exists(path.join(env.home, name)), false, `mode ${mode}`);
      const leftovers = (await fsp.readdir(env.home)).filter((n) =>
        n.startsWith('.sftpgo-upload.'),
      );
      assert.deepEqual(leftovers, [], `mode ${mode}`);
      assert.deepEqual(env.quota.user(), { size: 10, files: 1 }, `mode ${mode}`);
      assert.equal(c.activeTransfers().length, 0);
    }
  });

  void it('an overrun while overwriting in direct mode removes the file and its counters', async () => {
    const c = await env.connect(env.user({ quota_size: 50 }));
    await upload(c, '/ow.bin', Buffer.alloc(30));
    assert.deepEqual(env.quota.user(), { size: 30, files: 1 });
    const t = await c.openUpload('/ow.bin');
    // room: 50 - 30 used + 30 freed by the overwrite
    await t.write(0, Buffer.alloc(40));
    await assert.rejects(t.write(40, Buffer.alloc(20)), code('QUOTA_EXCEEDED'));
    await assert.rejects(t.close());
    assert.equal(await exists(path.join(env.home, 'ow.bin')), false);
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });

  void it('an overrun while resuming cuts the file back to its original size', async () => {
    const c = await env.connect(env.user({ quota_size: 50 }));
    await upload(c, '/res.bin', Buffer.alloc(30, 1));
    const t = await c.openUpload('/res.bin', { mode: 'append' });
    await t.write(30, Buffer.alloc(10, 2));
    await assert.rejects(t.write(40, Buffer.alloc(20, 3)), code('QUOTA_EXCEEDED'));
    await assert.rejects(t.close());
    const after = await fsp.readFile(path.join(env.home, 'res.bin'));
    assert.deepEqual(after, Buffer.alloc(30, 1));
    assert.deepEqual(env.quota.user(), { size: 30, files: 1 });
  });

  void it('max_upload_file_size limits a single upload', async () => {
    const c = await env.connect(env.user({ filters: { max_upload_file_size: 100 } }));
    const t = await c.openUpload('/m.bin');
    await t.write(0, Buffer.alloc(100));
    await assert.rejects(t.write(100, Buffer.alloc(1)), code('QUOTA_EXCEEDED'));
    await assert.rejects(t.close());
    assert.equal(await exists(path.join(env.home, 'm.bin')), false);
    await upload(c, '/m.bin', Buffer.alloc(100));
    await assert.rejects(c.openUpload('/m.bin', { mode: 'append' }), code('QUOTA_EXCEEDED'));
  });

  void it('a folder with its own quota is limited by it', async () => {
    env.quota.folders.set('own', { usedQuotaSize: 0, usedQuotaFiles: 2 });
    const c = await env.connect(
      env.user({
        virtual_folders: [
          {
            name: 'own',
            mapped_path: env.p('own'),
            virtual_path: '/own',
            quota_size: 0,
            quota_files: 2,
          },
        ],
      }),
    );
    await assert.rejects(c.openUpload('/own/third'), code('QUOTA_EXCEEDED'));
    await upload(c, '/home-ok', 'x');
  });

  void it('statvfs is derived from the quota when limited', async () => {
    env.quota.users.set('alice', { usedQuotaSize: 4096, usedQuotaFiles: 1 });
    const c = await env.connect(env.user({ quota_size: 4096 * 10, quota_files: 10 }));
    const s = await c.statVfs('/');
    assert.equal(s.bsize, 4096);
    assert.equal(s.blocks, 10);
    assert.equal(s.bfree, 9);
    assert.equal(s.files, 10);
    assert.equal(s.ffree, 9);
    const usage = await c.getUsage('/');
    assert.equal(usage.usedSize, 4096);
    assert.equal(usage.quotaFiles, 10);
    const free = await env.connect(env.user());
    assert.ok((await free.statVfs('/')).blocks > 0);
  });
});
