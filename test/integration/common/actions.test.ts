/**
 * Custom actions at the core (src/common Connection + Transfer, the local backend, a real HTTP
 * receiver and real script hooks): which action fires for which operation, with which fields,
 * and what pre-* answers do to the operation. The protocols only pass their open flags; their
 * own suites check the wire.
 */
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ActionNotifier } from '../../../src/common/actions.js';
import type { Connection } from '../../../src/common/index.js';
import { PROTOCOL_ACTIONS } from '../../../src/config/index.js';
import { httpClientSchema } from '../../../src/config/schema.js';
import { HookHttpClient } from '../../../src/util/hooks/http-client.js';
import { HookReceiver, ScriptHooks, type ReceivedRequest } from '../../helpers/hooks.js';
import { code, exists, makeEnv, type Env } from './helpers.js';

const ALL = [...PROTOCOL_ACTIONS];

const receiver = new HookReceiver();
const scripts = new ScriptHooks();
let http: HookHttpClient;
let env: Env;

before(async () => {
  await receiver.start();
  await scripts.init();
  http = new HookHttpClient(httpClientSchema.parse({ retry_max: 0, timeout: 10 }), scripts.dir);
});
after(async () => {
  http.close();
  await receiver.stop();
  await scripts.cleanup();
});
beforeEach(async () => {
  env = await makeEnv();
  receiver.requests.length = 0;
  // a pre-* hook refuses the names containing "deny-<operation>" ("deny-upload" for pre-upload)
  receiver.respond = (r) => {
    const n = JSON.parse(r.body) as { action: string; path: string };
    const denied =
      n.action.startsWith('pre-') && path.basename(n.path).includes(`deny-${n.action.slice(4)}`);
    return { status: denied ? 403 : 200 };
  };
});
afterEach(async () => {
  await env.cleanup();
});

/** every action, synchronous: a notification has arrived when the operation returns */
function notifier(o: { hook?: string; on?: string[]; sync?: string[] } = {}): ActionNotifier {
  return new ActionNotifier(
    { execute_on: o.on ?? ALL, execute_sync: o.sync ?? ALL, hook: o.hook ?? receiver.url },
    { http, programTimeoutMs: 5000 },
  );
}

async function connect(
  actions: ActionNotifier,
  extra: Record<string, unknown> = {},
): Promise<Connection> {
  return env.connect(env.user({ quota_size: 1000, ...extra }), {
    config: { actions, track_quota: 1 },
  });
}

function bodies(rs: readonly ReceivedRequest[] = receiver.requests): Record<string, unknown>[] {
  return rs.map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

async function upload(
  c: Connection,
  p: string,
  data: string,
  o: Parameters<Connection['openUpload']>[1] = { mode: 'truncate' },
): Promise<void> {
  const t = await c.openUpload(p, o);
  await t.write(
    o.mode === 'append' ? (await fsp.stat(env.p('home', p)).catch(() => ({ size: 0 }))).size : 0,
    Buffer.from(data),
  );
  await t.close();
}

void describe('custom actions in the core', () => {
  void it('an upload: pre-upload (new file: size 0, flags 0) then upload (size, status 1)', async () => {
    const c = await connect(notifier());
    await upload(c, '/a.txt', 'hello');
    assert.deepEqual(bodies(), [
      {
        action: 'pre-upload',
        username: 'alice',
        path: env.p('home', 'a.txt'),
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
      {
        action: 'upload',
        username: 'alice',
        path: env.p('home', 'a.txt'),
        file_size: 5,
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
    ]);
  });

  void it('an overwrite: pre-upload reports the current size and the open flags the protocol passed', async () => {
    const c = await connect(notifier());
    await upload(c, '/b.txt', 'old content');
    receiver.requests.length = 0;
    await upload(c, '/b.txt', 'new', { mode: 'truncate', openFlags: { existing: 577 } });
    const [pre, up] = bodies();
    assert.deepEqual(pre, {
      action: 'pre-upload',
      username: 'alice',
      path: env.p('home', 'b.txt'),
      file_size: 11,
      fs_provider: 0,
      status: 1,
      protocol: 'SFTP',
      open_flags: 577,
    });
    assert.equal(up?.file_size, 3);
    // no flags given: O_TRUNC, as upstream's WebDAV and HTTP
    receiver.requests.length = 0;
    await upload(c, '/b.txt', 'x');
    assert.equal(bodies()[0]?.open_flags, 512);
  });

  void it('a pre-upload refusal denies the upload before anything is written', async () => {
    const c = await connect(notifier());
    await assert.rejects(upload(c, '/deny-upload.txt', 'data'), code('PERMISSION_DENIED'));
    assert.ok(!(await exists(env.p('home', 'deny-upload.txt'))));
    await fsp.mkdir(env.home, { recursive: true });
    await fsp.writeFile(env.p('home', 'old-deny-upload.txt'), 'keep');
    await assert.rejects(upload(c, '/old-deny-upload.txt', 'data'), code('PERMISSION_DENIED'));
    assert.equal(await fsp.readFile(env.p('home', 'old-deny-upload.txt'), 'utf8'), 'keep');
    // the upload action never fired: only the two pre-upload requests
    assert.deepEqual(
      bodies().map((b) => b.action),
      ['pre-upload', 'pre-upload'],
    );
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
  });

  void it('pre-upload runs after the permission and quota checks', async () => {
    const c = await connect(notifier(), { permissions: { '/': ['list', 'download'] } });
    await assert.rejects(upload(c, '/a.txt', 'x'), code('PERMISSION_DENIED'));
    const q = await connect(notifier(), { quota_files: 1 });
    env.quota.users.set('alice', { usedQuotaSize: 0, usedQuotaFiles: 1 });
    await assert.rejects(upload(q, '/b.txt', 'x'), code('QUOTA_EXCEEDED'));
    assert.deepEqual(receiver.requests, []);
  });

  void it('an upload cut by the quota: status 2, and the partial file removed (size 0)', async () => {
    const c = await connect(notifier());
    const t = await c.openUpload('/big.bin', { mode: 'truncate' });
    await t.write(0, Buffer.alloc(600));
    await assert.rejects(t.write(600, Buffer.alloc(600)), code('QUOTA_EXCEEDED'));
    await t.close().catch(() => undefined);
    const up = bodies().find((b) => b.action === 'upload');
    assert.deepEqual(up, {
      action: 'upload',
      username: 'alice',
      path: env.p('home', 'big.bin'),
      fs_provider: 0,
      status: 2,
      protocol: 'SFTP',
    });
  });

  void it('a failed upload: status 0; an aborted atomic overwrite reports the old file left in place', async () => {
    const c = await env.connect(env.user(), { config: { actions: notifier(), upload_mode: 1 } });
    await upload(c, '/c.txt', 'previous');
    receiver.requests.length = 0;
    const t = await c.openUpload('/c.txt', { mode: 'truncate' });
    await t.write(0, Buffer.from('partial data'));
    await t.abort(new Error('client gone'));
    const up = bodies().find((b) => b.action === 'upload');
    assert.equal(up?.status, 0);
    assert.equal(up?.file_size, 8);
    assert.equal(await fsp.readFile(env.p('home', 'c.txt'), 'utf8'), 'previous');
  });

  void it('a download: pre-download (size 0) then download with the bytes sent; a refusal denies it', async () => {
    const c = await connect(notifier());
    await fsp.mkdir(env.home, { recursive: true });
    await fsp.writeFile(env.p('home', 'd.txt'), '0123456789');
    const t = await c.openDownload('/d.txt');
    assert.equal((await t.read(0, 4))?.toString(), '0123');
    await t.close();
    assert.deepEqual(bodies(), [
      {
        action: 'pre-download',
        username: 'alice',
        path: env.p('home', 'd.txt'),
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
      {
        action: 'download',
        username: 'alice',
        path: env.p('home', 'd.txt'),
        file_size: 4,
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
    ]);
    await fsp.writeFile(env.p('home', 'deny-download.txt'), 'secret');
    receiver.requests.length = 0;
    await assert.rejects(c.openDownload('/deny-download.txt'), code('PERMISSION_DENIED'));
    assert.deepEqual(
      bodies().map((b) => b.action),
      ['pre-download'],
    );
    // a read the server makes for itself fires nothing
    receiver.requests.length = 0;
    await (await c.openDownload('/deny-download.txt', { actions: false })).close();
    assert.deepEqual(receiver.requests, []);
  });

  void it('pre-delete succeeds: the file is left to the hook, the quota still drops, no delete action', async () => {
    const c = await connect(notifier());
    await upload(c, '/e.txt', 'abcde');
    assert.deepEqual(env.quota.user(), { size: 5, files: 1 });
    receiver.requests.length = 0;
    await c.remove('/e.txt');
    assert.ok(await exists(env.p('home', 'e.txt')), 'the hook owns the file now');
    assert.deepEqual(env.quota.user(), { size: 0, files: 0 });
    assert.deepEqual(bodies(), [
      {
        action: 'pre-delete',
        username: 'alice',
        path: env.p('home', 'e.txt'),
        file_size: 5,
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
    ]);
  });

  void it('pre-delete fails (or is not configured): the file is deleted and the delete action fires', async () => {
    const c = await connect(notifier());
    await upload(c, '/deny-delete.txt', 'abc');
    receiver.requests.length = 0;
    await c.remove('/deny-delete.txt');
    assert.ok(!(await exists(env.p('home', 'deny-delete.txt'))));
    assert.deepEqual(
      bodies().map((b) => [b.action, b.file_size]),
      [
        ['pre-delete', 3],
        ['delete', 3],
      ],
    );
    const d = await connect(notifier({ on: ['delete'] }));
    await fsp.writeFile(env.p('home', 'g.txt'), 'gg');
    receiver.requests.length = 0;
    await d.remove('/g.txt');
    assert.ok(!(await exists(env.p('home', 'g.txt'))));
    assert.deepEqual(
      bodies().map((b) => b.action),
      ['delete'],
    );
  });

  void it('a rename: source and target filesystem paths, in a virtual folder too', async () => {
    const mapped = env.p('vf');
    const c = await env.connect(
      env.user({
        virtual_folders: [
          {
            name: 'vf',
            mapped_path: mapped,
            virtual_path: '/vdir',
            quota_size: -1,
            quota_files: -1,
          },
        ],
      }),
      { config: { actions: notifier() } },
    );
    await fsp.writeFile(env.p('home', 'r.txt'), 'r');
    await c.rename('/r.txt', '/r2.txt');
    await fsp.writeFile(path.join(mapped, 'v.txt'), 'v');
    await c.rename('/vdir/v.txt', '/vdir/v2.txt');
    assert.deepEqual(bodies(), [
      {
        action: 'rename',
        username: 'alice',
        path: env.p('home', 'r.txt'),
        target_path: env.p('home', 'r2.txt'),
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
      {
        action: 'rename',
        username: 'alice',
        path: path.join(mapped, 'v.txt'),
        target_path: path.join(mapped, 'v2.txt'),
        fs_provider: 0,
        status: 1,
        protocol: 'SFTP',
      },
    ]);
    // a move across virtual folders is one rename for the client: no copy or delete actions
    receiver.requests.length = 0;
    await c.rename('/vdir/v2.txt', '/moved.txt');
    assert.deepEqual(
      bodies().map((b) => [b.action, b.path, b.target_path]),
      [['rename', path.join(mapped, 'v2.txt'), env.p('home', 'moved.txt')]],
    );
  });

  void it('a tree removal goes through pre-delete / delete file by file; a server copy through the transfer actions', async () => {
    const c = await connect(notifier());
    await fsp.mkdir(env.p('home', 'dir', 'sub'), { recursive: true });
    await fsp.writeFile(env.p('home', 'dir', 'deny-delete-1'), '1');
    await fsp.writeFile(env.p('home', 'dir', 'sub', 'deny-delete-2'), '22');
    await c.copy('/dir', '/copy', { overwrite: false });
    assert.deepEqual(
      bodies()
        .map((b) => b.action)
        .sort(),
      [
        'download',
        'download',
        'pre-download',
        'pre-download',
        'pre-upload',
        'pre-upload',
        'upload',
        'upload',
      ],
      'two files copied',
    );
    receiver.requests.length = 0;
    await c.removeTree('/dir');
    assert.deepEqual(
      bodies()
        .map((b) => `${b.action} ${path.basename(String(b.path))}`)
        .sort(),
      [
        'delete deny-delete-1',
        'delete deny-delete-2',
        'pre-delete deny-delete-1',
        'pre-delete deny-delete-2',
      ],
    );
    assert.ok(!(await exists(env.p('home', 'dir'))));
  });

  void it('ssh_cmd: the command name, the path argument and the failure, always as SSH', async () => {
    const c = await env.connect(env.user(), { config: { actions: notifier() }, protocol: 'SSH' });
    await c.sshCommandEnded('sftpgo-copy', '/src', '/dst', undefined);
    await c.sshCommandEnded('md5sum', '', '', new Error('boom'));
    assert.deepEqual(bodies(), [
      {
        action: 'ssh_cmd',
        username: 'alice',
        path: env.p('home', 'src'),
        target_path: env.p('home', 'dst'),
        ssh_cmd: 'sftpgo-copy',
        fs_provider: 0,
        status: 1,
        protocol: 'SSH',
      },
      {
        action: 'ssh_cmd',
        username: 'alice',
        path: '',
        ssh_cmd: 'md5sum',
        fs_provider: 0,
        status: 0,
        protocol: 'SSH',
      },
    ]);
  });

  void it('pre-* listed without a hook denies every such operation (fail closed)', async () => {
    const c = await connect(
      notifier({ hook: '', on: ['pre-upload', 'pre-download', 'pre-delete'] }),
    );
    await assert.rejects(upload(c, '/a.txt', 'x'), code('PERMISSION_DENIED'));
    await fsp.mkdir(env.home, { recursive: true });
    await fsp.writeFile(env.p('home', 'b.txt'), 'b');
    await assert.rejects(c.openDownload('/b.txt'), code('PERMISSION_DENIED'));
    // pre-delete falls back to the normal deletion
    await c.remove('/b.txt');
    assert.ok(!(await exists(env.p('home', 'b.txt'))));
  });

  void it('a program hook: the five arguments and the twelve variables; a crash or a hang denies pre-*', async () => {
    const ok = await scripts.script('ok');
    const c = await connect(notifier({ hook: ok }));
    await upload(c, '/p.txt', 'prog');
    const calls = await scripts.calls(ok);
    assert.deepEqual(
      calls.map((k) => k.args),
      [
        ['pre-upload', 'alice', env.p('home', 'p.txt'), '', ''],
        ['upload', 'alice', env.p('home', 'p.txt'), '', ''],
      ],
    );
    const vars = Object.fromEntries(
      Object.entries(calls[1]?.env ?? {}).filter(([k]) => k.startsWith('SFTPGO_ACTION')),
    );
    assert.deepEqual(vars, {
      SFTPGO_ACTION: 'upload',
      SFTPGO_ACTION_USERNAME: 'alice',
      SFTPGO_ACTION_PATH: env.p('home', 'p.txt'),
      SFTPGO_ACTION_TARGET: '',
      SFTPGO_ACTION_SSH_CMD: '',
      SFTPGO_ACTION_FILE_SIZE: '4',
      SFTPGO_ACTION_FS_PROVIDER: '0',
      SFTPGO_ACTION_BUCKET: '',
      SFTPGO_ACTION_ENDPOINT: '',
      SFTPGO_ACTION_STATUS: '1',
      SFTPGO_ACTION_PROTOCOL: 'SFTP',
      SFTPGO_ACTION_OPEN_FLAGS: '0',
    });
    const crash = await scripts.script('crash', { exitCode: 1 });
    const c2 = await connect(notifier({ hook: crash }));
    await assert.rejects(c2.openDownload('/p.txt'), code('PERMISSION_DENIED'));
    const hang = await scripts.script('hang', { sleepSeconds: 30 });
    const c3 = await env.connect(env.user(), {
      config: {
        actions: new ActionNotifier(
          { execute_on: ['pre-upload'], execute_sync: [], hook: hang },
          { programTimeoutMs: 200 },
        ),
      },
    });
    await assert.rejects(upload(c3, '/q.txt', 'q'), code('PERMISSION_DENIED'));
    assert.ok(!(await exists(env.p('home', 'q.txt'))));
  });
});
