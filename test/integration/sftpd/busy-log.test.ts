/**
 * The log of a busy run is strict JSON: a real server with its log file drives REST logins and
 * CRUD, SFTP logins (good and bad password), uploads and downloads (one failing over quota), SSH
 * commands, the user API, an abrupt client disconnect and a quota scan of a folder whose
 * directory does not exist yet. Every line must parse with a parser that rejects duplicate keys
 * (strict consumers do; jq silently keeps the last one), and expected conditions are logged
 * without stack traces and below error level.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth } from '../../helpers/server.js';
import {
  randomFile,
  ssh2Connect,
  startSftpTestServer,
  waitFor,
  type SftpTestEnv,
} from '../../helpers/sftpd.js';
import { sftpBatch, sshExec } from '../../helpers/ssh.js';
import { parseStrictJson } from '../../helpers/strict-json.js';

const KiB = 1024;

type Line = Record<string, unknown>;

void describe('sftpd: the log of a busy run', () => {
  let env: SftpTestEnv;
  let lines: { raw: string; parsed?: Line; error?: string }[] = [];
  const missingFolder = 'missingdir';

  before(async () => {
    env = await startSftpTestServer({ config: { sftpd: { enabled_ssh_commands: ['*'] } } });
    const { srv } = env;

    // REST: a failed and a good admin login, user and folder CRUD
    const bad = await srv.api('GET', '/token', undefined, null, {
      headers: { authorization: basicAuth(srv.admin.username, 'wrong') },
    });
    assert.equal(bad.status, 401);
    const user = await env.createUser({ quota_size: 1024 * KiB });
    await env.updateUser(user.username, { quota_files: 100 });
    assert.equal((await srv.api('GET', '/users')).status, 200);
    const victim = await env.createUser();
    assert.equal((await srv.api('DELETE', `/users/${victim.username}`)).status, 200);
    const folder = await srv.api('POST', '/folders', {
      name: missingFolder,
      mapped_path: join(env.dir, 'not-created-yet'),
    });
    assert.equal(folder.status, 201, folder.text);

    // a quota scan of a folder whose directory does not exist yet
    assert.equal((await srv.api('POST', `/quotas/folders/${missingFolder}/scan`)).status, 202);
    await waitFor(
      async () => (await srv.api<unknown[]>('GET', '/quotas/folders/scans')).body.length === 0,
      10_000,
      'the scan',
    );
    const scanned = await srv.api<{ used_quota_files: number }>('GET', `/folders/${missingFolder}`);
    assert.equal(scanned.body.used_quota_files, 0);

    // SFTP: a wrong password, uploads, a download, an upload failing over quota
    const wrong = await sftpBatch(env.target, { user: user.username, password: 'nope' }, ['ls']);
    assert.notEqual(wrong.code, 0);
    const small = join(env.dir, 'small.bin');
    await randomFile(small, 300 * KiB);
    const big = join(env.dir, 'big.bin');
    await randomFile(big, 1536 * KiB);
    const ok = await sftpBatch(env.target, user.creds, [
      `put ${small} /small.bin`,
      'mkdir /d',
      `get /small.bin ${join(env.dir, 'back.bin')}`,
      'rename /small.bin /d/small.bin',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const over = await sftpBatch(env.target, user.creds, [`put ${big} /big.bin`]);
    assert.notEqual(over.code, 0, 'the upload over quota must fail');

    // SSH commands
    assert.equal((await sshExec(env.target, user.creds, 'md5sum /d/small.bin')).code, 0);
    assert.equal((await sshExec(env.target, user.creds, 'sftpgo-copy /d /e')).code, 0);
    assert.equal((await sshExec(env.target, user.creds, 'sftpgo-remove /e')).code, 0);
    assert.equal((await sshExec(env.target, user.creds, 'md5sum /missing')).code, 1);

    // a client going away without closing its session
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    await s.call('stat', '/d');
    s.client.destroy();
    await waitFor(() => env.connections().length === 0, 10_000, 'the disconnect');

    // the user API: login and a download
    const login = await srv.api<{ access_token: string }>('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth(user.username, user.password) },
    });
    assert.equal(login.status, 200, login.text);
    const tok = login.body.access_token;
    const file = await srv.api('GET', '/user/file?path=%2Fd%2Fsmall.bin', undefined, tok);
    assert.equal(file.status, 200);

    // stop() is idempotent: stop here so that every line is flushed before reading the file
    await srv.service.stop();
    const text = await readFile(join(srv.configDir, 'sftpgo.log'), 'utf8');
    lines = text
      .split('\n')
      .filter((l) => l !== '')
      .map((raw) => {
        try {
          return { raw, parsed: parseStrictJson(raw) as Line };
        } catch (e) {
          return { raw, error: (e as Error).message };
        }
      });
  });
  after(async () => {
    await env.stop();
  });

  void it('has the lines of every activity', () => {
    assert.ok(lines.length > 50, `only ${lines.length} lines`);
    const senders = new Set(lines.map((l) => (JSON.parse(l.raw) as Line).sender));
    for (const s of ['Upload', 'Download', 'connection_failed', 'SSHCommand', 'httpd']) {
      assert.ok(senders.has(s), `no line with sender ${s}: ${[...senders].join(',')}`);
    }
  });

  void it('every line is strict JSON with no duplicate key', () => {
    const bad = lines.filter((l) => l.error !== undefined);
    assert.deepEqual(
      bad.slice(0, 10).map((l) => `${l.error ?? ''}: ${l.raw}`),
      [],
      `${bad.length} of ${lines.length} lines are not strict JSON`,
    );
  });

  void it('logs the quota scan of a missing folder dir without a stack and below error level', () => {
    const scan = lines.filter(
      (l) => l.parsed?.folder === missingFolder || l.raw.includes('not-created-yet'),
    );
    assert.ok(scan.length > 0, 'no line about the scan');
    for (const l of scan) {
      assert.ok(!l.raw.includes('"stack"'), `stack in ${l.raw}`);
      assert.notEqual(l.parsed?.level, 'error', l.raw);
    }
  });

  void it('logs expected conditions (bad password, disconnects, refused uploads) without stacks or errors', () => {
    const stacks = lines.filter((l) => l.raw.includes('"stack"'));
    assert.deepEqual(
      stacks.map((l) => l.raw),
      [],
      'no stack traces in a run without server faults',
    );
    const errors = lines.filter((l) => l.parsed?.level === 'error' || l.parsed?.level === 'fatal');
    assert.deepEqual(
      errors.map((l) => l.raw),
      [],
    );
  });

  void it('logs a wrong password once per attempt, at debug level', () => {
    // sshpass gives up on the second password prompt, where ssh may still send an empty
    // password: that is a second attempt with its own line
    const failed = lines.filter((l) => l.parsed?.sender === 'connection_failed');
    assert.ok(failed.length >= 1);
    for (const l of failed) assert.equal(l.parsed?.level, 'debug', l.raw);
    const wrong = failed.filter((l) => l.parsed?.error === 'invalid credentials');
    assert.equal(wrong.length, 1, failed.map((l) => l.raw).join('\n'));
    const admin = lines.filter(
      (l) =>
        l.parsed?.message === 'admin login failed' ||
        (l.parsed?.message === 'request rejected' && l.parsed.uri === '/api/v2/token'),
    );
    assert.deepEqual(
      admin.map((l) => [l.parsed?.level, l.parsed?.message]),
      [['debug', 'admin login failed']],
    );
  });
});
