/**
 * End to end on Azure Blob storage: a user whose home is a container (provider 3, Azurite behind
 * a recording proxy; the account key sent as a Plain secret) runs the shared cloud home scenario
 * (cloud-home.ts); here only what is Azure's own: a 16 MiB upload goes in 4 MiB blocks.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import {
  startAzurite,
  startAzuriteProxy,
  type AzuriteProxy,
  type AzuriteServer,
} from '../../helpers/azurite.js';
import { describeCloudHome, MIB, type StoredObject } from './cloud-home.js';

const PREFIX = 'users/e2e/';
const CONTAINER = 'e2e';

let az: AzuriteServer;
let proxy: AzuriteProxy;
let container: ContainerClient;

describeCloudHome(
  {
    title: 'Azure Blob home through the server',
    provider: 3,
    prefix: PREFIX,
    bucket: CONTAINER,
    get plaintext() {
      return az.key;
    },
    async start() {
      az = await startAzurite();
      container = new BlobServiceClient(
        az.serviceUrl,
        new StorageSharedKeyCredential(az.account, az.key),
      ).getContainerClient(CONTAINER);
      await container.create();
      proxy = await startAzuriteProxy(az);
      return {
        provider: 3,
        azblobconfig: {
          container: CONTAINER,
          account_name: az.account,
          account_key: { status: 'Plain', payload: az.key },
          endpoint: proxy.endpoint,
          use_emulator: true,
          key_prefix: PREFIX,
        },
      };
    },
    async stop() {
      await proxy?.close();
      // Azurite exits only once every connection to it is closed: a download stream the server
      // left open (a seek, a reget) would hang here
      await az?.stop();
    },
    section: 'azblobconfig',
    secretField: 'account_key',
    bucketField: 'container',
    async objects() {
      const out: StoredObject[] = [];
      for await (const b of container.listBlobsFlat({ prefix: PREFIX })) {
        out.push({
          name: b.name.slice(PREFIX.length),
          size: b.properties.contentLength ?? 0,
          dir: b.properties.contentType === 'inode/directory',
        });
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    marker: (dir) => dir,
    watchRangedGets() {
      proxy.log.length = 0;
      return () => proxy.log.filter((r) => r.method === 'GET' && r.comp === '').map((r) => r.range);
    },
  },
  (ctx) => {
    void it('a 16 MiB upload is committed in 4 MiB blocks', async () => {
      await ctx.sftp([`put ${join(ctx.local, 'big.bin')} /blocks.bin`]);
      const blob = container.getBlockBlobClient(`${PREFIX}blocks.bin`);
      assert.equal((await blob.getProperties()).contentLength, 16 * MIB);
      const blocks = await blob.getBlockList('committed');
      assert.equal(blocks.committedBlocks?.length, 4);
      await ctx.sftp(['rm /blocks.bin']);
    });
  },
);
