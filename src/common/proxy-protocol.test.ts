import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { proxyHeaderV1, proxyHeaderV2 } from '../../test/helpers/proxy-protocol.js';
import { SftpgoError } from '../errors/index.js';
import {
  acceptProxied,
  parseProxyHeader,
  proxyPolicyOf,
  type ClientAddress,
  type ProxyPolicy,
} from './proxy-protocol.js';

const v1 = (ip: string, port: number): Buffer => proxyHeaderV1(ip, port);
const v2 = (ip: number[], port: number): Buffer => proxyHeaderV2(ip.join('.'), port);

void describe('parseProxyHeader', () => {
  void it('reads v1 and v2 headers, their length, and says when more bytes are needed', () => {
    const a = v1('203.0.113.7', 4321);
    const p = parseProxyHeader(Buffer.concat([a, Buffer.from('SSH-2.0-x\r\n')]));
    assert.deepEqual(p, {
      kind: 'header',
      length: a.length,
      address: { ip: '203.0.113.7', port: 4321, proxied: true },
    });
    assert.deepEqual(parseProxyHeader(a.subarray(0, 10)), { kind: 'partial' });
    const b = v2([198, 51, 100, 9], 999);
    assert.deepEqual(parseProxyHeader(b), {
      kind: 'header',
      length: b.length,
      address: { ip: '198.51.100.9', port: 999, proxied: true },
    });
    assert.deepEqual(parseProxyHeader(b.subarray(0, 14)), { kind: 'partial' });
    assert.deepEqual(parseProxyHeader(Buffer.from('SSH-2.0-OpenSSH\r\n')), { kind: 'none' });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), {
      kind: 'header',
      length: 15,
      address: undefined,
    });
  });

  void it('a malformed header is a refusal, not a crash', () => {
    assert.throws(
      () => parseProxyHeader(Buffer.from('PROXY TCP4 not-an-ip 1.2.3.4 1 2\r\n')),
      (e) => SftpgoError.is(e, 'CONNECTION_DENIED'),
    );
    assert.throws(
      () => parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(120)}`)),
      /no CRLF within 107 bytes/,
    );
  });
});

void describe('acceptProxied on real sockets', () => {
  let server: Server;
  let port: number;
  let policy: ProxyPolicy;
  let serverSpeaksFirst = false;
  const results: Promise<{ addr?: ClientAddress; err?: unknown; rest: Promise<string> }>[] = [];

  before(async () => {
    server = createServer((s: Socket) => {
      results.push(
        acceptProxied(s, policy, { serverSpeaksFirst }).then(
          (addr) => ({ addr, rest: readRest(s) }),
          (err: unknown) => {
            s.destroy();
            return { err, rest: Promise.resolve('') };
          },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  function readRest(s: Socket): Promise<string> {
    return new Promise((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.resume();
      s.on('end', () => resolve(text));
      s.on('close', () => resolve(text));
    });
  }

  async function send(
    ...chunks: Buffer[]
  ): Promise<{ addr?: ClientAddress; err?: unknown; rest: string }> {
    const n = results.length;
    const c = connect(port, '127.0.0.1');
    await new Promise<void>((r) => c.once('connect', () => r()));
    for (const ch of chunks) {
      c.write(ch);
      await new Promise((r) => setTimeout(r, 20));
    }
    c.end();
    while (results.length === n) await new Promise((r) => setTimeout(r, 5));
    const got = await results[n];
    assert.ok(got);
    return { ...got, rest: await got.rest };
  }

  void it('mode 1, allowed peer: the header gives the address, the bytes after it (even split across packets) reach the protocol', async () => {
    policy = proxyPolicyOf(1, ['127.0.0.1']);
    const h = v1('203.0.113.7', 4321);
    const r = await send(h.subarray(0, 9), Buffer.concat([h.subarray(9), Buffer.from('hello')]));
    assert.deepEqual(r.addr, { ip: '203.0.113.7', port: 4321, proxied: true });
    assert.equal(r.rest, 'hello');
    const r2 = await send(Buffer.from('no header here'));
    assert.equal(r2.addr?.proxied, false);
    assert.equal(r2.addr?.ip, '127.0.0.1');
    assert.equal(r2.rest, 'no header here');
  });

  void it('mode 1, peer not allowed: a header is read and ignored', async () => {
    policy = proxyPolicyOf(1, ['10.0.0.0/8']);
    const r = await send(Buffer.concat([v2([198, 51, 100, 9], 999), Buffer.from('data')]));
    assert.deepEqual(r.addr, { ip: '127.0.0.1', port: r.addr?.port, proxied: false });
    assert.equal(r.rest, 'data');
  });

  void it('mode 2: an allowed peer without a header and a header from a peer not allowed are refused', async () => {
    policy = proxyPolicyOf(2, ['127.0.0.1']);
    const missing = await send(Buffer.from('SSH-2.0-x\r\n'));
    assert.ok(SftpgoError.is(missing.err, 'CONNECTION_DENIED'), String(missing.err));
    const ok = await send(Buffer.concat([v2([198, 51, 100, 9], 999), Buffer.from('x')]));
    assert.equal(ok.addr?.ip, '198.51.100.9');
    policy = proxyPolicyOf(2, ['10.0.0.0/8']);
    const foreign = await send(v1('203.0.113.7', 4321));
    assert.match(String((foreign.err as Error).message), /not in proxy_allowed/);
    const direct = await send(Buffer.from('SSH-2.0-x\r\n'));
    assert.equal(direct.addr?.proxied, false);
  });

  void it('mode 2, allowed peer that sends nothing: refused at the header timeout', async () => {
    policy = { ...proxyPolicyOf(2, ['127.0.0.1']), headerTimeoutMs: 200 };
    const c = connect(port, '127.0.0.1');
    const n = results.length;
    while (results.length === n) await new Promise((r) => setTimeout(r, 5));
    const got = await results[n];
    assert.match(String((got?.err as Error).message), /no PROXY header .* within 200 ms/);
    c.destroy();
  });

  void it('a server-first protocol passes a peer that is not allowed on at once', async () => {
    policy = proxyPolicyOf(1, ['10.0.0.0/8']);
    serverSpeaksFirst = true;
    const c = connect(port, '127.0.0.1');
    const n = results.length;
    while (results.length === n) await new Promise((r) => setTimeout(r, 5));
    const got = await results[n];
    assert.equal(got?.addr?.proxied, false);
    c.destroy();
    serverSpeaksFirst = false;
  });
});
