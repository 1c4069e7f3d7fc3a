/**
 * Fs.nativePath (upstream Fs.ResolvePath: what custom actions report as `path`) and
 * storageLocationOf (their fs_provider / bucket / endpoint). Backends are built without touching
 * any storage: nativePath is lexical.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFs, storageLocationOf, type FilesystemConfig } from './index.js';

const decryptSecret = (): Promise<string> => Promise.resolve('not-a-real-secret');

void describe('nativePath', () => {
  void it('local and crypt: the absolute path below the root, never above it', async () => {
    for (const config of [
      { provider: 0 },
      { provider: 4, cryptconfig: { passphrase: { status: 'Plain', payload: 'p' } } },
    ] as FilesystemConfig[]) {
      const fs = await createFs(config, { root: '/srv/homes/alice', decryptSecret });
      assert.equal(fs.nativePath('/a/b.txt'), '/srv/homes/alice/a/b.txt');
      assert.equal(fs.nativePath('/'), '/srv/homes/alice');
      assert.equal(fs.nativePath('/../../etc/passwd'), '/srv/homes/alice/etc/passwd');
      await fs.close();
    }
  });

  void it('S3 and GCS: the object key below the key prefix', async () => {
    const s3 = await createFs(
      {
        provider: 1,
        s3config: {
          bucket: 'bk',
          region: 'us-east-1',
          endpoint: 'http://127.0.0.1:9',
          key_prefix: 'pre/',
          access_key: 'a',
          access_secret: { status: 'Plain', payload: 'x' },
        },
      } as FilesystemConfig,
      { root: '/tmp/unused', decryptSecret },
    );
    assert.equal(s3.nativePath('/a/b.txt'), 'pre/a/b.txt');
    await s3.close();
    const gcs = await createFs(
      { provider: 2, gcsconfig: { bucket: 'gb', automatic_credentials: 1 } } as FilesystemConfig,
      { root: '/tmp/unused', decryptSecret },
    );
    assert.equal(gcs.nativePath('/a/b.txt'), 'a/b.txt');
    await gcs.close();
  });
});

void describe('storageLocationOf', () => {
  void it('provider, bucket / container, endpoint as upstream reports them', () => {
    assert.deepEqual(storageLocationOf(undefined), { provider: 0, bucket: '', endpoint: '' });
    assert.deepEqual(
      storageLocationOf({
        provider: 1,
        s3config: { bucket: 'b', endpoint: 'http://e' },
      } as FilesystemConfig),
      { provider: 1, bucket: 'b', endpoint: 'http://e' },
    );
    assert.deepEqual(
      storageLocationOf({ provider: 2, gcsconfig: { bucket: 'g' } } as FilesystemConfig),
      {
        provider: 2,
        bucket: 'g',
        endpoint: '',
      },
    );
    assert.deepEqual(
      storageLocationOf({
        provider: 3,
        azblobconfig: {
          container: 'c',
          endpoint: 'blob.example',
          sas_url: { status: 'Plain', payload: 'https://x?sig=secret' },
        },
      } as FilesystemConfig),
      { provider: 3, bucket: 'c', endpoint: 'blob.example' },
    );
    assert.deepEqual(storageLocationOf({ provider: 4 } as FilesystemConfig), {
      provider: 4,
      bucket: '',
      endpoint: '',
    });
    assert.deepEqual(
      storageLocationOf({ provider: 5, sftpconfig: { endpoint: 'h:22' } } as FilesystemConfig),
      {
        provider: 5,
        bucket: '',
        endpoint: 'h:22',
      },
    );
  });
});
