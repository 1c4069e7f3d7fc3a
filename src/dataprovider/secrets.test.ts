/** Secret handling: encryption on save, preservation on update, redaction on output. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiFilesystemConfig } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import type { Secret as KmsSecret } from '../kms/index.js';
import { mergeUserUpdate } from './merge.js';
import { redactAdmin, redactFolder, redactUser } from './redact.js';
import type { User } from './provider.js';
import {
  encryptPlainSecrets,
  keepStoredSecrets,
  redactSecret,
  type SecretEncrypter,
} from './secrets.js';

const fakeKms: SecretEncrypter = {
  encrypt: (s: KmsSecret) => ({
    status: 'Secretbox',
    payload: `enc(${s.payload ?? ''})`,
    key: 'k'.repeat(64),
    additional_data: s.additional_data ?? '',
  }),
};

const stored: ApiFilesystemConfig = {
  provider: 5,
  sftpconfig: {
    endpoint: 'h:22',
    username: 'u',
    password: { status: 'Secretbox', payload: 'OLDPW', key: 'K1', additional_data: 'alice' },
    private_key: { status: 'Secretbox', payload: 'OLDKEY', key: 'K2', additional_data: 'alice' },
  },
};

void describe('encryptPlainSecrets', () => {
  void test('Plain secrets are encrypted with the owner as additional data', async () => {
    const fs: ApiFilesystemConfig = {
      provider: 1,
      s3config: {
        bucket: 'b',
        region: 'r',
        access_key: 'ak',
        access_secret: { status: 'Plain', payload: 'sk' },
      },
    };
    await encryptPlainSecrets(fs, fakeKms, 'alice');
    assert.deepEqual(fs.s3config?.access_secret, {
      status: 'Secretbox',
      payload: 'enc(sk)',
      key: 'k'.repeat(64),
      additional_data: 'alice',
    });
  });
  void test('encrypted secrets are kept as given (dump restore)', async () => {
    const fs = structuredClone(stored);
    await encryptPlainSecrets(fs, fakeKms, 'alice');
    assert.deepEqual(fs, stored);
  });
  void test('a Plain secret without KMS is an INTERNAL error, not a clear-text store', async () => {
    const fs: ApiFilesystemConfig = {
      provider: 4,
      cryptconfig: { passphrase: { status: 'Plain', payload: 'p' } },
    };
    await assert.rejects(encryptPlainSecrets(fs, undefined, 'x'), (e: unknown) =>
      SftpgoError.is(e, 'INTERNAL'),
    );
  });
  void test('a KMS answering without an envelope is refused', async () => {
    const fs: ApiFilesystemConfig = {
      provider: 4,
      cryptconfig: { passphrase: { status: 'Plain', payload: 'p' } },
    };
    const broken: SecretEncrypter = { encrypt: (s) => s };
    await assert.rejects(encryptPlainSecrets(fs, broken, 'x'), /the KMS returned no envelope/);
  });
});

void describe('keepStoredSecrets (update semantics)', () => {
  void test('encrypted or Redacted sent back -> stored; Plain -> new; empty -> cleared', () => {
    const incoming: Record<string, unknown> = {
      provider: 5,
      sftpconfig: {
        endpoint: 'h:22',
        username: 'u',
        password: { status: 'Secretbox', payload: 'OLDPW' }, // as GET returned it (key blanked)
        private_key: { status: 'Redacted' },
      },
    };
    keepStoredSecrets(incoming, stored);
    const c = incoming['sftpconfig'] as Record<string, unknown>;
    assert.deepEqual(c['password'], stored.sftpconfig?.password);
    assert.deepEqual(c['private_key'], stored.sftpconfig?.private_key);

    const plain: Record<string, unknown> = {
      provider: 5,
      sftpconfig: { password: { status: 'Plain', payload: 'new' }, private_key: {} },
    };
    keepStoredSecrets(plain, stored);
    const p = plain['sftpconfig'] as Record<string, unknown>;
    assert.deepEqual(p['password'], { status: 'Plain', payload: 'new' });
    assert.deepEqual(p['private_key'], {});
  });
  void test('mergeUserUpdate keeps hash, permissions, provider; replaces folders', () => {
    const storedUser = {
      id: 3,
      username: 'alice',
      password: '$2a$10$hash',
      home_dir: '/h',
      status: 1 as const,
      permissions: { '/': ['*'] } as never,
      used_quota_size: 77,
      filesystem: stored,
      virtual_folders: [{ name: 'f', virtual_path: '/f' }],
    };
    const m = mergeUserUpdate(storedUser, {
      username: 'mallory',
      id: 99,
      used_quota_size: 0,
      description: 'd',
      filesystem: {
        sftpconfig: { endpoint: 'h:22', username: 'u', password: { status: 'Redacted' } },
      },
    });
    assert.equal(m['username'], 'alice');
    assert.equal(m['id'], 3);
    assert.equal(m['used_quota_size'], 77);
    assert.equal(m['password'], '$2a$10$hash');
    assert.deepEqual(m['permissions'], { '/': ['*'] });
    assert.deepEqual(m['virtual_folders'], []);
    const fs = m['filesystem'] as ApiFilesystemConfig;
    assert.equal(fs.provider, 5);
    assert.deepEqual(fs.sftpconfig?.password, stored.sftpconfig?.password);
    assert.equal(fs.sftpconfig?.private_key, undefined);
  });
});

void describe('redaction', () => {
  void test('redactSecret keeps status and payload only', () => {
    assert.deepEqual(
      redactSecret({ status: 'Secretbox', payload: 'P', key: 'K', additional_data: 'A' }),
      { status: 'Secretbox', payload: 'P' },
    );
    assert.deepEqual(redactSecret({ status: 'AES-256-GCM', payload: 'P', key: 'K', mode: 1 }), {
      status: 'AES-256-GCM',
      payload: 'P',
      mode: 1,
    });
    assert.deepEqual(redactSecret({ status: 'Plain', payload: 'clear' }), { status: 'Redacted' });
    assert.deepEqual(redactSecret(undefined), {});
  });
  void test('redactUser: no password, secrets of the user and of its folders redacted, idempotent', () => {
    const u = {
      username: 'alice',
      password: '$2a$10$x',
      filesystem: stored,
      virtual_folders: [{ name: 'f', virtual_path: '/f', filesystem: stored }],
    };
    const r = redactUser(u);
    assert.equal(r.password, undefined);
    assert.deepEqual(r.filesystem?.sftpconfig?.password, { status: 'Secretbox', payload: 'OLDPW' });
    assert.deepEqual(r.virtual_folders?.[0]?.filesystem?.sftpconfig?.private_key, {
      status: 'Secretbox',
      payload: 'OLDKEY',
    });
    assert.deepEqual(redactUser(r), r);
    assert.equal(u.password, '$2a$10$x', 'input untouched');
    assert.equal(u.filesystem.sftpconfig?.password?.key, 'K1', 'input secrets untouched');
    assert.equal(u.virtual_folders[0]?.filesystem.sftpconfig?.private_key?.key, 'K2');
    assert.equal(JSON.stringify(Object.keys(r)), '["username","filesystem","virtual_folders"]');
  });
  void test('redactUser without secrets: the same JSON, and parts shared rather than copied', () => {
    const local = { provider: 0 as const };
    const u = {
      id: 1,
      username: 'bob',
      password: 'h',
      permissions: { '/': ['*'] } as unknown as User['permissions'],
      filesystem: local,
      virtual_folders: [{ name: 'f', virtual_path: '/f', filesystem: local }],
      status: 1 as const,
    };
    const r = redactUser(u);
    const { password: _password, ...expected } = u;
    assert.equal(JSON.stringify(r), JSON.stringify(expected));
    assert.equal(r.filesystem, local);
    assert.equal(r.virtual_folders?.[0], u.virtual_folders[0]);
  });
  void test('redactUser with nothing to hide returns the user itself; a secret still makes a copy', () => {
    const local = { provider: 0 as const };
    const listed: User = {
      username: 'carol',
      filesystem: local,
      virtual_folders: [{ name: 'f', virtual_path: '/f', filesystem: local }],
    };
    assert.equal(redactUser(listed), listed);
    const withSecret: User = {
      username: 'dan',
      filesystem: local,
      virtual_folders: [{ name: 'g', virtual_path: '/g', filesystem: stored }],
    };
    const r = redactUser(withSecret);
    assert.notEqual(r, withSecret);
    assert.equal(r.virtual_folders?.[0]?.filesystem?.sftpconfig?.password?.key, undefined);
    assert.equal(withSecret.virtual_folders?.[0]?.filesystem, stored, 'input untouched');
  });
  void test('redactAdmin and redactFolder', () => {
    assert.equal(redactAdmin({ username: 'a', password: 'h' }).password, undefined);
    const f = redactFolder({ name: 'f', filesystem: stored });
    assert.equal(f.filesystem?.sftpconfig?.password?.key, undefined);
  });
});
