/**
 * The cloud SDKs load only when a filesystem uses them: nothing the server loads at start
 * imports them (the registry's lazy import is their only entry). Checked in a fresh process
 * whose module resolutions are recorded by a loader hook (ESM imports included, which the CJS
 * module cache does not show), written synchronously so none is missed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const SRC = resolve(import.meta.dirname, '../../../src');

const HOOKS = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, r.url + '\\n');
  return r;
}
`;

/**
 * Imports the service and vfs entry points, then builds a filesystem from `config`; answers how
 * many resolved modules contain `marker` before and after.
 */
async function probe(marker: string, config: object): Promise<{ atStart: number; after: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-lazy-sdk-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    const log = join(dir, 'resolved.log');
    const script = join(dir, 'probe.mts');
    await writeFile(hooks, HOOKS);
    await writeFile(log, '');
    await writeFile(
      script,
      `import { register } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(pathToFileURL(${JSON.stringify(hooks)}), { data: { log: ${JSON.stringify(log)} } });
const count = () =>
  readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter((u) => u.includes(${JSON.stringify(marker)})).length;
await import(${JSON.stringify(join(SRC, 'service/index.ts'))});
const { createFs } = await import(${JSON.stringify(join(SRC, 'vfs/index.ts'))});
const atStart = count();
const fs = await createFs(${JSON.stringify(config)}, {
  root: '/unused',
  decryptSecret: (s) => Promise.resolve(s.payload ?? ''),
});
await fs.close();
console.log(JSON.stringify({ atStart, after: count() }));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      atStart: number;
      after: number;
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void it('the AWS SDK is loaded by the first S3 filesystem, not by the server', async () => {
  const r = await probe('/@aws-sdk/', {
    provider: 1,
    s3config: { bucket: 'lazy', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' },
  });
  assert.equal(r.atStart, 0, 'no SDK module loaded by the service and vfs entry points');
  assert.ok(r.after > 0, 'the S3 backend loads the SDK');
});

void it('the Azure SDK is loaded by the first Azure Blob filesystem, not by the server', async () => {
  const r = await probe('/@azure/storage-blob/', {
    provider: 3,
    azblobconfig: {
      container: 'lazy',
      account_name: 'devstoreaccount1',
      account_key: { status: 'Plain', payload: 'a2V5' },
      endpoint: 'http://127.0.0.1:9',
      use_emulator: true,
    },
  });
  assert.equal(r.atStart, 0, 'no SDK module loaded by the service and vfs entry points');
  assert.ok(r.after > 0, 'the Azure Blob backend loads the SDK');
});

void it('the Google Cloud Storage SDK is loaded by the first GCS filesystem, not by the server', async () => {
  const r = await probe('/@google-cloud/storage/', {
    provider: 2,
    gcsconfig: { bucket: 'lazy', automatic_credentials: 1 },
  });
  assert.equal(r.atStart, 0, 'no SDK module loaded by the service and vfs entry points');
  assert.ok(r.after > 0, 'the GCS backend loads the SDK');
});
