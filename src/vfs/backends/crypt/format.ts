/**
 * SFTPGo 2.1.2's encrypted file format (storage-2.1.2.md §2.1, upstream vfs/cryptfs.go), byte
 * for byte, as pure streaming logic: no backend wiring here.
 *
 *   0x10 | salt(32) | DARE 2.0 stream (dare.ts)
 *
 * The per-file key is HKDF-SHA256(passphrase bytes, salt, empty info), 32 bytes. Neither
 * direction ever holds more than a few packages of a file in memory.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import {
  DARE_HEADER_SIZE,
  DARE_MAX_PACKAGES,
  DARE_NONCE_SIZE,
  DARE_PACKAGE_SIZE,
  DARE_PAYLOAD_SIZE,
  DARE_TAG_SIZE,
  DareOpener,
  DareSealer,
  SIO_ERRORS,
  cryptFormatError,
} from './dare.js';

/** the only header version byte SFTPGo writes and accepts */
export const CRYPT_VERSION = 0x10;
export const CRYPT_SALT_SIZE = 32;
/** version byte + salt: an empty file encrypts to exactly this */
export const CRYPT_HEADER_SIZE = 1 + CRYPT_SALT_SIZE;
/** packages read per ciphertext read while decrypting (8 × 65568 bytes) */
const READ_PACKAGES = 8;
/** sio's maxEncryptedSize: DecryptedSize refuses larger streams */
const MAX_STREAM_SIZE = 2 ** 48 + (DARE_HEADER_SIZE + DARE_TAG_SIZE) * DARE_MAX_PACKAGES;

export type Passphrase = string | Buffer;

/** HKDF-SHA256(IKM = passphrase as UTF-8, salt, info = empty), the first 32 bytes */
export function deriveFileKey(passphrase: Passphrase, salt: Buffer): Buffer {
  const ikm = typeof passphrase === 'string' ? Buffer.from(passphrase, 'utf8') : passphrase;
  return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.alloc(0), 32));
}

/**
 * Raw size of the encrypted file holding `plaintextSize` bytes, header included (upstream's
 * `sio.EncryptedSize(P) + 33`): 0 → 33, 1 → 66, 65536 → 65601.
 */
export function encryptedFileSize(plaintextSize: number): number {
  const rest = plaintextSize % DARE_PAYLOAD_SIZE;
  return (
    CRYPT_HEADER_SIZE +
    Math.floor(plaintextSize / DARE_PAYLOAD_SIZE) * DARE_PACKAGE_SIZE +
    (rest > 0 ? rest + DARE_HEADER_SIZE + DARE_TAG_SIZE : 0)
  );
}

/**
 * Plaintext size of an encrypted file of `fileSize` raw bytes, as upstream's ConvertFileInfo
 * shows it: below 33 bytes → 0; a size no stream can have (a last package of 1..32 bytes) → the
 * raw size less the header.
 */
export function plaintextFileSize(fileSize: number): number {
  if (fileSize < CRYPT_HEADER_SIZE) return 0;
  const stream = fileSize - CRYPT_HEADER_SIZE;
  if (stream > MAX_STREAM_SIZE) return stream;
  const rest = stream % DARE_PACKAGE_SIZE;
  if (rest > 0 && rest <= DARE_HEADER_SIZE + DARE_TAG_SIZE) return stream;
  return (
    Math.floor(stream / DARE_PACKAGE_SIZE) * DARE_PAYLOAD_SIZE +
    (rest > 0 ? rest - DARE_HEADER_SIZE - DARE_TAG_SIZE : 0)
  );
}

export interface EncryptOptions {
  /**
   * Source of the random salt (32 bytes, asked first) and stream nonce (12 bytes); crypto
   * randomBytes by default. Tests inject fixed bytes to compare against known output.
   */
  random?: (size: number) => Buffer;
}

/**
 * Plaintext in, encrypted file out: the 33-byte header at once (so an empty upload still
 * yields a valid empty file), then one DARE package per 64 KiB. The last 1..65536 bytes are
 * held back until the end, because only then is it known that they form the final package.
 * Written chunks are sealed in place, not copied, unless a package spans several of them: as
 * with a PassThrough, a chunk must not be modified once written.
 */
export class EncryptTransform extends Transform {
  #sealer: DareSealer;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(passphrase: Passphrase, o: EncryptOptions = {}) {
    super({ writableHighWaterMark: DARE_PAYLOAD_SIZE, readableHighWaterMark: DARE_PACKAGE_SIZE });
    const random = o.random ?? randomBytes;
    const salt = random(CRYPT_SALT_SIZE);
    const nonce = random(DARE_NONCE_SIZE);
    if (salt.length !== CRYPT_SALT_SIZE || nonce.length !== DARE_NONCE_SIZE) {
      throw new RangeError('random source returned the wrong number of bytes');
    }
    this.#sealer = new DareSealer(deriveFileKey(passphrase, salt), nonce);
    this.push(encodeCryptHeader(salt));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      // strictly more than one payload: the held-back package is then known not to be final
      while (this.#pendingBytes > DARE_PAYLOAD_SIZE) {
        this.#pushPackage(this.#take(DARE_PAYLOAD_SIZE), false);
      }
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.#pendingBytes > 0) this.#pushPackage(this.#take(this.#pendingBytes), true);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  #pushPackage(plaintext: Buffer, final: boolean): void {
    this.push(this.#sealer.seal(plaintext, final));
  }

  /** the next `size` held-back bytes, copied only when they span several written chunks */
  #take(size: number): Buffer {
    const first = this.#pending[0]!;
    let out: Buffer;
    if (first.length >= size) {
      out = first.subarray(0, size);
      if (first.length === size) this.#pending.shift();
      else this.#pending[0] = first.subarray(size);
    } else {
      out = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const c = this.#pending[0]!;
        const n = Math.min(c.length, size - filled);
        c.copy(out, filled, 0, n);
        filled += n;
        if (n === c.length) this.#pending.shift();
        else this.#pending[0] = c.subarray(n);
      }
    }
    this.#pendingBytes -= size;
    return out;
  }
}

/** the 33 bytes every encrypted file starts with */
export function encodeCryptHeader(salt: Buffer): Buffer {
  if (salt.length !== CRYPT_SALT_SIZE) throw new RangeError('salt must be 32 bytes');
  const header = Buffer.allocUnsafe(CRYPT_HEADER_SIZE);
  header[0] = CRYPT_VERSION;
  salt.copy(header, 1);
  return header;
}

/**
 * Reads `length` bytes at `position`. A shorter buffer (or null) means the file ends there. The
 * decryptor reads one batch ahead, so a reader may recycle a returned buffer only on the second
 * call after the one that returned it.
 */
export type PositionalReader = (position: number, length: number) => Promise<Buffer | null>;

/** the subset of node:fs/promises FileHandle used here */
export interface FileHandleLike {
  read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
}

/** a PositionalReader over a file handle, reading into two buffers in turn */
export function fileHandleReader(fh: FileHandleLike): PositionalReader {
  const buffers = [Buffer.alloc(0), Buffer.alloc(0)];
  let turn = 0;
  return async (position, length) => {
    turn ^= 1;
    if (buffers[turn]!.length < length) buffers[turn] = Buffer.allocUnsafe(length);
    const buf = buffers[turn]!;
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  };
}

/** Reads and checks the 33-byte header; returns the salt. Errors as upstream's header Load. */
export async function readCryptHeader(read: PositionalReader): Promise<Buffer> {
  const header = await read(0, CRYPT_HEADER_SIZE);
  const n = header?.length ?? 0;
  // Go's io.ReadFull errors, which upstream returns as they are
  if (n === 0) throw cryptFormatError('EOF');
  if (n < CRYPT_HEADER_SIZE) throw cryptFormatError('unexpected EOF');
  if (header![0] !== CRYPT_VERSION) {
    throw cryptFormatError(`unsupported encryption version: ${header![0]}`);
  }
  return Buffer.from(header!.subarray(1, CRYPT_HEADER_SIZE));
}

export interface DecryptOptions {
  /** plaintext offset to start at (default 0) */
  offset?: number;
  /**
   * Raw size of the file, if known (a FileHandleLike is asked with stat()). With it, an offset
   * at or past the plaintext end reads no package and yields nothing; without it, an offset
   * past the last package fails with `sio: unexpected EOF`, as sio's ReadAt does.
   */
  size?: number;
}

/**
 * Yields the plaintext of an encrypted file from `offset` on, one package at a time, never
 * releasing bytes of a package before its tag was verified. Starts at package
 * floor(offset / 65536) (sequence number = that index) and drops offset mod 65536 bytes of it,
 * as upstream's random-access download does. Every error is an SftpgoError with sio's text.
 */
export async function* decryptFrom(
  source: PositionalReader | FileHandleLike,
  passphrase: Passphrase,
  o: DecryptOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const offset = o.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
  let size = o.size;
  let read: PositionalReader;
  if (typeof source === 'function') {
    read = source;
  } else {
    read = fileHandleReader(source);
    size ??= (await source.stat()).size;
  }
  const key = deriveFileKey(passphrase, await readCryptHeader(read));
  if (size !== undefined && offset >= plaintextFileSize(size)) return;
  const first = Math.floor(offset / DARE_PAYLOAD_SIZE);
  let skip = offset % DARE_PAYLOAD_SIZE;
  const opener = new DareOpener(key, first);
  let position = CRYPT_HEADER_SIZE + first * DARE_PACKAGE_SIZE;
  const want = READ_PACKAGES * DARE_PACKAGE_SIZE;
  // the next batch is read while this one is decrypted; settled, so no rejection goes unhandled
  const readBatch = (at: number) =>
    read(at, want).then(
      (b) => ({ batch: b ?? Buffer.alloc(0) }),
      (error: unknown) => ({ error }),
    );
  let pending: ReturnType<typeof readBatch> | undefined = readBatch(position);
  try {
    while (pending) {
      const r = await pending;
      pending = undefined;
      if ('error' in r) throw r.error;
      const { batch } = r;
      const more = batch.length === want;
      if (more) pending = readBatch(position + want);
      // each package goes to the opener as sio's reader hands it: the next 65568 bytes or the rest
      for (let at = 0; at < batch.length; at += DARE_PACKAGE_SIZE) {
        const plaintext = opener.open(batch.subarray(at, at + DARE_PACKAGE_SIZE));
        if (skip >= plaintext.length) {
          skip -= plaintext.length; // only a final package can be shorter than the skip
          continue;
        }
        yield skip > 0 ? plaintext.subarray(skip) : plaintext;
        skip = 0;
      }
      if (!more) {
        // a stream with no package is an empty file, but only when read from its start
        if (opener.finalized || (batch.length === 0 && position === CRYPT_HEADER_SIZE)) return;
        throw cryptFormatError(SIO_ERRORS.unexpectedEOF);
      }
      position += want;
    }
  } finally {
    // stopped early (consumer gone, or an error): let the read ahead finish before the caller
    // may close the file; its outcome no longer matters
    if (pending) await pending;
  }
}

/** decryptFrom as a byte stream; destroying it stops the reads */
export function createDecryptStream(
  source: PositionalReader | FileHandleLike,
  passphrase: Passphrase,
  o: DecryptOptions = {},
): Readable {
  return Readable.from(decryptFrom(source, passphrase, o), {
    objectMode: false,
    highWaterMark: DARE_PAYLOAD_SIZE,
  });
}
