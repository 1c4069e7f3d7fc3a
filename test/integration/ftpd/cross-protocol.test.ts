/**
 * One user, two protocols, the same core: a file uploaded over SFTP (ssh2 client) is read
 * byte-exact over FTPS, and a file uploaded over FTP is read byte-exact over SFTP; quota
 * counters agree whichever protocol wrote.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curlBase, run, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';
import { ssh2Connect, testHostKeys } from '../../helpers/sftpd.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

void describe('ftpd: cross-protocol with SFTP', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;
  let sftpPort: number;

  before(async () => {
    const keys = await testHostKeys();
    env = await startFtpTestServer({ bindings: [{ tls_mode: 0 }], config: { sftpd: { host_keys: keys.files } } });
    sftpPort = env.srv.sftpPort as number;
    user = await env.createUser({ quota_size: 10 * 1024 * 1024 });
  });
  after(async () => {
    await env.stop();
  });

  void it('SFTP upload -> FTP(S) download, FTP upload -> SFTP download, byte-exact', async () => {
    const a = randomBytes(1024 * 1024 + 333);
    const b = randomBytes(512 * 1024 + 7);
    const s = await ssh2Connect(sftpPort, user.username, { password: user.password });
    try {
      await s.call('writeFile', '/from-sftp.bin', a);
      const local = join(env.dir, 'from-sftp.back');
      const r = await run('curl', [...curlBase(user), '--ssl-reqd', '-o', local, `ftp://127.0.0.1:${env.ports[0]}/from-sftp.bin`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha(await readFile(local)), sha(a));

      await writeFile(join(env.dir, 'b.bin'), b);
      const up = await run('curl', [...curlBase(user), '-T', join(env.dir, 'b.bin'), `ftp://127.0.0.1:${env.ports[0]}/from-ftp.bin`]);
      assert.equal(up.code, 0, up.stderr);
      const back = await s.call<Buffer>('readFile', '/from-ftp.bin');
      assert.equal(sha(back), sha(b));
    } finally {
      await s.end();
    }
    const q = await env.srv.api<{ used_quota_size: number; used_quota_files: number }>('GET', `/users/${user.username}`);
    assert.equal(q.body.used_quota_size, a.length + b.length);
    assert.equal(q.body.used_quota_files, 2);
  });
});
