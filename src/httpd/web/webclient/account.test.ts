import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { User } from '../../../dataprovider/provider.js';
import { parseKeys, quotaLines } from './account.js';

void describe('web client account', () => {
  void it('parseKeys: one key per line, blank lines and spaces around dropped', () => {
    assert.deepEqual(parseKeys('  ssh-ed25519 AAA a@b \r\n\n\nssh-rsa BBB\n'), [
      'ssh-ed25519 AAA a@b',
      'ssh-rsa BBB',
    ]);
    assert.deepEqual(parseKeys(''), []);
  });

  void it('quotaLines: the user limits, then each virtual folder (never its mapped path)', () => {
    const u = {
      quota_size: 10 * 1024 * 1024,
      quota_files: 0,
      used_quota_size: 1536,
      used_quota_files: 3,
      virtual_folders: [
        {
          name: 'f1',
          mapped_path: '/srv/secret/f1',
          virtual_path: '/shared',
          quota_size: -1,
          quota_files: -1,
          used_quota_size: 0,
          used_quota_files: 0,
        },
        {
          name: 'f2',
          mapped_path: '/srv/secret/f2',
          virtual_path: '/big',
          quota_size: 2048,
          quota_files: 5,
          used_quota_size: 1024,
          used_quota_files: 1,
        },
      ],
    } as unknown as User;
    const lines = quotaLines(u);
    assert.deepEqual(lines, [
      { label: 'Your files', size: '1.5 KB of 10 MB', files: '3 (no limit)' },
      {
        label: '/shared',
        size: '0 B (counted in your quota)',
        files: '0 (counted in your quota)',
      },
      { label: '/big', size: '1 KB of 2 KB', files: '1 of 5' },
    ]);
    assert.doesNotMatch(JSON.stringify(lines), /srv/);
  });
});
