import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { roff, manPages } from '../gen/man.js';
import { registerClientCommands } from '../index.js';
import { execute, harness } from '../testing.js';
import { completeCommand } from './complete.js';
import { completionCommand } from './completion.js';
import { allCommands, commandSpec } from './spec.js';

function program(): { root: Command; h: ReturnType<typeof harness> } {
  const h = harness({
    routes: { 'GET /users': () => ({ body: [{ username: 'alice' }, { username: 'bob' }] }) },
  });
  const root = new Command('sftpgo').description('test root');
  registerClientCommands(root, h.f);
  return { root, h };
}

void describe('command tree spec', () => {
  void it('describes every client command, hides __complete, and marks live-name arguments', () => {
    const spec = commandSpec(program().root);
    const paths = allCommands(spec).map((c) => c.path.join(' '));
    for (const p of [
      'users list',
      'users add',
      'folders update',
      'admins passwd',
      'quota scan',
      'dump',
      'load',
      'defender unban',
      'connections close',
      'top',
      'login',
      'logout',
      'completion',
      'gen man',
    ]) {
      assert.ok(paths.includes(p), p);
    }
    assert.ok(!paths.some((p) => p.includes('__complete')));
    const get = allCommands(spec).find((c) => c.path.join(' ') === 'users get');
    assert.deepEqual(get?.args[0]?.values, { type: 'dynamic', kind: 'users' });
    const close = allCommands(spec).find((c) => c.path.join(' ') === 'connections close');
    assert.deepEqual(close?.args[0]?.values, { type: 'dynamic', kind: 'connections' });
    const add = allCommands(spec).find((c) => c.path.join(' ') === 'users add');
    assert.deepEqual(add?.options.find((o) => o.long === '--fs-provider')?.values, {
      type: 'words',
      words: ['local', 's3', 'gcs', 'azblob', 'crypt', 'sftp'],
    });
    assert.deepEqual(add?.options.find((o) => o.long === '--from-file')?.values, { type: 'file' });
    for (const long of ['--url', '--username', '--password-file', '--json', '--quiet', '--yes']) {
      assert.ok(
        add?.options.some((o) => o.long === long),
        long,
      );
    }
  });

  void it('completion prints a script per shell; an unknown shell is a usage error', async () => {
    const { root, h } = program();
    const cmd = root.commands.find((c) => c.name() === 'completion');
    assert.ok(cmd);
    assert.equal(await execute(cmd, ['bash']), 0);
    assert.match(h.io.out(), /complete -F _sftpgo sftpgo/);
    assert.equal(await execute(completionCommand(h.f), ['tcsh']), 2);
  });

  void it('__complete prints live names, and nothing at all on failure', async () => {
    const { h } = program();
    assert.equal(await execute(completeCommand(h.f), ['users']), 0);
    assert.equal(h.io.out(), 'alice\nbob\n');
    const down = harness({ env: { SFTPGO_ADMIN_PASSWORD: 'wrong' } });
    assert.equal(await execute(completeCommand(down.f), ['folders']), 0);
    assert.equal(down.io.out() + down.io.err(), '');
  });
});

void describe('man pages', () => {
  void it('escapes roff and emits one page per top-level command', () => {
    assert.equal(roff('.leading-dot \\ back'), '\\&.leading\\-dot \\e back');
    const pages = manPages(commandSpec(program().root), { version: '2.1.2', date: '2026-11-27' });
    const files = pages.map((p) => p.file);
    assert.ok(
      files.includes('sftpgo.1') &&
        files.includes('sftpgo-users.1') &&
        files.includes('sftpgo-quota.1'),
    );
    const users = pages.find((p) => p.file === 'sftpgo-users.1')?.content ?? '';
    assert.match(users, /^\.TH "SFTPGO-USERS" "1" "2026-11-27" "SFTPGo 2\.1\.2" "SFTPGo Manual"$/m);
    assert.match(users, /^\\fB\\-\\-home\\-dir\\fR \\fIdir\\fR$/m);
    assert.match(users, /^\.SH EXIT STATUS$/m);
  });
});
