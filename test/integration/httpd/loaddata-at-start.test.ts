/** `serve --loaddata-from/--loaddata-mode/--loaddata-clean`: a dump restored before the servers start. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../../helpers/server.js';

void describe('service: loaddata at start', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-loaddata-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const dump = (description: string): string =>
    JSON.stringify({
      folders: [{ name: 'restored-folder', mapped_path: join(dir, 'rf'), description }],
      users: [
        {
          username: 'restored-user',
          password: 'restored-password',
          status: 1,
          home_dir: join(dir, 'ru'),
          permissions: { '/': ['*'] },
          description,
          virtual_folders: [{ name: 'restored-folder', virtual_path: '/shared' }],
        },
      ],
      admins: [{ username: 'restored-admin', password: 'restored-admin-pw', status: 1, permissions: ['view_users'] }],
      version: 8,
    });

  void it('restores folders, users and admins; mode 1 leaves existing objects alone; clean removes the file', async () => {
    const file = join(dir, 'dump-1.json');
    await writeFile(file, dump('first'));
    const configDir = join(dir, 'cfg');
    await mkdir(configDir);
    const admin = { username: 'admin', password: 'loaddata-admin-pw' };
    const s = await startServer({ configDir, admin, loaddata: { from: file, mode: 1 } });
    try {
      const u = await s.api<{ description: string; virtual_folders: { name: string }[] }>('GET', '/users/restored-user');
      assert.equal(u.status, 200, u.text);
      assert.equal(u.body.description, 'first');
      assert.deepEqual(u.body.virtual_folders.map((v) => v.name), ['restored-folder']);
      assert.equal((await s.api('GET', '/folders/restored-folder')).status, 200);
      assert.equal(typeof (await s.token('restored-admin', 'restored-admin-pw')), 'string');
      await s.provider.checkUserPassword('restored-user', 'restored-password');
      assert.ok(existsSync(file), 'kept without --loaddata-clean');
    } finally {
      await s.stop();
    }
    // mode 1 (add only): the existing user keeps its description
    const second = join(dir, 'dump-2.json');
    await writeFile(second, dump('second'));
    const s2 = await startServer({ configDir, admin, loaddata: { from: second, mode: 1, clean: true } });
    try {
      const u = await s2.api<{ description: string }>('GET', '/users/restored-user');
      assert.equal(u.body.description, 'first');
      assert.ok(!existsSync(second), '--loaddata-clean removed the dump');
    } finally {
      await s2.stop();
    }
    // mode 0 (add and update)
    const third = join(dir, 'dump-3.json');
    await writeFile(third, dump('third'));
    const s3 = await startServer({ configDir, admin, loaddata: { from: third, mode: 0 } });
    try {
      const u = await s3.api<{ description: string }>('GET', '/users/restored-user');
      assert.equal(u.body.description, 'third');
    } finally {
      await s3.stop();
    }
  });

  void it('refuses to start with a missing, relative or invalid dump', async () => {
    await assert.rejects(startServer({ loaddata: { from: join(dir, 'missing.json') } }), /cannot read/);
    await assert.rejects(startServer({ loaddata: { from: 'relative.json' } }), /must be an absolute path/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"users": 3}');
    await assert.rejects(startServer({ loaddata: { from: bad } }), /users/);
    const junk = join(dir, 'junk.json');
    await writeFile(junk, 'not json');
    await assert.rejects(startServer({ loaddata: { from: junk } }), /parse/i);
  });
});
