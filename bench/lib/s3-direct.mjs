// The S3 peer of bench/s3-via-sftp.mjs: the AWS SDK moving a file to or from an S3-compatible
// server directly, as a client process of its own (like OpenSSH's sftp on our side).
//   node bench/lib/s3-direct.mjs put|get <endpoint> <bucket> <key> <file> <partMiB> <concurrency>
// put: @aws-sdk/lib-storage's Upload from a file stream (the part size and concurrency our
// backend uses); get: one GetObject streamed to the file. Prints the seconds taken.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const [op, endpoint, bucket, key, file, partMiB, concurrency] = process.argv.slice(2);
if (!['put', 'get'].includes(op ?? '') || !concurrency) {
  process.stderr.write('usage: s3-direct.mjs put|get <endpoint> <bucket> <key> <file> <partMiB> <concurrency>\n');
  process.exit(2);
}
const client = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const t0 = process.hrtime.bigint();
if (op === 'put') {
  await new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }) },
    partSize: Number(partMiB) * 1024 * 1024,
    queueSize: Number(concurrency),
  }).done();
} else {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(r.Body, createWriteStream(file));
}
process.stdout.write(`${Number(process.hrtime.bigint() - t0) / 1e9}\n`);
client.destroy();
