/**
 * The VFS contract on the GCS backend, against the GCS JSON API emulator (test/helpers/
 * gcs-emulator.ts) reached the way the server reaches one: STORAGE_EMULATOR_HOST. Once at the
 * bucket root and once below a key prefix, with an object outside the prefix that no case may
 * see or touch. Leftovers: resumable upload sessions neither finished nor cancelled.
 */
import { Storage } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { GcsFs } from '../../../src/vfs/backends/gcs/index.js';
import { startGcsEmulator } from '../../helpers/gcs-emulator.js';
import { describeFsContract, type FsContractSubject } from './contract.js';

async function gcsSubject(bucket: string, keyPrefix: string): Promise<FsContractSubject> {
  const emu = await startGcsEmulator();
  process.env.STORAGE_EMULATOR_HOST = emu.endpoint;
  const admin = new Storage({ projectId: 'test' });
  await admin.createBucket(bucket);
  const outside = admin.bucket(bucket).file('outside/keep.txt');
  await outside.save('not below the prefix', { resumable: false });
  return {
    fs: new GcsFs({ bucket, keyPrefix }),
    listLeftovers: () => Promise.resolve(emu.openSessions()),
    async cleanup() {
      if (keyPrefix !== '') {
        const [[data]] = await Promise.all([outside.download()]);
        assert.equal(data.toString(), 'not below the prefix', 'the object outside the prefix');
      }
      await emu.stop();
    },
  };
}

describeFsContract('gcs', () => gcsSubject('contract-root', ''));
describeFsContract('gcs with key_prefix', () => gcsSubject('contract-prefixed', 'users/alice/'));
