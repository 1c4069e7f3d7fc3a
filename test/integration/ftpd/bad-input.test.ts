/**
 * Hostile or broken clients on the control and data connections: overlong lines, unknown
 * commands, PORT/EPRT bounces, data connections from another IP, clients that never open the
 * data connection, ABOR mid-transfer — clear replies, no crash, no leaked sockets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawFtp, readAll, startFtpTestServer, type FtpTestEnv, type FtpTestUser } from '../../helpers/ftpd.js';

const DATA_TIMEOUT_MS = 1500;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(50);
  }
}

void describe('ftpd: bad input', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;
  let port: number;

  before(async () => {
    env = await startFtpTestServer({ dataTimeoutMs: DATA_TIMEOUT_MS });
    port = env.ports[0] as number;
    user = await env.createUser();
    await writeFile(join(user.home, 'file.txt'), 'original content');
  });
  after(async () => {
    await env.stop();
  });

  async function session(): Promise<RawFtp> {
    const c = await RawFtp.connect(port);
    assert.equal((await c.read()).code, 220);
    return c;
  }

  void it('an overlong command line gets 500 and the connection is closed', async () => {
    const c = await session();
    c.socket.write('USER ' + 'A'.repeat(10_000));
    const r = await c.read();
    assert.equal(r.code, 500);
    assert.match(r.text, /too long/);
    await waitFor(() => c.closed, 'the close');
  });

  void it('unknown commands get 502, before and after login; file commands before login 530', async () => {
    const c = await session();
    assert.equal((await c.cmd('XYZZY foo')).code, 502);
    assert.equal((await c.cmd('RETR file.txt')).code, 530);
    assert.equal((await c.cmd('LIST')).code, 530);
    await c.login(user.username, user.password);
    assert.equal((await c.cmd('XYZZY')).code, 502);
    assert.equal((await c.cmd('\u00ff\u00f4BOGUS')).code, 502);
    assert.equal((await c.cmd('NOOP')).code, 200);
    c.close();
  });

  void it('PORT/EPRT to a foreign address or a privileged port are refused (501)', async () => {
    const c = await session();
    await c.login(user.username, user.password);
    assert.equal((await c.cmd('PORT 10,1,2,3,200,10')).code, 501);
    assert.equal((await c.cmd('EPRT |1|192.0.2.7|51000|')).code, 501);
    assert.equal((await c.cmd('PORT 127,0,0,1,0,21')).code, 501);
    assert.equal((await c.cmd('EPRT |1|127.0.0.1|22|')).code, 501);
    assert.equal((await c.cmd('PORT 1,2,3')).code, 501);
    assert.equal((await c.cmd('EPRT garbage')).code, 501);
    // no data channel was set up by any of them
    assert.equal((await c.cmd('RETR file.txt')).code, 425);
    c.close();
  });

  void it('a passive data connection from another IP is refused; the client itself still gets its data', async () => {
    const c = await session();
    await c.login(user.username, user.password);
    const pasv = await c.pasv();
    // 127.0.0.2 is another host as far as the server can tell
    const intruder = connect({ host: '127.0.0.1', port: pasv.port, localAddress: '127.0.0.2' });
    intruder.on('error', () => undefined);
    const got: Buffer[] = [];
    intruder.on('data', (d: Buffer) => got.push(d));
    await once(intruder, 'close');
    assert.equal(Buffer.concat(got).length, 0);
    const data = await pasv.connect();
    c.send('RETR file.txt');
    assert.equal((await c.read()).code, 150);
    assert.equal((await readAll(data)).toString(), 'original content');
    assert.equal((await c.read()).code, 226);
    c.close();
  });

  void it('a client that never opens the data connection gets 425 for the timeout; STOR did not touch the file', async () => {
    const c = await session();
    await c.login(user.username, user.password);
    const pasv = await c.pasv();
    const r = await c.cmd('STOR file.txt', 10_000);
    assert.equal(r.code, 425, r.lines.join('|'));
    // the reason is the data-connection timeout, not an immediate refusal
    assert.match(r.lines.join('|'), /no data connection: timeout/);
    assert.equal(await readFile(join(user.home, 'file.txt'), 'utf8'), 'original content');
    // the passive listener is gone
    const probe = connect({ host: '127.0.0.1', port: pasv.port });
    const [err] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
    // the session goes on
    assert.equal((await c.cmd('NOOP')).code, 200);
    c.close();
  });

  void it('a transfer without PASV/PORT gets 425', async () => {
    const c = await session();
    await c.login(user.username, user.password);
    assert.equal((await c.cmd('RETR file.txt')).code, 425);
    assert.equal((await c.cmd('LIST')).code, 425);
    c.close();
  });

  void it('ABOR during a download answers 426 then 226 and the session goes on', async () => {
    await writeFile(join(user.home, 'big.bin'), Buffer.alloc(64 * 1024 * 1024, 7));
    const c = await session();
    await c.login(user.username, user.password);
    const pasv = await c.pasv();
    const data = await pasv.connect();
    data.pause(); // the client does not read: the server is stuck writing
    data.on('error', () => undefined);
    c.send('RETR big.bin');
    assert.equal((await c.read()).code, 150);
    await sleep(200);
    c.send('ABOR');
    const r1 = await c.read();
    const r2 = await c.read();
    assert.deepEqual([r1.code, r2.code], [426, 226]);
    assert.equal((await c.cmd('NOOP')).code, 200);
    data.destroy();
    c.close();
  });

  /** no upload left in the connections list */
  const noUploads = (): boolean =>
    env.srv.service.connections
      .list()
      .every((x) => x.protocol !== 'FTP' || (x.active_transfers ?? []).every((tr) => tr.operation_type !== 'upload'));

  void it('ABOR during an upload answers 426 then 226, the upload ends and the session goes on', async () => {
    const c = await session();
    await c.login(user.username, user.password);
    const pasv = await c.pasv();
    const data = await pasv.connect();
    data.on('error', () => undefined);
    c.send('STOR aborted-upload.bin');
    assert.equal((await c.read()).code, 150);
    // more than the upload's buffers hold, then the client keeps the connection open
    data.write(Buffer.alloc(5 * 1024 * 1024 + 123, 1));
    await sleep(200);
    c.send('ABOR');
    const r1 = await c.read();
    const r2 = await c.read();
    assert.deepEqual([r1.code, r2.code], [426, 226]);
    await waitFor(() => data.destroyed || data.readableEnded, 'the data connection closed by the server');
    await waitFor(noUploads, 'the upload ended');
    assert.equal((await c.cmd('NOOP')).code, 200);
    data.destroy();
    c.close();
  });

  void it('a wrong password gets 530 and the connection is closed', async () => {
    const c = await session();
    assert.equal((await c.cmd(`USER ${user.username}`)).code, 331);
    const r = await c.cmd('PASS wrong');
    assert.equal(r.code, 530);
    await waitFor(() => c.closed, 'the close');
  });

  void it('leaves no session, registry entry or client count behind', async () => {
    await waitFor(() => env.ftpd.sessionCount === 0, 'no sessions');
    const conns = env.srv.service.connections;
    await waitFor(() => conns.list().filter((x) => x.protocol === 'FTP').length === 0, 'no FTP connections');
    await waitFor(() => conns.clientCount() === 0, 'no clients');
  });
});
