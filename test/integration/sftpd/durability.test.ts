/**
 * Durability choices (docs/transfers.md): uploads are not fsynced on CLOSE by default (as
 * OpenSSH and upstream), clients ask for it with fsync@openssh.com (OpenSSH `put -f`), and an
 * atomic upload is synced before its rename — a server killed mid-upload never leaves a
 * truncated file under the final name. The server runs as its own process here, so it can be
 * killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../helpers/server.js';
import {
  randomFile,
  sha256File,
  ssh2Connect,
  startSftpTestServer,
  testHostKeys,
  waitFor,
  type SftpTestEnv,
} from '../../helpers/sftpd.js';
import { sftpBatch } from '../../helpers/ssh.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MiB = 1024 * 1024;

void describe('sftpd: fsync@openssh.com', () => {
  let env: SftpTestEnv;
  before(async () => {
    env = await startSftpTestServer();
  });
  after(async () => {
    await env.stop();
  });

  void it('is advertised and syncs an open upload; OpenSSH put -f works', async () => {
    const user = await env.createUser();
    const s = await ssh2Connect(env.port, user.username, { password: user.password });
    try {
      const h = await s.call<Buffer>('open', '/synced.bin', 'w');
      await s.call('write', h, Buffer.from('durable'), 0, 7, 0);
      // ssh2's client refuses this call unless the server advertised the extension
      await s.call('ext_openssh_fsync', h);
      await s.call('close', h);
      const r = await s.call<Buffer>('open', '/synced.bin', 'r');
      await s.call('ext_openssh_fsync', r); // a download handle: nothing to sync, still OK
      await s.call('close', r);
      await assert.rejects(s.call('ext_openssh_fsync', h), 'a closed handle is refused');
    } finally {
      await s.end();
    }
    const src = join(env.dir, 'put-f.bin');
    const sum = await randomFile(src, 3 * MiB);
    const put = await sftpBatch(env.target, user.creds, [`put -f ${src} /put-f.bin`]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(await sha256File(join(user.home, 'put-f.bin')), sum);
  });
});

void describe('sftpd: server killed mid-upload (atomic upload mode)', () => {
  let server: ChildProcess | undefined;
  let stderr = '';
  let dir: string;
  let home: string;
  let sftpPort: number;
  let api: string;
  const user = { username: 'killme', password: 'kill-me-password' };

  before(async () => {
    const keys = await testHostKeys();
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-killed-'));
    home = join(dir, 'home');
    const httpPort = await freePort();
    sftpPort = await freePort();
    server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'serve', '-c', dir, '-l', ''], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
        SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort),
        SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
        SFTPGO_SFTPD__HOST_KEYS: keys.files.join(','),
        SFTPGO_COMMON__UPLOAD_MODE: '1',
        SFTPGO_TELEMETRY__BIND_PORT: '0',
        SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin',
        SFTPGO_DEFAULT_ADMIN_PASSWORD: 'admin-password',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    api = `http://127.0.0.1:${httpPort}/api/v2`;
    await waitFor(() => /REST API listening/.test(stderr), 60_000, `the server to start: ${stderr}`);
    const tok = await fetch(`${api}/token`, {
      headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` },
    });
    const { access_token } = (await tok.json()) as { access_token: string };
    const created = await fetch(`${api}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      // throttled, so the kill lands mid-transfer
      body: JSON.stringify({ ...user, status: 1, home_dir: home, permissions: { '/': ['*'] }, upload_bandwidth: 2000 }),
    });
    assert.equal(created.status, 201, await created.text());
  });
  after(async () => {
    if (server?.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  void it('leaves the old file intact and no new file under its final name', async () => {
    await mkdir(home, { recursive: true });
    const old = join(home, 'existing.bin');
    const oldSum = await randomFile(old, 1 * MiB);
    const src = join(dir, 'upload.bin');
    await randomFile(src, 16 * MiB);
    const creds = { user: user.username, password: user.password };
    const uploads = [
      sftpBatch({ port: sftpPort }, creds, [`put ${src} /existing.bin`], { timeoutMs: 60_000 }),
      sftpBatch({ port: sftpPort }, creds, [`put ${src} /fresh.bin`], { timeoutMs: 60_000 }),
    ];
    const temps = async (): Promise<number[]> => {
      const sizes: number[] = [];
      for (const n of await readdir(home)) {
        if (!n.startsWith('.sftpgo-upload.')) continue;
        const st = await stat(join(home, n)).catch(() => undefined);
        if (st) sizes.push(st.size);
      }
      return sizes;
    };
    await waitFor(async () => {
      const t = await temps();
      return t.length === 2 && t.every((s) => s >= 2 * MiB);
    }, 30_000, 'both uploads to be under way');
    server?.kill('SIGKILL');
    const results = await Promise.all(uploads);
    for (const r of results) assert.notEqual(r.code, 0, 'the uploads were cut');

    assert.equal(await sha256File(old), oldSum, 'the old file is intact under its name');
    await assert.rejects(stat(join(home, 'fresh.bin')), 'no new file under its final name');
    const left = await temps();
    assert.ok(left.every((s) => s < 16 * MiB), 'only partial temp files, never renamed');
  });
});
