/**
 * The VFS contract on the S3 backend, against s3rver (test/helpers/s3rver.ts): once at the
 * bucket's root and once below a key prefix. Leftovers are the bucket's pending multipart
 * uploads.
 */
import { S3Fs } from '../../../src/vfs/backends/s3/index.js';
import { S3RVER_KEY, S3RVER_SECRET, startS3rver } from '../../helpers/s3rver.js';
import { describeFsContract, type FsContractSubject } from './contract.js';

const BUCKET = 'contract';

async function s3Subject(keyPrefix: string): Promise<FsContractSubject> {
  const s3 = await startS3rver({ buckets: [BUCKET] });
  return {
    fs: new S3Fs({
      bucket: BUCKET,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
      keyPrefix,
    }),
    listLeftovers: async () =>
      (await s3.pendingUploads(BUCKET)).map((u) => `multipart upload of ${u.key}`),
    cleanup: () => s3.stop(),
  };
}

describeFsContract('s3', () => s3Subject(''));
describeFsContract('s3 with key_prefix', () => s3Subject('users/alice/'));
