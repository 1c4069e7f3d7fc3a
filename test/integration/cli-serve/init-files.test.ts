/**
 * The files of init/ against a real server: the fail2ban filter matches the connection_failed
 * line of every failed login (SSH, FTP, WebDAV, HTTP) and nothing else, checked with Debian's
 * fail2ban-regex; the systemd unit's readiness probe succeeds against /healthz.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { basicAuth, freePort, startServer, type TestServer } from '../../helpers/server.js';
import { run } from '../../helpers/ftpd.js';
import { ssh2Connect } from '../../helpers/sftpd.js';
import { requireTool, sshExec } from '../../helpers/ssh.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const filter = join(root, 'init/fail2ban/filter.d/sftpgo.conf');
const unit = join(root, 'init/sftpgo.service');

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

void describe('init/: fail2ban filter and systemd unit', () => {
  let srv: TestServer;
  let ftpPort: number;
  let davPort: number;

  before(async () => {
    requireTool('fail2ban-regex', 'fail2ban');
    requireTool('curl', 'curl');
    requireTool('sshpass', 'sshpass');
    ftpPort = await freePort();
    davPort = await freePort();
    srv = await startServer({
      config: {
        ftpd: { bindings: [{ port: ftpPort, address: '127.0.0.1' }] },
        webdavd: { bindings: [{ port: davPort, address: '127.0.0.1' }] },
      },
    });
  });
  after(async () => {
    await srv.stop();
  });

  void it('fail2ban-regex finds the client address of every failed login and no other line', async () => {
    // a username that tries to inject another address into the line
    const hostile = 'x","client_ip":"203.0.113.9","y":"';
    assert.ok(srv.sftpPort);
    const ssh = await sshExec(
      { port: srv.sftpPort },
      { user: 'f2b-nobody', password: 'wrong' },
      'true',
    );
    assert.notEqual(ssh.code, 0);
    // OpenSSH refuses such a user name itself: ssh2 sends it
    await assert.rejects(ssh2Connect(srv.sftpPort, hostile, { password: 'wrong' }));
    // the server runs in this process: the client must not block the event loop
    const ftp = await run('curl', [
      '-sS',
      '--max-time',
      '20',
      '--user',
      'f2b-nobody:wrong',
      `ftp://127.0.0.1:${ftpPort}/`,
    ]);
    assert.notEqual(ftp.code, 0);
    const dav = await fetch(`http://127.0.0.1:${davPort}/`, {
      method: 'PROPFIND',
      headers: { authorization: basicAuth('f2b-nobody', 'wrong'), depth: '0' },
    });
    assert.equal(dav.status, 401);
    const http = await fetch(`${srv.httpUrl}/api/v2/user/token`, {
      headers: { authorization: basicAuth('f2b-nobody', 'wrong') },
    });
    assert.equal(http.status, 401);

    const log = join(srv.configDir, 'sftpgo.log');
    const failedLines = async (): Promise<string[]> =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter((l) => l.includes('"sender":"connection_failed"'));
    await waitFor(
      async () => {
        const protocols = new Set(
          (await failedLines()).map((l) => (JSON.parse(l) as { protocol: string }).protocol),
        );
        return (
          ['SSH', 'FTP', 'DAV', 'HTTP'].every((p) => protocols.has(p)) &&
          (await failedLines()).some((l) => l.includes('203.0.113.9'))
        );
      },
      `a connection_failed line per protocol: ${(await failedLines()).join('\n')}`,
    );
    const failed = await failedLines();
    const total = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').length;
    assert.ok(total > failed.length, 'the log has other lines too');

    // in another time zone, so the Z suffix must be understood
    const r = spawnSync('fail2ban-regex', ['-v', log, filter], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'America/New_York' },
    });
    assert.equal(r.status, 0, r.stderr);
    const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[3]), failed.length, r.stdout);
    assert.equal(Number(m[1]), total);
    // every hit is the real client; the injected address never appears as a host
    const hosts = [
      ...r.stdout.matchAll(/^\|\s+(\S+)\s+\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \d{4}$/gm),
    ].map((h) => h[1]);
    assert.equal(hosts.length, failed.length, r.stdout);
    assert.ok(
      hosts.every((h) => h === '127.0.0.1'),
      hosts.join(','),
    );
    // the times were read as UTC: New York is 4 or 5 hours behind
    const first = JSON.parse(failed[0] ?? '{}') as { time: string };
    const utcHour = new Date(first.time).getUTCHours();
    const shown = /^\|\s+\S+\s+\w{3} \w{3} \d{2} (\d{2}):/m.exec(r.stdout);
    assert.ok(shown);
    const diff = (utcHour - Number(shown[1]) + 24) % 24;
    assert.ok(diff === 4 || diff === 5, `UTC ${utcHour} shown as ${shown[1]}`);
  });

  void it('the systemd unit is hardened and its readiness probe passes once /healthz answers', async () => {
    const text = await readFile(unit, 'utf8');
    const keys = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (kv?.[1] !== undefined && kv[2] !== undefined)
        keys.set(kv[1], [...(keys.get(kv[1]) ?? []), kv[2]]);
    }
    assert.deepEqual(keys.get('NoNewPrivileges'), ['true']);
    assert.deepEqual(keys.get('ProtectSystem'), ['strict']);
    assert.ok(keys.get('ReadWritePaths')?.[0]?.includes('/var/lib/sftpgo'));
    assert.notEqual(keys.get('Type')?.[0], 'notify');
    const probe = keys.get('ExecStartPost')?.[0] ?? '';
    assert.ok(probe.includes('/healthz'));
    // run the probe as systemd would, pointed at this server's REST port
    const port = new URL(srv.httpUrl).port;
    const cmd = probe
      .replace('127.0.0.1:8080', `127.0.0.1:${port}`)
      .replace(/^\/bin\/sh -c '(.*)'$/, '$1');
    const r = await run('/bin/sh', ['-c', cmd], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
  });
});
