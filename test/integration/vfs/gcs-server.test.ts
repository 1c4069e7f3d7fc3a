/**
 * End to end: a user whose home is a GCS bucket (provider 2, the service account JSON sent as a
 * Plain secret) runs the shared cloud home scenario (cloud-home.ts); here only what is GCS's own:
 * no resumable upload session is left open, and a local user with a virtual folder on GCS. The
 * server reaches the GCS emulator the documented way: STORAGE_EMULATOR_HOST in its environment
 * (the server runs in this process).
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import type { ApiFolder, ApiFilesystemConfig } from '../../../src/api/index.js';
import { startGcsEmulator, type GcsEmulator } from '../../helpers/gcs-emulator.js';
import { randomFile, sha256File } from '../../helpers/sftpd.js';
import { describeCloudHome, MIB } from './cloud-home.js';

const BUCKET = 'sftpgo-e2e';
const PREFIX = 'users/alice/';
const FOLDER_PREFIX = 'folders/shared/';
/** a service account key as GCS issues them; the emulator checks no credentials */
const PRIVATE_KEY_MARKER = 'e2e-private-key-material-Zq9w';
const SERVICE_ACCOUNT = JSON.stringify({
  type: 'service_account',
  project_id: 'e2e-project',
  private_key_id: '0123456789abcdef',
  private_key: `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_MARKER}\n-----END PRIVATE KEY-----\n`,
  client_email: 'sftpgo@e2e-project.iam.gserviceaccount.com',
  client_id: '123456789',
  token_uri: 'https://oauth2.googleapis.com/token',
});

function gcsFs(keyPrefix: string): ApiFilesystemConfig {
  return {
    provider: 2,
    gcsconfig: {
      bucket: BUCKET,
      key_prefix: keyPrefix,
      credentials: { status: 'Plain', payload: SERVICE_ACCOUNT },
      storage_class: 'STANDARD',
    },
  };
}

let emu: GcsEmulator;
let bucket: Bucket;

async function names(prefix: string): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix });
  return files.map((f) => f.name.slice(prefix.length)).sort();
}

describeCloudHome(
  {
    title: 'GCS home and GCS virtual folder through the server',
    provider: 2,
    prefix: PREFIX,
    bucket: BUCKET,
    plaintext: PRIVATE_KEY_MARKER,
    async start() {
      emu = await startGcsEmulator();
      process.env.STORAGE_EMULATOR_HOST = emu.endpoint;
      [bucket] = await new Storage({ projectId: 'test' }).createBucket(BUCKET);
      return gcsFs(PREFIX);
    },
    stop: async () => emu?.stop(),
    section: 'gcsconfig',
    secretField: 'credentials',
    bucketField: 'bucket',
    async objects() {
      const [files] = await bucket.getFiles({ prefix: PREFIX });
      return files
        .map((f) => ({
          name: f.name.slice(PREFIX.length),
          size: Number(f.metadata.size ?? 0),
          dir: f.metadata.contentType === 'inode/directory',
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    marker: (dir) => `${dir}/`,
    watchRangedGets() {
      const ranges: string[] = [];
      const onRequest = (r: { method: string; range: string }): void => {
        if (r.method === 'GET' && r.range !== '') ranges.push(r.range);
      };
      emu.events.on('request', onRequest);
      return () => {
        emu.events.off('request', onRequest);
        return ranges;
      };
    },
  },
  (ctx) => {
    void it('leaves no resumable upload session open', () => {
      assert.deepEqual(emu.openSessions(), [], 'no upload session left open');
    });

    void it('a virtual folder on GCS in a local home: sftp put/get, its own prefix and secret', async () => {
      const { env, local } = ctx;
      const name = 'gcs-shared';
      const folder = await env.srv.api('POST', '/folders', {
        name,
        mapped_path: join(env.dir, 'unused-folder-dir'),
        filesystem: gcsFs(FOLDER_PREFIX),
      });
      assert.equal(folder.status, 201, folder.text);
      const shown = await env.srv.api<ApiFolder>('GET', `/folders/${name}`);
      assert.equal(shown.body.filesystem?.gcsconfig?.credentials?.status, 'Secretbox');
      assert.ok(!shown.text.includes(PRIVATE_KEY_MARKER));
      const owner = await env.createUser({
        virtual_folders: [{ name, virtual_path: '/cloud' }],
      });
      const src = join(local, 'folder.bin');
      const sum = await randomFile(src, 2 * MIB + 1);
      const out = join(local, 'folder.back');
      const listing = await ctx.sftp(
        [
          `put ${src} /cloud/in-folder.bin`,
          `get /cloud/in-folder.bin ${out}`,
          'ls /cloud',
          `put ${src} /local.bin`,
        ],
        owner,
      );
      assert.match(listing, /in-folder\.bin/);
      assert.equal(await sha256File(out), sum);
      assert.deepEqual(await names(FOLDER_PREFIX), ['in-folder.bin']);
      assert.ok(!(await names(PREFIX)).includes('local.bin'), 'the home stays local');
      assert.equal(await sha256File(join(owner.home, 'local.bin')), sum);
    });
  },
);
