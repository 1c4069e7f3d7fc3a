/**
 * The defender with real clients: failed OpenSSH password logins from 127.0.0.1 ban the host
 * for SSH and HTTP; an admin connecting from 127.0.0.2 sees the ban through the API and lifts
 * it, which restores access. Rate limiters answer 429 with Retry-After and feed the defender.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { hostId } from '../../../src/common/defender.js';
import { requireTool, sshExec } from '../../helpers/ssh.js';
import { basicAuth, startServer, type TestServer } from '../../helpers/server.js';
import { userBody } from './util.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** an HTTP request whose source address is `localAddress` (127.0.0.0/8 is all loopback) */
function requestFrom(localAddress: string, url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not a JSON answer (healthz): the text is what matters
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

void describe('defender: SSH failures ban the host for SSH and HTTP', () => {
  let s: TestServer;
  let adminToken: string;
  const ADMIN_IP = '127.0.0.2';

  const asAdmin = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const r = await requestFrom(ADMIN_IP, `${s.httpUrl}/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    s.validator.validateResponse({ method, path: `/api/v2${path}`, status: r.status, contentType: r.headers['content-type'], body: r.json ?? r.text });
    return r;
  };

  before(async () => {
    requireTool('ssh', 'openssh-client');
    requireTool('sshpass', 'sshpass');
    s = await startServer({
      config: {
        common: {
          defender: { enabled: true, threshold: 5, score_valid: 1, score_invalid: 2, ban_time: 10, ban_time_increment: 50, observation_time: 10 },
        },
      },
    });
    assert.ok(s.sftpPort, 'the SFTP service runs');
    const tok = await requestFrom(ADMIN_IP, `${s.httpUrl}/api/v2/token`, { headers: { authorization: basicAuth(s.admin.username, s.admin.password) } });
    assert.equal(tok.status, 200, tok.text);
    adminToken = (tok.json as { access_token: string }).access_token;
    const r = await asAdmin('POST', '/users', userBody(s, 'victim'));
    assert.equal(r.status, 201, r.text);
  });
  after(async () => {
    await s.stop();
  });

  void it('bans after N failed logins, refuses SSH and HTTP, and the API unban restores access', async () => {
    const target = { port: s.sftpPort as number };
    const ok = await sshExec(target, { user: 'victim', password: 'pw-victim-secret' }, 'pwd');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), '/');

    for (let i = 0; i < 5; i++) {
      const r = await sshExec(target, { user: 'victim', password: 'wrong password' }, 'pwd', { extraArgs: ['-o', 'NumberOfPasswordPrompts=1'] });
      assert.notEqual(r.code, 0, 'a wrong password is refused');
      if (i < 4) {
        const score = await asAdmin('GET', '/defender/score?ip=127.0.0.1');
        assert.deepEqual(score.json, { score: i + 1 });
      }
    }

    const hosts = await asAdmin('GET', '/defender/hosts');
    const entry = (hosts.json as { id: string; ip: string; ban_time?: string; score?: number }[]).find((h) => h.ip === '127.0.0.1');
    assert.ok(entry?.ban_time, hosts.text);
    assert.equal(entry.id, hostId('127.0.0.1'));
    assert.equal(entry.score, undefined);
    const banTime = await asAdmin('GET', '/defender/bantime?ip=127.0.0.1');
    assert.match((banTime.json as { date_time: string }).date_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // SSH: the right password no longer helps, the connection is closed before authentication
    const refused = await sshExec(target, { user: 'victim', password: 'pw-victim-secret' }, 'pwd');
    assert.notEqual(refused.code, 0);
    assert.doesNotMatch(refused.stdout, /^\/$/m);
    // HTTP: every request from the banned address gets a 403
    const health = await requestFrom('127.0.0.1', `${s.httpUrl}/healthz`);
    assert.equal(health.status, 403);
    assert.deepEqual(health.json, { message: 'your IP address is banned', error: 'your IP address is banned' });
    const userTok = await requestFrom('127.0.0.1', `${s.httpUrl}/api/v2/user/token`, { headers: { authorization: basicAuth('victim', 'pw-victim-secret') } });
    assert.equal(userTok.status, 403);
    // each refused attempt extends the ban
    const later = await asAdmin('GET', `/defender/hosts/${hostId('127.0.0.1')}`);
    assert.ok(Date.parse((later.json as { ban_time: string }).ban_time) > Date.parse(entry.ban_time), later.text);

    const del = await asAdmin('DELETE', `/defender/hosts/${hostId('127.0.0.1')}`);
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json, { message: 'OK' });
    assert.equal((await asAdmin('GET', `/defender/hosts/${hostId('127.0.0.1')}`)).status, 404);

    const back = await sshExec(target, { user: 'victim', password: 'pw-victim-secret' }, 'pwd');
    assert.equal(back.code, 0, back.stderr);
    assert.equal((await requestFrom('127.0.0.1', `${s.httpUrl}/healthz`)).status, 200);
  });

  void it('failed user-API logins count too; the deprecated unban works', async () => {
    for (let i = 0; i < 3; i++) {
      // an unknown user scores score_invalid (2): 3 attempts reach the threshold
      const r = await requestFrom('127.0.0.1', `${s.httpUrl}/api/v2/user/token`, { headers: { authorization: basicAuth(`ghost${i}`, 'x') } });
      assert.equal(r.status, 401);
    }
    assert.equal((await requestFrom('127.0.0.1', `${s.httpUrl}/healthz`)).status, 403);
    const unban = await asAdmin('POST', '/defender/unban', { ip: '127.0.0.1' });
    assert.equal(unban.status, 200, unban.text);
    assert.equal((await asAdmin('POST', '/defender/unban', { ip: '127.0.0.1' })).status, 404);
    assert.equal((await requestFrom('127.0.0.1', `${s.httpUrl}/healthz`)).status, 200);
  });

  void it('defender API bad input: 400 for bad ids and addresses', async () => {
    for (const id of ['zz', '123', hostId('not-an-ip'), hostId('127.0.0.1:22'), hostId('fe80::1%eth0')]) {
      const r = await asAdmin('GET', `/defender/hosts/${id}`);
      assert.equal(r.status, 400, `${id}: ${r.text}`);
      assert.equal((await asAdmin('DELETE', `/defender/hosts/${id}`)).status, 400);
    }
    assert.equal((await asAdmin('GET', '/defender/score')).status, 400);
    assert.equal((await asAdmin('GET', '/defender/score?ip=300.1.1.1')).status, 400);
    assert.equal((await asAdmin('GET', '/defender/bantime?ip=')).status, 400);
    assert.equal((await asAdmin('POST', '/defender/unban', { ip: ['127.0.0.1'] })).status, 400);
    assert.equal((await asAdmin('POST', '/defender/unban', {})).status, 400);
    assert.equal((await asAdmin('GET', `/defender/hosts/${hostId('::1')}`)).status, 404);
  });
});

void describe('rate limiters on HTTP', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({
      config: {
        common: {
          defender: { enabled: true, threshold: 5, score_limit_exceeded: 3 },
          rate_limiters: [{ average: 1, period: 20_000, burst: 3, type: 2, protocols: ['HTTP'], generate_defender_events: true }],
        },
      },
    });
  });
  after(async () => {
    await s.stop();
  });

  void it('delays within the max wait, then answers 429 with Retry-After and reports the host', async () => {
    const url = `${s.httpUrl}/healthz`;
    for (let i = 0; i < 3; i++) assert.equal((await requestFrom('127.0.0.3', url)).status, 200);
    const limited = await requestFrom('127.0.0.3', url);
    assert.equal(limited.status, 429, limited.text);
    assert.equal((limited.json as { message: string }).message, 'Too Many Requests');
    const retry = Number(limited.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 20, `Retry-After ${String(limited.headers['retry-after'])}`);
    assert.match(String(limited.headers['x-retry-in']), /^\d+ms$/);
    // another address has its own bucket
    assert.equal((await requestFrom('127.0.0.4', url)).status, 200);
    // the refusal was a defender event (score_limit_exceeded): a second one bans the host
    assert.equal((await requestFrom('127.0.0.3', url)).status, 429);
    const banned = await requestFrom('127.0.0.3', url);
    assert.equal(banned.status, 403);
    assert.equal((banned.json as { message: string }).message, 'your IP address is banned');
  });
});
