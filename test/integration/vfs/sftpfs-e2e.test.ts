/**
 * End to end: users of this server whose home is an SFTP backend (provider 5), driven by the
 * OpenSSH `sftp` client: one backed by OpenSSH's sshd, one by this very server as another, plain
 * local user; a user pointing at itself, or at this server as a user that itself has an SFTP
 * backend (home or folder: A → B → …), is refused at login (loop guard), and the REST API never
 * shows the backends' secrets in plain.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiUser } from '../../../src/api/index.js';
import { readPem, startOpenSshd, type OpenSshd } from '../../helpers/openssh-sshd.js';
import {
  randomFile,
  sha256File,
  startSftpTestServer,
  waitFor,
  type SftpTestEnv,
} from '../../helpers/sftpd.js';
import { basicAuth } from '../../helpers/server.js';
import { sftpBatch } from '../../helpers/ssh.js';

const LOOP = 'SFTP loop or nested local SFTP folders detected';

void describe('users whose home is an SFTP backend', () => {
  let sshd: OpenSshd;
  let env: SftpTestEnv;
  let key: string;
  let work: string;
  before(async () => {
    sshd = await startOpenSshd();
    env = await startSftpTestServer();
    key = await readPem(sshd.userKey);
    work = join(env.dir, 'client');
    await mkdir(work);
  });
  after(async () => {
    await env?.stop();
    await sshd?.stop();
  });

  /** put, get, ls, rename, rm, mkdir through OpenSSH sftp; `remoteDir` is where the files land */
  async function roundTrip(
    creds: { user: string; password: string },
    remoteDir: string,
  ): Promise<void> {
    const up = join(work, `up-${creds.user}`);
    const upHash = await randomFile(up, 5 * 1024 * 1024 + 17);
    const down = join(work, `down-${creds.user}`);
    const r = await sftpBatch(env.target, creds, [
      `put ${up} /up.bin`,
      `get /up.bin ${down}`,
      'mkdir /sub',
      'rename /up.bin /sub/moved.bin',
      'ls -l /sub',
      `put ${up} /gone`,
      'rm /gone',
      'ls -1 /',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(down), upHash, 'get is byte-exact');
    assert.equal(
      await sha256File(join(remoteDir, 'sub', 'moved.bin')),
      upHash,
      'the file landed on the remote',
    );
    assert.match(r.stdout, /moved\.bin/);
    assert.deepEqual((await readdir(remoteDir)).sort(), ['sub']);
  }

  /** the sftpconfig of a home or folder on OpenSSH sshd, under a new remote directory */
  function sshdConfig(dir: string): NonNullable<ApiUser['filesystem']> {
    return {
      provider: 5,
      sftpconfig: {
        endpoint: `127.0.0.1:${sshd.port}`,
        username: sshd.user,
        private_key: { status: 'Plain', payload: key },
        fingerprints: [sshd.hostKeyFingerprint],
        prefix: join(sshd.dataDir, dir),
      },
    };
  }

  /** the filesystem of a home on this very server as local user `u` (password) */
  function selfConfig(
    u: { username: string; password: string },
    extra: Partial<NonNullable<NonNullable<ApiUser['filesystem']>['sftpconfig']>> = {},
  ): NonNullable<ApiUser['filesystem']> {
    return {
      provider: 5,
      sftpconfig: {
        endpoint: `127.0.0.1:${env.port}`,
        username: u.username,
        password: { status: 'Plain', payload: u.password },
        ...extra,
      },
    };
  }

  void it('serves a home on OpenSSH sshd (private key) and keeps the key out of the REST API', async () => {
    const remoteDir = join(sshd.dataDir, 'user-a');
    const u = await env.createUser({ filesystem: sshdConfig('user-a') });
    // the prefix is created remotely at login
    await roundTrip({ user: u.username, password: u.password }, remoteDir);

    const got = await env.srv.api<ApiUser>('GET', `/users/${u.username}`);
    const pk = got.body.filesystem?.sftpconfig?.private_key;
    assert.equal(pk?.status, 'Secretbox');
    assert.equal(pk?.key, undefined);
    const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const line of body)
      assert.ok(!got.text.includes(line), 'no line of the private key in the response');
  });

  void it('serves a home on this server as another, plain local user (password; no loop), never showing the password', async () => {
    const target = await env.createUser();
    const remoteDir = join(target.home, 'data');
    const u = await env.createUser({
      filesystem: selfConfig(target, { prefix: '/data', buffer_size: 1 }),
    });
    await roundTrip({ user: u.username, password: u.password }, remoteDir);
    const got = await env.srv.api<ApiUser>('GET', `/users/${u.username}`);
    const pw = got.body.filesystem?.sftpconfig?.password;
    assert.equal(pw?.status, 'Secretbox');
    assert.ok(!got.text.includes(target.password), 'the password is not in the response');
  });

  /** the server's log once a line passes `want` (the logger writes asynchronously) */
  async function logOnce(want: (line: string) => boolean, what: string): Promise<string> {
    const file = join(env.srv.configDir, 'sftpgo.log');
    let log = '';
    await waitFor(
      async () => {
        log = await readFile(file, 'utf8');
        return log.split('\n').some(want);
      },
      10_000,
      what,
    );
    return log;
  }

  /**
   * user A whose home is this server as local user `b` (password): A's SFTP login is refused,
   * and the warning names A, the mount path, and `b` and A as the forbidden usernames
   */
  async function assertNestedRefused(b: { username: string; password: string }): Promise<void> {
    const a = await env.createUser({ filesystem: selfConfig(b) });
    const r = await sftpBatch(env.target, { user: a.username, password: a.password }, ['ls /']);
    assert.notEqual(r.code, 0, 'the login is refused');
    const log = await logOnce(
      (l) => l.includes(a.username) && l.includes(LOOP),
      'the loop warning',
    );
    const warned = log
      .split('\n')
      .filter((l) => l.includes(a.username) && l.includes(LOOP))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['username'] === a.username && String(l['message']).startsWith(LOOP));
    assert.ok(warned.length > 0, 'the loop is logged');
    assert.equal(warned[0]?.['mount_path'], '/');
    const forbidden = JSON.stringify([b.username, a.username]);
    assert.ok(String(warned[0]?.['message']).endsWith(`forbidden usernames: ${forbidden}`));
  }

  void it('refuses this server as a user whose own home is an SFTP backend (A → B → sshd)', async () => {
    const b = await env.createUser({ filesystem: sshdConfig('user-b') });
    // B itself works: its home is on sshd
    const ok = await sftpBatch(env.target, b.creds, ['mkdir /made-by-b']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await readdir(join(sshd.dataDir, 'user-b')), ['made-by-b']);
    await assertNestedRefused(b);
  });

  void it('refuses this server as a user with an SFTP virtual folder (A → B, B:/remote on sshd)', async () => {
    const folder = `sshf${randomBytes(3).toString('hex')}`;
    const created = await env.srv.api('POST', '/folders', {
      name: folder,
      mapped_path: join(env.dir, `${folder}-scratch`),
      filesystem: sshdConfig(folder),
    });
    assert.equal(created.status, 201, created.text);
    const b = await env.createUser({
      virtual_folders: [{ name: folder, virtual_path: '/remote' }] as ApiUser['virtual_folders'],
    });
    await assertNestedRefused(b);
  });

  void it('refuses a user whose backend points at itself, at login, with a clear error', async () => {
    const username = `loop${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await env.createUser({
      username,
      password,
      filesystem: selfConfig({ username, password }),
    });
    const r = await sftpBatch(env.target, { user: username, password }, ['ls /']);
    assert.notEqual(r.code, 0, 'the login is refused');
    const log = await logOnce(
      (l) => l.includes(username) && l.includes(LOOP),
      'the loop in the log',
    );
    assert.ok(!log.includes(password), 'the password is never logged');
    // a REST user login is refused too (its filesystem root cannot be checked), and logged
    const res = await env.srv.api('GET', '/user/token', undefined, null, {
      headers: { authorization: basicAuth(username, password) },
      validate: false,
    });
    assert.equal(res.status, 500, res.text);
    // the HTTP login failure names the loop
    await logOnce((l) => l.includes('"sender":"HTTP"') && l.includes(LOOP), 'the HTTP loop line');
  });
});
