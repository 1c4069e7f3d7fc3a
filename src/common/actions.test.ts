/**
 * The custom-action notifier alone: the JSON body, arguments and environment exactly as
 * upstream 2.1.2 sends them, and the notifier's rules (pre-* awaited and failing on any hook
 * error, execute_sync, a listed action without a hook), against a real shell-script hook and a
 * real local HTTP receiver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HookReceiver, ScriptHooks } from '../../test/helpers/hooks.js';
import { httpClientSchema } from '../config/schema.js';
import { HookHttpClient } from '../util/hooks/http-client.js';
import {
  ActionNotifier,
  createActionNotifier,
  notificationArgs,
  notificationEnv,
  notificationJson,
  type ActionNotification,
} from './actions.js';
import type { Logger } from './types.js';

const BASE: ActionNotification = {
  action: 'upload',
  username: 'alice',
  path: '/srv/alice/a.txt',
  target_path: '',
  ssh_cmd: '',
  file_size: 0,
  fs_provider: 0,
  bucket: '',
  endpoint: '',
  status: 1,
  protocol: 'SFTP',
  open_flags: 0,
};

/** a logger that keeps the lines */
function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const rec =
    (level: string) =>
    (_o: object, msg?: string): void => {
      lines.push({ level, msg: msg ?? '' });
    };
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

void describe('the notification as upstream encodes it', () => {
  void it('JSON: keys in upstream order, empty optional keys omitted, a trailing newline', () => {
    assert.equal(
      notificationJson(BASE),
      '{"action":"upload","username":"alice","path":"/srv/alice/a.txt","fs_provider":0,"status":1,"protocol":"SFTP"}\n',
    );
    const full: ActionNotification = {
      ...BASE,
      action: 'ssh_cmd',
      target_path: 'dst/b',
      ssh_cmd: 'sftpgo-copy',
      file_size: 42,
      fs_provider: 1,
      bucket: 'bk',
      endpoint: 'http://s3',
      status: 2,
      protocol: 'SSH',
      open_flags: 577,
    };
    assert.deepEqual(Object.keys(JSON.parse(notificationJson(full)) as object), [
      'action',
      'username',
      'path',
      'target_path',
      'ssh_cmd',
      'file_size',
      'fs_provider',
      'bucket',
      'endpoint',
      'status',
      'protocol',
      'open_flags',
    ]);
  });

  void it("JSON: Go's HTML-safe escapes, also after an escaped backslash", () => {
    const body = notificationJson({ ...BASE, path: 'a<b>&c\u2028\\b\b\f"' });
    assert.ok(
      body.includes('"path":"a\\u003cb\\u003e\\u0026c\\u2028\\\\b\\u0008\\u000c\\""'),
      body,
    );
    assert.equal((JSON.parse(body) as { path: string }).path, 'a<b>&c\u2028\\b\b\f"');
  });

  void it('program: five arguments (empty ones kept) and all twelve variables', () => {
    assert.deepEqual(notificationArgs(BASE), ['upload', 'alice', '/srv/alice/a.txt', '', '']);
    assert.deepEqual(notificationEnv({ ...BASE, file_size: 7, open_flags: 512 }), {
      SFTPGO_ACTION: 'upload',
      SFTPGO_ACTION_USERNAME: 'alice',
      SFTPGO_ACTION_PATH: '/srv/alice/a.txt',
      SFTPGO_ACTION_TARGET: '',
      SFTPGO_ACTION_SSH_CMD: '',
      SFTPGO_ACTION_FILE_SIZE: '7',
      SFTPGO_ACTION_FS_PROVIDER: '0',
      SFTPGO_ACTION_BUCKET: '',
      SFTPGO_ACTION_ENDPOINT: '',
      SFTPGO_ACTION_STATUS: '1',
      SFTPGO_ACTION_PROTOCOL: 'SFTP',
      SFTPGO_ACTION_OPEN_FLAGS: '512',
    });
  });
});

void describe('ActionNotifier', () => {
  const scripts = new ScriptHooks();
  const receiver = new HookReceiver();
  let http: HookHttpClient;
  before(async () => {
    await scripts.init();
    await receiver.start();
    http = new HookHttpClient(httpClientSchema.parse({ retry_max: 0, timeout: 5 }), scripts.dir);
  });
  after(async () => {
    http.close();
    await receiver.stop();
    await scripts.cleanup();
  });

  void it('is not built when execute_on is empty', () => {
    assert.equal(createActionNotifier({ execute_on: [], execute_sync: [], hook: '/x' }), undefined);
    const n = createActionNotifier({ execute_on: ['upload'], execute_sync: [], hook: '/x' });
    assert.ok(n);
    assert.ok(n.has('upload'));
    assert.ok(!n.has('download'));
  });

  void it('a program gets the arguments and variables; a non-zero exit is a failure', async () => {
    const ok = await scripts.script('ok');
    const log = recordingLogger();
    const n = new ActionNotifier({ execute_on: ['pre-upload'], execute_sync: [], hook: ok });
    await n.run({ ...BASE, action: 'pre-upload', file_size: 3, open_flags: 577 }, log);
    const [call] = await scripts.calls(ok);
    assert.deepEqual(call?.args, ['pre-upload', 'alice', '/srv/alice/a.txt', '', '']);
    assert.equal(call?.env.SFTPGO_ACTION_FILE_SIZE, '3');
    assert.equal(call?.env.SFTPGO_ACTION_OPEN_FLAGS, '577');
    assert.equal(call?.env.SFTPGO_ACTION_TARGET, '');
    assert.ok(
      log.lines.some((l) =>
        l.msg.startsWith(
          `executed command ${JSON.stringify(ok)} with arguments: "pre-upload", "alice"`,
        ),
      ),
    );

    const failing = await scripts.script('fail', { exitCode: 3 });
    const n2 = new ActionNotifier({ execute_on: ['pre-upload'], execute_sync: [], hook: failing });
    await assert.rejects(n2.run({ ...BASE, action: 'pre-upload' }, log), /exit status 3/);
  });

  void it('a program that hangs is killed after the limit and fails', async () => {
    const slow = await scripts.script('slow', { sleepSeconds: 30 });
    const n = new ActionNotifier(
      { execute_on: ['pre-download'], execute_sync: [], hook: slow },
      { programTimeoutMs: 300 },
    );
    await assert.rejects(
      n.run({ ...BASE, action: 'pre-download' }, recordingLogger()),
      /timed out/,
    );
  });

  void it('HTTP: a POST of the JSON body; only 200 is a success', async () => {
    const log = recordingLogger();
    const n = new ActionNotifier(
      { execute_on: ['pre-delete'], execute_sync: [], hook: `${receiver.url}/act` },
      { http },
    );
    receiver.respond = () => ({ status: 200 });
    await n.run({ ...BASE, action: 'pre-delete', file_size: 9 }, log);
    const r = receiver.requests.at(-1);
    assert.equal(r?.method, 'POST');
    assert.equal(r?.url, '/act');
    assert.equal(r?.headers['content-type'], 'application/json');
    assert.equal(r?.body, notificationJson({ ...BASE, action: 'pre-delete', file_size: 9 }));
    assert.ok(
      log.lines.some((l) =>
        /^notified operation "pre-delete" to URL: .* status code: 200/.test(l.msg),
      ),
    );
    for (const status of [201, 204, 403]) {
      receiver.respond = () => ({ status });
      await assert.rejects(
        n.run({ ...BASE, action: 'pre-delete' }, log),
        new RegExp(String(status)),
      );
    }
  });

  void it('a listed action without a hook fails, with upstream warning', async () => {
    const log = recordingLogger();
    const n = new ActionNotifier({ execute_on: ['pre-upload'], execute_sync: [], hook: '' });
    await assert.rejects(n.run({ ...BASE, action: 'pre-upload' }, log), /no hook/);
    assert.ok(
      log.lines.some(
        (l) => l.level === 'warn' && l.msg === 'Unable to send notification, no hook is defined',
      ),
    );
  });

  void it('a relative program path fails with upstream warning', async () => {
    const log = recordingLogger();
    const n = new ActionNotifier({
      execute_on: ['upload'],
      execute_sync: ['upload'],
      hook: 'bin/x',
    });
    await n.notify(BASE, log);
    assert.ok(
      log.lines.some(
        (l) =>
          l.level === 'warn' &&
          l.msg === 'unable to execute notification command: invalid notification command "bin/x"',
      ),
    );
  });

  void it('notify: awaited only when in execute_sync, never rejects', async () => {
    receiver.respond = () => ({ status: 500 });
    const before = receiver.requests.length;
    const sync = new ActionNotifier(
      { execute_on: ['upload'], execute_sync: ['upload'], hook: receiver.url },
      { http },
    );
    await sync.notify(BASE, recordingLogger());
    assert.equal(
      receiver.requests.length,
      before + 1,
      'the sync notification was sent before notify() resolved',
    );

    // async: notify() resolves while the receiver still holds the request
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    receiver.respond = async () => {
      await held;
      return { status: 200 };
    };
    const async = new ActionNotifier(
      { execute_on: ['upload'], execute_sync: [], hook: receiver.url },
      { http },
    );
    await async.notify(BASE, recordingLogger());
    await receiver.waitFor(before + 2);
    release();
    // not in execute_on: nothing sent
    await async.notify({ ...BASE, action: 'download' }, recordingLogger());
    assert.equal(receiver.requests.length, before + 2);
  });
});
