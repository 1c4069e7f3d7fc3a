/**
 * Contract subjects for the backends rooted at a local directory (local, crypt): a temp
 * directory as the root, with atomic-upload temp files beside their targets or, `withTempDir`,
 * in a temp dir outside the root (common.temp_path), where only listLeftovers can see them.
 */
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Fs } from '../../../src/vfs/index.js';
import type { FsContractSubject } from './contract.js';

const TEMP_PREFIX = '.sftpgo-upload.';

/** every file or directory below `dir` whose name starts with the atomic-upload temp prefix */
async function tempFiles(dir: string): Promise<string[]> {
  const all = await fsp.readdir(dir, { recursive: true });
  return all.filter((rel) => path.basename(rel).startsWith(TEMP_PREFIX)).sort();
}

export async function localRootSubject(
  withTempDir: boolean,
  make: (o: { root: string; tempDir?: string }) => Fs,
): Promise<FsContractSubject> {
  const base = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'sftpgo-contract-')));
  const root = path.join(base, 'root');
  const temp = path.join(base, 'temp');
  await fsp.mkdir(root);
  await fsp.mkdir(temp);
  return {
    fs: make({ root, ...(withTempDir ? { tempDir: temp } : {}) }),
    listLeftovers: async () => [
      ...(await tempFiles(root)),
      ...(await fsp.readdir(temp)).map((n) => `temp_path/${n}`),
    ],
    cleanup: () => fsp.rm(base, { recursive: true, force: true }),
  };
}
