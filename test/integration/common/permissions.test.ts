import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection } from '../../../src/common/index.js';
import { code, exists, makeEnv, names, upload, type Env } from './helpers.js';

let env: Env;

before(async () => {
  env = await makeEnv();
});
after(async () => {
  await env.cleanup();
});

void describe('per-directory permissions (most specific wins)', () => {
  let c: Connection;
  before(async () => {
    c = await env.connect(
      env.user({
        permissions: {
          '/': ['list', 'download'],
          '/rw': ['*'],
          '/rw/ro': ['list', 'download'],
          '/nolist': ['download', 'upload'],
          '/up': ['list', 'upload'],
        },
      }),
    );
    for (const d of ['rw/ro', 'nolist', 'up'])
      await fsp.mkdir(path.join(env.home, d), { recursive: true });
    await fsp.writeFile(path.join(env.home, 'readme.txt'), 'hi');
    await fsp.writeFile(path.join(env.home, 'rw', 'ro', 'locked.txt'), 'lock');
    await fsp.writeFile(path.join(env.home, 'nolist', 'f'), 'f');
  });

  void it('root: list and download only', async () => {
    assert.deepEqual(await names(await c.list('/')), ['nolist', 'readme.txt', 'rw', 'up']);
    const d = await c.openDownload('/readme.txt');
    assert.equal((await d.read(0, 10))?.toString(), 'hi');
    await d.close();
    await assert.rejects(c.openUpload('/new.txt'), code('PERMISSION_DENIED'));
    await assert.rejects(c.mkdir('/newdir'), code('PERMISSION_DENIED'));
    await assert.rejects(c.remove('/readme.txt'), code('PERMISSION_DENIED'));
  });

  void it('a sub directory with * allows everything, its own sub directory restricts again', async () => {
    await c.mkdir('/rw/made');
    await upload(c, '/rw/made/f.txt', 'data');
    await c.remove('/rw/made/f.txt');
    await c.rmdir('/rw/made');
    await assert.rejects(c.openUpload('/rw/ro/x.txt'), code('PERMISSION_DENIED'));
    await assert.rejects(c.remove('/rw/ro/locked.txt'), code('PERMISSION_DENIED'));
    // the "ro" directory itself lives in "/rw": removing it is decided by /rw's permissions
    await assert.rejects(c.rmdir('/rw/ro'), code('NOT_EMPTY'));
  });

  void it('list is checked on the directory, stat on the parent', async () => {
    await assert.rejects(c.list('/nolist'), code('PERMISSION_DENIED'));
    await assert.rejects(c.stat('/nolist/f'), code('PERMISSION_DENIED'));
    const info = await c.stat('/nolist');
    assert.equal(info.isDirectory, true);
    assert.equal(info.name, 'nolist');
    const d = await c.openDownload('/nolist/f');
    await d.close();
  });

  void it('overwrite is needed to replace an existing file', async () => {
    await upload(c, '/up/first.txt', 'one');
    await assert.rejects(c.openUpload('/up/first.txt'), code('PERMISSION_DENIED'));
    await assert.rejects(
      c.openUpload('/up/first.txt', { mode: 'append' }),
      code('PERMISSION_DENIED'),
    );
    await assert.rejects(c.openDownload('/up/first.txt'), code('PERMISSION_DENIED'));
  });

  void it('normalizes client paths before checking', async () => {
    await assert.rejects(c.openUpload('/rw/../new.txt'), code('PERMISSION_DENIED'));
    await upload(c, '/up/../rw/./ok.txt', 'ok');
    assert.equal(await fsp.readFile(path.join(env.home, 'rw', 'ok.txt'), 'utf8'), 'ok');
    await assert.rejects(c.stat('/../../../etc/passwd'), code('NOT_FOUND'));
  });
});

void describe('setstat permissions and setstat_mode', () => {
  void it('chmod / chtimes / truncate need their permission', async () => {
    const c = await env.connect(
      env.user({
        username: 'bob',
        permissions: { '/': ['list', 'download', 'upload', 'chtimes'] },
      }),
    );
    await fsp.writeFile(path.join(env.home, 'attr.txt'), '123456');
    await assert.rejects(c.setStat('/attr.txt', { mode: 0o600 }), code('PERMISSION_DENIED'));
    await assert.rejects(c.truncate('/attr.txt', 2), code('PERMISSION_DENIED'));
    const mtime = new Date('2021-05-06T07:08:09Z');
    await c.setStat('/attr.txt', { mtime });
    assert.equal(
      (await fsp.stat(path.join(env.home, 'attr.txt'))).mtime.getTime(),
      mtime.getTime(),
    );
  });

  void it("a directory's attributes are decided on its parent, a file's on its directory", async () => {
    const c = await env.connect(
      env.user({
        username: 'dora',
        permissions: { '/': ['list', 'download', 'chtimes'], '/stamped': ['list', 'download'] },
      }),
    );
    await fsp.mkdir(path.join(env.home, 'stamped'), { recursive: true });
    await fsp.writeFile(path.join(env.home, 'stamped', 'in.txt'), 'x');
    await fsp.writeFile(path.join(env.home, 'top.txt'), 'x');
    await fsp.symlink('stamped', path.join(env.home, 'stamped-link'));
    const mtime = new Date('2022-03-04T05:06:07Z');
    const mtimeOf = async (rel: string): Promise<number> =>
      (await fsp.stat(path.join(env.home, rel))).mtime.getTime();
    // "/" allows chtimes, "/stamped" does not: the directory itself is changed as an entry of "/"
    await c.setStat('/stamped', { mtime, atime: mtime });
    assert.equal(await mtimeOf('stamped'), mtime.getTime());
    await assert.rejects(c.setStat('/stamped/in.txt', { mtime }), code('PERMISSION_DENIED'));
    // a link is an entry of its own directory; the change goes to what it leads to
    const later = new Date('2023-03-04T05:06:07Z');
    await c.setStat('/stamped-link', { mtime: later, atime: later });
    assert.equal(await mtimeOf('stamped'), later.getTime());
    // the same permissions either way: no look needed, the outcome is the same
    await c.setStat('/top.txt', { mtime });
    assert.equal(await mtimeOf('top.txt'), mtime.getTime());
    await assert.rejects(c.setStat('/missing.txt', { mtime }), code('NOT_FOUND'));
  });

  void it('setstat_mode 1 ignores changes silently', async () => {
    const c = await env.connect(env.user(), { config: { setstat_mode: 1 } });
    await fsp.writeFile(path.join(env.home, 'ign.txt'), 'x');
    await fsp.chmod(path.join(env.home, 'ign.txt'), 0o644);
    await c.setStat('/ign.txt', { mode: 0o600 });
    assert.equal((await fsp.stat(path.join(env.home, 'ign.txt'))).mode & 0o777, 0o644);
  });

  void it('truncate updates the quota by the size difference', async () => {
    const c = await env.connect(env.user({ username: 'carol' }));
    await upload(c, '/trunc.txt', '0123456789');
    assert.deepEqual(env.quota.user('carol'), { size: 10, files: 1 });
    await c.truncate('/trunc.txt', 4);
    assert.deepEqual(env.quota.user('carol'), { size: 4, files: 1 });
    assert.equal((await fsp.stat(path.join(env.home, 'trunc.txt'))).size, 4);
  });
});

void describe('virtual folders', () => {
  let c: Connection;
  before(async () => {
    const user = env.user({
      username: 'vf',
      home_dir: env.p('vfhome'),
      virtual_folders: [
        {
          name: 'shared',
          mapped_path: env.p('shared'),
          virtual_path: '/deep/shared',
          quota_size: 0,
          quota_files: 0,
        },
        {
          name: 'data',
          mapped_path: env.p('data'),
          virtual_path: '/data',
          quota_size: -1,
          quota_files: -1,
        },
      ],
    });
    c = await env.connect(user);
  });

  void it('creates the home, the folder roots and the missing mount point parents at login', async () => {
    assert.ok(await exists(env.p('vfhome')));
    assert.ok(await exists(env.p('shared')));
    assert.ok(await exists(env.p('data')));
    assert.ok(await exists(env.p('vfhome', 'deep', 'shared')));
  });

  void it('lists virtual folders as directories and serves them from their mapped path', async () => {
    const root = await names(await c.list('/'));
    assert.ok(root.includes('data'));
    assert.ok(root.includes('deep'));
    assert.deepEqual(await names(await c.list('/deep')), ['shared']);
    await upload(c, '/deep/shared/s.txt', 'in the folder');
    assert.equal(await fsp.readFile(env.p('shared', 's.txt'), 'utf8'), 'in the folder');
    assert.equal((await c.stat('/deep/shared')).name, 'shared');
  });

  void it('mount points cannot be removed, renamed or created', async () => {
    await assert.rejects(c.rmdir('/data'), code('PERMISSION_DENIED'));
    await assert.rejects(c.rename('/data', '/data2'), code('PERMISSION_DENIED'));
    await assert.rejects(c.rename('/deep', '/deep2'), code('PERMISSION_DENIED'));
    await assert.rejects(c.mkdir('/data'), code('PERMISSION_DENIED'));
    await assert.rejects(c.rmdir('/deep'), code('OP_UNSUPPORTED'));
    await assert.rejects(c.symlink('/readme', '/data'), code('PERMISSION_DENIED'));
  });

  void it('moves files across folders (copy, then delete)', async () => {
    await upload(c, '/home-file.txt', 'h');
    await c.rename('/home-file.txt', '/data/moved.txt');
    assert.equal(await exists(env.p('vfhome', 'home-file.txt')), false);
    assert.equal(await fsp.readFile(env.p('data', 'moved.txt'), 'utf8'), 'h');
  });

  void it('refuses cross folder symlinks, accepts same-folder ones stored relative', async () => {
    await assert.rejects(c.symlink('/home-file.txt', '/data/link'), code('OP_UNSUPPORTED'));
    await upload(c, '/data/target.txt', 'T');
    await c.symlink('/data/target.txt', '/data/sub-link');
    assert.equal(await fsp.readlink(env.p('data', 'sub-link')), 'target.txt');
    assert.equal(await c.readlink('/data/sub-link'), '/data/target.txt');
    await c.symlink('target.txt', '/data/rel-link');
    assert.equal((await c.stat('/data/rel-link')).size, 1);
  });
});
