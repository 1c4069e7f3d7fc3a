/**
 * The PROXY protocol end to end: a relay started by the test plays HAProxy (`send-proxy` /
 * `send-proxy-v2`): it accepts the real client (OpenSSH sftp, curl), connects to the server
 * from a chosen loopback address and sends the header first. The server must account the
 * connection to the header's address (the connection list, the defender), and apply mode 2's
 * refusals.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { run } from '../../helpers/ftpd.js';
import { proxyHeaderV1, proxyHeaderV2 } from '../../helpers/proxy-protocol.js';
import { startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { freePort } from '../../helpers/server.js';
import { requireTool, sftpBatch } from '../../helpers/ssh.js';

interface Relay {
  port: number;
  close(): Promise<void>;
}

/** a HAProxy stand-in: each client is relayed to `target` from `from`, after a PROXY header claiming `claim` */
async function startRelay(
  target: number,
  o: { from: string; claim: string; version: 1 | 2 },
): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = connect({ port: target, host: '127.0.0.1', localAddress: o.from });
    sockets.add(client).add(up);
    const port = 40000 + Math.floor(Math.random() * 20000);
    const header =
      o.version === 1 ? proxyHeaderV1(o.claim, port, target) : proxyHeaderV2(o.claim, port, target);
    up.write(header);
    client.pipe(up);
    up.pipe(client);
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

void describe('PROXY protocol: SFTP and FTP behind a proxy', () => {
  let env: SftpTestEnv;
  let ftpPort: number;
  const relays: Relay[] = [];

  before(async () => {
    requireTool('curl', 'curl');
    ftpPort = await freePort();
    env = await startSftpTestServer({
      config: {
        common: {
          proxy_protocol: 1,
          proxy_allowed: ['127.0.0.1'],
          defender: { enabled: true, threshold: 100 },
        },
        ftpd: { bindings: [{ port: ftpPort, address: '127.0.0.1' }] },
      },
    });
  });
  after(async () => {
    for (const r of relays) await r.close();
    await env.stop();
  });

  async function relay(
    target: number,
    o: { from: string; claim: string; version: 1 | 2 },
  ): Promise<number> {
    const r = await startRelay(target, o);
    relays.push(r);
    return r.port;
  }

  void it('mode 1: an SFTP session through the proxy is listed, and its failures scored, under the address of the header', async () => {
    const u = await env.createUser();
    const port = await relay(env.port, { from: '127.0.0.1', claim: '203.0.113.50', version: 1 });
    // a session that stays open while the connection list is read
    const listed = sftpBatch({ port }, u.creds, ['ls /', '!sleep 2', 'ls /']);
    let seen: string[] = [];
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = env
        .connections()
        .filter((c) => c.username === u.username)
        .map((c) => c.remote_address ?? '');
    }
    assert.equal((await listed).code, 0);
    assert.ok(seen.length > 0 && seen.every((a) => a.startsWith('203.0.113.50:')), seen.join(','));

    const bad = await sftpBatch({ port }, { user: u.username, password: 'wrong' }, ['ls /']);
    assert.notEqual(bad.code, 0);
    const hosts = await env.srv.api<{ ip: string }[]>('GET', '/api/v2/defender/hosts');
    assert.ok(
      hosts.body.some((h) => h.ip === '203.0.113.50'),
      JSON.stringify(hosts.body),
    );
    assert.equal(
      hosts.body.some((h) => h.ip === '127.0.0.1'),
      false,
      'the proxy is not scored',
    );
  });

  void it('mode 1: a header from an address not in proxy_allowed is read and ignored', async () => {
    const u = await env.createUser();
    const port = await relay(env.port, { from: '127.0.0.2', claim: '198.51.100.77', version: 2 });
    const ok = await sftpBatch({ port }, u.creds, ['ls /']);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await sftpBatch({ port }, { user: u.username, password: 'wrong' }, ['ls /']);
    assert.notEqual(bad.code, 0);
    const hosts = await env.srv.api<{ ip: string }[]>('GET', '/api/v2/defender/hosts');
    assert.equal(
      hosts.body.some((h) => h.ip === '198.51.100.77'),
      false,
    );
    assert.ok(
      hosts.body.some((h) => h.ip === '127.0.0.2'),
      JSON.stringify(hosts.body),
    );
  });

  void it('mode 1: FTP through the proxy (v2 header) logs in and transfers, with passive data from the proxy host', async () => {
    const u = await env.createUser();
    const port = await relay(ftpPort, { from: '127.0.0.1', claim: '192.0.2.33', version: 2 });
    const r = await run(
      'curl',
      [
        '-sS',
        '--max-time',
        '20',
        '--user',
        `${u.username}:${u.password}`,
        '-T',
        '-',
        `ftp://127.0.0.1:${port}/via-proxy.txt`,
      ],
      { input: 'through the proxy\n' },
    );
    assert.equal(r.code, 0, r.stderr);
    const g = await run('curl', [
      '-sS',
      '--max-time',
      '20',
      '--user',
      `${u.username}:${u.password}`,
      `ftp://127.0.0.1:${port}/via-proxy.txt`,
    ]);
    assert.equal(g.stdout, 'through the proxy\n');
    // the login was accounted to the header's address (the log is written asynchronously)
    const logFile = join(env.srv.configDir, 'sftpgo.log');
    const loggedIn = async (): Promise<string[]> =>
      (await readFile(logFile, 'utf8'))
        .split('\n')
        .filter((l) => l.includes(`User \\"${u.username}\\" logged in`));
    let lines: string[] = [];
    for (let i = 0; i < 100 && lines.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      lines = await loggedIn();
    }
    assert.ok(lines.length > 0, 'the FTP login line');
    assert.ok(
      lines.every((l) =>
        (JSON.parse(l) as { message: string }).message.endsWith('from ip "192.0.2.33"'),
      ),
      lines.join('\n'),
    );
  });
});

void describe('PROXY protocol mode 2 (required)', () => {
  let env: SftpTestEnv;
  const relays: Relay[] = [];

  before(async () => {
    env = await startSftpTestServer({
      config: { common: { proxy_protocol: 2, proxy_allowed: ['127.0.0.1'] } },
    });
  });
  after(async () => {
    for (const r of relays) await r.close();
    await env.stop();
  });

  void it('the allowed proxy must send a header; a header from elsewhere is refused', async () => {
    const u = await env.createUser();
    // direct from 127.0.0.1 (allowed, so a proxy): no header, refused
    const direct = await sftpBatch(env.target, u.creds, ['ls /'], { timeoutMs: 30_000 });
    assert.notEqual(direct.code, 0);
    const through = await startRelay(env.port, {
      from: '127.0.0.1',
      claim: '203.0.113.9',
      version: 2,
    });
    relays.push(through);
    const ok = await sftpBatch({ port: through.port }, u.creds, ['ls /']);
    assert.equal(ok.code, 0, ok.stderr);
    const foreign = await startRelay(env.port, {
      from: '127.0.0.2',
      claim: '203.0.113.9',
      version: 1,
    });
    relays.push(foreign);
    const refused = await sftpBatch({ port: foreign.port }, u.creds, ['ls /'], {
      timeoutMs: 30_000,
    });
    assert.notEqual(refused.code, 0);
  });
});
