/**
 * The `ftpd` settings: passive_port_range and force_passive_ip in the PASV reply,
 * banner_file, disable_active_mode, hash/site/comb switches and FEAT, start-up errors, ASCII
 * mode conversions, STOU, STAT, status(), and the idle rule for clients that never log in.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFtpd } from '../../../src/ftpd/index.js';
import { curlBase, RawFtp, readAll, run, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';

void describe('ftpd: settings', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;
  let port: number;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-banner-'));
    const bannerFile = join(dir, 'banner.txt');
    await writeFile(bannerFile, 'Welcome\nauthorized use only\n');
    env = await startFtpTestServer({
      bindings: [{ force_passive_ip: '203.0.113.9' }],
      ftpd: { passive_port_range: { start: 52000, end: 52010 }, banner_file: bannerFile, disable_active_mode: true },
    });
    port = env.ports[0] as number;
    user = await env.createUser();
  });
  after(async () => {
    await env.stop();
  });

  void it('greets with a multi-line banner_file; FEAT lists only what is enabled', async () => {
    const c = await RawFtp.connect(port);
    const g = await c.read();
    assert.deepEqual(g.lines, ['220-Welcome', '220 authorized use only']);
    const f = await c.cmd('FEAT');
    assert.equal(f.code, 211);
    for (const line of [' UTF8', ' EPSV', ' MLST Type*;Size*;Modify*;UNIX.mode*;', ' REST STREAM', ' AUTH TLS', ' PROT']) {
      assert.ok(f.lines.includes(line), `${line} in ${f.lines.join('|')}`);
    }
    assert.ok(!f.lines.some((l) => l.startsWith(' HASH') || l === ' COMB'), f.lines.join('|'));
    await c.login(user.username, user.password);
    assert.equal((await c.cmd('HASH x')).code, 502);
    assert.equal((await c.cmd('COMB a b')).code, 502);
    assert.equal((await c.cmd('SITE CHMOD 644 x')).code, 502);
    c.close();
  });

  void it('PASV announces force_passive_ip and a port of passive_port_range; EPSV the port; PORT is disabled', async () => {
    const c = await RawFtp.connect(port);
    await c.read();
    await c.login(user.username, user.password);
    const r = await c.cmd('PASV');
    const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(r.text);
    assert.ok(m, r.text);
    assert.deepEqual(m.slice(1, 5), ['203', '0', '113', '9']);
    const p = Number(m[5]) * 256 + Number(m[6]);
    assert.ok(p >= 52000 && p <= 52010, String(p));
    const e = await c.cmd('EPSV');
    const em = /\(\|\|\|(\d+)\|\)/.exec(e.text);
    assert.ok(em, e.text);
    assert.ok(Number(em[1]) >= 52000 && Number(em[1]) <= 52010);
    assert.equal((await c.cmd('PORT 127,0,0,1,200,1')).code, 502);
    assert.equal((await c.cmd('EPRT |1|127.0.0.1|51201|')).code, 502);
    c.close();
    // a real client through the range (EPSV: the forced IP is not reachable here)
    await writeFile(join(user.home, 'r.txt'), 'range');
    const got = await run('curl', [...curlBase(user), `ftp://127.0.0.1:${port}/r.txt`]);
    assert.equal(got.stdout, 'range', got.stderr);
  });

  void it('TYPE A converts line ends both ways; SIZE and REST are refused in ASCII mode; STOU picks a new name', async () => {
    await writeFile(join(user.home, 'unix.txt'), 'a\nb\n');
    const c = await RawFtp.connect(port);
    await c.read();
    await c.login(user.username, user.password);
    assert.equal((await c.cmd('TYPE A')).code, 200);
    assert.equal((await c.cmd('SIZE unix.txt')).code, 550);
    assert.equal((await c.cmd('REST 1')).code, 501);
    let d = await c.cmd('EPSV');
    let s = await epsvSocket(d.text);
    c.send('RETR unix.txt');
    assert.equal((await c.read()).code, 150);
    assert.equal((await readAll(s)).toString(), 'a\r\nb\r\n');
    assert.equal((await c.read()).code, 226);
    d = await c.cmd('EPSV');
    s = await epsvSocket(d.text);
    c.send('STOR dos.txt');
    assert.equal((await c.read()).code, 150);
    s.end('x\r\ny\r\n');
    assert.equal((await c.read()).code, 226);
    assert.equal(await readFile(join(user.home, 'dos.txt'), 'utf8'), 'x\ny\n');
    assert.equal((await c.cmd('TYPE I')).code, 200);
    d = await c.cmd('EPSV');
    s = await epsvSocket(d.text);
    c.send('STOU');
    const first = await c.read();
    assert.equal(first.code, 150);
    const name = /FILE: (\S+)/.exec(first.text)?.[1] as string;
    s.end('unique');
    assert.equal((await c.read()).code, 226);
    assert.equal(await readFile(join(user.home, name), 'utf8'), 'unique');
    const avbl = await c.cmd('AVBL');
    assert.equal(avbl.code, 213);
    assert.ok(Number(avbl.text) > 0, avbl.text);
    assert.equal((await c.cmd('AVBL unix.txt')).code, 550);
    const st = await c.cmd('STAT');
    assert.equal(st.code, 211);
    assert.ok(st.lines.some((l) => l.includes(`Logged in as ${user.username}`)), st.lines.join('|'));
    const sp = await c.cmd('STAT /');
    assert.equal(sp.code, 212);
    assert.ok(sp.lines.some((l) => l.endsWith(' unix.txt')));
    c.close();
  });

  void it('status() describes the bindings and the passive range', () => {
    const s = env.ftpd.status();
    assert.equal(s.is_active, true);
    assert.equal(s.bindings?.[0]?.port, port);
    assert.equal(s.bindings?.[0]?.force_passive_ip, '203.0.113.9');
    assert.deepEqual(s.passive_port_range, { start: 52000, end: 52010 });
  });

  void it('clients that never log in are dropped by the idle checker after 2 minutes, logged-in ones are not', async () => {
    const idle = await RawFtp.connect(port);
    await idle.read();
    const active = await RawFtp.connect(port);
    await active.read();
    await active.login(user.username, user.password);
    const closed = env.srv.service.connections.checkIdleConnections(Date.now() + 121_000, 15 * 60_000);
    assert.equal(closed.length, 1, closed.join(','));
    await sleep(200);
    assert.equal(idle.closed, true);
    assert.equal((await active.cmd('NOOP')).code, 200);
    active.close();
  });

  void it('start-up errors: TLS without a certificate, a bad force_passive_ip', async () => {
    const base = env.srv.service.config.ftpd;
    const deps = { configDir: env.dir, logger: env.srv.service.logger, provider: env.srv.service.provider, connections: env.srv.service.connections };
    const noCert = createFtpd({ ...base, bindings: [{ ...base.bindings[0], port: 1, tls_mode: 1 } as (typeof base.bindings)[number]] }, deps);
    await assert.rejects(noCert.start(), /to enable TLS you need to provide a certificate/);
    const badIp = createFtpd({ ...base, bindings: [{ ...base.bindings[0], port: 1, force_passive_ip: '::1' } as (typeof base.bindings)[number]] }, deps);
    await assert.rejects(badIp.start(), /not a valid IPv4 address/);
  });
});

/** connects to the port of a 229 reply */
async function epsvSocket(text: string): Promise<Socket> {
  const p = Number(/\(\|\|\|(\d+)\|\)/.exec(text)?.[1]);
  const s = connect({ host: '127.0.0.1', port: p });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  return s;
}

void describe('ftpd: active_transfers_port_non_20 false', () => {
  let env: FtpTestEnv;

  before(async () => {
    env = await startFtpTestServer({ ftpd: { active_transfers_port_non_20: false } });
  });
  after(async () => {
    await env.stop();
  });

  void it('active data connections are dialled from local port 20 (root) or fail with 425 (no privilege)', async () => {
    const u = await env.createUser();
    await writeFile(join(u.home, 'p20.txt'), 'port twenty');
    const c = await RawFtp.connect(env.ports[0] as number);
    await c.read();
    await c.login(u.username, u.password);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const lport = (server.address() as { port: number }).port;
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    assert.equal((await c.cmd(`PORT 127,0,0,1,${lport >> 8},${lport & 255}`)).code, 200);
    c.send('RETR p20.txt');
    const first = await c.read();
    if (process.getuid?.() === 0) {
      assert.equal(first.code, 150, first.text);
      const s = await accepted;
      assert.equal(s.remotePort, 20);
      assert.equal((await readAll(s)).toString(), 'port twenty');
      assert.equal((await c.read()).code, 226);
    } else {
      assert.equal(first.code, 425, first.text);
      assert.match(first.text, /EACCES|permission/i);
    }
    server.close();
    c.close();
  });
});

