import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  ConnectionRegistry,
  newConnectionId,
  type ActiveConnection,
} from '../../../src/common/index.js';
import { code, exists, makeEnv, type Env } from './helpers.js';

let env: Env;

beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => {
  await env.cleanup();
});

void describe('connection ids', () => {
  void it('follow upstream formats', () => {
    assert.equal(newConnectionId('SFTP', 'ab12', 0), 'SFTP_ab12_0');
    assert.equal(newConnectionId('SCP', 'ab12', 3), 'SCP_ab12_3');
    assert.equal(newConnectionId('DAV', 'c0ffee'), 'DAV_c0ffee');
  });
});

void describe('ConnectionRegistry', () => {
  void it('enforces max_sessions per user', async () => {
    const user = env.user({ max_sessions: 2 });
    const a = await env.connect(user);
    const b = await env.connect(user);
    const c = await env.connect(user);
    a.register();
    b.register();
    assert.throws(() => c.register(), code('CONNECTION_DENIED', 'too many open sessions: 2/2'));
    assert.equal(env.registry.countByUser('alice'), 2);
    await a.close();
    assert.equal(env.registry.countByUser('alice'), 1);
    c.register();
  });

  void it('enforces max_total_connections', async () => {
    const registry = new ConnectionRegistry({ maxTotalConnections: 1 });
    const fake = (id: string): ActiveConnection => ({
      id,
      protocol: 'FTP',
      username: '',
      maxSessions: 0,
      remoteAddress: '10.0.0.1:1',
      connectionTime: Date.now(),
      lastActivity: Date.now(),
      command: '',
      activeTransfers: () => [],
      close: async () => undefined,
    });
    registry.add(fake('FTP_1_1'));
    assert.throws(() => registry.add(fake('FTP_1_2')), code('CONNECTION_DENIED'));
    assert.throws(() => registry.add(fake('FTP_1_1')), code('ALREADY_EXISTS'));
    assert.throws(() => registry.acceptClient('10.0.0.9'), code('CONNECTION_DENIED'));
  });

  void it('limits clients per host', () => {
    const blocked: string[] = [];
    const registry = new ConnectionRegistry({
      maxPerHostConnections: 2,
      onHostLimitExceeded: (ip) => blocked.push(ip),
    });
    registry.acceptClient('192.168.0.1:1000');
    registry.acceptClient('::ffff:192.168.0.1');
    assert.throws(() => registry.acceptClient('192.168.0.1:1002'), code('CONNECTION_DENIED'));
    assert.deepEqual(blocked, ['192.168.0.1']);
    registry.acceptClient('192.168.0.2:1000');
    assert.equal(registry.clientCount('192.168.0.1'), 2);
    assert.equal(registry.clientCount(), 3);
    registry.releaseClient('192.168.0.1:1000');
    registry.acceptClient('192.168.0.1:1003');
  });

  void it('lists connections with their active transfers and command', async () => {
    const c = await env.connect(env.user(), { id: 'SFTP_feed_1' });
    c.register();
    c.command = 'Open';
    await fsp.writeFile(path.join(env.home, 'f.txt'), 'content');
    const d = await c.openDownload('/f.txt');
    await d.read(0, 3);
    const t = await c.openUpload('/up.txt');
    await t.write(0, Buffer.from('12345'));
    const [s] = env.registry.list();
    assert.ok(s);
    assert.equal(s.connection_id, 'SFTP_feed_1');
    assert.equal(s.username, 'alice');
    assert.equal(s.protocol, 'SFTP');
    assert.equal(s.remote_address, '127.0.0.1:40000');
    assert.equal(s.command, 'Open');
    assert.ok(s.connection_time > 0 && s.last_activity >= s.connection_time);
    const transfers = (s.active_transfers ?? [])
      .map((x) => [x.operation_type, x.path, x.size])
      .sort();
    assert.deepEqual(transfers, [
      ['download', '/f.txt', 3],
      ['upload', '/up.txt', 5],
    ]);
    await d.close();
    await t.close();
    assert.equal(env.registry.list()[0]?.active_transfers, undefined);
  });

  void it('close(id) aborts the transfers and calls the protocol close callback once', async () => {
    let closed = 0;
    const c = await env.connect(env.user(), {
      config: { upload_mode: 1 },
      onClose: () => void closed++,
    });
    c.register();
    const t = await c.openUpload('/x.bin');
    await t.write(0, Buffer.alloc(100));
    assert.equal(env.registry.close('nope'), false);
    assert.equal(await env.registry.closeAndWait(c.id), true);
    assert.equal(closed, 1);
    assert.equal(env.registry.get(c.id), undefined);
    assert.equal(await exists(path.join(env.home, 'x.bin')), false);
    await c.close();
    assert.equal(closed, 1);
  });

  void it('disconnectUser closes every session of the user', async () => {
    const a = await env.connect(env.user());
    const b = await env.connect(env.user());
    const other = await env.connect(env.user({ username: 'bob' }));
    for (const c of [a, b, other]) c.register();
    assert.equal(await env.registry.disconnectUser('alice'), 2);
    assert.equal(env.registry.size, 1);
    assert.equal(env.registry.list()[0]?.username, 'bob');
  });

  void it('the idle checker closes idle connections (injected clock) and unauthenticated FTP after 2 minutes', async () => {
    let now = Date.now();
    const registry = new ConnectionRegistry({ now: () => now });
    const closed: string[] = [];
    const mk = (
      id: string,
      username: string,
      protocol: 'SFTP' | 'FTP',
      lastActivity: number,
    ): ActiveConnection => ({
      id,
      protocol,
      username,
      maxSessions: 0,
      remoteAddress: '1.2.3.4:5',
      connectionTime: lastActivity,
      lastActivity,
      command: '',
      activeTransfers: () => [],
      close: async () => {
        closed.push(id);
        registry.remove(id);
      },
    });
    registry.add(mk('SFTP_a_1', 'u', 'SFTP', now - 20 * 60_000));
    registry.add(mk('SFTP_a_2', 'u', 'SFTP', now - 60_000));
    registry.add(mk('FTP_1_1', '', 'FTP', now - 3 * 60_000));
    let sshClosed = false;
    registry.addSshConnection({
      id: 'a',
      lastActivity: () => now - 20 * 60_000,
      close: () => (sshClosed = true),
    });
    const ids = registry.checkIdleConnections(now, 15 * 60_000);
    assert.deepEqual(ids.sort(), ['FTP_1_1', 'SFTP_a_1']);
    // SSH connection "a" still has a recently active channel
    assert.equal(sshClosed, false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closed.sort(), ['FTP_1_1', 'SFTP_a_1']);
    now += 30 * 60_000;
    registry.checkIdleConnections(now, 15 * 60_000);
    assert.equal(sshClosed, true);
  });

  void it('startIdleChecker runs by itself and can be stopped', async () => {
    const c = await env.connect(env.user());
    c.register();
    // a tiny timeout in minutes (12 ms), checked every 5 ms
    env.registry.startIdleChecker(0.0002, { intervalMs: 5 });
    for (let i = 0; i < 200 && env.registry.size > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    env.registry.stopIdleChecker();
    assert.equal(env.registry.size, 0);
    assert.equal(c.closed, true);
  });
});
