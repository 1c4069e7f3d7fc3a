/**
 * Directory listings: a 2,000-entry directory read in READDIR batches, `ls -l` long names,
 * stat of files, directories and symlinks.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSftpTestServer, type SftpTestEnv, type TestUser } from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

void describe('sftpd: listings', () => {
  let env: SftpTestEnv;
  let user: TestUser;

  before(async () => {
    env = await startSftpTestServer();
    user = await env.createUser();
    const many = join(user.home, 'many');
    await mkdir(many);
    for (let i = 0; i < 2000; i++) await writeFile(join(many, `file-${String(i).padStart(4, '0')}.txt`), `${i}\n`);
  });
  after(async () => {
    await env.stop();
  });

  void it('lists a directory of 2,000 entries completely', async () => {
    const r = await sftpBatch(env.target, user.creds, ['ls -1 /many']);
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/many/') || l.startsWith('file-'))
      .map((l) => l.replace(/^\/many\//, ''));
    assert.equal(names.length, 2000);
    assert.equal(new Set(names).size, 2000);
    assert.ok(names.includes('file-0000.txt') && names.includes('file-1999.txt'));
  });

  void it('answers with ls -l style long names', async () => {
    const d = join(user.home, 'long');
    await mkdir(d);
    await writeFile(join(d, 'data.bin'), Buffer.alloc(1234));
    await utimes(join(d, 'data.bin'), new Date('2019-05-06T07:08:09Z'), new Date('2019-05-06T07:08:09Z'));
    await mkdir(join(d, 'subdir'));
    await symlink('data.bin', join(d, 'link'));
    const r = await sftpBatch(env.target, user.creds, ['ls -la /long']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const file = lines.find((l) => l.endsWith(' data.bin'));
    assert.ok(file, r.stdout);
    assert.match(file, /^-rw-r--r--\s+1 \d+\s+\d+\s+1234\s+May 6 2019 data\.bin$/);
    assert.ok(lines.some((l) => /^d[rwx-]{9} .* subdir$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^l[rwx-]{9} .* link$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => / \.$/.test(l)), 'has "."');
    assert.ok(lines.some((l) => / \.\.$/.test(l)), 'has ".."');
  });

  void it('fails cleanly for a missing directory', async () => {
    const r = await sftpBatch(env.target, user.creds, ['ls /does-not-exist']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found|No such file/i);
  });
});
