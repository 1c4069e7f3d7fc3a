/**
 * rclone's FTP backend (jlaffaye/ftp, the Go client many tools share) against the real server:
 * a tree with nested directories, spaces and non-ASCII names, an empty file and old
 * modification times goes up, is listed (MLSD), checked, comes back byte-exact and is purged;
 * plain FTP and explicit FTPS (AUTH TLS, PROT P).
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  clientTree,
  hashTree,
  run,
  startFtpTestServer,
  writeTree,
  type FtpTestEnv,
  type FtpTestUser,
} from '../../helpers/ftpd.js';
import { requireTool } from '../../helpers/ssh.js';

const OLD = new Date('2020-01-02T03:04:05Z');
const TREE = clientTree();

void describe('ftpd: rclone', () => {
  let env: FtpTestEnv;
  let user: FtpTestUser;
  let obscured: string;
  let src: string;

  before(async () => {
    requireTool('rclone', 'rclone');
    env = await startFtpTestServer({ bindings: [{ tls_mode: 0 }, { tls_mode: 1 }] });
    user = await env.createUser();
    const o = await run('rclone', ['obscure', user.password]);
    assert.equal(o.code, 0, o.stderr);
    obscured = o.stdout.trim();
    src = join(env.dir, 'src');
    await writeTree(src, TREE, OLD);
  });
  after(async () => {
    await env?.stop();
  });

  const rclone = (port: number, tls: boolean, args: string[]) =>
    run('rclone', [
      '--config',
      '/dev/null',
      '--ftp-host',
      '127.0.0.1',
      '--ftp-port',
      String(port),
      '--ftp-user',
      user.username,
      '--ftp-pass',
      obscured,
      ...(tls ? ['--ftp-explicit-tls', '--ftp-no-check-certificate'] : []),
      ...args,
    ]);

  for (const [name, index, tls] of [
    ['plain FTP', 0, false],
    ['explicit FTPS', 1, true],
  ] as const) {
    void it(`${name}: copy up, list, check, copy back byte-exact, purge`, async () => {
      const port = env.ports[index] as number;
      const dst = tls ? 'tls' : 'plain';
      const up = await rclone(port, tls, ['copy', src, `:ftp:${dst}`]);
      assert.equal(up.code, 0, up.stderr);
      const home = join(user.home, dst);
      assert.deepEqual(await hashTree(home), await hashTree(src));
      // MFMT kept the modification times
      for (const f of Object.keys(TREE))
        assert.equal((await stat(join(home, f))).mtimeMs, OLD.getTime(), f);

      const lsl = await rclone(port, tls, ['lsl', `:ftp:${dst}`]);
      assert.equal(lsl.code, 0, lsl.stderr);
      const listed = lsl.stdout.trim().split('\n').sort();
      assert.equal(listed.length, Object.keys(TREE).length, lsl.stdout);
      assert.ok(
        listed.some((l) => /^\s*120001 2020-01-02 03:04:05\.0+ a\.bin$/.test(l)),
        lsl.stdout,
      );
      assert.ok(
        listed.some((l) => l.endsWith(' dir/ümlaut-é.txt')),
        lsl.stdout,
      );

      const check = await rclone(port, tls, ['check', src, `:ftp:${dst}`]);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stderr, /0 differences found/);

      const back = join(env.dir, `back-${dst}`);
      const down = await rclone(port, tls, ['copy', `:ftp:${dst}`, back]);
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(await hashTree(back), await hashTree(src));

      const purge = await rclone(port, tls, ['purge', `:ftp:${dst}`]);
      assert.equal(purge.code, 0, purge.stderr);
      assert.ok(!(await readdir(user.home)).includes(dst), 'the tree is gone');
    });
  }
});
