/**
 * Encrypted files on disk (SFTPGo 2.1.2's format, src/vfs/backends/crypt/format.ts) written and
 * read with the format alone, without the backend: what SFTPGo itself would write or read.
 */
import * as fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptTransform, decryptFrom } from '../../src/vfs/backends/crypt/format.js';

/** the plaintext of the encrypted file at `path` */
export async function decryptFile(path: string, passphrase: string): Promise<Buffer> {
  const fh = await fsp.open(path, 'r');
  try {
    const out: Buffer[] = [];
    for await (const c of decryptFrom(fh, passphrase)) out.push(Buffer.from(c));
    return Buffer.concat(out);
  } finally {
    await fh.close();
  }
}

/** writes `plain` encrypted to `path` */
export async function encryptFile(path: string, plain: Buffer, passphrase: string): Promise<void> {
  const fh = await fsp.open(path, 'w');
  await pipeline(
    Readable.from([plain], { objectMode: false }),
    new EncryptTransform(passphrase),
    fh.createWriteStream(),
  );
}
