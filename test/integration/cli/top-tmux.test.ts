/**
 * `sftpgo top` in a real terminal: tmux (a private server on its own socket, -L) runs the CLI in a
 * detached 120x30 session while OpenSSH `sftp` uploads to a bandwidth-limited user; the pane is
 * polled until the dashboard shows the user and a non-zero upload speed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { randomFile, startSftpTestServer, type SftpTestEnv } from '../../helpers/sftpd.js';
import { requireTool, run, sftpBatch } from '../../helpers/ssh.js';
import { cliEnv, ENTRY, ROOT } from './helpers.js';

/** single-quoted for sh */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** a non-zero upload speed in the header: "↑ 1.9 MiB/s" (not "↑ 0 B/s") */
const UPLOAD_SPEED = /↑ (?:[1-9][\d.]*|0\.\d*[1-9]\d*) (?:B|KiB|MiB|GiB)\/s/;

void describe('sftpgo top in tmux (real server, real upload)', () => {
  let env: SftpTestEnv;
  const socket = `sftpgo-top-${process.pid}-${randomBytes(4).toString('hex')}`;
  const session = `top-${randomBytes(4).toString('hex')}`;
  let started = false;
  const tmux = (args: string[]) => run('tmux', ['-L', socket, ...args], { timeoutMs: 20_000 });

  before(async () => {
    requireTool('tmux', 'tmux');
    env = await startSftpTestServer();
  });
  after(async () => {
    if (started) await tmux(['kill-session', '-t', session]);
    // the private server exits with its last session; its socket file stays behind
    await rm(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
    await env.stop();
  });

  void it('shows the uploading user and a non-zero speed', async () => {
    const user = await env.createUser({ username: `top${randomBytes(2).toString('hex')}`, upload_bandwidth: 2000 });
    const local = join(env.dir, 'big.bin');
    await randomFile(local, 20 * 1024 * 1024);
    const upload = sftpBatch(env.target, user.creds, [`put ${local} /big.bin`], { timeoutMs: 120_000 });

    const e = await cliEnv(env.srv);
    const vars = ['HOME', 'XDG_CONFIG_HOME', 'SFTPGO_ADMIN_PASSWORD'].map((k) => `${k}=${sq(e[k] ?? '')}`).join(' ');
    // on exit the pane stays open a while, so an error message can be captured
    const cmd = `env -i PATH=${sq(process.env.PATH ?? '/usr/bin:/bin')} LANG=C.UTF-8 TERM=xterm-256color ${vars} ${sq(process.execPath)} --import tsx ${sq(ENTRY)} top --url ${sq(env.srv.httpUrl)}; echo "top exited with $?"; sleep 60`;
    const ns = await tmux(['-u', 'new-session', '-d', '-s', session, '-x', '120', '-y', '30', '-c', ROOT, cmd]);
    assert.equal(ns.code, 0, ns.stderr);
    started = true;

    let screen = '';
    let seen = false;
    for (let i = 0; i < 60 && !seen; i++) {
      await sleep(500);
      const cap = await tmux(['capture-pane', '-p', '-t', session]);
      assert.equal(cap.code, 0, cap.stderr);
      screen = cap.stdout;
      assert.doesNotMatch(screen, /top exited with/, screen);
      seen = screen.includes(user.username) && UPLOAD_SPEED.test(screen);
    }
    assert.ok(seen, `the dashboard did not show ${user.username} uploading:\n${screen}`);
    assert.match(screen, /USER/);

    const up = await upload;
    assert.equal(up.code, 0, up.stderr);
    const kill = await tmux(['kill-session', '-t', session]);
    assert.equal(kill.code, 0, kill.stderr);
    started = false;
  });
});
