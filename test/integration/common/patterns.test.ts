import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Connection } from '../../../src/common/index.js';
import { code, makeEnv, names, upload, type Env } from './helpers.js';

let env: Env;
let c: Connection;

before(async () => {
  env = await makeEnv();
  c = await env.connect(
    env.user({
      filters: {
        file_patterns: [
          { path: '/', denied_patterns: ['*.exe'] },
          { path: '/photos', allowed_patterns: ['*.jpg', '*.png'] },
        ],
      },
    }),
  );
  await fsp.mkdir(path.join(env.home, 'photos'), { recursive: true });
  await fsp.writeFile(path.join(env.home, 'tool.exe'), 'MZ');
  await fsp.writeFile(path.join(env.home, 'photos', 'notes.txt'), 'planted');
});
after(async () => {
  await env.cleanup();
});

void describe('file pattern filters (NAME_NOT_ALLOWED)', () => {
  void it('uploads are filtered case-insensitively, per directory', async () => {
    await assert.rejects(c.openUpload('/virus.EXE'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.openUpload('/sub/dir/x.exe'), code('NAME_NOT_ALLOWED'));
    await upload(c, '/ok.txt', 'fine');
    await upload(c, '/photos/Cat.JPG', 'jpg');
    await assert.rejects(c.openUpload('/photos/cat.gif'), code('NAME_NOT_ALLOWED'));
  });

  void it('downloads, removals, renames and symlinks are filtered', async () => {
    await assert.rejects(c.openDownload('/tool.exe'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.openDownload('/photos/notes.txt'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.remove('/tool.exe'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.rename('/ok.txt', '/ok.exe'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.rename('/tool.exe', '/tool.txt'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.symlink('/ok.txt', '/link.exe'), code('NAME_NOT_ALLOWED'));
    await assert.rejects(c.setStat('/tool.exe', { mode: 0o600 }), code('NAME_NOT_ALLOWED'));
  });

  void it('listings are not filtered (as upstream) and directories are not names', async () => {
    assert.ok((await names(await c.list('/'))).includes('tool.exe'));
    await c.mkdir('/dir.exe.d');
    await c.mkdir('/photos/album');
  });
});
