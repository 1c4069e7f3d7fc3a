/**
 * Fails when src/api/types.gen.ts is not what openapi-typescript generates from
 * src/api/openapi.yaml now (fix with: npm run gen:api).
 * Usage: node --import tsx scripts/check-api.ts
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = await mkdtemp(join(tmpdir(), 'sftpgo-api-'));
let problem: string | undefined;
try {
  const out = join(tmp, 'types.gen.ts');
  const bin = join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  await promisify(execFile)(process.execPath, [bin, join(root, 'src/api/openapi.yaml'), '-o', out], { cwd: root });
  const want = await readFile(out, 'utf8');
  const have = await readFile(join(root, 'src/api/types.gen.ts'), 'utf8');
  if (want !== have) {
    const a = have.split('\n');
    const b = want.split('\n');
    const i = a.findIndex((l, n) => l !== b[n]);
    const at = i === -1 ? Math.min(a.length, b.length) : i;
    problem = `src/api/types.gen.ts is stale (first difference at line ${at + 1}: "${a[at] ?? ''}" vs "${b[at] ?? ''}")`;
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
if (problem !== undefined) {
  process.stderr.write(`check:api: ${problem}; run "npm run gen:api"\n`);
  process.exit(1);
}
process.stdout.write('check:api: src/api/types.gen.ts matches src/api/openapi.yaml\n');
