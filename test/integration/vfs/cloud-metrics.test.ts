/**
 * The S3, GCS and Azure Blob backends count their transfers and requests in upstream's
 * per-backend metrics (sftpgo_s3_*, sftpgo_gcs_*, sftpgo_az_*), against their emulators
 * (s3rver, the GCS JSON API emulator, Azurite): each operation moves exactly the counters of the
 * requests it makes, read back through the Prometheus text format.
 */
import { StorageSharedKeyCredential, BlobServiceClient } from '@azure/storage-blob';
import { Storage } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { metricsRegistry, type CloudBackend } from '../../../src/util/metrics.js';
import { AzureBlobFs, containerClientFor } from '../../../src/vfs/backends/azblob/index.js';
import { GcsFs } from '../../../src/vfs/backends/gcs/index.js';
import { S3Fs } from '../../../src/vfs/backends/s3/index.js';
import type { Fs } from '../../../src/vfs/index.js';
import { startAzurite, type AzuriteServer } from '../../helpers/azurite.js';
import { startGcsEmulator, type GcsEmulator } from '../../helpers/gcs-emulator.js';
import { parsePrometheusText, type ParsedMetrics } from '../../helpers/prometheus.js';
import { S3RVER_KEY, S3RVER_SECRET, startS3rver, type S3Emulator } from '../../helpers/s3rver.js';

const scrape = async (): Promise<ParsedMetrics> =>
  parsePrometheusText(await metricsRegistry.metrics());

/** what `op` moved among the backend's metrics (only the non-zero ones) */
async function moved(b: CloudBackend, op: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await scrape();
  await op();
  const after = await scrape();
  const out: Record<string, number> = {};
  for (const f of after.families.values()) {
    if (!f.name.startsWith(`sftpgo_${b}_`)) continue;
    const d = after.value(f.name) - before.value(f.name);
    if (d !== 0) out[f.name.slice(`sftpgo_${b}_`.length)] = d;
  }
  return out;
}

async function put(fs: Fs, p: string, data: Buffer): Promise<void> {
  const up = await fs.openWrite(p);
  await pipeline(Readable.from([data]), up.stream);
  await up.done;
}

async function get(fs: Fs, p: string): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of await fs.openRead(p)) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** reads the first chunk of a download, then drops it */
async function abandon(fs: Fs, p: string): Promise<void> {
  const r = await fs.openRead(p);
  for await (const _c of r) break;
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The same operations on every backend, with the counters each one moves. `head` is the
 * bucket (container) check of the root.
 */
function scenario(b: CloudBackend, head: string, fs: () => Fs): void {
  const data = randomBytes(300_000);

  void it('an upload and a download, with their bytes', async () => {
    assert.deepEqual(await moved(b, () => put(fs(), '/a.bin', data)), {
      uploads_total: 1,
      upload_size: 300_000,
    });
    let back: Buffer = Buffer.alloc(0);
    assert.deepEqual(
      await moved(b, async () => {
        back = await get(fs(), '/a.bin');
      }),
      { downloads_total: 1, download_size: 300_000 },
    );
    assert.ok(back.equals(data));
  });

  void it('a download abandoned by its reader is a download error, its bytes counted', async () => {
    const m = await moved(b, () => abandon(fs(), '/a.bin'));
    assert.equal(m.download_errors_total, 1, JSON.stringify(m));
    assert.equal(m.downloads_total, undefined);
    assert.ok((m.download_size ?? 0) > 0 && (m.download_size ?? 0) <= 300_000, JSON.stringify(m));
  });

  void it('stat: a head request; a missing path also a listing', async () => {
    assert.deepEqual(await moved(b, () => fs().stat('/a.bin')), { head_object: 1 });
    assert.deepEqual(await moved(b, () => assert.rejects(fs().stat('/missing.bin'))), {
      head_object_errors: 1,
      list_objects: 1,
    });
    assert.deepEqual(await moved(b, () => fs().stat('/')), { [head]: 1 });
  });

  void it('a listing page is one list request', async () => {
    const names: string[] = [];
    const m = await moved(b, async () => {
      for await (const e of fs().list('/')) names.push(e.name);
    });
    assert.deepEqual(names, ['a.bin']);
    assert.deepEqual(m, { list_objects: 1 });
  });

  void it('rename: a copy and a delete; remove: a delete', async () => {
    const r = await moved(b, () => fs().rename('/a.bin', '/b.bin'));
    assert.equal(r.copy_object, 1, JSON.stringify(r));
    assert.equal(r.delete_object, 1, JSON.stringify(r));
    assert.equal(r.copy_object_errors, undefined);
    const d = await moved(b, () => fs().remove('/b.bin'));
    assert.equal(d.delete_object, 1, JSON.stringify(d));
    assert.equal(d.delete_object_errors, undefined);
  });
}

void describe('S3 metrics (s3rver)', () => {
  let s3: S3Emulator;
  let fs: S3Fs;
  before(async () => {
    s3 = await startS3rver({ buckets: ['metrics'] });
    fs = new S3Fs({
      bucket: 'metrics',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    });
  });
  after(async () => {
    await fs.close();
    await s3.stop();
  });
  scenario('s3', 'head_bucket', () => fs);
});

void describe('GCS metrics (emulator)', () => {
  let emu: GcsEmulator;
  let dir: string;
  let fs: GcsFs;
  let saved: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gcs-metrics-'));
    emu = await startGcsEmulator({ dir });
    // the SDK reads the emulator's address from the environment when a client is built
    saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = emu.endpoint;
    await new Storage({ projectId: 'test' }).createBucket('metrics');
    fs = new GcsFs({ bucket: 'metrics' });
  });
  after(async () => {
    await fs.close();
    if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = saved;
    await emu.stop();
    await rm(dir, { recursive: true, force: true });
  });
  scenario('gcs', 'head_bucket', () => fs);
});

void describe('Azure Blob metrics (Azurite)', () => {
  let az: AzuriteServer;
  let fs: AzureBlobFs;
  before(async () => {
    az = await startAzurite();
    const service = new BlobServiceClient(
      az.serviceUrl,
      new StorageSharedKeyCredential(az.account, az.key),
    );
    await service.getContainerClient('metrics').create();
    fs = new AzureBlobFs(
      containerClientFor(
        { container: 'metrics', endpoint: az.endpoint, useEmulator: true },
        { accountName: az.account, accountKey: az.key },
      ),
    );
  });
  after(async () => {
    await fs.close();
    await az.stop();
  });
  scenario('az', 'head_container', () => fs);
});
