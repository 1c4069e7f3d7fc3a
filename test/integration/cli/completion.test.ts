import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../../helpers/server.js';
import { requireTool, run } from '../../helpers/ssh.js';
import { ENTRY, ROOT, runCli } from './helpers.js';

const BASH = join(ROOT, 'completions/sftpgo.bash');

/**
 * Sources the committed bash completion and completes `words` (the last one is being typed).
 * Asynchronous on purpose: the server runs in this process and must keep answering.
 */
async function complete(words: string[], env: Record<string, string> = {}): Promise<string[]> {
  const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `source ${BASH}; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _sftpgo; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((s) => s !== '');
}

void describe('shell completion and man pages', () => {
  let server: TestServer;
  let bin: string;
  before(async () => {
    requireTool('bash', 'bash');
    requireTool('zsh', 'zsh');
    requireTool('fish', 'fish');
    requireTool('man', 'man-db');
    server = await startServer();
    for (const u of ['alice', 'albert', 'bob']) {
      const r = await server.api('POST', '/users', { username: u, password: 'pw-123456', home_dir: `/tmp/${u}`, permissions: { '/': ['*'] }, status: 1 });
      assert.equal(r.status, 201, r.text);
    }
    // `sftpgo` on PATH for the completion function, run from source
    bin = await mkdtemp(join(tmpdir(), 'sftpgo-bin-'));
    const wrapper = join(bin, 'sftpgo');
    // tsx by absolute URL: the shell may run the wrapper from any directory
    await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" --import "${import.meta.resolve('tsx')}" "${ENTRY}" "$@"\n`);
    await chmod(wrapper, 0o755);
  });
  after(() => server.stop());

  void it('bash: subcommands, verbs, flags and flag values from the command tree', async () => {
    assert.deepEqual(await complete(['sftpgo', 'us']), ['users']);
    assert.deepEqual(await complete(['sftpgo', 'users', '']), ['list', 'get', 'add', 'update', 'delete', 'disable', 'enable']);
    assert.deepEqual(await complete(['sftpgo', 'users', 'add', '--fs-provider', '']), ['local', 's3', 'gcs', 'azblob', 'crypt', 'sftp']);
    assert.deepEqual(await complete(['sftpgo', 'users', 'list', '--or']), ['--order']);
    assert.deepEqual(await complete(['sftpgo', 'users', 'list', '--order', '']), ['ASC', 'DESC']);
    assert.deepEqual(await complete(['sftpgo', 'quota', 'scan', '']), ['user', 'folder']);
    assert.deepEqual(await complete(['sftpgo', 'completion', '']), ['bash', 'zsh', 'fish']);
    assert.ok((await complete(['sftpgo', 'users', 'add', '--s3-'])).includes('--s3-bucket'));
    assert.ok((await complete(['sftpgo', 'serve', '--'])).includes('--config-dir'));
    // aliases resolve to the verb
    assert.ok((await complete(['sftpgo', 'users', 'ls', '--'])).includes('--limit'));
  });

  void it('bash: live user names through `sftpgo __complete`, and silence when the server is down', async () => {
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: bin, SFTPGO_URL: server.httpUrl, SFTPGO_ADMIN_PASSWORD: server.admin.password, SFTPGO_COMPLETION_TIMEOUT: '20' };
    assert.deepEqual(await complete(['sftpgo', 'users', 'get', 'al'], env), ['albert', 'alice']);
    assert.deepEqual(await complete(['sftpgo', 'quota', 'scan', 'user', 'b'], env), ['bob']);
    assert.deepEqual(await complete(['sftpgo', 'users', 'delete', ''], { ...env, SFTPGO_URL: 'http://127.0.0.1:9' }), []);
  });

  void it('__complete prints names, and nothing with bad credentials', async () => {
    const ok = await runCli(['__complete', 'users'], { env: { HOME: bin, SFTPGO_URL: server.httpUrl, SFTPGO_ADMIN_PASSWORD: server.admin.password } });
    assert.deepEqual([ok.code, ok.stdout], [0, 'albert\nalice\nbob\n']);
    const bad = await runCli(['__complete', 'users'], { env: { HOME: bin, SFTPGO_URL: server.httpUrl, SFTPGO_ADMIN_PASSWORD: 'wrong' } });
    assert.deepEqual([bad.code, bad.stdout, bad.stderr], [0, '', '']);
  });

  void it('zsh and fish scripts parse', () => {
    const z = spawnSync('zsh', ['-n', join(ROOT, 'completions/_sftpgo')], { encoding: 'utf8' });
    assert.equal(z.status, 0, z.stderr);
    const f = spawnSync('fish', ['-n', join(ROOT, 'completions/sftpgo.fish')], { encoding: 'utf8' });
    assert.equal(f.status, 0, f.stderr);
    // fish really loads it and completes a verb list
    const fc = spawnSync('fish', ['-c', `source ${join(ROOT, 'completions/sftpgo.fish')}; complete -C 'sftpgo folders '`], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: bin } });
    assert.equal(fc.status, 0, fc.stderr);
    assert.deepEqual(fc.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]).sort(), ['add', 'delete', 'get', 'list', 'update']);
  });

  void it('`sftpgo completion bash` prints the committed script', async () => {
    const r = await runCli(['completion', 'bash'], { env: { HOME: bin } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, await readFile(BASH, 'utf8'));
  });

  void it('man pages render with man -l', () => {
    for (const page of ['sftpgo.1', 'sftpgo-users.1', 'sftpgo-quota.1']) {
      const r = spawnSync('man', ['-l', join(ROOT, 'man', page)], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' } });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /warning/i);
      if (page === 'sftpgo-users.1') {
        assert.match(r.stdout, /^NAME\n\s+sftpgo-users - manage SFTPGo users$/m);
        assert.match(r.stdout, /^\s+sftpgo users add \[options\] \[username\]$/m);
        assert.match(r.stdout, /^\s+--home-dir dir$/m);
        assert.match(r.stdout, /^EXIT STATUS$/m);
      }
    }
  });
});
