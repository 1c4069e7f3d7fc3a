/**
 * Writes the shell completion scripts and man pages generated from the command tree:
 *   completions/sftpgo.bash, completions/_sftpgo (zsh), completions/sftpgo.fish, man/*.1
 * Usage: node --import tsx scripts/gen-docs.ts [output-dir]   (default: the repository root)
 * The CLI itself generates them (`sftpgo completion <shell>`, `sftpgo gen man -d <dir>`), run from
 * source with a neutral environment so the output does not depend on who runs it.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const COMPLETION_FILES = { bash: 'sftpgo.bash', zsh: '_sftpgo', fish: 'sftpgo.fish' } as const;

async function cli(args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C', COLUMNS: '80' };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/entry.ts'), ...args], {
    cwd: root,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export async function generateDocs(outDir: string): Promise<string[]> {
  const completions = join(outDir, 'completions');
  const man = join(outDir, 'man');
  await mkdir(completions, { recursive: true });
  await mkdir(man, { recursive: true });
  // stale pages of removed commands must not survive a regeneration
  for (const f of await readdir(man)) if (f.endsWith('.1')) await rm(join(man, f));
  const written: string[] = [];
  await Promise.all(
    (Object.entries(COMPLETION_FILES) as [keyof typeof COMPLETION_FILES, string][]).map(async ([shell, file]) => {
      await writeFile(join(completions, file), await cli(['completion', shell]));
      written.push(`completions/${file}`);
    }),
  );
  await cli(['gen', 'man', '-d', man]);
  for (const f of (await readdir(man)).sort()) written.push(`man/${f}`);
  return written.sort();
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? root);
  const files = await generateDocs(out);
  process.stdout.write(`${files.length} files written under ${out}:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
}
