// Runs the test files of one or more groups with node's built-in test runner under tsx.
// Node 20 does not expand quoted globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs unit|integration|all [filter-substring]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const group = process.argv[2] ?? 'all';
const filter = process.argv[3] ?? '';

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out; // folder absent: nothing to run there
  }
  for (const e of entries) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.test\.tsx?$/.test(e)) out.push(p);
  }
  return out;
}

const roots = {
  unit: ['src', 'test/unit'],
  integration: ['test/integration'],
  all: ['src', 'test/unit', 'test/integration'],
}[group];
if (!roots) {
  console.error(`unknown test group ${group}`);
  process.exit(2);
}
const files = roots.flatMap((r) => walk(r)).filter((f) => f.includes(filter)).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
