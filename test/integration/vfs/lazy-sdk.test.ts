/**
 * The AWS SDK loads only when a filesystem uses S3: nothing the server loads at start imports
 * it (the registry's lazy import is its only entry). Checked in a fresh process, whose module
 * cache shows what was loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const SRC = resolve(import.meta.dirname, '../../../src');

void it('the AWS SDK is loaded by the first S3 filesystem, not by the server', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-lazy-sdk-'));
  try {
    const script = join(dir, 'probe.mts');
    await writeFile(
      script,
      `import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
const sdk = () => Object.keys(cache).filter((k) => k.includes('/@aws-sdk/')).length;
await import(${JSON.stringify(join(SRC, 'service/index.ts'))});
const { createFs } = await import(${JSON.stringify(join(SRC, 'vfs/index.ts'))});
const atStart = sdk();
const fs = await createFs(
  { provider: 1, s3config: { bucket: 'lazy', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' } },
  { root: '/unused' },
);
await fs.close();
console.log(JSON.stringify({ atStart, afterS3: sdk() }));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 60_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      atStart: number;
      afterS3: number;
    };
    assert.equal(r.atStart, 0, 'no SDK module loaded by the service and vfs entry points');
    assert.ok(r.afterS3 > 0, 'the S3 backend loads the SDK');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
