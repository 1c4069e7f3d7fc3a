/**
 * The VFS contract on the Azure Blob backend, against a private Azurite
 * (test/helpers/azurite.ts): once at the container's root with the account key, once below a
 * key prefix through a container SAS URL.
 *
 * Leftovers: this backend writes no temporary blobs, so there are none to list. The blocks an
 * aborted upload staged stay uncommitted, as upstream leaves them: they are not blobs, no
 * listing or read can reach them, a later upload to the same name replaces them, and Azure
 * discards them after a week (storage-2.1.2.md §5). Whether any were staged before the abort
 * depends on timing, so they are not reported here; the contract still checks that nothing
 * was committed (no blob, or the old content) and test/integration/vfs/azblob.test.ts pins the
 * abort after blocks were staged.
 */
import { randomBytes } from 'node:crypto';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { AzureBlobFs, containerClientFor } from '../../../src/vfs/backends/azblob/index.js';
import { startAzurite } from '../../helpers/azurite.js';
import { describeFsContract, type FsContractSubject } from './contract.js';

async function azureSubject(o: { sas: boolean; keyPrefix?: string }): Promise<FsContractSubject> {
  const az = await startAzurite();
  try {
    const credential = new StorageSharedKeyCredential(az.account, az.key);
    const name = `contract-${randomBytes(4).toString('hex')}`;
    const container = new BlobServiceClient(az.serviceUrl, credential).getContainerClient(name);
    await container.create();
    const sas = () =>
      generateBlobSASQueryParameters(
        {
          containerName: name,
          permissions: ContainerSASPermissions.parse('racwdl'),
          expiresOn: new Date(Date.now() + 3600_000),
        },
        credential,
      ).toString();
    const target = o.sas
      ? containerClientFor({}, { sasUrl: `${container.url}?${sas()}` })
      : containerClientFor(
          { container: name, endpoint: az.endpoint, useEmulator: true },
          { accountName: az.account, accountKey: az.key },
        );
    return {
      fs: new AzureBlobFs({
        ...target,
        ...(o.keyPrefix !== undefined ? { keyPrefix: o.keyPrefix } : {}),
      }),
      listLeftovers: () => Promise.resolve([]),
      cleanup: () => az.stop(),
    };
  } catch (e) {
    await az.stop();
    throw e;
  }
}

describeFsContract('azblob', () => azureSubject({ sas: false }));
describeFsContract('azblob with a container SAS URL and key_prefix', () =>
  azureSubject({ sas: true, keyPrefix: 'users/alice/' }),
);
