/**
 * DARE 2.0 packages as minio/sio v0.3.0 writes and reads them (storage-2.1.2.md §2.1). Written by
 * hand on node:crypto: no npm package implements DARE, and the format is small. Mirrors sio's
 * dare.go (authEncV20.seal / authDecV20.Open) at v0.3.0, with sio's error texts.
 *
 *   package = header(16) || ciphertext(L) || tag(16), L = 1..65536
 *   header  = 0x20 | cipher | uint16le(L-1) | stream nonce(12), top bit of byte 4 = final flag
 *   AEAD nonce of package i = header[4..16] with bytes 8..12 XORed with uint32le(i); AAD = header[0..4]
 */
import {
  createCipheriv,
  createDecipheriv,
  timingSafeEqual,
  type CipherGCMTypes,
} from 'node:crypto';
import { SftpgoError } from '../../../errors/index.js';

export const DARE_VERSION = 0x20;
export const DARE_AES_256_GCM = 0x00;
export const DARE_CHACHA20_POLY1305 = 0x01;
export const DARE_HEADER_SIZE = 16;
export const DARE_TAG_SIZE = 16;
/** plaintext bytes of every package but the final one */
export const DARE_PAYLOAD_SIZE = 65536;
/** header + full payload + tag */
export const DARE_PACKAGE_SIZE = DARE_HEADER_SIZE + DARE_PAYLOAD_SIZE + DARE_TAG_SIZE;
export const DARE_NONCE_SIZE = 12;
/** sequence numbers are uint32: sio refuses streams of more packages */
export const DARE_MAX_PACKAGES = 2 ** 32;

const CIPHERS: Record<number, CipherGCMTypes | 'chacha20-poly1305'> = {
  [DARE_AES_256_GCM]: 'aes-256-gcm',
  [DARE_CHACHA20_POLY1305]: 'chacha20-poly1305',
};

/** sio's error texts (sio.go), the ones upstream SFTPGo sends to clients */
export const SIO_ERRORS = {
  unsupportedVersion: 'sio: unsupported version',
  unsupportedCipher: 'sio: unsupported cipher suite',
  invalidPayloadSize: 'sio: invalid payload size',
  authenticationFailed: 'sio: authentication failed',
  unexpectedSize: 'sio: size is too large for DARE',
  nonceMismatch: 'sio: header nonce mismatch',
  unexpectedEOF: 'sio: unexpected EOF',
  unexpectedData: 'sio: unexpected data after final package',
} as const;

/**
 * A damaged, tampered or foreign encrypted file, or a wrong passphrase. The stored data is at
 * fault, not the request: INTERNAL (SFTP failure, HTTP 500), with the message exposed as upstream
 * sends it (it names no path).
 */
export function cryptFormatError(message: string, cause?: unknown): SftpgoError {
  return new SftpgoError('INTERNAL', message, { cause, expose: true });
}

/** the AEAD nonce of package `seq`: the header's 12 nonce bytes, bytes 8..12 XORed with seq (LE) */
function packageNonce(header: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(header.subarray(4, DARE_HEADER_SIZE));
  nonce.writeUInt32LE((nonce.readUInt32LE(8) ^ seq) >>> 0, 8);
  return nonce;
}

/** Seals a stream's packages in order with AES-256-GCM (sio's choice on amd64). */
export class DareSealer {
  #key: Buffer;
  #nonce: Buffer;
  #seq = 0;
  #finalized = false;

  /** `nonce`: the 12 random bytes of this stream */
  constructor(key: Buffer, nonce: Buffer) {
    if (key.length !== 32) throw new RangeError('DARE key must be 32 bytes');
    if (nonce.length !== DARE_NONCE_SIZE) throw new RangeError('DARE nonce must be 12 bytes');
    this.#key = key;
    this.#nonce = Buffer.from(nonce);
  }

  /**
   * Encrypts one package of 1..65536 plaintext bytes (exactly 65536 unless `final`) with one
   * cipher call and returns it whole: header, ciphertext, tag. One buffer per package is what
   * measured best written to a file: three separate chunks meant more write calls, and buffers
   * of several packages (over glibc's mmap threshold) fresh pages for every one.
   */
  seal(plaintext: Buffer, final: boolean): Buffer {
    const len = plaintext.length;
    if (this.#finalized) throw new Error('sio: cannot seal any package after final one');
    if (len < 1 || len > DARE_PAYLOAD_SIZE || (!final && len !== DARE_PAYLOAD_SIZE)) {
      throw new RangeError(`invalid DARE package size ${len}`);
    }
    if (this.#seq >= DARE_MAX_PACKAGES) throw cryptFormatError(SIO_ERRORS.unexpectedSize);
    const out = Buffer.allocUnsafe(DARE_HEADER_SIZE + len + DARE_TAG_SIZE);
    out[0] = DARE_VERSION;
    out[1] = DARE_AES_256_GCM;
    out.writeUInt16LE(len - 1, 2);
    this.#nonce.copy(out, 4);
    out[4] = final ? out[4]! | 0x80 : out[4]! & 0x7f;
    const header = out.subarray(0, DARE_HEADER_SIZE);
    const cipher = createCipheriv('aes-256-gcm', this.#key, packageNonce(header, this.#seq), {
      authTagLength: DARE_TAG_SIZE,
    });
    cipher.setAAD(header.subarray(0, 4));
    // node's ciphers always return fresh output: this copy is the only one a package costs
    cipher.update(plaintext).copy(out, DARE_HEADER_SIZE);
    cipher.final(); // GCM: no further output
    cipher.getAuthTag().copy(out, DARE_HEADER_SIZE + len);
    this.#seq++;
    this.#finalized = final;
    return out;
  }
}

/**
 * Opens a stream's packages in order, with every check of sio's authDecV20.Open, in its order.
 * Accepts AES-256-GCM and ChaCha20-Poly1305 (sio on arm64 writes the latter).
 */
export class DareOpener {
  #key: Buffer;
  #seq: number;
  #ref: Buffer | undefined;
  #finalized = false;

  /** `seq`: the sequence number of the first package given to open() (its index in the stream) */
  constructor(key: Buffer, seq = 0) {
    if (key.length !== 32) throw new RangeError('DARE key must be 32 bytes');
    if (!Number.isInteger(seq) || seq < 0 || seq >= DARE_MAX_PACKAGES) {
      throw cryptFormatError(SIO_ERRORS.unexpectedSize);
    }
    this.#key = key;
    this.#seq = seq;
  }

  /** true once the final package was opened: any further data is an error */
  get finalized(): boolean {
    return this.#finalized;
  }

  /**
   * Authenticates and decrypts one package. `src` is what sio's reader hands to Open: the next
   * 65568 bytes of the stream, or fewer at its end. Returns the plaintext only once the tag has
   * been verified.
   */
  open(src: Buffer): Buffer {
    if (this.#finalized) throw cryptFormatError(SIO_ERRORS.unexpectedData);
    if (src.length <= DARE_HEADER_SIZE + DARE_TAG_SIZE) {
      throw cryptFormatError(SIO_ERRORS.invalidPayloadSize);
    }
    const header = src.subarray(0, DARE_HEADER_SIZE);
    // copied, as sio does, even when this package then fails a check
    const ref = (this.#ref ??= Buffer.from(header));
    if (header[0] !== DARE_VERSION) throw cryptFormatError(SIO_ERRORS.unsupportedVersion);
    const cipherId = header[1]!;
    const algorithm = CIPHERS[cipherId];
    if (algorithm === undefined || cipherId !== ref[1]) {
      throw cryptFormatError(SIO_ERRORS.unsupportedCipher);
    }
    const len = header.readUInt16LE(2) + 1;
    if (DARE_HEADER_SIZE + len + DARE_TAG_SIZE !== src.length) {
      throw cryptFormatError(SIO_ERRORS.invalidPayloadSize);
    }
    const final = (header[4]! & 0x80) !== 0;
    if (!final && len !== DARE_PAYLOAD_SIZE) throw cryptFormatError(SIO_ERRORS.invalidPayloadSize);
    if (final) {
      this.#finalized = true;
      ref[4] = ref[4]! | 0x80;
    }
    if (!timingSafeEqual(header.subarray(4), ref.subarray(4))) {
      throw cryptFormatError(SIO_ERRORS.nonceMismatch);
    }
    const decipher = createDecipheriv(
      algorithm as CipherGCMTypes,
      this.#key,
      packageNonce(header, this.#seq),
      { authTagLength: DARE_TAG_SIZE },
    );
    decipher.setAAD(header.subarray(0, 4));
    decipher.setAuthTag(src.subarray(DARE_HEADER_SIZE + len));
    const plaintext = decipher.update(src.subarray(DARE_HEADER_SIZE, DARE_HEADER_SIZE + len));
    try {
      decipher.final();
    } catch (e) {
      throw cryptFormatError(SIO_ERRORS.authenticationFailed, e);
    }
    this.#seq++;
    return plaintext;
  }
}
