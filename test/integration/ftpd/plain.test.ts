/**
 * Plain FTP with real clients: curl (passive and active, resume, append, listings, quote
 * commands), lftp and Python's ftplib — login, every file command through common.Connection,
 * byte-exact transfers.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curlBase, lftpArgs, PYTHON, run, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

void describe('ftpd: plain FTP', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;
  let url: string;
  let local: string;

  before(async () => {
    env = await startFtpTestServer({ ftpd: { hash_support: 1, combine_support: 1, enable_site: true } });
    user = await env.createUser();
    url = `ftp://127.0.0.1:${env.ports[0]}`;
    local = join(env.dir, 'local');
    await mkdir(local);
  });
  after(async () => {
    await env.stop();
  });

  void it('greets with the banner and answers SYST/FEAT before login', async () => {
    const r = await run('curl', [...curlBase(user), '-v', `${url}/`, '-Q', 'SYST']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /< 220 SFTPGo 2\.1\.2 ready/);
    assert.match(r.stderr, /< 215 UNIX Type: L8/);
  });

  void it('uploads and downloads byte-exact (passive and active), empty and multi-MiB', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(join(local, 'big.bin'), big);
    await writeFile(join(local, 'empty.bin'), '');
    let r = await run('curl', [...curlBase(user), '-T', join(local, 'big.bin'), `${url}/big.bin`]);
    assert.equal(r.code, 0, r.stderr);
    r = await run('curl', [...curlBase(user), '-P', '-', '-T', join(local, 'empty.bin'), `${url}/empty.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(await readFile(join(user.home, 'big.bin'))), sha(big));
    assert.equal((await stat(join(user.home, 'empty.bin'))).size, 0);
    r = await run('curl', [...curlBase(user), '-o', join(local, 'big.back'), `${url}/big.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(await readFile(join(local, 'big.back'))), sha(big));
    r = await run('curl', [...curlBase(user), '-P', '-', '-o', join(local, 'big.active'), `${url}/big.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(await readFile(join(local, 'big.active'))), sha(big));
  });

  void it('resumes a download and an upload (REST), appends (APPE)', async () => {
    const content = randomBytes(200_000);
    await writeFile(join(user.home, 'res.bin'), content);
    await writeFile(join(local, 'res.part'), content.subarray(0, 50_000));
    let r = await run('curl', [...curlBase(user), '-C', '-', '-o', join(local, 'res.part'), `${url}/res.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(await readFile(join(local, 'res.part'))), sha(content));

    await writeFile(join(user.home, 'up.bin'), content.subarray(0, 70_000));
    await writeFile(join(local, 'up.bin'), content);
    r = await run('curl', [...curlBase(user), '-C', '-', '-T', join(local, 'up.bin'), `${url}/up.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(await readFile(join(user.home, 'up.bin'))), sha(content));

    await writeFile(join(user.home, 'app.txt'), 'first\n');
    await writeFile(join(local, 'app.txt'), 'second\n');
    r = await run('curl', [...curlBase(user), '--append', '-T', join(local, 'app.txt'), `${url}/app.txt`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(user.home, 'app.txt'), 'utf8'), 'first\nsecond\n');
  });

  void it('lists with LIST, NLST and MLSD', async () => {
    await mkdir(join(user.home, 'ldir'));
    await writeFile(join(user.home, 'ldir', 'a.txt'), 'aaa');
    await mkdir(join(user.home, 'ldir', 'sub'));
    let r = await run('curl', [...curlBase(user), `${url}/ldir/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-rw-r--r-- 1 ftp ftp {12}3 \w{3} [ \d]\d \d\d:\d\d a\.txt\r?$/m);
    assert.match(r.stdout, /^drwx.* sub\r?$/m);
    r = await run('curl', [...curlBase(user), '-l', `${url}/ldir/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split(/\r?\n/).filter(Boolean).sort(), ['a.txt', 'sub']);
    r = await run(PYTHON, ['-c', `
import ftplib
f = ftplib.FTP()
f.connect('127.0.0.1', ${env.ports[0]})
f.login(${JSON.stringify(user.username)}, ${JSON.stringify(user.password)})
for name, facts in sorted(f.mlsd('/ldir')):
    print(name, facts['type'], facts.get('size'))
print(f.sendcmd('MLST /ldir/a.txt').replace('\\n', '|'))
f.quit()
`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^a\.txt file 3$/m);
    assert.match(r.stdout, /^sub dir \d+$/m);
    assert.match(r.stdout, /^250-.*\| Type=file;Size=3;Modify=\d{14};.* \/ldir\/a\.txt\|250 /m);
  });

  void it('runs the file commands: MKD CWD PWD CDUP RNFR/RNTO DELE RMD SIZE MDTM MFMT SITE', async () => {
    await writeFile(join(user.home, 'f.txt'), 'hello');
    const r = await run(PYTHON, ['-c', `
import ftplib
f = ftplib.FTP()
f.connect('127.0.0.1', ${env.ports[0]})
f.login(${JSON.stringify(user.username)}, ${JSON.stringify(user.password)})
print('MKD', f.mkd('newdir'))
print('CWD', f.cwd('newdir'))
print('PWD', f.pwd())
print('CDUP', f.sendcmd('CDUP'))
print('SIZE', f.size('f.txt'))
print('MFMT', f.sendcmd('MFMT 20200102030405 f.txt'))
print('MDTM', f.sendcmd('MDTM f.txt'))
print('CHMOD', f.sendcmd('SITE CHMOD 600 f.txt'))
print('SYMLINK', f.sendcmd('SITE SYMLINK f.txt link.txt'))
print('RN', f.rename('f.txt', 'newdir/g.txt'))
print('DELE', f.delete('newdir/g.txt'))
print('RMD', f.rmd('newdir'))
try:
    f.cwd('/missing')
except ftplib.error_perm as e:
    print('CWDERR', e)
try:
    f.sendcmd('FOOBAR')
except ftplib.error_perm as e:
    print('UNKNOWN', e)
f.quit()
`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^MKD \/newdir$/m);
    assert.match(r.stdout, /^CWD 250 /m);
    assert.match(r.stdout, /^PWD \/newdir$/m);
    assert.match(r.stdout, /^SIZE 5$/m);
    assert.match(r.stdout, /^MFMT 213 Modify=20200102030405; f\.txt$/m);
    assert.match(r.stdout, /^MDTM 213 20200102030405$/m);
    assert.match(r.stdout, /^CHMOD 200 /m);
    assert.match(r.stdout, /^SYMLINK 200 /m);
    assert.match(r.stdout, /^CWDERR 550 /m);
    assert.match(r.stdout, /^UNKNOWN 502 /m);
    await assert.rejects(stat(join(user.home, 'newdir')));
    assert.equal((await lstat(join(user.home, 'link.txt'))).isSymbolicLink(), true);
  });

  void it('computes hashes (HASH, XSHA256, XCRC ranges) and combines files (COMB)', async () => {
    const data = randomBytes(10_000);
    await writeFile(join(user.home, 'h.bin'), data);
    await writeFile(join(user.home, 'p1'), 'part1-');
    await writeFile(join(user.home, 'p2'), 'part2');
    const r = await run(PYTHON, ['-c', `
import ftplib
f = ftplib.FTP()
f.connect('127.0.0.1', ${env.ports[0]})
f.login(${JSON.stringify(user.username)}, ${JSON.stringify(user.password)})
print(f.sendcmd('HASH h.bin'))
print(f.sendcmd('XSHA256 h.bin'))
print(f.sendcmd('XMD5 h.bin 10 20'))
print(f.sendcmd('COMB whole p1 p2'))
f.quit()
`]);
    assert.equal(r.code, 0, r.stderr);
    const full = sha(data);
    assert.match(r.stdout, new RegExp(`^213 SHA-256 0-10000 ${full} h\\.bin$`, 'm'));
    assert.match(r.stdout, new RegExp(`^250 ${full}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^250 ${createHash('md5').update(data.subarray(10, 20)).digest('hex')}$`, 'm'));
    assert.match(r.stdout, /^250 COMB succeeded!$/m);
    assert.equal(await readFile(join(user.home, 'whole'), 'utf8'), 'part1-part2');
    await assert.rejects(stat(join(user.home, 'p1')));
  });

  void it('works with lftp: mirror up and down', async () => {
    const src = join(local, 'tree');
    await mkdir(join(src, 'd1'), { recursive: true });
    await writeFile(join(src, 'd1', 'x.bin'), randomBytes(40_000));
    await writeFile(join(src, 'y.txt'), 'yyy');
    const r = await run('lftp', lftpArgs(`open -u ${user.username},${user.password} -p ${env.ports[0]} 127.0.0.1; set ftp:ssl-allow no; mirror -R ${src} /tree; mirror /tree ${join(local, 'back')}; cls -1 /tree`));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(join(local, 'back', 'd1', 'x.bin')), await readFile(join(src, 'd1', 'x.bin')));
    assert.equal(await readFile(join(user.home, 'tree', 'y.txt'), 'utf8'), 'yyy');
  });

  void it('uploads many files in a row and side by side byte-exact (pooled upload buffers)', async () => {
    // the buffers of one upload serve the next ones: each file must keep its own bytes
    const src = join(local, 'many');
    await mkdir(src);
    const sizes = [4096, 1, 70_000, 4096, 1024 * 1024 + 5, 3, 4096, 200_000, 4096, 4096, 2 * 1024 * 1024, 4096];
    const files = sizes.map((n, i) => ({ name: `f${i}.bin`, data: randomBytes(n) }));
    for (const f of files) await writeFile(join(src, f.name), f.data);
    const r = await run(
      'lftp',
      lftpArgs(`open -u ${user.username},${user.password} -p ${env.ports[0]} 127.0.0.1; set ftp:ssl-allow no; mirror -R ${src} /many1; mirror -R --parallel=4 ${src} /many2`),
    );
    assert.equal(r.code, 0, r.stderr);
    for (const dir of ['many1', 'many2']) {
      for (const f of files) assert.equal(sha(await readFile(join(user.home, dir, f.name))), sha(f.data), `${dir}/${f.name}`);
    }
  });
});
