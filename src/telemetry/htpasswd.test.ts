/**
 * The htpasswd reader: the lines it keeps, the hashes it accepts, the start error for a missing
 * file, and the re-read of a changed file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { HtpasswdFile, parseHtpasswd } from './htpasswd.js';

void describe('htpasswd', () => {
  void it('keeps user:hash lines; skips comments, blank lines and lines without exactly one colon', () => {
    const users = parseHtpasswd(
      '# a comment\r\n\n  alice:$apr1$x$y\r\nbob:$2y$05$z\n  # indented comment\nno-colon\na:b:c\nalice:$1$later$wins\n',
    );
    assert.deepEqual(
      [...users],
      [
        ['alice', '$1$later$wins'],
        ['bob', '$2y$05$z'],
      ],
    );
  });

  void it('verifies the supported hashes only, and re-reads the file when it changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sftpgo-htpasswd-'));
    try {
      const file = join(dir, 'users');
      const hash = bcrypt.hashSync('secret', 4);
      await writeFile(file, `ann:${hash}\nplain:secret\n`);
      const f = await HtpasswdFile.open(file);
      assert.equal(await f.verify('ann', 'secret'), true);
      assert.equal(await f.verify('ann', 'Secret'), false);
      assert.equal(await f.verify('plain', 'secret'), false, 'a plain text entry never matches');
      assert.equal(await f.verify('nobody', 'secret'), false);
      await writeFile(file, `ann:${hash}\nzoe:${bcrypt.hashSync('other', 4)}\n`);
      assert.equal(await f.verify('zoe', 'other'), true);
      await rm(file);
      await assert.rejects(f.verify('ann', 'secret'), /ENOENT/);
      await assert.rejects(
        HtpasswdFile.open(join(dir, 'missing')),
        /telemetry\.auth_user_file: unable to read/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
