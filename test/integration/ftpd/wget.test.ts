/**
 * GNU wget mirrors a tree over FTP by parsing our LIST output (`ls -l` style, no MLSD): names with
 * spaces and non-ASCII characters, nested directories, an empty file, and modification times
 * taken from the listing (a recent file shows its time of day, an old one its year).
 */
import assert from 'node:assert/strict';
import { mkdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  clientTree,
  hashTree,
  run,
  startFtpTestServer,
  treeDigests,
  writeTree,
  type FtpTestEnv,
  type FtpTestUser,
} from '../../helpers/ftpd.js';
import { requireTool } from '../../helpers/ssh.js';

// noon UTC: the same calendar day in any time zone the listing or wget may use
const OLD = new Date('2020-01-02T12:00:00Z');
const TREE = clientTree();

void describe('ftpd: wget', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;

  before(async () => {
    requireTool('wget', 'wget');
    env = await startFtpTestServer({ bindings: [{ tls_mode: 0 }] });
    user = await env.createUser();
    await writeTree(join(user.home, 'tree'), TREE);
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
    // wget keeps each directory's raw listing as .listing
    assert.deepEqual(await hashTree(dst, ['.listing']), treeDigests(TREE));
    // an old file is listed with its year (day precision): wget dates the copy from it
    const copied = await stat(join(dst, 'a.bin'));
    const m = copied.mtime;
    assert.deepEqual([m.getFullYear(), m.getMonth() + 1, m.getDate()], [2020, 1, 2]);
  });
});
