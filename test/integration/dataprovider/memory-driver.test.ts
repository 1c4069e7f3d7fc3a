/**
 * The `memory` driver: users, folders and admins in memory, `data_provider.name` a dump loaded at
 * start and replaced on SIGHUP (the service's reload), never written back.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initializeProvider } from '../../../src/dataprovider/index.js';
import { startServer, type TestServer } from '../../helpers/server.js';

const ADMIN = { username: 'admin', password: 'memory-admin-pw' };

interface DumpUser {
  username: string;
  description?: string;
  home_dir?: string;
}

void describe('data provider: memory driver', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-memory-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const dump = (users: DumpUser[]): string =>
    JSON.stringify({
      folders: [{ name: 'shared', mapped_path: join(dir, 'shared') }],
      users: users.map((u) => ({
        password: `pw-${u.username}`,
        status: 1,
        home_dir: join(dir, u.username),
        permissions: { '/': ['*'] },
        virtual_folders: [{ name: 'shared', virtual_path: '/shared' }],
        ...u,
      })),
      // the harness's admin too: a reload replaces the admins with the dump's
      admins: [{ ...ADMIN, status: 1, permissions: ['*'] }],
      version: 8,
    });

  const start = async (configDir: string, name: string): Promise<TestServer> =>
    startServer({ configDir, admin: ADMIN, config: { data_provider: { driver: 'memory', name, track_quota: 2 } } });

  const usernames = async (s: TestServer): Promise<string[]> => {
    const r = await s.api<{ username: string }[]>('GET', '/users');
    assert.equal(r.status, 200, r.text);
    return r.body.map((u) => u.username);
  };

  void it('loads the dump (relative to the config dir) at start; SIGHUP replaces everything, keeping counters', async () => {
    const configDir = join(dir, 'cfg');
    await mkdir(configDir);
    const file = join(configDir, 'users.json');
    const first = dump([{ username: 'alice', description: 'first' }, { username: 'bob' }]);
    await writeFile(file, first);
    const s = await start(configDir, 'users.json');
    try {
      assert.match(s.summary, /memory, loaded from .*users\.json/);
      assert.deepEqual(await usernames(s), ['alice', 'bob']);
      await s.provider.checkUserPassword('alice', 'pw-alice');
      assert.equal((await s.api('GET', '/folders/shared')).status, 200);
      // changes through the API live in memory only
      const carol = await s.api('POST', '/users', {
        username: 'carol',
        password: 'pw-carol',
        status: 1,
        home_dir: join(dir, 'carol'),
        permissions: { '/': ['*'] },
      });
      assert.equal(carol.status, 201, carol.text);
      const q = await s.api('PUT', '/quotas/users/alice/usage', {
        used_quota_size: 4096,
        used_quota_files: 3,
      });
      assert.ok(q.status === 200 || q.status === 201, q.text);

      // the new dump drops bob, changes alice, adds dave
      await writeFile(file, dump([{ username: 'alice', description: 'second' }, { username: 'dave' }]));
      await s.service.reload();
      assert.deepEqual(await usernames(s), ['alice', 'dave']);
      const alice = await s.api<{ description: string; used_quota_size: number; used_quota_files: number }>('GET', '/users/alice');
      assert.equal(alice.body.description, 'second');
      assert.equal(alice.body.used_quota_size, 4096, 'the counters of a user still in the dump are kept');
      assert.equal(alice.body.used_quota_files, 3);
      await assert.rejects(s.provider.checkUserPassword('bob', 'pw-bob'));
      assert.equal(await readFile(file, 'utf8'), dump([{ username: 'alice', description: 'second' }, { username: 'dave' }]), 'never written back');

      // a dump that cannot be parsed changes nothing
      await writeFile(file, '{"users": 3}');
      await assert.rejects(s.service.reload(), /memory driver dump/);
      assert.deepEqual(await usernames(s), ['alice', 'dave']);

      // a dump whose restore fails midway (the second user has no home_dir): the previous data come back
      const broken = JSON.parse(dump([{ username: 'erin' }, { username: 'frank' }])) as { users: Record<string, unknown>[] };
      delete broken.users[1]?.home_dir;
      await writeFile(file, JSON.stringify(broken));
      await assert.rejects(s.service.reload(), /home_dir/);
      assert.deepEqual(await usernames(s), ['alice', 'dave']);
      const again = await s.api<{ description: string; used_quota_size: number }>('GET', '/users/alice');
      assert.equal(again.body.description, 'second');
      assert.equal(again.body.used_quota_size, 4096);
      await s.provider.checkUserPassword('dave', 'pw-dave');
    } finally {
      await s.stop();
    }
  });

  void it('starts empty without a name, and nothing survives a restart', async () => {
    const configDir = join(dir, 'cfg-empty');
    await mkdir(configDir);
    const s = await start(configDir, '');
    try {
      assert.match(s.summary, /memory \(empty at start\)/);
      assert.deepEqual(await usernames(s), []);
      const r = await s.api('POST', '/users', { username: 'gina', password: 'pw', status: 1, home_dir: join(dir, 'gina'), permissions: { '/': ['*'] } });
      assert.equal(r.status, 201, r.text);
    } finally {
      await s.stop();
    }
    const s2 = await start(configDir, '');
    try {
      assert.deepEqual(await usernames(s2), []);
    } finally {
      await s2.stop();
    }
  });

  void it('initprovider has nothing to do, as upstream ("up to date")', async () => {
    assert.equal(await initializeProvider({ driver: 'memory', name: 'whatever.json' }, { configDir: dir }), 'up to date');
  });

  void it('a missing dump starts empty (the default name is sftpgo.db); one that cannot be parsed refuses the start', async () => {
    const configDir = join(dir, 'cfg-bad');
    await mkdir(configDir);
    const s = await start(configDir, 'sftpgo.db');
    try {
      assert.deepEqual(await usernames(s), []);
      assert.match(await readFile(join(configDir, 'sftpgo.log'), 'utf8'), /no dump to load into the memory provider/);
      // a reload with the file still missing keeps what is there
      const r = await s.api('POST', '/users', { username: 'hank', password: 'pw', status: 1, home_dir: join(dir, 'hank'), permissions: { '/': ['*'] } });
      assert.equal(r.status, 201, r.text);
      await s.service.reload();
      assert.deepEqual(await usernames(s), ['hank']);
    } finally {
      await s.stop();
    }
    await writeFile(join(configDir, 'junk.json'), 'not json');
    await assert.rejects(start(configDir, 'junk.json'), /memory driver dump/);
  });
});
