import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { code, exists, makeEnv, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  if (env) await env.cleanup();
  env = await makeEnv();
  await fsp.mkdir(path.join(env.home, 'src', 'tree', 'inner'), { recursive: true });
  await fsp.mkdir(path.join(env.home, 'dst'), { recursive: true });
  await fsp.writeFile(path.join(env.home, 'src', 'f.txt'), 'file');
  await fsp.writeFile(path.join(env.home, 'src', 'tree', 'inner', 'deep.txt'), 'deep');
  await fsp.symlink('f.txt', path.join(env.home, 'src', 'link'));
});
after(async () => {
  await env.cleanup();
});

void describe('rename rule: rename on both sides, or delete on the source + creation on the target', () => {
  void it('rename on both parents', async () => {
    const c = await env.connect(
      env.user({ permissions: { '/': ['list'], '/src': ['rename'], '/dst': ['rename'] } }),
    );
    await c.rename('/src/f.txt', '/dst/f.txt');
    assert.ok(await exists(path.join(env.home, 'dst', 'f.txt')));
  });

  void it('rename only on the source is not enough', async () => {
    const c = await env.connect(
      env.user({ permissions: { '/': ['list'], '/src': ['rename'], '/dst': ['list'] } }),
    );
    await assert.rejects(c.rename('/src/f.txt', '/dst/f.txt'), code('PERMISSION_DENIED'));
  });

  void it('delete on the source + upload on the target for a file', async () => {
    const c = await env.connect(
      env.user({ permissions: { '/': ['list'], '/src': ['delete'], '/dst': ['upload'] } }),
    );
    await c.rename('/src/f.txt', '/dst/g.txt');
    assert.ok(await exists(path.join(env.home, 'dst', 'g.txt')));
  });

  void it('delete + create_dirs for a directory, delete + create_symlinks for a symlink', async () => {
    const dirs = await env.connect(
      env.user({ permissions: { '/': ['list'], '/src': ['delete'], '/dst': ['upload'] } }),
    );
    await assert.rejects(dirs.rename('/src/tree', '/dst/tree'), code('PERMISSION_DENIED'));
    await assert.rejects(dirs.rename('/src/link', '/dst/link'), code('PERMISSION_DENIED'));
    const ok = await env.connect(
      env.user({
        permissions: {
          '/': ['list'],
          '/src': ['delete'],
          '/dst': ['create_dirs', 'create_symlinks'],
        },
      }),
    );
    await ok.rename('/src/tree', '/dst/tree');
    await ok.rename('/src/link', '/dst/link');
    assert.ok(await exists(path.join(env.home, 'dst', 'tree', 'inner', 'deep.txt')));
    assert.equal(await fsp.readlink(path.join(env.home, 'dst', 'link')), 'f.txt');
  });

  void it('delete alone is not enough', async () => {
    const c = await env.connect(
      env.user({ permissions: { '/': ['list'], '/src': ['delete'], '/dst': ['list'] } }),
    );
    await assert.rejects(c.rename('/src/f.txt', '/dst/f.txt'), code('PERMISSION_DENIED'));
  });

  void it('overwriting a file needs overwrite and fixes the quota', async () => {
    const c = await env.connect(env.user({ permissions: { '/': ['list', 'rename'] } }));
    await fsp.writeFile(path.join(env.home, 'dst', 'f.txt'), 'old-content');
    await assert.rejects(c.rename('/src/f.txt', '/dst/f.txt'), code('PERMISSION_DENIED'));
    const o = await env.connect(
      env.user({ permissions: { '/': ['list', 'rename', 'overwrite'] } }),
    );
    env.quota.users.set('alice', { usedQuotaSize: 100, usedQuotaFiles: 5 });
    await o.rename('/src/f.txt', '/dst/f.txt');
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'f.txt'), 'utf8'), 'file');
    assert.deepEqual(env.quota.user(), { size: 100 - 'old-content'.length, files: 4 });
  });

  void it('renaming onto an existing directory or onto itself is unsupported', async () => {
    const c = await env.connect(env.user());
    await assert.rejects(c.rename('/src/tree', '/dst'), code('OP_UNSUPPORTED'));
    await assert.rejects(c.rename('/src/f.txt', '/src/./f.txt'), code('OP_UNSUPPORTED'));
    await assert.rejects(c.rename('/', '/x'), code('PERMISSION_DENIED'));
    await assert.rejects(c.rename('/missing', '/x'), code('NOT_FOUND'));
  });

  void it('directory renames check the permissions defined inside the tree', async () => {
    const c = await env.connect(
      env.user({ permissions: { '/': ['*'], '/src/tree/inner': ['list', 'download'] } }),
    );
    await assert.rejects(c.rename('/src/tree', '/dst/tree'), code('PERMISSION_DENIED'));
    assert.ok(await exists(path.join(env.home, 'src', 'tree')));
    const free = await env.connect(
      env.user({ permissions: { '/': ['*'], '/elsewhere': ['list'] } }),
    );
    await free.rename('/src/tree', '/dst/tree');
    assert.ok(await exists(path.join(env.home, 'dst', 'tree', 'inner', 'deep.txt')));
  });
});

void describe('renames across virtual folders: a copy, then the removal of the source', () => {
  const withFolder = (permissions?: Record<string, string[]>) =>
    env.user({
      ...(permissions ? { permissions } : {}),
      virtual_folders: [
        {
          name: 'own',
          mapped_path: env.p('own'),
          virtual_path: '/own',
          quota_size: 1000,
          quota_files: 10,
        },
      ],
    });

  void it('moves a file and a tree with both quotas updated', async () => {
    const c = await env.connect(withFolder());
    env.quota.users.set('alice', { usedQuotaSize: 8, usedQuotaFiles: 2 });
    await c.rename('/src/f.txt', '/own/g.txt');
    assert.equal(await fsp.readFile(env.p('own', 'g.txt'), 'utf8'), 'file');
    assert.equal(await exists(path.join(env.home, 'src', 'f.txt')), false);
    assert.deepEqual(env.quota.folder('own'), { size: 4, files: 1 });
    assert.deepEqual(env.quota.user(), { size: 4, files: 1 });

    await c.rename('/src/tree', '/own/tree');
    assert.equal(await fsp.readFile(env.p('own', 'tree', 'inner', 'deep.txt'), 'utf8'), 'deep');
    assert.equal(await exists(path.join(env.home, 'src', 'tree')), false);
    assert.deepEqual(env.quota.folder('own'), { size: 8, files: 2 });
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });

    // and back, replacing an existing file
    await fsp.writeFile(path.join(env.home, 'dst', 'g.txt'), 'older');
    env.quota.users.set('alice', { usedQuotaSize: 5, usedQuotaFiles: 1 });
    await c.rename('/own/g.txt', '/dst/g.txt');
    assert.equal(await fsp.readFile(path.join(env.home, 'dst', 'g.txt'), 'utf8'), 'file');
    assert.deepEqual(env.quota.user(), { size: 4, files: 1 });
    assert.deepEqual(env.quota.folder('own'), { size: 4, files: 1 });
  });

  void it('needs download and delete on the source, upload on the target; nothing moves otherwise', async () => {
    const noDownload = await env.connect(
      withFolder({ '/': ['list', 'delete', 'rename'], '/own': ['*'] }),
    );
    await assert.rejects(noDownload.rename('/src/f.txt', '/own/f.txt'), code('PERMISSION_DENIED'));
    const noDelete = await env.connect(
      withFolder({ '/': ['list', 'download', 'rename'], '/own': ['*'] }),
    );
    await assert.rejects(noDelete.rename('/src/f.txt', '/own/f.txt'), code('PERMISSION_DENIED'));
    const noDeleteInside = await env.connect(
      withFolder({ '/': ['*'], '/src/tree/inner': ['list', 'download'], '/own': ['*'] }),
    );
    await assert.rejects(noDeleteInside.rename('/src/tree', '/own/tree'), code('PERMISSION_DENIED'));
    const noUpload = await env.connect(withFolder({ '/': ['*'], '/own': ['list', 'rename'] }));
    await assert.rejects(noUpload.rename('/src/f.txt', '/own/f.txt'), code('PERMISSION_DENIED'));
    assert.ok(await exists(path.join(env.home, 'src', 'f.txt')));
    assert.ok(await exists(path.join(env.home, 'src', 'tree', 'inner', 'deep.txt')));
    assert.equal(await exists(env.p('own', 'f.txt')), false);
    assert.equal(await exists(env.p('own', 'tree')), false);
  });

  void it('refuses symlinks, trees holding one, onto a directory, and over quota', async () => {
    const c = await env.connect(withFolder());
    await assert.rejects(c.rename('/src/link', '/own/link'), code('OP_UNSUPPORTED', 'only files and directories'));
    await assert.rejects(c.rename('/src', '/own/src'), code('OP_UNSUPPORTED', 'only files and directories'));
    await fsp.mkdir(env.p('own', 'd'), { recursive: true });
    await assert.rejects(c.rename('/src/f.txt', '/own/d'), code('OP_UNSUPPORTED'));
    await fsp.writeFile(path.join(env.home, 'big'), Buffer.alloc(1001));
    await assert.rejects(c.rename('/big', '/own/big'), code('QUOTA_EXCEEDED'));
    assert.ok(await exists(path.join(env.home, 'src', 'link')));
    assert.ok(await exists(path.join(env.home, 'big')));
    assert.equal(await exists(env.p('own', 'big')), false);
    assert.equal(await exists(env.p('own', 'src')), false);
  });
});
