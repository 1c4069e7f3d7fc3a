/**
 * POST /user/streamzip of a 2,000-file tree served by a real `sftpgo serve` child process:
 * the zip opens with Info-ZIP `unzip` and every file matches byte for byte, and the server's
 * resident memory stays far below the size of the data (the zip is streamed, never buffered).
 * The RSS figures are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { requireTool } from '../../helpers/ssh.js';
import { basicAuth, freePort } from '../../helpers/server.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FILES = 2000;
const DIRS = 20;

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

async function walkFiles(dir: string, base = dir, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkFiles(p, base, out);
    else out.push(relative(base, p));
  }
  return out;
}

void describe('httpd: streamzip of a large tree, memory bounded', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let url: string;
  const admin = { username: 'zipadmin', password: 'zip-admin-password' };

  before(async () => {
    requireTool('unzip', 'unzip');
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-zipmem-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await writeFile(
      join(dir, 'sftpgo.json'),
      JSON.stringify({
        sftpd: { bindings: [{ port: 0 }] },
        httpd: { bindings: [{ port, address: '127.0.0.1', enable_web_admin: false, enable_web_client: false }] },
        telemetry: { bind_port: 0 },
      }),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'serve', '-c', dir, '--log-verbose=false'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        SFTPGO_DEFAULT_ADMIN_USERNAME: admin.username,
        SFTPGO_DEFAULT_ADMIN_PASSWORD: admin.password,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch (e) {
        if (i > 600 || child.exitCode !== null) throw new Error(`the server did not start: ${stderr}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // the tree: 20 directories of 100 files, sizes from 0 to ~130 KiB
    const home = join(dir, 'homes', 'zipper');
    for (let d = 0; d < DIRS; d++) {
      const sub = join(home, `dir-${d}`, d % 2 === 0 ? 'nested' : '');
      await mkdir(sub, { recursive: true });
      for (let f = 0; f < FILES / DIRS; f++) {
        const size = ((d * 100 + f) * 7919) % (130 * 1024);
        await writeFile(join(sub, `file-${f}.bin`), randomBytes(size));
      }
    }
  });
  after(async () => {
    if (child && child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child?.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  void it('streams 2,000 files that unzip byte for byte, with bounded server memory', async (t) => {
    const pid = child?.pid;
    assert.ok(pid !== undefined);
    const tokRes = await fetch(`${url}/api/v2/token`, { headers: { authorization: basicAuth(admin.username, admin.password) } });
    const adminToken = ((await tokRes.json()) as { access_token: string }).access_token;
    const add = await fetch(`${url}/api/v2/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'zipper', password: 'zipper-pw', status: 1, home_dir: join(dir, 'homes', 'zipper'), permissions: { '/': ['*'] } }),
    });
    assert.equal(add.status, 201, await add.text());
    const ut = await fetch(`${url}/api/v2/user/token`, { headers: { authorization: basicAuth('zipper', 'zipper-pw') } });
    const userToken = ((await ut.json()) as { access_token: string }).access_token;

    const source = join(dir, 'homes', 'zipper');
    const files = (await walkFiles(source)).sort();
    assert.equal(files.length, FILES);
    let total = 0;
    for (const f of files) total += (await readFile(join(source, f))).length;

    const baseline = await rssKiB(pid);
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssKiB(pid));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const zipPath = join(dir, 'all.zip');
    try {
      const res = await fetch(`${url}/api/v2/user/streamzip`, {
        method: 'POST',
        headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(['/']),
      });
      assert.equal(res.status, 200);
      assert.ok(res.body);
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(zipPath));
    } finally {
      sampling = false;
      await sampler;
    }

    const out = join(dir, 'unzipped');
    await exec('unzip', ['-q', zipPath, '-d', out], { maxBuffer: 16 * 1024 * 1024 });
    const extracted = (await walkFiles(out)).sort();
    assert.deepEqual(extracted, files);
    for (const f of files) {
      const [a, b] = await Promise.all([readFile(join(source, f)), readFile(join(out, f))]);
      assert.ok(a.equals(b), `${f} differs`);
    }
    const mib = (kib: number): string => (kib / 1024).toFixed(1);
    t.diagnostic(
      `server RSS: baseline ${mib(baseline)} MiB, peak ${mib(peak)} MiB (+${mib(peak - baseline)} MiB) while streaming ${FILES} files, ${(total / 1048576).toFixed(1)} MiB of data`,
    );
    // a buffered zip would need at least the data size; the stream needs a small, fixed amount
    assert.ok((peak - baseline) * 1024 < total / 2, `RSS grew by ${mib(peak - baseline)} MiB for ${(total / 1048576).toFixed(1)} MiB of data`);
  });
});
