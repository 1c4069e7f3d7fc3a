/**
 * The SFTP backend (provider 5) against real remotes on 127.0.0.1: OpenSSH's sshd and this
 * project's own server. Both run on this machine, so the tests prepare and inspect the remote
 * files through the local filesystem.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { SftpgoError, type ErrorCode } from '../../../src/errors/index.js';
import { VERSION } from '../../../src/util/version.js';
import type { Fs } from '../../../src/vfs/index.js';
import { waitFor } from '../../helpers/sftpd.js';
import {
  sftpConfig,
  sftpFs,
  startOpenSshRemote,
  startSftpgoRemote,
  type SftpRemote,
} from './sftp-remotes.js';

const MIB = 1024 * 1024;

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function rejectsWith(
  p: Promise<unknown>,
  code: ErrorCode,
  what: string,
  msg?: RegExp,
): Promise<void> {
  await assert.rejects(
    p,
    (e: unknown) => {
      assert.ok(SftpgoError.is(e), `${what}: expected an SftpgoError, got ${String(e)}`);
      assert.equal(e.code, code, `${what}: ${e.code} ${e.message}`);
      if (msg) assert.match(e.message, msg, what);
      return true;
    },
    `${what}: expected ${code}`,
  );
}

async function put(fs: Fs, p: string, data: Buffer, o: { offset?: number } = {}): Promise<number> {
  const up = await fs.openWrite(p, o);
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 256 * 1024) parts.push(data.subarray(i, i + 256 * 1024));
  await pipeline(Readable.from(parts), up.stream);
  return (await up.done).bytes;
}

async function get(fs: Fs, p: string, offset?: number): Promise<Buffer> {
  const r = await fs.openRead(p, offset === undefined ? undefined : { offset });
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

function describeRemote(name: string, start: () => Promise<SftpRemote>): void {
  void describe(`SFTP backend against ${name}`, () => {
    let remote: SftpRemote;
    const open: Fs[] = [];
    const make = async (...a: Parameters<typeof sftpFs>): Promise<Fs> => {
      const fs = await sftpFs(...a);
      open.push(fs);
      return fs;
    };
    before(async () => {
      remote = await start();
    });
    after(async () => {
      await Promise.allSettled(open.map((f) => f.close()));
      await remote.stop();
    });

    void it('logs in with the private key, and with the password where the remote takes one', async () => {
      const { prefix, local } = await remote.fresh();
      await writeFile(join(local, 'hello'), 'world');
      const fs = await make(sftpConfig(remote, { prefix }));
      assert.equal((await fs.stat('/hello')).size, 5);
      if (remote.clientVersions) {
        assert.ok(
          remote.clientVersions().includes(`SSH-2.0-SFTPGo_${VERSION}`),
          remote.clientVersions().join(),
        );
      }
      if (remote.password !== undefined) {
        const pw = await make(sftpConfig(remote, { prefix, auth: 'password' }));
        assert.equal((await get(pw, '/hello')).toString(), 'world');
        // key first, then the password: a wrong key still logs in with the password
        const other = (await import('../../helpers/ssh.js')).generateKey;
        const bad = await other(local, 'not-authorized');
        const both = await make({
          ...sftpConfig(remote, { prefix, auth: 'password' }),
          private_key: { status: 'Plain', payload: await readFile(bad.privatePath, 'utf8') },
        });
        assert.equal((await both.stat('/hello')).size, 5);
      }
      await rejectsWith(
        make({
          ...sftpConfig(remote, { prefix, auth: 'password' }),
          password: { status: 'Plain', payload: 'wrong' },
        }),
        'BACKEND_UNAVAILABLE',
        'wrong password',
        /authentication failed/,
      );
    });

    void it('refuses a host key whose fingerprint is not listed, and accepts any key without fingerprints', async () => {
      const { prefix } = await remote.fresh();
      const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      await assert.rejects(
        make(sftpConfig(remote, { prefix, fingerprints: [wrong] })),
        (e: unknown) => {
          assert.ok(SftpgoError.is(e, 'PERMISSION_DENIED'), String(e));
          assert.ok(
            remote.fingerprints.some(
              (fp) => e.message === `invalid fingerprint ${JSON.stringify(fp)}`,
            ),
            e.message,
          );
          return true;
        },
      );
      const warnings: string[] = [];
      const logger = {
        warn: (_o: object, m?: string) => warnings.push(m ?? ''),
        error: () => undefined,
      };
      const fs = await make(sftpConfig(remote, { prefix, fingerprints: [] }), { logger });
      assert.equal((await fs.stat('/')).isDirectory, true);
      assert.ok(
        warnings.includes(
          'login without host key validation, please provide at least a fingerprint!',
        ),
        warnings.join(),
      );
    });

    void it('loop guard: refuses our own host key as a user with an SFTP backend, asking only then', async () => {
      const { prefix } = await remote.fresh();
      const cfg = sftpConfig(remote, { prefix });
      const asked: string[] = [];
      const lookup =
        (answer: boolean | Error) =>
        (u: string): Promise<boolean> => {
          asked.push(u);
          return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
        };
      // the remote's host keys stand for this server's own
      const own = { localHostKeyFingerprints: remote.fingerprints };
      await rejectsWith(
        make(cfg, { ...own, userUsesSftp: lookup(true) }),
        'PERMISSION_DENIED',
        'a nested local SFTP user',
        /^SFTP loop or nested local SFTP folders detected$/,
      );
      await rejectsWith(
        make(cfg, { ...own, userUsesSftp: lookup(new Error('provider down')) }),
        'INTERNAL',
        'a failing lookup',
        /^unable to check for an SFTP loop$/,
      );
      const fs = await make(cfg, { ...own, userUsesSftp: lookup(false) });
      assert.equal((await fs.stat('/')).isDirectory, true);
      assert.deepEqual(asked, [remote.username, remote.username, remote.username]);
      // another server's keys: nobody is looked up
      await make(cfg, { localHostKeyFingerprints: ['SHA256:other'], userUsesSftp: lookup(true) });
      assert.equal(asked.length, 3);
    });

    void it('keeps every path inside the prefix: symlinks leading out are refused', async () => {
      const { prefix, local } = await remote.fresh();
      const outside = await remote.fresh();
      await writeFile(join(outside.local, 'secret'), 'do not read');
      await mkdir(join(local, 'jail'));
      await writeFile(join(local, 'jail', 'inside'), 'ok');
      // relative targets mean the same on the remote and here: the sibling directory
      const out = `../../${basename(outside.local)}`;
      await symlink(out, join(local, 'jail', 'out-dir'));
      await symlink(`${out}/secret`, join(local, 'jail', 'out-file'));
      await symlink(`${out}/new`, join(local, 'jail', 'dangling-out'));
      await symlink('inside', join(local, 'jail', 'in-link'));
      const fs = await make(sftpConfig(remote, { prefix: `${prefix}/jail` }));
      assert.equal((await get(fs, '/in-link')).toString(), 'ok');
      assert.equal(await fs.readlink?.('/in-link'), '/inside');
      const refused: [string, () => Promise<unknown>][] = [
        ['stat out-file', () => fs.stat('/out-file')],
        ['read out-file', () => get(fs, '/out-file')],
        ['stat through out-dir', () => fs.stat('/out-dir/secret')],
        ['read through out-dir', () => get(fs, '/out-dir/secret')],
        [
          'list out-dir',
          async () => {
            for await (const _ of fs.list('/out-dir')) void _;
          },
        ],
        ['write through a dangling link', () => put(fs, '/dangling-out', Buffer.from('x'))],
        ['write into out-dir', () => put(fs, '/out-dir/planted', Buffer.from('x'))],
        ['readlink out-file', () => fs.readlink?.('/out-file') ?? Promise.resolve()],
        ['symlink leading out', () => fs.symlink?.('../../..', '/up') ?? Promise.resolve()],
        ['usage of out-dir', () => fs.usage('/out-dir')],
      ];
      for (const [what, op] of refused) await rejectsWith(op(), 'PERMISSION_DENIED', what);
      assert.deepEqual(
        (await readdir(outside.local)).sort(),
        ['secret'],
        'nothing was written outside',
      );
      // the link itself can still be looked at and removed
      assert.equal((await fs.lstat('/out-file')).isSymlink, true);
      await fs.remove('/out-file');
      assert.equal((await readFile(join(outside.local, 'secret'))).toString(), 'do not read');
      // the prefix root stats as "/" and `..` cannot climb above it
      assert.equal((await fs.stat('/../..')).name, '/');
      assert.deepEqual((await listNames(fs, '/..')).sort(), [
        'dangling-out',
        'in-link',
        'inside',
        'out-dir',
      ]);
    });

    void it('reconnects after the remote session is killed', async () => {
      const { prefix } = await remote.fresh();
      const fs = await make(sftpConfig(remote, { prefix }));
      await put(fs, '/before', Buffer.from('1'));
      await remote.killSessions();
      // the first operation after the drop reconnects (a cut read-only request is retried)
      assert.equal((await fs.stat('/before')).size, 1);
      await put(fs, '/after', Buffer.from('22'));
      assert.equal((await get(fs, '/after')).toString(), '22');
      await remote.killSessions();
      await waitFor(async () => {
        try {
          await fs.mkdir('/made-after-drop');
          return true;
        } catch (e) {
          // a mutation cut by the drop is not retried; the next one reconnects
          assert.ok(SftpgoError.is(e, 'BACKEND_UNAVAILABLE'), String(e));
          return false;
        }
      });
      assert.equal((await fs.stat('/made-after-drop')).isDirectory, true);
    });

    void it('lists 2,000 entries', async () => {
      const { prefix, local } = await remote.fresh();
      for (let i = 0; i < 2000; i++) await writeFile(join(local, `f${i}`), Buffer.alloc(i % 13));
      const fs = await make(sftpConfig(remote, { prefix }));
      const seen = new Map<string, number>();
      for await (const e of fs.list('/')) seen.set(e.name, e.size);
      assert.equal(seen.size, 2000);
      for (let i = 0; i < 2000; i++) assert.equal(seen.get(`f${i}`), i % 13, `f${i}`);
      assert.deepEqual(await fs.usage('/'), {
        files: 2000,
        bytes: Array.from({ length: 2000 }, (_, i) => i % 13).reduce((a, b) => a + b, 0),
      });
    });

    void it('reads ranges, resumes uploads, and moves 32 MiB byte-exact both ways', async () => {
      const { prefix, local } = await remote.fresh();
      const fs = await make(sftpConfig(remote, { prefix }));
      assert.equal(fs.capabilities.randomAccess, true);
      const big = randomBytes(32 * MIB + 12345);
      assert.equal(await put(fs, '/big', big), big.length);
      assert.equal(sha(await readFile(join(local, 'big'))), sha(big), 'upload');
      const back = randomBytes(32 * MIB + 777);
      await writeFile(join(local, 'back'), back);
      assert.equal(sha(await get(fs, '/back')), sha(back), 'download');

      // ranged reads: a stream from an offset, and positional reads on a handle
      for (const off of [1, 65536, 261121, back.length - 1, back.length, back.length + 10]) {
        assert.equal(sha(await get(fs, '/back', off)), sha(back.subarray(off)), `offset ${off}`);
      }
      const h = await fs.openFile?.('/back', { read: true });
      assert.ok(h);
      assert.equal(h.openInfo?.size, back.length);
      const slice = await h.read(5 * MIB + 3, 3 * MIB);
      assert.ok(slice);
      assert.ok(
        slice.equals(back.subarray(5 * MIB + 3, 5 * MIB + 3 + slice.length)),
        'positional read',
      );
      assert.ok(slice.length > 0);
      assert.equal(await h.read(back.length, 10), null);
      // sequential reads of an odd size (served from the read-ahead), seeks back and far ahead
      const got: Buffer[] = [];
      for (let pos = 0; ;) {
        const b = await h.read(pos, 100_003);
        if (!b) break;
        got.push(b);
        pos += b.length;
      }
      assert.equal(sha(Buffer.concat(got)), sha(back), 'sequential positional reads');
      for (const [pos, len] of [
        [7, 300_000],
        [20 * MIB, 65_536],
        [3, 5],
        [back.length - 2, 100],
      ] as const) {
        const b = await h.read(pos, len);
        assert.ok(
          b && b.equals(back.subarray(pos, pos + b.length)) && b.length > 0,
          `read(${pos}, ${len})`,
        );
      }
      await h.close();

      // resume: append from the current size, after a partial first part
      const first = big.subarray(0, 3 * MIB + 5);
      await put(fs, '/resumed', first);
      await put(fs, '/resumed', big.subarray(first.length), { offset: first.length });
      assert.equal(sha(await readFile(join(local, 'resumed'))), sha(big), 'resumed upload');
      await rejectsWith(
        fs.openWrite('/resumed', { offset: big.length + 1 }),
        'INVALID_INPUT',
        'past the end',
      );
    });

    void it('uploads atomically through a temp file in the target directory', async () => {
      const { prefix, local } = await remote.fresh();
      const fs = await make(sftpConfig(remote, { prefix }));
      await writeFile(join(local, 'f'), 'old');
      const up = await fs.openWrite('/f', { atomic: true });
      await new Promise<void>((res, rej) =>
        up.stream.write(Buffer.from('new content'), (e) => (e ? rej(e) : res())),
      );
      assert.equal(
        (await readFile(join(local, 'f'))).toString(),
        'old',
        'target untouched while uploading',
      );
      const names = await readdir(local);
      assert.equal(names.length, 2);
      assert.ok(
        names.some((n) => n.startsWith('.sftpgo-upload.') && n.endsWith('.f')),
        names.join(),
      );
      up.stream.end();
      await up.done;
      assert.deepEqual(await readdir(local), ['f']);
      assert.equal((await readFile(join(local, 'f'))).toString(), 'new content');
      // rename replaces an existing file (rename(2) semantics)
      await writeFile(join(local, 'g'), 'g');
      await fs.rename('/g', '/f');
      assert.deepEqual(await readdir(local), ['f']);
      assert.equal((await readFile(join(local, 'f'))).toString(), 'g');
    });

    void it('buffered mode streams uploads (always truncating) and downloads, without resume', async () => {
      const { prefix, local } = await remote.fresh();
      const fs = await make(sftpConfig(remote, { prefix, buffer_size: 2 }));
      assert.equal(fs.openFile, undefined);
      assert.deepEqual(
        [fs.capabilities.randomAccess, fs.capabilities.resume, fs.capabilities.atomicUpload],
        [false, false, false],
      );
      const data = randomBytes(9 * MIB + 1);
      await writeFile(join(local, 'f'), randomBytes(12 * MIB));
      await put(fs, '/f', data);
      assert.equal(sha(await readFile(join(local, 'f'))), sha(data), 'overwrite truncates');
      assert.equal(sha(await get(fs, '/f', 1000)), sha(data.subarray(1000)));
      await rejectsWith(fs.openWrite('/f', { offset: 10 }), 'OP_UNSUPPORTED', 'resume');
      await rejectsWith(fs.openWrite('/f', { atomic: true }), 'OP_UNSUPPORTED', 'atomic');
      // disable_concurrent_reads: one READ in flight, same bytes
      const seq = await make(
        sftpConfig(remote, { prefix, buffer_size: 1, disable_concurrent_reads: true }),
      );
      assert.equal(sha(await get(seq, '/f')), sha(data));
      // the remote file is truncated at open: an aborted overwrite leaves no file, and says so
      // (inPlace), so the core takes the replaced file out of the quota
      const cut = await fs.openWrite('/f');
      assert.equal(cut.inPlace, true);
      cut.stream.on('error', () => undefined);
      cut.stream.destroy(new Error('client gone'));
      await assert.rejects(cut.done);
      await rejectsWith(fs.stat('/f'), 'NOT_FOUND', 'aborted overwrite');
    });

    void it('maps remote errors and supports the metadata operations', async () => {
      const { prefix, local } = await remote.fresh();
      const fs = await make(sftpConfig(remote, { prefix }));
      await rejectsWith(fs.stat('/missing'), 'NOT_FOUND', 'stat');
      await rejectsWith(get(fs, '/missing'), 'NOT_FOUND', 'read');
      await fs.mkdir('/d');
      await rejectsWith(fs.mkdir('/d'), 'ALREADY_EXISTS', 'mkdir existing');
      await rejectsWith(fs.mkdir('/nope/x'), 'NOT_FOUND', 'mkdir below missing');
      await fs.mkdir('/a/b/c', { recursive: true });
      await writeFile(join(local, 'd', 'child'), 'x');
      await rejectsWith(fs.remove('/d', { dir: true }), 'NOT_EMPTY', 'rmdir non-empty');
      await rejectsWith(fs.remove('/d'), 'INVALID_INPUT', 'unlink a directory');
      await writeFile(join(local, 'file'), 'abcdef');
      await rejectsWith(fs.rename('/file', '/d'), 'INVALID_INPUT', 'file onto a directory');
      await rejectsWith(fs.rename('/a', '/d'), 'NOT_EMPTY', 'directory onto a non-empty one');
      await rejectsWith(listNames(fs, '/file'), 'INVALID_INPUT', 'list a file');
      await fs.setStat?.('/file', {
        mode: 0o600,
        size: 3,
        mtime: new Date('2021-02-03T04:05:06Z'),
      });
      const st = await fs.stat('/file');
      assert.deepEqual(
        [st.mode & 0o777, st.size, st.mtime.toISOString()],
        [0o600, 3, '2021-02-03T04:05:06.000Z'],
      );
      await fs.symlink?.('file', '/link');
      assert.equal((await fs.lstat('/link')).isSymlink, true);
      assert.equal(await fs.readlink?.('/link'), '/file');
      assert.equal(await fs.realpath('/link'), '/file');
      assert.equal(fs.capabilities.statvfs, true);
      const v = await fs.statVfs?.('/');
      assert.ok(v && v.bsize > 0 && v.blocks > 0, JSON.stringify(v));
      const ac = new AbortController();
      ac.abort();
      await rejectsWith(fs.stat('/file', { signal: ac.signal }), 'ABORTED', 'aborted stat');
    });
  });
}

async function listNames(fs: Fs, dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of fs.list(dir)) out.push(e.name);
  return out;
}

describeRemote('OpenSSH sshd', startOpenSshRemote);
describeRemote('this server', startSftpgoRemote);
