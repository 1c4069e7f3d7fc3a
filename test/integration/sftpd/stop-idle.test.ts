/**
 * Stopping the service while an SSH client keeps its connection open after the server closed
 * its SFTP channel (user updated with ?disconnect=1, or DELETE /api/v2/connections/{id}): stop()
 * must still resolve and the client must see its connection closed. The 20 s bound only guards
 * against a hang; it is not a speed assertion.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ssh2Connect, startSftpTestServer, waitFor, type SftpTestEnv, type Ssh2Session, type TestUser } from '../../helpers/sftpd.js';

const HANG_GUARD_MS = 20_000;

interface Idle {
  env: SftpTestEnv;
  user: TestUser;
  session: Ssh2Session;
  clientClosed: Promise<void>;
  sftpClosed: Promise<void>;
  /** set once stop() was called, so a failing test does not stop the service twice */
  stopped: boolean;
}

async function connectIdle(): Promise<Idle> {
  const env = await startSftpTestServer();
  const user = await env.createUser();
  const session = await ssh2Connect(env.port, user.username, { password: user.password });
  const clientClosed = new Promise<void>((resolve) => session.client.once('close', () => resolve()));
  const sftpClosed = new Promise<void>((resolve) => session.sftp.once('close', () => resolve()));
  await session.call('readdir', '/');
  await waitFor(() => env.connections().some((c) => c.username === user.username), 10_000, 'the SFTP connection');
  return { env, user, session, clientClosed, sftpClosed, stopped: false };
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what} did not complete within ${HANG_GUARD_MS} ms`)), HANG_GUARD_MS);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(t));
}

/** cleanup for a test that failed before stopWhileIdle called stop() */
async function cleanup(idle: Idle | undefined): Promise<void> {
  if (idle === undefined || idle.stopped) return;
  idle.session.client.destroy();
  await idle.env.stop();
}

/** after the server closed the SFTP channel: the SSH connection is still up, then stop() */
async function stopWhileIdle(idle: Idle): Promise<void> {
  const { env, user, session } = idle;
  await within(idle.sftpClosed, 'the SFTP channel close');
  await waitFor(() => !env.connections().some((c) => c.username === user.username), 10_000, 'the connection to leave the registry');
  let closedEarly = false;
  void idle.clientClosed.then(() => (closedEarly = true));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(closedEarly, false, 'the SSH connection is still open after its SFTP channel was closed');
  idle.stopped = true;
  try {
    await within(env.stop(), 'stop()');
    await within(idle.clientClosed, 'the client connection close');
  } finally {
    session.client.destroy();
  }
}

void describe('sftpd: stop() with an idle SSH connection', () => {
  void it('returns after PUT /users/{u}?disconnect=1 closed the SFTP channel', async () => {
    const idle = await connectIdle();
    try {
      const r = await idle.env.srv.api('PUT', `/users/${encodeURIComponent(idle.user.username)}?disconnect=1`, {
        ...(await idle.env.getUser(idle.user.username)),
        description: 'updated',
      });
      assert.equal(r.status, 200, r.text);
      await stopWhileIdle(idle);
    } finally {
      await cleanup(idle);
    }
  });

  void it('returns after DELETE /connections/{id} closed the SFTP channel', async () => {
    const idle = await connectIdle();
    try {
      const conn = idle.env.connections().find((c) => c.username === idle.user.username);
      assert.ok(conn);
      const r = await idle.env.srv.api('DELETE', `/connections/${encodeURIComponent(conn.connection_id)}`);
      assert.equal(r.status, 200, r.text);
      await stopWhileIdle(idle);
    } finally {
      await cleanup(idle);
    }
  });
});
