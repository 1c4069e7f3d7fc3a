import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { profilePath, profileToken, readProfile, writeProfile } from './profile.js';

void describe('profile store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-profile-'));
  after(() => rm(dir, { recursive: true, force: true }));

  void it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    assert.equal(profilePath({ XDG_CONFIG_HOME: '/x/cfg' }), '/x/cfg/sftpgo/profile.json');
    assert.equal(profilePath({ HOME: '/home/a' }), '/home/a/.config/sftpgo/profile.json');
    assert.equal(profilePath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/a' }), '/home/a/.config/sftpgo/profile.json');
  });

  void it('writes mode 0600 in a 0700 directory, only the known fields', async () => {
    const p = join(dir, 'cfg', 'sftpgo', 'profile.json');
    const withExtra = { url: 'http://h:1', username: 'admin', token: 't', expires_at: '2030-01-01T00:00:00Z', password: 'leak' };
    await writeProfile(p, withExtra);
    assert.equal((await stat(p)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'cfg', 'sftpgo'))).mode & 0o777, 0o700);
    const text = await readFile(p, 'utf8');
    assert.doesNotMatch(text, /leak|password/);
    const back = await readProfile(p);
    assert.deepEqual(back, { url: 'http://h:1', username: 'admin', token: 't', expires_at: '2030-01-01T00:00:00Z' });
    assert.deepEqual(profileToken(back), { access_token: 't', expires_at: '2030-01-01T00:00:00Z' });
  });

  void it('returns undefined when missing and fails clearly when malformed', async () => {
    assert.equal(await readProfile(join(dir, 'none.json')), undefined);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{');
    await assert.rejects(readProfile(bad), /not valid JSON/);
  });
});
