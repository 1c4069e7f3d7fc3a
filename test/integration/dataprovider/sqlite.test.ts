/** The provider suite against SQLite (better-sqlite3), one temp database file per case. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createProvider, sqlitePath } from '../../../src/dataprovider/index.js';
import { defineProviderSuite, type DriverEnv } from './cases.js';
import { defineRevertSuite } from './revert-cases.js';
import { defineUpstreamSuite } from './upstream-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'sftpgo-sqlite-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

const sqliteEnv: DriverEnv = {
  freshConfig: () => Promise.resolve({ driver: 'sqlite', name: join(dir, `db${++n}.sqlite`) }),
};
defineProviderSuite('sqlite', sqliteEnv);
defineRevertSuite('sqlite', sqliteEnv);
defineUpstreamSuite('sqlite', sqliteEnv);

void test('sqlite: relative name resolves against the config dir, WAL journal', async () => {
  const configDir = mkdtempSync(join(dir, 'cfg-'));
  const cfg = {
    driver: 'sqlite',
    name: 'sftpgo.db',
    password_hashing: { bcrypt_options: { cost: 4 } },
  };
  const p = await createProvider(cfg, { configDir });
  try {
    assert.equal(
      sqlitePath(
        { ...(await import('../../../src/dataprovider/index.js')).resolveDataProviderConfig(cfg) },
        configDir,
      ),
      join(configDir, 'sftpgo.db'),
    );
    assert.ok(existsSync(join(configDir, 'sftpgo.db')));
    await p.addUser({
      username: 'w',
      password: 'x',
      home_dir: '/h/w',
      status: 1,
      permissions: { '/': ['*'] } as never,
    });
    assert.ok(existsSync(join(configDir, 'sftpgo.db-wal')), 'WAL journal in use');
  } finally {
    await p.close();
  }
});

void test('sqlite: two providers on the same file (two instances) see each other', async () => {
  const name = join(dir, 'shared.sqlite');
  const cfg = { driver: 'sqlite', name, password_hashing: { bcrypt_options: { cost: 4 } } };
  const a = await createProvider(cfg, { configDir: dir });
  const b = await createProvider(cfg, { configDir: dir });
  try {
    await a.addUser({
      username: 'fromA',
      password: 'x',
      home_dir: '/h/a',
      status: 1,
      permissions: { '/': ['*'] } as never,
    });
    assert.equal((await b.getUser('fromA')).username, 'fromA');
    await Promise.all([
      ...Array.from({ length: 10 }, () => a.updateUserQuota('fromA', 1, 1, true)),
      ...Array.from({ length: 10 }, () =>
        b.updateFolderQuota('nofolder', 1, 1, true).catch(() => undefined),
      ),
    ]);
  } finally {
    await a.close();
    await b.close();
  }
});
