/**
 * Large directory listings: 2,000 entries through MLSD (Python ftplib), LIST (curl) and lftp's
 * parser of LIST output; names with spaces and non-ASCII characters survive.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curlBase, lftpArgs, PYTHON, run, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';

const N = 2000;

void describe('ftpd: listings', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;

  before(async () => {
    env = await startFtpTestServer({ bindings: [{ tls_mode: 0 }] });
    user = await env.createUser();
    const dir = join(user.home, 'many');
    await mkdir(dir);
    for (let i = 0; i < N; i++) await writeFile(join(dir, `file-${String(i).padStart(4, '0')}.txt`), 'x'.repeat(i % 50));
    await mkdir(join(user.home, 'odd'));
    await writeFile(join(user.home, 'odd', 'with space.txt'), 'a');
    await writeFile(join(user.home, 'odd', 'ünïcødé €.txt'), 'bb');
  });
  after(async () => {
    await env.stop();
  });

  void it(`MLSD of ${N} entries over FTPS (Python): every name, type and size`, async () => {
    const r = await run(PYTHON, ['-c', `
import ftplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
f = ftplib.FTP_TLS(context=ctx)
f.connect('127.0.0.1', ${env.ports[0]})
f.login(${JSON.stringify(user.username)}, ${JSON.stringify(user.password)})
f.prot_p()
entries = list(f.mlsd('/many'))
print('count', len(entries))
bad = [n for n, facts in entries if facts['type'] != 'file' or int(facts['size']) != int(n[5:9]) % 50]
print('bad', len(bad))
print('unique', len(set(n for n, _ in entries)))
f.quit()
`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^count ${N}$`, 'm'));
    assert.match(r.stdout, /^bad 0$/m);
    assert.match(r.stdout, new RegExp(`^unique ${N}$`, 'm'));
  });

  void it(`LIST of ${N} entries with curl and lftp`, async () => {
    const r = await run('curl', [...curlBase(user), `ftp://127.0.0.1:${env.ports[0]}/many/`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split(/\r?\n/).filter(Boolean);
    assert.equal(lines.length, N);
    assert.ok(lines.every((l) => /^-rw.* 1 ftp ftp +\d+ \w{3} [ \d]\d [ \d]\d:\d\d file-\d{4}\.txt$/.test(l)), lines[0]);
    const l = await run('lftp', lftpArgs(`open -u ${user.username},${user.password} -p ${env.ports[0]} 127.0.0.1; set ftp:ssl-allow no; set ftp:use-mlsd no; cls -1 /many/ | wc -l; cls -l /odd/`));
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, new RegExp(`^${N}$`, 'm'));
    assert.match(l.stdout, /with space\.txt/);
    assert.match(l.stdout, /ünïcødé €\.txt/);
  });

  void it('NLST and MLSD keep names with spaces and UTF-8', async () => {
    const r = await run(PYTHON, ['-c', `
import ftplib
f = ftplib.FTP(encoding='utf-8')
f.connect('127.0.0.1', ${env.ports[0]})
f.login(${JSON.stringify(user.username)}, ${JSON.stringify(user.password)})
print(sorted(f.nlst('/odd')))
print(sorted(n for n, _ in f.mlsd('/odd')))
f.quit()
`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes("'with space.txt'"), r.stdout);
    assert.ok(r.stdout.includes("'ünïcødé €.txt'"), r.stdout);
  });
});
