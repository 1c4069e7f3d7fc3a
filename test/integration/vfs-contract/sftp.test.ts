/**
 * The VFS contract on the SFTP backend, against both real remotes (OpenSSH's sshd and this
 * server), unbuffered (remote handles) and buffered (streamed transfers). The root is a fresh
 * directory on the remote given as `prefix`; leftovers are atomic-upload temp files anywhere
 * below it (they live in the target's remote directory).
 */
import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  sftpConfig,
  sftpFs,
  startOpenSshRemote,
  startSftpgoRemote,
  type SftpRemote,
} from '../vfs/sftp-remotes.js';
import { describeFsContract, type FsContractSubject } from './contract.js';

const TEMP_PREFIX = '.sftpgo-upload.';

async function sftpSubject(
  start: () => Promise<SftpRemote>,
  bufferSize: number,
): Promise<FsContractSubject> {
  const remote = await start();
  try {
    const { prefix, local } = await remote.fresh();
    return {
      fs: await sftpFs(sftpConfig(remote, { prefix, buffer_size: bufferSize })),
      listLeftovers: async () =>
        (await readdir(local, { recursive: true }))
          .filter((rel) => basename(rel).startsWith(TEMP_PREFIX))
          .sort(),
      cleanup: () => remote.stop(),
    };
  } catch (e) {
    await remote.stop();
    throw e;
  }
}

describeFsContract('sftp to OpenSSH', () => sftpSubject(startOpenSshRemote, 0));
describeFsContract('sftp to OpenSSH, buffered', () => sftpSubject(startOpenSshRemote, 2));
describeFsContract('sftp to this server', () => sftpSubject(startSftpgoRemote, 0));
describeFsContract('sftp to this server, buffered', () => sftpSubject(startSftpgoRemote, 2));
