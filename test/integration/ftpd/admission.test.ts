/**
 * What the shared connection gate and registry decide for FTP clients: bandwidth limits of the
 * user (throttling acts on reading the data connection), max_per_host_connections, the defender
 * banning a host after failed logins, and the FTP rate limiter.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { curlBase, RawFtp, run, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';

void describe('ftpd: admission and limits', () => {
  let env: FtpTestEnv;
  let port: number;
  let victim: FtpTestUser;

  before(async () => {
    env = await startFtpTestServer({
      config: {
        common: {
          max_per_host_connections: 6,
          // clients dropped idle without login score 1 (no_login_tried), failed logins 8
          defender: { enabled: true, threshold: 20, score_invalid: 1, score_valid: 8, score_limit_exceeded: 1, ban_time: 1 },
        },
      },
    });
    port = env.ports[0] as number;
    // created now: once the host is banned, the REST API refuses it too (one defender)
    victim = await env.createUser();
  });
  after(async () => {
    await env.stop();
  });

  void it('upload_bandwidth and download_bandwidth slow the transfers down', async () => {
    const u = await env.createUser({ upload_bandwidth: 200, download_bandwidth: 300 });
    const data = randomBytes(500 * 1024);
    await writeFile(join(env.dir, 'up.bin'), data);
    let t0 = Date.now();
    const up = await run('curl', [...curlBase(u), '-T', join(env.dir, 'up.bin'), `ftp://127.0.0.1:${port}/up.bin`]);
    const upMs = Date.now() - t0;
    assert.equal(up.code, 0, up.stderr);
    assert.ok(upMs >= 1800, `upload of 500 KiB at 200 KB/s took ${upMs} ms`);
    t0 = Date.now();
    const down = await run('curl', [...curlBase(u), '-o', join(env.dir, 'down.bin'), `ftp://127.0.0.1:${port}/up.bin`]);
    const downMs = Date.now() - t0;
    assert.equal(down.code, 0, down.stderr);
    assert.ok(downMs >= 1200, `download of 500 KiB at 300 KB/s took ${downMs} ms`);
  });

  void it('max_per_host_connections: the connection over the limit gets 421 and is closed', async () => {
    // the REST client's keep-alive connections count for the host too: open until refused
    const open: RawFtp[] = [];
    let refused: { code: number; text: string } | undefined;
    for (let i = 0; i < 8 && !refused; i++) {
      const c = await RawFtp.connect(port);
      const r = await c.read();
      if (r.code === 220) open.push(c);
      else refused = r;
    }
    assert.ok(open.length >= 1 && open.length <= 6, String(open.length));
    assert.equal(refused?.code, 421);
    assert.match(refused.text, /too many connections from this host/);
    for (const c of open) c.close();
    await sleep(200);
    const again = await RawFtp.connect(port);
    const ar = await again.read();
    assert.equal(ar.code, 220, `${ar.text} clients=${env.srv.service.connections.clientCount('127.0.0.1')}`);
    again.close();
  });

  void it('a client leaving without login is no defender event; one dropped idle before login is', async () => {
    const defender = env.srv.service.defender;
    const start = defender.getScore('127.0.0.1');
    // what a load balancer's TCP health check does
    for (let i = 0; i < 3; i++) {
      const c = await RawFtp.connect(port);
      assert.equal((await c.read()).code, 220);
      c.close();
    }
    await sleep(200);
    assert.equal(defender.getScore('127.0.0.1'), start);
    const idle = await RawFtp.connect(port);
    await idle.read();
    const closed = env.srv.service.connections.checkIdleConnections(Date.now() + 121_000, 15 * 60_000);
    assert.equal(closed.length, 1, closed.join(','));
    for (let i = 0; i < 50 && !idle.closed; i++) await sleep(20);
    assert.equal(idle.closed, true);
    assert.equal(defender.getScore('127.0.0.1'), start + 1);
  });

  void it('the defender bans the host after repeated failed logins: 421 at connect', async () => {
    const u = victim;
    let failures = 0;
    let banned: { code: number; text: string } | undefined;
    for (let i = 0; i < 6 && !banned; i++) {
      const c = await RawFtp.connect(port);
      const g = await c.read();
      if (g.code !== 220) {
        banned = g;
        break;
      }
      await c.cmd(`USER ${u.username}`);
      assert.equal((await c.cmd('PASS wrong')).code, 530);
      failures++;
      c.close();
      await sleep(50);
    }
    assert.ok(failures >= 1 && failures <= 3, String(failures));
    assert.equal(banned?.code, 421);
    assert.match(banned.text, /banned/);
    assert.ok(env.srv.service.defender.isBanned('127.0.0.1'));
  });
});

void describe('ftpd: rate limiter', () => {
  let env: FtpTestEnv;

  before(async () => {
    env = await startFtpTestServer({
      config: { common: { rate_limiters: [{ average: 1, period: 10_000, burst: 2, type: 2, protocols: ['FTP'] }] } },
    });
  });
  after(async () => {
    await env.stop();
  });

  void it('connections over the FTP rate are refused with 421', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await RawFtp.connect(env.ports[0] as number);
      codes.push((await c.read(15_000)).code);
      c.close();
    }
    assert.deepEqual(codes.slice(0, 2), [220, 220]);
    assert.ok(codes.slice(2).includes(421), codes.join(','));
  });
});
