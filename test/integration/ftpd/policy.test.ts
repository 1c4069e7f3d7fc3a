/**
 * The rules of common.Connection and the login checks, seen through FTP: quota (552),
 * file pattern filters (553), permissions (550), denied protocols / login methods / source
 * addresses, max_sessions; and an aborted STOR in atomic upload mode leaves the old file.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiUser } from '../../../src/api/index.js';
import { curlBase, RawFtp, run, startFtpTestServer, type FtpTestEnv } from '../../helpers/ftpd.js';

type Filters = NonNullable<ApiUser['filters']>;

void describe('ftpd: policy', () => {
  let env: FtpTestEnv;
  let port: number;

  before(async () => {
    env = await startFtpTestServer({ config: { common: { upload_mode: 1 } } });
    port = env.ports[0] as number;
  });
  after(async () => {
    await env.stop();
  });

  async function login(username: string, password: string): Promise<RawFtp> {
    const c = await RawFtp.connect(port);
    assert.equal((await c.read()).code, 220);
    await c.login(username, password);
    return c;
  }

  /** STOR `data` through a passive data connection; the final reply */
  async function stor(c: RawFtp, name: string, data: Buffer): Promise<{ code: number; text: string }> {
    const pasv = await c.pasv();
    const s = await pasv.connect();
    s.on('error', () => undefined);
    c.send(`STOR ${name}`);
    const first = await c.read();
    if (first.code !== 150) {
      s.destroy();
      return first;
    }
    s.end(data);
    return c.read();
  }

  void it('quota exceeded: 552, and the partial upload is removed', async () => {
    const u = await env.createUser({ quota_size: 100_000 });
    const c = await login(u.username, u.password);
    const r = await stor(c, 'big.bin', randomBytes(300_000));
    assert.equal(r.code, 552, r.text);
    assert.match(r.text, /denying write due to space limit/);
    await assert.rejects(stat(join(u.home, 'big.bin')));
    const ok = await stor(c, 'small.bin', randomBytes(1000));
    assert.equal(ok.code, 226, ok.text);
    // AVBL answers from the quota: what is left of the 100,000 bytes (a block's rounding aside)
    const avbl = Number((await c.cmd('AVBL')).text);
    assert.ok(avbl <= 99_000 && avbl > 90_000, String(avbl));
    c.close();
  });

  void it('a file name denied by the pattern filters: 553', async () => {
    const filters = { file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }] } as unknown as Filters;
    const u = await env.createUser({ filters });
    const c = await login(u.username, u.password);
    const r = await stor(c, 'evil.exe', Buffer.from('MZ'));
    assert.equal(r.code, 553, r.text);
    assert.equal((await stor(c, 'fine.txt', Buffer.from('ok'))).code, 226);
    c.close();
  });

  void it('missing permissions: 550 for upload, delete, mkdir, rename; download still works', async () => {
    const u = await env.createUser({ permissions: { '/': ['list', 'download'] } as unknown as ApiUser['permissions'] });
    await writeFile(join(u.home, 'r.txt'), 'read only');
    const c = await login(u.username, u.password);
    assert.equal((await stor(c, 'new.txt', Buffer.from('x'))).code, 550);
    assert.equal((await c.cmd('DELE r.txt')).code, 550);
    assert.equal((await c.cmd('MKD d')).code, 550);
    assert.equal((await c.cmd('RNFR r.txt')).code, 350);
    assert.equal((await c.cmd('RNTO s.txt')).code, 550);
    assert.equal((await c.cmd('SIZE nothere.txt')).code, 550);
    c.close();
    const got = await run('curl', [...curlBase(u), `ftp://127.0.0.1:${port}/r.txt`]);
    assert.equal(got.stdout, 'read only');
  });

  void it('login refused: protocol FTP denied, password method denied, address denied, disabled user', async () => {
    const cases: [Partial<ApiUser>, RegExp][] = [
      [{ filters: { denied_protocols: ['FTP'] } as unknown as Filters }, /protocol FTP is not allowed/],
      [{ filters: { denied_login_methods: ['password'] } as unknown as Filters }, /login method password is not allowed/],
      [{ filters: { denied_ip: ['127.0.0.0/8'] } as unknown as Filters }, /not allowed from this address/],
      [{ status: 0 }, /530/],
    ];
    for (const [over, re] of cases) {
      const u = await env.createUser(over);
      const c = await RawFtp.connect(port);
      await c.read();
      assert.equal((await c.cmd(`USER ${u.username}`)).code, 331);
      const r = await c.cmd(`PASS ${u.password}`);
      assert.equal(r.code, 530, JSON.stringify(over));
      assert.match(r.lines.join('\n'), re);
      c.close();
    }
  });

  void it('max_sessions: the second session is refused while the first is open', async () => {
    const u = await env.createUser({ max_sessions: 1 });
    const first = await login(u.username, u.password);
    const c = await RawFtp.connect(port);
    await c.read();
    assert.equal((await c.cmd(`USER ${u.username}`)).code, 331);
    const r = await c.cmd(`PASS ${u.password}`);
    assert.equal(r.code, 530);
    assert.match(r.text, /too many open sessions/);
    first.close();
    await sleep(200);
    const again = await login(u.username, u.password);
    again.close();
  });

  void it('upload_mode 1: an aborted overwrite leaves the old file and no temp file', async () => {
    const u = await env.createUser();
    await writeFile(join(u.home, 'keep.bin'), 'the old content');
    const c = await login(u.username, u.password);
    const pasv = await c.pasv();
    const s = await pasv.connect();
    s.on('error', () => undefined);
    c.send('STOR keep.bin');
    assert.equal((await c.read()).code, 150);
    s.write(randomBytes(200_000));
    await sleep(200);
    c.send('ABOR');
    const codes = [(await c.read()).code, (await c.read()).code];
    assert.deepEqual(codes, [426, 226]);
    s.destroy();
    assert.equal(await readFile(join(u.home, 'keep.bin'), 'utf8'), 'the old content');
    assert.deepEqual((await readdir(u.home)).sort(), ['keep.bin']);
    c.close();
  });
});
