/**
 * The encrypted local backend on a temp directory: what lands on disk (SFTPGo 2.1.2's format,
 * checked with format.ts directly, in both directions), failures that must never yield wrong
 * data, ranged reads at package boundaries, handles released, and building it from a user's
 * filesystem config through the registry and the KMS. The Fs contract itself is
 * test/integration/vfs-contract/crypt.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { SftpgoError, type ErrorCode } from '../../../errors/index.js';
import type { ApiSecret } from '../../../api/index.js';
import { createKms, type Secret } from '../../../kms/index.js';
import { createFs, type SecretDecrypter } from '../../registry.js';
import { decryptFile, encryptFile } from '../../../../test/helpers/crypt.js';
import { CryptFs, encryptedFileSize } from './index.js';

const PASS = 'crypt backend passphrase ✓';
const K = 65536;

function code(c: ErrorCode, message?: string) {
  return (e: unknown): boolean => {
    assert.ok(SftpgoError.is(e), `expected SftpgoError, got ${String(e)}`);
    assert.equal(e.code, c, `expected ${c}, got ${e.code}: ${e.message}`);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  };
}

async function put(fs: CryptFs, p: string, data: Buffer): Promise<void> {
  const up = await fs.openWrite(p);
  const pieces: Buffer[] = [];
  for (let i = 0; i < data.length; i += 32 * 1024) pieces.push(data.subarray(i, i + 32 * 1024));
  await pipeline(Readable.from(pieces, { objectMode: false }), up.stream);
  assert.deepEqual(await up.done, { bytes: data.length });
}

/** everything the stream yields before it ends or fails, and how it failed */
async function read(
  fs: CryptFs,
  p: string,
  offset?: number,
): Promise<{ data: Buffer; error?: unknown }> {
  const r = await fs.openRead(p, offset === undefined ? undefined : { offset });
  const got: Buffer[] = [];
  try {
    for await (const c of r) got.push(c as Buffer);
    return { data: Buffer.concat(got) };
  } catch (error) {
    return { data: Buffer.concat(got), error };
  }
}

async function readOk(fs: CryptFs, p: string, offset?: number): Promise<Buffer> {
  const r = await read(fs, p, offset);
  if (r.error !== undefined) throw r.error;
  return r.data;
}

async function openFds(): Promise<number> {
  return (await fsp.readdir('/proc/self/fd')).length;
}

let base: string;
let root: string;
let fs: CryptFs;

before(async () => {
  base = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'sftpgo-cryptfs-')));
  root = path.join(base, 'root');
  await fsp.mkdir(root);
  fs = new CryptFs({ root, passphrase: PASS });
});

after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

void describe('CryptFs: the files on disk', () => {
  void it('are encrypted: version byte 0x10, never the plaintext, encryptedFileSize bytes', async () => {
    for (const size of [0, 1, K - 1, K, K + 1, 3 * K, 100_000]) {
      const plain = Buffer.alloc(size, 'a');
      await put(fs, `/disk-${size}`, plain);
      const raw = await fsp.readFile(path.join(root, `disk-${size}`));
      assert.equal(raw.length, encryptedFileSize(size), `size on disk for ${size}`);
      assert.equal(raw[0], 0x10, `header byte for ${size}`);
      // a run of 16 plaintext bytes does not occur by chance in a ciphertext
      if (size >= 16) assert.equal(raw.indexOf(plain.subarray(0, 16)), -1, `plaintext in ${size}`);
      assert.equal((await fs.stat(`/disk-${size}`)).size, size, `stat size for ${size}`);
    }
  });

  void it("the backend's files decrypt with format.ts alone, as SFTPGo would read them", async () => {
    const plain = randomBytes(5 * K + 999);
    await put(fs, '/ours.bin', plain);
    assert.deepEqual(await decryptFile(path.join(root, 'ours.bin'), PASS), plain);
  });

  void it('files encrypted outside the backend (as SFTPGo writes them) read back', async () => {
    const plain = randomBytes(4 * K + 17);
    await fsp.mkdir(path.join(root, 'theirs'));
    await encryptFile(path.join(root, 'theirs', 'f.bin'), plain, PASS);
    await encryptFile(path.join(root, 'theirs', 'empty'), Buffer.alloc(0), PASS);
    assert.deepEqual(await readOk(fs, '/theirs/f.bin'), plain);
    assert.deepEqual(await readOk(fs, '/theirs/empty'), Buffer.alloc(0));
    const listed = new Map<string, number>();
    for await (const i of fs.list('/theirs')) listed.set(i.name, i.size);
    assert.deepEqual(Object.fromEntries(listed), { 'f.bin': plain.length, empty: 0 });
    assert.deepEqual(await fs.usage('/theirs'), { files: 2, bytes: plain.length });
  });
});

void describe('CryptFs: damaged data is an error, never data', () => {
  void it('a wrong passphrase fails authentication before any byte', async () => {
    await put(fs, '/secret.bin', randomBytes(2 * K));
    const other = new CryptFs({ root, passphrase: 'not the passphrase' });
    const r = await read(other, '/secret.bin');
    assert.equal(r.data.length, 0);
    assert.ok(code('INTERNAL', 'sio: authentication failed')(r.error));
    assert.equal((r.error as SftpgoError).expose, true);
    // the size shown does not depend on the passphrase
    assert.equal((await other.stat('/secret.bin')).size, 2 * K);
  });

  void it('a flipped byte fails at its package, after only verified plaintext', async () => {
    const plain = randomBytes(20 * K);
    await put(fs, '/tampered.bin', plain);
    const file = path.join(root, 'tampered.bin');
    const raw = await fsp.readFile(file);
    // a ciphertext byte of package 11 (of 20)
    const at = 33 + 11 * (K + 32) + 16 + 100;
    raw[at] = raw[at]! ^ 1;
    await fsp.writeFile(file, raw);
    for (const offset of [0, 10 * K + 5, 11 * K + 7]) {
      const r = await read(fs, '/tampered.bin', offset);
      assert.ok(code('INTERNAL', 'sio: authentication failed')(r.error), `offset ${offset}`);
      const verified = Math.max(0, 11 * K - offset);
      assert.ok(r.data.length <= verified, `offset ${offset}: ${r.data.length} bytes`);
      assert.deepEqual(r.data, plain.subarray(offset, offset + r.data.length), `offset ${offset}`);
    }
    // a read that starts after the damaged package never touches it
    assert.deepEqual(await readOk(fs, '/tampered.bin', 12 * K), plain.subarray(12 * K));
  });

  void it('a plain file dropped into the home is refused with the header error', async () => {
    await fsp.writeFile(
      path.join(root, 'plain.txt'),
      'not encrypted at all, long enough to have a header',
    );
    const r = await read(fs, '/plain.txt');
    assert.equal(r.data.length, 0);
    assert.ok(code('INTERNAL', 'unsupported encryption version: 110')(r.error));
  });
});

void describe('CryptFs: ranged reads', () => {
  void it('start at any offset around package boundaries', async () => {
    for (const size of [2 * K, 2 * K + 1, 3 * K - 1]) {
      const plain = randomBytes(size);
      const p = `/ranged-${size}`;
      await put(fs, p, plain);
      const offsets = [
        0,
        1,
        K - 1,
        K,
        K + 1,
        2 * K - 1,
        2 * K,
        2 * K + 1,
        size - 1,
        size,
        size + 1,
      ];
      for (const off of offsets) {
        assert.deepEqual(
          await readOk(fs, p, off),
          plain.subarray(off),
          `size ${size} offset ${off}`,
        );
      }
    }
  });

  void it('release the file when a stream ends, fails or is destroyed', async () => {
    await put(fs, '/handles.bin', randomBytes(40 * K));
    await put(fs, '/handles-bad.bin', randomBytes(40 * K));
    const bad = path.join(root, 'handles-bad.bin');
    const raw = await fsp.readFile(bad);
    raw[33 + 20] = raw[33 + 20]! ^ 1;
    await fsp.writeFile(bad, raw);
    const before = await openFds();
    for (let i = 0; i < 20; i++) {
      await readOk(fs, '/handles.bin', i * 1000);
      assert.ok((await read(fs, '/handles-bad.bin')).error);
      const s = await fs.openRead('/handles.bin');
      await new Promise((resolve) => s.once('readable', resolve));
      s.destroy();
      await new Promise((resolve) => s.once('close', resolve));
    }
    // closes are asynchronous: give the last ones a moment
    for (let i = 0; i < 50 && (await openFds()) > before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await openFds(), before);
  });
});

void describe('CryptFs: refused operations', () => {
  void it('resume, in-place writes and truncate are OP_UNSUPPORTED and change nothing', async () => {
    await put(fs, '/keep.bin', Buffer.from('keep me'));
    await assert.rejects(fs.openWrite('/keep.bin', { offset: 3 }), code('OP_UNSUPPORTED'));
    await assert.rejects(fs.openWrite('/keep.bin', { truncate: false }), code('OP_UNSUPPORTED'));
    await assert.rejects(fs.setStat('/keep.bin', { size: 2, mode: 0o600 }), code('OP_UNSUPPORTED'));
    assert.equal((await readOk(fs, '/keep.bin')).toString(), 'keep me');
    assert.notEqual((await fs.stat('/keep.bin')).mode & 0o777, 0o600, 'the mode was not applied');
    assert.equal('openFile' in fs, false);
  });

  void it('keeps the file permissions (chmod is visible) and follows symlinks to plaintext sizes', async () => {
    await put(fs, '/perm.bin', Buffer.alloc(1000));
    await fs.setStat('/perm.bin', { mode: 0o640 });
    const st = await fs.stat('/perm.bin');
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.size, 1000);
    await fs.symlink('perm.bin', '/perm.link');
    const link = await fs.lstat('/perm.link');
    assert.equal(link.isSymlink, true);
    assert.equal(link.size, (await fsp.lstat(path.join(root, 'perm.link'))).size);
    assert.equal((await fs.stat('/perm.link')).size, 1000);
  });
});

void describe('crypt through the registry (provider 4)', () => {
  const kms = createKms({ secrets: { url: '', master_key_path: '' } }, tmpdir());
  // as the service wires it (src/service/start.ts secretDecrypter and secretEncrypter)
  const apiSecret = ({ status, ...rest }: Secret): ApiSecret =>
    status ? { ...rest, status } : rest;
  const decryptSecret: SecretDecrypter = (s) => kms.decrypt({ ...s, status: s.status ?? '' });

  void it('decrypts the passphrase with the KMS and reads files written with it', async () => {
    const dir = path.join(base, 'registry');
    await fsp.mkdir(dir);
    const plain = randomBytes(K + 3);
    await encryptFile(path.join(dir, 'f.bin'), plain, 'from the kms');
    const secret = apiSecret(await kms.encrypt({ status: 'Plain', payload: 'from the kms' }));
    assert.notEqual(secret.payload, 'from the kms');
    const built = await createFs(
      { provider: 4, cryptconfig: { passphrase: secret } },
      { root: dir, decryptSecret },
    );
    assert.equal(built.kind, 'crypt');
    assert.equal(built.capabilities.randomAccess, false);
    assert.equal((await built.stat('/f.bin')).size, plain.length);
    const r = await built.openRead('/f.bin');
    const got: Buffer[] = [];
    for await (const c of r) got.push(c as Buffer);
    assert.deepEqual(Buffer.concat(got), plain);
    await built.close();
  });

  void it('refuses a missing decrypter, a missing or empty passphrase, without the passphrase in the message', async () => {
    const o = { root: path.join(base, 'refused') };
    const secret = apiSecret(await kms.encrypt({ status: 'Plain', payload: 'hunter2-passphrase' }));
    const cases: [string, Promise<unknown>, ErrorCode][] = [
      [
        'no decrypter',
        createFs({ provider: 4, cryptconfig: { passphrase: secret } }, o),
        'INTERNAL',
      ],
      ['no cryptconfig', createFs({ provider: 4 }, { ...o, decryptSecret }), 'INVALID_INPUT'],
      [
        'empty passphrase',
        createFs(
          { provider: 4, cryptconfig: { passphrase: { status: 'Plain', payload: '' } } },
          { ...o, decryptSecret },
        ),
        'INVALID_INPUT',
      ],
      [
        'failing decrypter',
        createFs(
          { provider: 4, cryptconfig: { passphrase: secret } },
          {
            ...o,
            decryptSecret: () => Promise.reject(new Error('kms down for hunter2-passphrase')),
          },
        ),
        'INTERNAL',
      ],
    ];
    for (const [what, op, c] of cases) {
      await assert.rejects(op, (e: unknown) => {
        assert.ok(code(c)(e), what);
        const err = e as SftpgoError;
        assert.match(err.message, /encrypted local filesystem/, what);
        assert.doesNotMatch(err.message, /hunter2/, what);
        assert.equal(err.expose, true, `${what}: the message reaches the client`);
        return true;
      });
    }
  });
});
