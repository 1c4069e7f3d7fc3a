import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hostId } from '../../../src/common/defender.js';
import { ssh2Connect, startSftpTestServer, waitFor, type SftpTestEnv } from '../../helpers/sftpd.js';
import { sshExec } from '../../helpers/ssh.js';
import { cli, cliEnv } from './helpers.js';

interface DefenderHost {
  id: string;
  ip: string;
  score?: number;
  ban_time?: string;
}

interface Connection {
  connection_id: string;
  username: string;
  protocol: string;
}

void describe('sftpgo defender / connections (real server)', () => {
  let env: SftpTestEnv;
  let run: ReturnType<typeof cli>;
  before(async () => {
    // a high threshold: the failed logins give 127.0.0.1 a score without banning it, so the CLI
    // (which connects from 127.0.0.1 too) keeps working
    env = await startSftpTestServer({
      config: {
        common: {
          defender: { enabled: true, threshold: 50, score_invalid: 2, score_valid: 1, ban_time: 10, observation_time: 30 },
        },
      },
    });
    run = cli(await cliEnv(env.srv));
  });
  after(() => env.stop());

  void it('failed SSH logins show 127.0.0.1 in defender list; unban clears it', async () => {
    const empty = await run(['defender', 'list', '--json']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), []);

    for (let i = 0; i < 2; i++) {
      const r = await sshExec(env.target, { user: `ghost${i}`, password: 'wrong password' }, 'pwd', {
        extraArgs: ['-o', 'NumberOfPasswordPrompts=1'],
      });
      assert.notEqual(r.code, 0, 'an unknown user is refused');
    }
    await waitFor(async () => ((await env.srv.api<{ score: number }>('GET', '/defender/score?ip=127.0.0.1')).body.score ?? 0) > 0, 10_000, 'a defender score');

    const list = await run(['defender', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const hosts = JSON.parse(list.stdout) as DefenderHost[];
    const entry = hosts.find((h) => h.ip === '127.0.0.1');
    assert.ok(entry, list.stdout);
    assert.equal(entry.id, hostId('127.0.0.1'));
    assert.ok((entry.score ?? 0) > 0, list.stdout);
    assert.deepEqual(hosts, (await env.srv.api('GET', '/defender/hosts')).body);

    const table = await run(['defender', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${entry.id}\\t127\\.0\\.0\\.1\\t\\d+\\t`, 'm'));

    const get = await run(['defender', 'get', '127.0.0.1', '--json']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as DefenderHost).ip, '127.0.0.1');
    const byId = await run(['defender', 'get', entry.id, '--json']);
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal((JSON.parse(byId.stdout) as DefenderHost).ip, '127.0.0.1');

    const noYes = await run(['defender', 'unban', '127.0.0.1']);
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /refusing without --yes/);

    const unban = await run(['defender', 'unban', '127.0.0.1', '--yes']);
    assert.equal(unban.code, 0, unban.stderr);
    assert.equal(unban.stdout, 'Host 127.0.0.1 removed from the defender lists\n');

    const gone = await run(['defender', 'get', '127.0.0.1']);
    assert.equal(gone.code, 1, gone.stdout);
    assert.match(gone.stderr, /^Error: /);
    const after1 = await run(['defender', 'list', '--json']);
    assert.equal(after1.code, 0, after1.stderr);
    assert.ok(!(JSON.parse(after1.stdout) as DefenderHost[]).some((h) => h.ip === '127.0.0.1'), after1.stdout);
  });

  void it('connections list shows a live SFTP session; connections close ends it', async () => {
    const user = await env.createUser();
    const session = await ssh2Connect(env.port, user.username, { password: user.password });
    let closed = false;
    // as upstream, closing an SFTP connection closes its channel (the SFTP session)
    session.sftp.once('close', () => {
      closed = true;
    });
    try {
      await session.call('readdir', '/');
      const list = await run(['connections', 'list', '--json']);
      assert.equal(list.code, 0, list.stderr);
      const conns = JSON.parse(list.stdout) as Connection[];
      const mine = conns.find((c) => c.username === user.username);
      assert.ok(mine, list.stdout);
      assert.equal(mine.protocol, 'SFTP');

      const table = await run(['connections', 'list']);
      assert.equal(table.code, 0, table.stderr);
      assert.ok(table.stdout.split('\n').some((l) => l.startsWith(`${mine.connection_id}\t${user.username}\tSFTP\t`)), table.stdout);

      const noYes = await run(['connections', 'close', mine.connection_id]);
      assert.equal(noYes.code, 2);
      assert.equal(closed, false, 'not closed without --yes');

      const close = await run(['connections', 'close', mine.connection_id, '--yes']);
      assert.equal(close.code, 0, close.stderr);
      assert.equal(close.stdout, `Connection ${mine.connection_id} closed\n`);
      await waitFor(() => closed, 15_000, 'the client to see the SFTP session closed');

      const after1 = await run(['connections', 'list', '--json']);
      assert.equal(after1.code, 0, after1.stderr);
      assert.ok(!(JSON.parse(after1.stdout) as Connection[]).some((c) => c.connection_id === mine.connection_id), after1.stdout);

      const again = await run(['connections', 'close', mine.connection_id, '--yes']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Error: /);
    } finally {
      await session.end();
    }
  });
});
