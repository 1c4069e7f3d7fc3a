/**
 * End to end: a user whose home is an S3 bucket (provider 1, s3rver as the endpoint) runs the
 * shared cloud home scenario (cloud-home.ts); here only what is S3's own: 1 GiB and 2,000 files
 * through multipart uploads of 5 MiB parts.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { s3FsConfig, startS3rver, type S3Emulator } from '../../helpers/s3rver.js';
import { randomFile, sha256, sha256File } from '../../helpers/sftpd.js';
import { describeCloudHome, MIB, type StoredObject } from './cloud-home.js';

const BUCKET = 'sftpgo-e2e';
const PREFIX = 'users/alice/';
/** s3rver checks the access key only; any secret signs */
const SECRET = 'e2e-secret-Zq9w';

let s3: S3Emulator;

describeCloudHome(
  {
    title: 'S3 home through the server',
    provider: 1,
    prefix: PREFIX,
    bucket: BUCKET,
    plaintext: SECRET,
    async start() {
      s3 = await startS3rver({ buckets: [BUCKET] });
      return s3FsConfig(s3, BUCKET, {
        access_secret: { status: 'Plain', payload: SECRET },
        key_prefix: PREFIX,
        upload_part_size: 5,
        upload_concurrency: 2,
      });
    },
    stop: async () => s3?.stop(),
    section: 's3config',
    secretField: 'access_secret',
    bucketField: 'bucket',
    async objects() {
      const out: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await s3.client.send(
          new ListObjectsV2Command({
            Bucket: BUCKET,
            Prefix: PREFIX,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const o of page.Contents ?? []) {
          const name = (o.Key ?? '').slice(PREFIX.length);
          out.push({ name, size: o.Size ?? 0, dir: name.endsWith('/') });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    marker: (dir) => `${dir}/`,
    watchRangedGets() {
      s3.clearRequests();
      return () =>
        s3.requests.filter((r) => r.method === 'GET' && r.range !== '').map((r) => r.range);
    },
  },
  (ctx) => {
    const { sftp, names } = ctx;
    void it('sftp: 1 GiB and 2,000 small files byte-exact both ways (put -r / get -r)', async () => {
      const big = join(ctx.local, 'gib.bin');
      const bigSum = await randomFile(big, 1024 * MIB);
      const many = join(ctx.local, 'many');
      await mkdir(many);
      for (let i = 0; i < 2000; i++) await writeFile(join(many, `m${i}`), randomBytes(i % 97));
      const back = join(ctx.local, 'gib.back');
      const manyBack = join(ctx.local, 'many.back');
      await sftp([
        `put ${big} /gib.bin`,
        `get /gib.bin ${back}`,
        `put -r ${many} /many`,
        `get -r /many ${manyBack}`,
      ]);
      assert.equal(await sha256File(back), bigSum);
      const got = (await readdir(manyBack)).sort();
      assert.equal(got.length, 2000);
      for (const n of got) {
        assert.equal(
          sha256(await readFile(join(manyBack, n))),
          sha256(await readFile(join(many, n))),
          n,
        );
      }
      // 2,000 objects and the directory's marker
      const stored = await names();
      assert.equal(stored.filter((k) => k.startsWith('many/')).length, 2001);
      assert.ok(stored.includes('many/'));
      await sftp(['rm /gib.bin', 'rm /many/*', 'rmdir /many']);
    });
  },
);
