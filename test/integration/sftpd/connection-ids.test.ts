/**
 * Connection ids and protocols of exec channels: `SCP_<hex session id>_<n>` during an scp -O
 * transfer and `SSH_<hex>_<n>` during an SSH command, with the command shown; closing them
 * from the registry ends the channel.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomFile, startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey } from '../../helpers/ssh.js';

void describe('sftpd: exec connection ids', () => {
  let env: SftpTestEnv;

  before(async () => {
    env = await startSftpTestServer({ config: { sftpd: { enabled_ssh_commands: ['*'] } } });
  });
  after(async () => {
    await env.stop();
  });

  function client(args: string[]): { done: Promise<number | null>; stdin: NodeJS.WritableStream; pid: number | undefined } {
    const [cmd, ...rest] = args as [string, ...string[]];
    const child = spawn(cmd, rest, { stdio: ['pipe', 'ignore', 'ignore'] });
    const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { done, stdin: child.stdin, pid: child.pid };
  }

  void it('SCP_<hex>_1 during scp -O, closed from the registry', async () => {
    const key = await generateKey(env.dir, 'ids-scp');
    const user = await env.createUser({ public_keys: [key.publicKey], upload_bandwidth: 200 });
    const f = join(env.dir, 'ids.bin');
    await randomFile(f, 8 * 1024 * 1024);
    const opts = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null', '-i', key.privatePath, '-o', 'IdentitiesOnly=yes'];
    const c = client(['scp', ...opts, '-O', '-P', String(env.port), f, `${user.username}@127.0.0.1:/ids.bin`]);
    await waitFor(() => env.connections().some((x) => x.username === user.username && x.protocol === 'SCP'), 30_000, 'the SCP connection');
    const conn = env.connections().find((x) => x.username === user.username);
    assert.ok(conn);
    assert.match(conn.connection_id, /^SCP_[0-9a-f]{40,}_1$/);
    assert.match(conn.command ?? '', /^scp .*-t/);
    await env.srv.service.connections.closeAndWait(conn.connection_id);
    assert.notEqual(await c.done, 0, 'the client sees the transfer fail');
    await waitFor(() => !env.connections().some((x) => x.username === user.username), 10_000, 'the connection to go away');
  });

  void it('SSH_<hex>_1 while a command runs', async () => {
    const key = await generateKey(env.dir, 'ids-ssh');
    const user = await env.createUser({ public_keys: [key.publicKey] });
    const opts = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null', '-i', key.privatePath, '-o', 'IdentitiesOnly=yes'];
    // sha256sum without arguments reads stdin until EOF: the command stays open meanwhile
    const c = client(['ssh', ...opts, '-p', String(env.port), `${user.username}@127.0.0.1`, 'sha256sum']);
    await waitFor(() => env.connections().some((x) => x.username === user.username), 30_000, 'the SSH connection');
    const conn = env.connections().find((x) => x.username === user.username);
    assert.ok(conn);
    assert.match(conn.connection_id, /^SSH_[0-9a-f]{40,}_1$/);
    assert.equal(conn.protocol, 'SSH');
    assert.equal(conn.command, 'sha256sum');
    c.stdin.end('data\n');
    assert.equal(await c.done, 0);
    await waitFor(() => !env.connections().some((x) => x.username === user.username), 10_000, 'the connection to go away');
  });
});
