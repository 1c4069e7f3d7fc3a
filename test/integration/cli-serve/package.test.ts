/**
 * The npm package: what `npm pack` puts in it (the built program, man pages, completions, init
 * files and the lock as npm-shrinkwrap.json, so an install gets the tested dependency tree), and
 * what `npm install -g` of that tarball puts in place, in a temporary prefix.
 *
 * The package is packed from a staged copy of the files the prepack script would produce
 * (dist/ is built by the test command before the tests run; rebuilding it here would rewrite
 * files other tests are importing). The install skips install scripts: the native modules'
 * compilation is npm's and node-gyp's business, and would only slow the suite down.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../../helpers/ftpd.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NPM_TIMEOUT = 300_000;

void describe('npm package', () => {
  let dir: string;
  let tarball: string;

  before(async () => {
    assert.ok(
      existsSync(join(ROOT, 'dist/cli/main.js')),
      'dist/ is built (npm run build) before the tests',
    );
    dir = await mkdtemp(join(tmpdir(), 'sftpgo-pack-'));
    const stage = join(dir, 'stage');
    await mkdir(stage);
    for (const f of ['package.json', 'README.md', 'bin', 'dist', 'completions', 'man', 'init']) {
      await cp(join(ROOT, f), join(stage, f), { recursive: true });
    }
    // what the prepack script does
    await cp(join(ROOT, 'package-lock.json'), join(stage, 'npm-shrinkwrap.json'));
    const out = join(dir, 'out');
    await mkdir(out);
    const r = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], {
      cwd: stage,
      timeoutMs: NPM_TIMEOUT,
    });
    assert.equal(r.code, 0, r.stderr);
    const [name = ''] = await readdir(out);
    assert.ok(name.endsWith('.tgz'), name);
    tarball = join(out, name);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('holds the program, man pages, completions, init files and the shrinkwrap, and no sources or tests', async () => {
    const r = await run('tar', ['tzf', tarball]);
    assert.equal(r.code, 0, r.stderr);
    const files = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.replace(/^package\//, ''));
    for (const f of [
      'bin/sftpgo.js',
      'dist/cli/main.js',
      'dist/api/openapi.yaml',
      'man/sftpgo.1',
      'man/sftpgo-serve.1',
      'completions/sftpgo.bash',
      'completions/_sftpgo',
      'completions/sftpgo.fish',
      'init/sftpgo.service',
      'init/fail2ban/filter.d/sftpgo.conf',
      'npm-shrinkwrap.json',
      'package.json',
    ]) {
      assert.ok(files.includes(f), `${f} in the package`);
    }
    assert.deepEqual(
      files.filter(
        (f) =>
          /^(src|test|bench|scripts)\//.test(f) ||
          f.endsWith('.test.js') ||
          (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
      [],
    );
  });

  void it('npm install -g puts sftpgo on the PATH and its man pages under share/man', async () => {
    const prefix = join(dir, 'prefix');
    const r = await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        tarball,
        '--ignore-scripts',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
      ],
      { timeoutMs: NPM_TIMEOUT },
    );
    assert.equal(r.code, 0, r.stderr);
    const v = await run(join(prefix, 'bin/sftpgo'), ['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^SFTPGo 2\.1\.2/);
    const man = await readdir(join(prefix, 'share/man/man1'));
    assert.ok(man.includes('sftpgo.1') && man.includes('sftpgo-users.1'), man.join(','));
    const bash = await run(join(prefix, 'bin/sftpgo'), ['completion', 'bash']);
    assert.equal(bash.code, 0, bash.stderr);
    assert.match(bash.stdout, /complete .*sftpgo/);
    // the shrinkwrap keeps the dependency tree the lock pinned, without the dev dependencies
    const installed = join(prefix, 'lib/node_modules/sftpgo-ts/node_modules');
    assert.ok(existsSync(join(installed, 'ssh2')));
    assert.equal(existsSync(join(installed, 'typescript')), false);
    assert.equal(existsSync(join(installed, 'eslint')), false);
  });
});
