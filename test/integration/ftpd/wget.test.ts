/**
 * GNU wget mirrors a tree over FTP by parsing our LIST output (`ls -l` style, no MLSD): names with
 * spaces and non-ASCII characters, nested directories, an empty file, and modification times
 * taken from the listing (a recent file shows its time of day, an old one its year).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';
import { requireTool } from '../../helpers/ssh.js';

// noon UTC: the same calendar day in any time zone the listing or wget may use
const OLD = new Date('2020-01-02T12:00:00Z');
const TREE: Record<string, Buffer> = {
  'a.bin': randomBytes(120_001),
  'empty.txt': Buffer.alloc(0),
  'dir/name with spaces.txt': Buffer.from('spaces\n'),
  'dir/ümlaut-é.txt': Buffer.from('non-ASCII\n'),
  'dir/deeper/b.bin': randomBytes(9_000),
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function hashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name !== '.listing') out[relative(root, p)] = sha(await readFile(p));
    }
  };
  await walk(root);
  return out;
}

void describe('ftpd: wget', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;

  before(async () => {
    requireTool('wget', 'wget');
    env = await startFtpTestServer({ bindings: [{ tls_mode: 0 }] });
    user = await env.createUser();
    for (const [name, data] of Object.entries(TREE)) {
      const p = join(user.home, 'tree', name);
      await mkdir(join(p, '..'), { recursive: true });
      await writeFile(p, data);
    }
    await utimes(join(user.home, 'tree', 'a.bin'), OLD, OLD);
  });
  after(async () => {
    await env?.stop();
  });

  void it('mirrors a tree byte-exact from the LIST output, with the listed times', async () => {
    const dst = join(env.dir, 'mirror');
    await mkdir(dst);
    const url = `ftp://${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@127.0.0.1:${env.ports[0]}/tree/`;
    const r = await run('wget', ['-q', '-r', '-nH', '--cut-dirs=1', '-P', dst, url]);
    assert.equal(r.code, 0, r.stderr);
    const want: Record<string, string> = {};
    for (const [name, data] of Object.entries(TREE)) want[name] = sha(data);
    assert.deepEqual(await hashes(dst), want);
    // an old file is listed with its year (day precision): wget dates the copy from it
    const copied = await stat(join(dst, 'a.bin'));
    const m = copied.mtime;
    assert.deepEqual([m.getFullYear(), m.getMonth() + 1, m.getDate()], [2020, 1, 2]);
  });
});
