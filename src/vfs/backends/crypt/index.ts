/**
 * Encrypted local filesystem (provider 4, upstream vfs/cryptfs.go at v2.1.2): files on a local
 * directory, each one stored in SFTPGo 2.1.2's encrypted format (format.ts, storage-2.1.2.md
 * §2), so encrypted homes move between SFTPGo and sftpgo-ts in both directions.
 *
 * A decorator over LocalFs (STYLE.md §A: the one backend allowed to wrap another): the jail,
 * mkdir, rename, remove, symlinks, chmod/chown/chtimes, statvfs and atomic temp files are the
 * local backend's; this file adds the encryption of the content and the sizes clients see.
 *
 * - No positional access (randomAccess false): uploads are sequential streams through
 *   `openWrite`, downloads are `openRead` streams decrypted from any offset (a client that seeks
 *   gets a stream reopened at the new offset, src/common's streamSource).
 * - No resume and no truncate, as upstream: an encrypted stream cannot be continued or cut
 *   without rewriting it.
 * - stat/lstat/list show the plaintext size of regular files (computed from the size on disk);
 *   directories and symlinks pass through unchanged. Unlike upstream, files keep their own
 *   permission bits, owner and group (2.1.2 showed every file as 0644, owned by the server
 *   process), so a chmod is visible.
 * - Quota: usage() counts plaintext bytes, so that every quota number agrees: an upload is
 *   counted with the bytes the client sent, a delete or an overwrite with the stat size (also
 *   plaintext), and a scan must give the same total. SFTPGo 2.1.2 counted the ciphertext size
 *   everywhere (32 bytes more per 64 KiB, plus 33 per file); counters taken over from it are
 *   corrected by a quota scan.
 *
 * The passphrase stays in a private field: it never appears in an error message, a log line or
 * a serialized object.
 */
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SftpgoError } from '../../../errors/index.js';
import { mapFsError } from '../../errors.js';
import { normalizeVirtualPath } from '../../path.js';
import type { CreateFsOptions, FilesystemConfig } from '../../registry.js';
import type {
  FileInfo,
  Fs,
  FsCapabilities,
  Op,
  SetStatAttrs,
  StatVfs,
  Upload,
  Usage,
  WriteStreamOptions,
} from '../../types.js';
import { LocalFs, localOptionsOf, type LocalFsOptions } from '../local/index.js';
import { DARE_PAYLOAD_SIZE } from './dare.js';
import { EncryptTransform, decryptFrom, plaintextFileSize } from './format.js';

export {
  EncryptTransform,
  createDecryptStream,
  decryptFrom,
  encryptedFileSize,
  plaintextFileSize,
} from './format.js';

export interface CryptFsOptions extends LocalFsOptions {
  /** the passphrase in clear (decrypted from the user's or folder's Secret) */
  passphrase: string;
}

const CAPABILITIES: FsCapabilities = Object.freeze({
  resume: false,
  atomicUpload: true,
  randomAccess: false,
  symlinks: true,
  chmod: true,
  chown: true,
  chtimes: true,
  truncate: false,
  statvfs: true,
  rename: true,
  emulatedDirs: false,
});

/** what clients see of an entry: regular files with their plaintext size */
function plainInfo(i: FileInfo): FileInfo {
  return i.isFile ? { ...i, size: plaintextFileSize(i.size) } : i;
}

function isPrematureClose(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

export class CryptFs implements Fs {
  readonly kind = 'crypt' as const;
  readonly capabilities: FsCapabilities = CAPABILITIES;
  readonly #local: LocalFs;
  readonly #passphrase: string;

  constructor(o: CryptFsOptions) {
    const { passphrase, ...local } = o;
    if (typeof passphrase !== 'string' || passphrase === '') {
      throw new SftpgoError('INVALID_INPUT', 'the encrypted local filesystem needs a passphrase');
    }
    this.#passphrase = passphrase;
    // quota scans count what stat shows: plaintext sizes
    this.#local = new LocalFs({ ...local, usageSize: plaintextFileSize });
  }

  async stat(p: string, o?: Op): Promise<FileInfo> {
    return plainInfo(await this.#local.stat(p, o));
  }

  async lstat(p: string, o?: Op): Promise<FileInfo> {
    return plainInfo(await this.#local.lstat(p, o));
  }

  async *list(dir: string, o?: Op): AsyncIterableIterator<FileInfo> {
    for await (const i of this.#local.list(dir, o)) yield plainInfo(i);
  }

  /**
   * The plaintext from `offset` on. The file is opened (and a missing file refused) here; the
   * header is read on the first read, and a damaged or tampered file or a wrong passphrase is
   * an error on the stream, after the packages verified before it (never unverified data).
   * At or past the end the stream is empty. The file is closed when the stream ends, fails or
   * is destroyed.
   */
  async openRead(p: string, o?: Op & { offset?: number }): Promise<Readable> {
    const offset = o?.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid read offset');
    const handle = await this.#local.openFile(
      p,
      { read: true },
      o?.signal ? { signal: o.signal } : {},
    );
    let size: number;
    try {
      size = (handle.openInfo ?? (await handle.stat())).size;
    } catch (e) {
      await handle.close();
      throw e;
    }
    const passphrase = this.#passphrase;
    async function* plaintext(): AsyncGenerator<Buffer, void, undefined> {
      try {
        yield* decryptFrom((at, length) => handle.read(at, length), passphrase, { offset, size });
      } finally {
        await handle.close();
      }
    }
    const stream = Readable.from(plaintext(), {
      objectMode: false,
      highWaterMark: DARE_PAYLOAD_SIZE,
    });
    if (o?.signal) addAbortSignal(o.signal, stream);
    return stream;
  }

  /**
   * A new encrypted file from plaintext written to `stream`, through the local backend (a temp
   * file renamed onto the target with `atomic`). Resuming (offset > 0) and writing into an
   * existing file (truncate false) are OP_UNSUPPORTED, as upstream. Destroying the stream or
   * firing the signal aborts the local upload: no temp file and no partial ciphertext remain
   * (a direct overwrite has removed the old file when it opened: `inPlace`; an atomic one keeps
   * it). `done` resolves with the plaintext bytes once the file is durable and in place.
   */
  async openWrite(p: string, o?: WriteStreamOptions): Promise<Upload> {
    const offset = o?.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid write offset');
    if (offset > 0 || o?.truncate === false) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'resuming uploads is not supported by the encrypted local filesystem',
      );
    }
    const atomic = o?.atomic === true;
    const signal = o?.signal;
    const inner = await this.#local.openWrite(p, {
      atomic,
      truncate: true,
      ...(signal ? { signal } : {}),
    });
    const display = normalizeVirtualPath(p);
    const encrypt = new EncryptTransform(this.#passphrase);
    if (signal) addAbortSignal(signal, encrypt);
    const done = pipeline(encrypt, inner.stream).then(
      async () => ({ bytes: plaintextFileSize((await inner.done).bytes) }),
      async (e: unknown) => {
        // settles only once the local upload has removed what it wrote
        const innerError = await inner.done.then(
          () => undefined,
          (ie: unknown) => ie,
        );
        // the caller's reason (destroy(err), the signal) or the write failure, in that order
        const reason = encrypt.errored ?? innerError ?? e;
        if (isPrematureClose(reason)) throw new SftpgoError('ABORTED', 'upload aborted');
        throw mapFsError(reason, display, 'upload');
      },
    );
    // callers may only look at `stream`: no unhandled rejection for them
    done.catch(() => undefined);
    return { stream: encrypt, done, inPlace: !atomic };
  }

  mkdir(p: string, o?: Op & { recursive?: boolean; mode?: number }): Promise<void> {
    return this.#local.mkdir(p, o);
  }

  rename(from: string, to: string, o?: Op): Promise<void> {
    return this.#local.rename(from, to, o);
  }

  remove(p: string, o?: Op & { dir?: boolean }): Promise<void> {
    return this.#local.remove(p, o);
  }

  symlink(target: string, p: string, o?: Op): Promise<void> {
    return this.#local.symlink(target, p, o);
  }

  readlink(p: string, o?: Op): Promise<string> {
    return this.#local.readlink(p, o);
  }

  /** chmod / chown / chtimes as local; a size (truncate) is OP_UNSUPPORTED, nothing applied */
  async setStat(p: string, attrs: SetStatAttrs, o?: Op): Promise<void> {
    if (attrs.size !== undefined) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'truncate is not supported by the encrypted local filesystem',
      );
    }
    await this.#local.setStat(p, attrs, o);
  }

  /** regular files and their plaintext bytes */
  usage(dir: string, o?: Op): Promise<Usage> {
    return this.#local.usage(dir, o);
  }

  statVfs(p: string, o?: Op): Promise<StatVfs> {
    return this.#local.statVfs(p, o);
  }

  nativePath(p: string): string {
    return this.#local.nativePath(p);
  }

  realpath(p: string, o?: Op): Promise<string> {
    return this.#local.realpath(p, o);
  }

  close(): Promise<void> {
    return this.#local.close();
  }
}

const NO_PASSPHRASE = 'the encrypted local filesystem has no passphrase';

/**
 * Registry entry (src/vfs/registry.ts): provider 4. The passphrase is the config's
 * `cryptconfig.passphrase` Secret, decrypted with the KMS (`o.decryptSecret`); a missing
 * decrypter, a missing or empty passphrase or a failed decryption is a clear error that never
 * contains the passphrase.
 */
export async function create(config: FilesystemConfig, o: CreateFsOptions): Promise<Fs> {
  const secret = config.cryptconfig?.passphrase;
  if (!secret) throw new SftpgoError('INVALID_INPUT', NO_PASSPHRASE);
  if (!o.decryptSecret) {
    throw new SftpgoError(
      'INTERNAL',
      'the encrypted local filesystem needs the KMS to decrypt its passphrase',
      { expose: true },
    );
  }
  let passphrase: string;
  try {
    passphrase = await o.decryptSecret(secret);
  } catch (e) {
    throw new SftpgoError(
      SftpgoError.is(e) ? e.code : 'INTERNAL',
      'unable to decrypt the passphrase of the encrypted local filesystem',
      { cause: e, expose: true },
    );
  }
  if (passphrase === '') throw new SftpgoError('INVALID_INPUT', NO_PASSPHRASE);
  return new CryptFs({ ...localOptionsOf(o), passphrase });
}
