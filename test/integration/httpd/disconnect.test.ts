/**
 * PUT /users/{username}?disconnect=1 closes the user's active connections after the update;
 * disconnect=0 leaves them alone; DELETE always disconnects. Driven with a real SFTP session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ssh2Connect, testHostKeys, type Ssh2Session } from '../../helpers/sftpd.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { userBody } from './util.js';

/** resolves when the server closes the SFTP channel (the SSH client itself may stay up) */
function closed(session: Ssh2Session): Promise<void> {
  return new Promise((resolve) => session.sftp.once('close', () => resolve()));
}

void describe('httpd: disconnecting users', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    const keys = await testHostKeys();
    s = await startServer({ config: { sftpd: { host_keys: keys.files } } });
    assert.ok(s.sftpPort, 'the sftpd service runs');
    port = s.sftpPort;
  });
  after(async () => {
    await s.stop();
  });

  async function connect(username: string): Promise<Ssh2Session> {
    const session = await ssh2Connect(port, username, { password: `pw-${username}-secret` });
    await session.call('realpath', '.');
    assert.ok(s.service.connections.countByUser(username) > 0, 'the session is registered');
    return session;
  }

  void it('keeps sessions with disconnect=0 and closes them with disconnect=1', async () => {
    assert.equal((await s.api('POST', '/users', userBody(s, 'kicked'))).status, 201);
    const session = await connect('kicked');
    const gone = closed(session);
    assert.equal((await s.api('PUT', '/users/kicked?disconnect=0', { description: 'still here' })).status, 200);
    assert.equal(await session.call('realpath', '.'), '/');
    assert.equal((await s.api('PUT', '/users/kicked?disconnect=1', { description: 'bye' })).status, 200);
    await gone;
    assert.equal(s.service.connections.countByUser('kicked'), 0);
    await session.end();
  });

  void it('closes the sessions of a deleted user', async () => {
    assert.equal((await s.api('POST', '/users', userBody(s, 'deleted'))).status, 201);
    const session = await connect('deleted');
    const gone = closed(session);
    assert.equal((await s.api('DELETE', '/users/deleted')).status, 200);
    await gone;
    assert.equal(s.service.connections.countByUser('deleted'), 0);
    await session.end();
  });
});
