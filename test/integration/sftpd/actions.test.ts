/**
 * Custom actions over SSH with OpenSSH's own clients (sftp, scp -O, ssh) and real hooks: a
 * recording shell script (exact argv and SFTPGO_ACTION_* variables) and a recording HTTP
 * receiver (execute_sync holding the reply, hooks that hang). The protocol-neutral cases (every
 * action's JSON body through SFTP, FTP and WebDAV) are test/cases ACTION_CASES.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROTOCOL_ACTIONS } from '../../../src/config/index.js';
import { HookReceiver, ScriptHooks, type ScriptCall } from '../../helpers/hooks.js';
import { remote, scp, sftpBatch, sshExec } from '../../helpers/ssh.js';
import {
  expectStatus,
  ssh2Connect,
  startSftpTestServer,
  type SftpTestEnv,
  type TestUser,
} from '../../helpers/sftpd.js';

const ALL = [...PROTOCOL_ACTIONS];

/** the SFTPGO_ACTION* variables of a call */
function actionEnv(c: ScriptCall | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(c?.env ?? {}).filter(([k]) => k.startsWith('SFTPGO_ACTION')),
  );
}

function vars(o: {
  action: string;
  user: TestUser;
  path: string;
  target?: string;
  cmd?: string;
  size?: number;
  status?: number;
  protocol: string;
  flags?: number;
}): Record<string, string> {
  return {
    SFTPGO_ACTION: o.action,
    SFTPGO_ACTION_USERNAME: o.user.username,
    SFTPGO_ACTION_PATH: o.path,
    SFTPGO_ACTION_TARGET: o.target ?? '',
    SFTPGO_ACTION_SSH_CMD: o.cmd ?? '',
    SFTPGO_ACTION_FILE_SIZE: String(o.size ?? 0),
    SFTPGO_ACTION_FS_PROVIDER: '0',
    SFTPGO_ACTION_BUCKET: '',
    SFTPGO_ACTION_ENDPOINT: '',
    SFTPGO_ACTION_STATUS: String(o.status ?? 1),
    SFTPGO_ACTION_PROTOCOL: o.protocol,
    SFTPGO_ACTION_OPEN_FLAGS: String(o.flags ?? 0),
  };
}

void describe('custom actions over SSH: a program hook that accepts everything', () => {
  const scripts = new ScriptHooks();
  let env: SftpTestEnv;
  let hook: string;
  let user: TestUser;
  /** the calls seen so far; `since()` returns the new ones */
  let seen = 0;
  const since = async (count: number): Promise<ScriptCall[]> => {
    const all = await scripts.waitForCalls(hook, seen + count);
    const fresh = all.slice(seen);
    seen = all.length;
    return fresh;
  };

  before(async () => {
    await scripts.init();
    hook = await scripts.script('accept');
    env = await startSftpTestServer({
      config: {
        common: { actions: { execute_on: ALL, execute_sync: ALL, hook } },
        sftpd: { enabled_ssh_commands: ['*'] },
      },
    });
    user = await env.createUser({ quota_size: 64 * 1024 });
  });
  after(async () => {
    await env.stop();
    await scripts.cleanup();
  });

  void it('sftp put: pre-upload then upload with the size and status 1', async () => {
    const local = join(env.dir, 'up.bin');
    await writeFile(local, randomBytes(3000));
    const r = await sftpBatch(env.target, user.creds, [`put ${local} /up.bin`]);
    assert.equal(r.code, 0, r.stderr);
    const [pre, up] = await since(2);
    const path = join(user.home, 'up.bin');
    assert.deepEqual(pre?.args, ['pre-upload', user.username, path, '', '']);
    assert.deepEqual(actionEnv(pre), vars({ action: 'pre-upload', user, path, protocol: 'SFTP' }));
    assert.deepEqual(up?.args, ['upload', user.username, path, '', '']);
    assert.deepEqual(
      actionEnv(up),
      vars({ action: 'upload', user, path, size: 3000, protocol: 'SFTP' }),
    );

    // again over the existing file: its size and OpenSSH's open flags (WRITE|CREAT|TRUNC)
    const again = await sftpBatch(env.target, user.creds, [`put ${local} /up.bin`]);
    assert.equal(again.code, 0, again.stderr);
    const [pre2] = await since(2);
    assert.deepEqual(
      actionEnv(pre2),
      vars({ action: 'pre-upload', user, path, size: 3000, flags: 1 | 64 | 512, protocol: 'SFTP' }),
    );
  });

  void it('sftp put cut by the quota: upload with status 2 and the partial file gone', async () => {
    const local = join(env.dir, 'big.bin');
    await writeFile(local, randomBytes(256 * 1024));
    const r = await sftpBatch(env.target, user.creds, [`put ${local} /big.bin`]);
    assert.notEqual(r.code, 0);
    const [pre, up] = await since(2);
    const path = join(user.home, 'big.bin');
    assert.equal(pre?.args[0], 'pre-upload');
    assert.deepEqual(up?.args, ['upload', user.username, path, '', '']);
    assert.deepEqual(
      actionEnv(up),
      vars({ action: 'upload', user, path, status: 2, protocol: 'SFTP' }),
    );
    await assert.rejects(stat(path), { code: 'ENOENT' });
  });

  void it('sftp get, rename and rm: download, rename, and a pre-delete that takes the file over', async () => {
    await writeFile(join(user.home, 'g.txt'), 'get me');
    const before = (await env.getUser(user.username)).used_quota_size ?? 0;
    const r = await sftpBatch(env.target, user.creds, [
      `get /g.txt ${join(env.dir, 'g.txt')}`,
      'rename /g.txt /h.txt',
      'rm /h.txt',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const g = join(user.home, 'g.txt');
    const h = join(user.home, 'h.txt');
    const calls = await since(4);
    assert.deepEqual(
      calls.map((c) => c.args),
      [
        ['pre-download', user.username, g, '', ''],
        ['download', user.username, g, '', ''],
        ['rename', user.username, g, h, ''],
        ['pre-delete', user.username, h, '', ''],
      ],
    );
    assert.deepEqual(
      actionEnv(calls[1]),
      vars({ action: 'download', user, path: g, size: 6, protocol: 'SFTP' }),
    );
    assert.deepEqual(
      actionEnv(calls[2]),
      vars({ action: 'rename', user, path: g, target: h, protocol: 'SFTP' }),
    );
    assert.deepEqual(
      actionEnv(calls[3]),
      vars({ action: 'pre-delete', user, path: h, size: 6, protocol: 'SFTP' }),
    );
    // the hook took the deletion over: the file stays, the quota drops all the same
    assert.equal(await readFile(h, 'utf8'), 'get me');
    assert.equal((await env.getUser(user.username)).used_quota_size, before - 6);
    // and no delete action followed
    assert.equal((await scripts.calls(hook)).length, seen);
  });

  void it('scp -O: upload and download per file, O_TRUNC reported even for a new file, no ssh_cmd', async () => {
    const local = join(env.dir, 's.txt');
    await writeFile(local, 'scp data');
    const up = await scp(env.target, user.creds, [local, remote(user.creds, '/s.txt')], {
      legacy: true,
    });
    assert.equal(up.code, 0, up.stderr);
    const s = join(user.home, 's.txt');
    const [pre, done] = await since(2);
    assert.deepEqual(
      actionEnv(pre),
      vars({ action: 'pre-upload', user, path: s, flags: 512, protocol: 'SCP' }),
    );
    assert.deepEqual(
      actionEnv(done),
      vars({ action: 'upload', user, path: s, size: 8, protocol: 'SCP' }),
    );
    const down = await scp(
      env.target,
      user.creds,
      [remote(user.creds, '/s.txt'), join(env.dir, 's2.txt')],
      {
        legacy: true,
      },
    );
    assert.equal(down.code, 0, down.stderr);
    const calls = await since(2);
    assert.deepEqual(
      calls.map((c) => [c.args[0], c.env.SFTPGO_ACTION_PROTOCOL, c.env.SFTPGO_ACTION_FILE_SIZE]),
      [
        ['pre-download', 'SCP', '0'],
        ['download', 'SCP', '8'],
      ],
    );
    assert.ok(calls.every((c) => c.args[0] !== 'ssh_cmd'));
  });

  void it('ssh commands: ssh_cmd with the name, the path (source and target for sftpgo-copy), status 0 on failure', async () => {
    await writeFile(join(user.home, 'm.txt'), 'md5 me');
    const ok = await sshExec(env.target, user.creds, 'md5sum /m.txt');
    assert.equal(ok.code, 0, ok.stderr);
    const [md5] = await since(1);
    const m = join(user.home, 'm.txt');
    assert.deepEqual(md5?.args, ['ssh_cmd', user.username, m, '', 'md5sum']);
    assert.deepEqual(
      actionEnv(md5),
      vars({ action: 'ssh_cmd', user, path: m, cmd: 'md5sum', protocol: 'SSH' }),
    );

    const bad = await sshExec(env.target, user.creds, 'sha1sum /missing.txt');
    assert.notEqual(bad.code, 0);
    const [failed] = await since(1);
    assert.deepEqual(
      actionEnv(failed),
      vars({
        action: 'ssh_cmd',
        user,
        path: join(user.home, 'missing.txt'),
        cmd: 'sha1sum',
        status: 0,
        protocol: 'SSH',
      }),
    );

    const copy = await sshExec(env.target, user.creds, 'sftpgo-copy /m.txt /m2.txt');
    assert.equal(copy.code, 0, copy.stderr);
    // the copy is a download and an upload of the file, then the command itself
    const calls = await since(5);
    assert.deepEqual(
      calls.map((c) => c.args[0]),
      ['pre-download', 'pre-upload', 'download', 'upload', 'ssh_cmd'],
    );
    assert.deepEqual(calls[4]?.args, [
      'ssh_cmd',
      user.username,
      m,
      join(user.home, 'm2.txt'),
      'sftpgo-copy',
    ]);
  });
});

void describe('custom actions over SSH: a program hook that refuses everything', () => {
  const scripts = new ScriptHooks();
  let env: SftpTestEnv;
  let hook: string;
  let user: TestUser;

  before(async () => {
    await scripts.init();
    hook = await scripts.script('refuse', { exitCode: 1 });
    env = await startSftpTestServer({
      config: {
        common: {
          actions: {
            execute_on: ['pre-upload', 'pre-download', 'pre-delete'],
            execute_sync: [],
            hook,
          },
        },
      },
    });
    user = await env.createUser();
  });
  after(async () => {
    await env.stop();
    await scripts.cleanup();
  });

  void it('pre-upload and pre-download refusals give sftp "Permission denied"; nothing written or sent', async () => {
    const local = join(env.dir, 'x.txt');
    await writeFile(local, 'x');
    const put = await sftpBatch(env.target, user.creds, [`put ${local} /x.txt`]);
    assert.notEqual(put.code, 0);
    assert.match(put.stderr, /Permission denied/);
    await assert.rejects(stat(join(user.home, 'x.txt')), { code: 'ENOENT' });

    await writeFile(join(user.home, 'y.txt'), 'secret');
    const got = join(env.dir, 'y.txt');
    const get = await sftpBatch(env.target, user.creds, [`get /y.txt ${got}`]);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /Permission denied/);
    await assert.rejects(readFile(got, 'utf8'), { code: 'ENOENT' });
    assert.deepEqual(
      (await scripts.calls(hook)).map((c) => c.args[0]),
      ['pre-upload', 'pre-download'],
    );
  });

  void it('a failed pre-delete: the server deletes the file itself', async () => {
    await writeFile(join(user.home, 'z.txt'), 'z');
    const r = await sftpBatch(env.target, user.creds, ['rm /z.txt']);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(stat(join(user.home, 'z.txt')), { code: 'ENOENT' });
  });
});

void describe('custom actions over SSH: an HTTP hook', () => {
  const receiver = new HookReceiver();
  const scripts = new ScriptHooks();
  let env: SftpTestEnv;
  let hanging: SftpTestEnv;
  let user: TestUser;

  before(async () => {
    await receiver.start();
    await scripts.init();
    env = await startSftpTestServer({
      config: {
        common: {
          actions: {
            execute_on: ['pre-download', 'upload'],
            execute_sync: ['upload'],
            hook: `${receiver.url}/hook`,
          },
        },
        // no per-attempt limit: a held request stays held until the test releases it
        http: { timeout: 0, retry_max: 0 },
      },
    });
    user = await env.createUser();
    // a program that never answers, killed after 1 s instead of upstream's 30
    const sleeper = await scripts.script('sleeper', { sleepSeconds: 20 });
    hanging = await startSftpTestServer({
      config: {
        common: { actions: { execute_on: ['pre-upload'], execute_sync: [], hook: sleeper } },
      },
      hookTimeouts: { actions: 1000 },
    });
  });
  after(async () => {
    await env.stop();
    await hanging.stop();
    await receiver.stop();
    await scripts.cleanup();
  });

  void it('execute_sync: the reply to CLOSE waits for the upload hook', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const events: string[] = [];
    receiver.respond = async (r) => {
      const n = JSON.parse(r.body) as {
        action: string;
        file_size?: number;
        status: number;
        path: string;
      };
      if (n.action !== 'upload') return { status: 200 };
      events.push(`hook received: ${n.action} ${n.file_size ?? 0} ${n.status}`);
      await held;
      events.push('hook answered');
      return { status: 200 };
    };
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    try {
      const h = await s.call<Buffer>('open', '/sync.txt', 'w');
      await s.call('write', h, Buffer.from('12345'), 0, 5, 0);
      const closed = s.call('close', h).then(() => events.push('CLOSE answered'));
      await receiver.waitFor(1, (r) => r.body.includes('"upload"'));
      events.push('released');
      release();
      await closed;
    } finally {
      await s.end();
    }
    assert.deepEqual(events, [
      'hook received: upload 5 1',
      'released',
      'hook answered',
      'CLOSE answered',
    ]);
    const body = receiver.requests.find((r) => r.body.includes('"upload"'));
    assert.equal(body?.url, '/hook');
    assert.equal(
      body?.body,
      `${JSON.stringify({ action: 'upload', username: user.username, path: join(user.home, 'sync.txt'), file_size: 5, fs_provider: 0, status: 1, protocol: 'SFTP' })}\n`,
    );
  });

  void it('a pre-download hook that does not answer holds only its own request, not other connections', async () => {
    await writeFile(join(user.home, 'slow.txt'), 'slow');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    receiver.respond = async (r) => {
      if (r.body.includes('"pre-download"')) await held;
      return { status: 200 };
    };
    const a = await ssh2Connect(env.port, user.username, { password: user.password });
    const b = await ssh2Connect(env.port, user.username, { password: user.password });
    const events: string[] = [];
    try {
      const opened = a.call<Buffer>('open', '/slow.txt', 'r').then((h) => {
        events.push('A opened');
        return h;
      });
      await receiver.waitFor(1, (r) => r.body.includes('"pre-download"'));
      // the same session's other requests and another connection go on meanwhile
      await a.call('stat', '/slow.txt');
      events.push('A stat');
      await b.call('readdir', '/');
      events.push('B listed');
      release();
      await a.call('close', await opened);
    } finally {
      await a.end();
      await b.end();
    }
    assert.deepEqual(events, ['A stat', 'B listed', 'A opened']);
  });

  void it('a pre-upload program that hangs is killed and the upload denied', async () => {
    const u = await hanging.createUser();
    const s = await ssh2Connect(hanging.port, u.username, { password: u.password });
    try {
      await expectStatus(s.call('open', '/hang.txt', 'w'), 3, 'open for writing');
    } finally {
      await s.end();
    }
    await assert.rejects(stat(join(u.home, 'hang.txt')), { code: 'ENOENT' });
  });
});
