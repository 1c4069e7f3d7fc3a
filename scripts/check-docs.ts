/**
 * Fails when the committed completions/ and man/ differ from what the command tree generates now,
 * or when package.json "man" does not list exactly the generated pages.
 * Usage: node --import tsx scripts/check-docs.ts   (fix with: npm run gen:docs)
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPLETION_FILES, generateDocs } from './gen-docs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function readOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The first differing line, for the message. */
function firstDiff(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n    committed: ${al[i] ?? '(end of file)'}\n    generated: ${bl[i] ?? '(end of file)'}`;
  }
  return '';
}

const tmp = await mkdtemp(join(tmpdir(), 'sftpgo-docs-'));
const problems: string[] = [];
try {
  const generated = await generateDocs(tmp);
  const committedMan = (await readdir(join(root, 'man')).catch(() => [] as string[])).filter((f) => f.endsWith('.1'));
  const committed = [...Object.values(COMPLETION_FILES).map((f) => `completions/${f}`), ...committedMan.map((f) => `man/${f}`)];
  for (const f of committed) if (!generated.includes(f)) problems.push(`${f}: committed but no longer generated`);
  for (const f of generated) {
    const want = await readFile(join(tmp, f), 'utf8');
    const have = await readOrUndefined(join(root, f));
    if (have === undefined) problems.push(`${f}: missing`);
    else if (have !== want) problems.push(`${f}: out of date, ${firstDiff(have, want)}`);
  }
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { man?: unknown };
  const wantMan = generated.filter((f) => f.startsWith('man/')).map((f) => `./${f}`);
  const haveMan = Array.isArray(pkg.man) ? [...(pkg.man as string[])].sort() : [];
  if (JSON.stringify(haveMan) !== JSON.stringify(wantMan)) {
    problems.push(`package.json "man" should be: ${JSON.stringify(wantMan)}`);
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
if (problems.length > 0) {
  process.stderr.write(`check:docs: generated docs differ from the committed ones (run "npm run gen:docs"):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('check:docs: completions and man pages are up to date\n');
