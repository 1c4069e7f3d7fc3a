/**
 * `sftpgo revertprovider` run as a child process on a SQLite database in a temp config dir:
 * target checks, the revert to schema 8, a second run that has nothing to do, `initprovider` back
 * to 10 (data kept), and the memory driver refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { defaultConfig } from '../../../src/config/index.js';
import { createProvider, type User } from '../../../src/dataprovider/index.js';
import { createKms } from '../../../src/kms/index.js';
import { run } from '../../helpers/cli-process.js';

/** the schema version and the (sorted) columns of users/folders, read straight from the file */
async function schemaOf(
  dbPath: string,
): Promise<{ version: number; users: string[]; folders: string[] }> {
  const ds = new DataSource({ type: 'better-sqlite3', database: dbPath });
  await ds.initialize();
  try {
    const cols = async (t: string): Promise<string[]> =>
      ((await ds.query(`PRAGMA table_info("${t}")`)) as { name: string }[])
        .map((c) => c.name)
        .sort();
    const rows = (await ds.query('SELECT version FROM schema_version')) as { version: number }[];
    return {
      version: rows[0]?.version ?? -1,
      users: await cols('users'),
      folders: await cols('folders'),
    };
  } finally {
    await ds.destroy();
  }
}

void describe('cli: sftpgo revertprovider', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-revert-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('reverts to 8, refuses other targets, and initprovider brings it back', async () => {
    const init = await run(['initprovider', '-c', dir]);
    assert.equal(init.code, 0, init.stderr);
    const dbPath = join(dir, 'sftpgo.db');
    const cfg = {
      driver: 'sqlite',
      name: dbPath,
      password_hashing: { bcrypt_options: { cost: 4 } },
    };
    const kms = createKms(defaultConfig().kms, dir);
    const p = await createProvider(cfg, { configDir: dir, kms });
    try {
      await p.addUser({
        username: 'carol',
        password: 'pw',
        home_dir: '/srv/carol',
        status: 1,
        description: 'will be dropped',
        permissions: { '/': ['*'] } as unknown as User['permissions'],
      });
    } finally {
      await p.close();
    }
    const at10 = await schemaOf(dbPath);
    assert.equal(at10.version, 10);
    assert.ok(at10.users.includes('description'));

    for (const bad of ['9', '10', 'eight']) {
      const r = await run(['revertprovider', '-c', dir, '--to-version', bad]);
      assert.equal(r.code, 1, `--to-version ${bad}`);
      assert.match(r.stderr, /Unsupported target version .*8 is the only supported one/);
      assert.deepEqual(await schemaOf(dbPath), at10);
    }
    const missing = await run(['revertprovider', '-c', dir]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--to-version/);

    const r = await run(['revertprovider', '--config-dir', dir, '--to-version', '8']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Data provider successfully reverted to version 8\n');
    const at8 = await schemaOf(dbPath);
    assert.equal(at8.version, 8);
    assert.ok(!at8.users.includes('description'));
    assert.ok(!at8.folders.includes('description') && !at8.folders.includes('filesystem'));

    const again = await run(['revertprovider', '-c', dir, '--to-version', '8']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'The data provider is already at version 8, nothing to do\n');

    const back = await run(['initprovider', '-c', dir]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'Data provider successfully initialized/updated\n');
    assert.deepEqual(await schemaOf(dbPath), at10);
    const p2 = await createProvider(cfg, { configDir: dir, kms });
    try {
      const carol = await p2.getUser('carol');
      assert.equal(carol.home_dir, '/srv/carol');
      assert.equal(carol.description, undefined);
      await p2.checkUserPassword('carol', 'pw');
    } finally {
      await p2.close();
    }
  });

  void it('the memory provider cannot be reverted', async () => {
    // nothing is stored (revertProvider refuses it: test/integration/dataprovider/revert-cases.ts)
    const r = await run(['revertprovider', '-c', dir, '--to-version', '8'], {
      SFTPGO_DATA_PROVIDER__DRIVER: 'memory',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the memory provider cannot be reverted/);
  });
});
