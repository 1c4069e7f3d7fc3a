/**
 * Validation of users, admins and folders with malformed JSON input: every failure must be an
 * INVALID_INPUT SftpgoError whose message names the problem, never a TypeError.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ssh2 from 'ssh2';
import { SftpgoError } from '../errors/index.js';
import type { ApiFolder } from '../api/index.js';
import { validateAdmin } from './validation/admin.js';
import { cleanPath, isValidEmail, isValidGlob, parseCidr } from './validation/common.js';
import { validateFilesystem } from './validation/filesystem.js';
import { validateFolder } from './validation/folder.js';
import { validateUser } from './validation/user.js';

const ED25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPQGzt7C6/nsZe9TnzlGj3XMc5RTUw/hiAh6KNt0nrDr test@host';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCklEJz8e7UAXSQNbu3kG2+O8bKyY5nsHExGYpmD9nj0DGmFkH+JeTPfyDuZR2+i7TxnftKSYfmKflZX5i9Xbls= e@h';

function baseUser(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    username: 'alice',
    password: 'secret',
    home_dir: '/srv/alice',
    status: 1,
    permissions: { '/': ['*'] },
    ...extra,
  };
}

/** asserts fn throws INVALID_INPUT and the message matches */
function rejects(fn: () => unknown, msg: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(SftpgoError.is(e, 'INVALID_INPUT'), `expected INVALID_INPUT, got ${String(e)}`);
    assert.match(e.message, msg);
    return true;
  });
}

void describe('validateUser: types from JSON', () => {
  void test('body that is not an object', () => {
    rejects(() => validateUser(null), /invalid user: expected an object/);
    rejects(() => validateUser([baseUser()]), /invalid user: expected an object/);
    rejects(() => validateUser('alice'), /invalid user/);
  });
  void test('quota_size as a string', () => {
    rejects(
      () => validateUser(baseUser({ quota_size: 'x' })),
      /invalid quota_size: expected an integer, got string "x"/,
    );
  });
  void test('quota_files as a float', () => {
    rejects(
      () => validateUser(baseUser({ quota_files: 1.5 })),
      /invalid quota_files: expected an integer/,
    );
  });
  void test('negative quota_size', () => {
    rejects(
      () => validateUser(baseUser({ quota_size: -5 })),
      /invalid quota_size: -5, must be >= 0/,
    );
  });
  void test('status out of enum', () => {
    rejects(() => validateUser(baseUser({ status: 5 })), /invalid user status: 5/);
    rejects(() => validateUser(baseUser({ status: '1' })), /invalid status: expected an integer/);
  });
  void test('username with a wrong type', () => {
    rejects(
      () => validateUser(baseUser({ username: 42 })),
      /invalid username: expected a string, got number 42/,
    );
  });
  void test('home_dir as an object', () => {
    rejects(
      () => validateUser(baseUser({ home_dir: { a: 1 } })),
      /invalid home_dir: expected a string/,
    );
  });
  void test('read-only numeric fields with wrong types are still rejected', () => {
    rejects(() => validateUser(baseUser({ used_quota_size: 'lots' })), /invalid used_quota_size/);
  });
  void test('uid above int32', () => {
    rejects(
      () => validateUser(baseUser({ uid: 2 ** 31 })),
      /invalid uid: 2147483648, must be <= 2147483647/,
    );
  });
});

void describe('validateUser: base rules', () => {
  void test('username is mandatory', () => {
    rejects(() => validateUser(baseUser({ username: '' })), /username is mandatory/);
  });
  void test('natural key rule', () => {
    rejects(
      () => validateUser(baseUser({ username: 'a b' })),
      /username "a b" is not valid, the following characters are allowed: a-zA-Z0-9-_.~/,
    );
    assert.equal(
      validateUser(baseUser({ username: 'a b' }), { skipNaturalKeysValidation: true }).user
        .username,
      'a b',
    );
  });
  void test('home_dir must be absolute', () => {
    rejects(
      () => validateUser(baseUser({ home_dir: 'relative/dir' })),
      /home_dir must be an absolute path, actual value: relative\/dir/,
    );
  });
  void test('home_dir is mandatory without users_base_dir', () => {
    rejects(() => validateUser(baseUser({ home_dir: '' })), /home_dir is mandatory/);
  });
  void test('home_dir from users_base_dir', () => {
    const v = validateUser(baseUser({ home_dir: '' }), { usersBaseDir: '/srv/users' });
    assert.equal(v.user.home_dir, '/srv/users/alice');
  });
  void test('password or public key required', () => {
    rejects(
      () => validateUser(baseUser({ password: '' })),
      /please set a password or at least a public_key/,
    );
    rejects(
      () => validateUser(baseUser({ password: '', public_keys: [''] })),
      /please set a password or at least a public_key/,
    );
  });
});

void describe('validateUser: permissions', () => {
  void test('permissions as an array', () => {
    rejects(
      () => validateUser(baseUser({ permissions: [] })),
      /invalid permissions: expected an object/,
    );
  });
  void test('permissions empty', () => {
    rejects(
      () => validateUser(baseUser({ permissions: {} })),
      /please grant some permissions to this user/,
    );
    rejects(
      () => validateUser(baseUser({ permissions: undefined })),
      /please grant some permissions to this user/,
    );
  });
  void test('root dir required', () => {
    rejects(
      () => validateUser(baseUser({ permissions: { '/sub': ['*'] } })),
      /permissions for the root dir "\/" must be set/,
    );
  });
  void test('empty root permissions', () => {
    rejects(
      () => validateUser(baseUser({ permissions: { '/': [] } })),
      /no permissions granted for the directory: "\/"/,
    );
  });
  void test('unknown permission', () => {
    rejects(
      () => validateUser(baseUser({ permissions: { '/': ['fly'] } })),
      /invalid permission: "fly"/,
    );
    rejects(() => validateUser(baseUser({ permissions: { '/': [1] } })), /invalid permission: 1/);
  });
  void test('permission list that is not a list', () => {
    rejects(
      () => validateUser(baseUser({ permissions: { '/': '*' } })),
      /invalid permissions for directory "\/": expected a list/,
    );
  });
  void test('relative permission path', () => {
    rejects(
      () => validateUser(baseUser({ permissions: { '/': ['*'], sub: ['list'] } })),
      /cannot set permissions for non absolute path: "sub"/,
    );
  });
  void test('alias of root', () => {
    rejects(
      () => validateUser(baseUser({ permissions: { '/': ['*'], '/a/..': ['list'] } })),
      /is an alias for "\/"/,
    );
  });
  void test('star collapses, paths are cleaned, duplicates removed', () => {
    const v = validateUser(
      baseUser({ permissions: { '/': ['list', '*'], '/a/b/': ['list', 'list', 'download'] } }),
    );
    assert.deepEqual(v.user.permissions, { '/': ['*'], '/a/b': ['list', 'download'] });
  });
});

void describe('validateUser: public keys', () => {
  void test('garbage key', () => {
    rejects(
      () => validateUser(baseUser({ public_keys: ['not a key'] })),
      /could not parse key nr\. 1: /,
    );
  });
  void test('second key broken', () => {
    rejects(
      () => validateUser(baseUser({ public_keys: [ED25519, 'ssh-rsa AAAA'] })),
      /could not parse key nr\. 2: /,
    );
  });
  void test('private key instead of a public key', () => {
    const kp = ssh2.utils.generateKeyPairSync('ed25519');
    rejects(
      () => validateUser(baseUser({ public_keys: [kp.private] })),
      /could not parse key nr\. 1: a private key was given/,
    );
  });
  void test('public_keys not an array', () => {
    rejects(
      () => validateUser(baseUser({ public_keys: ED25519 })),
      /invalid public_keys: expected an array of strings/,
    );
    rejects(
      () => validateUser(baseUser({ public_keys: [42] })),
      /invalid public_keys\[0\]: expected a string/,
    );
  });
  void test('valid keys, authorized_keys options, duplicates removed', () => {
    const v = validateUser(
      baseUser({ public_keys: [ED25519, `no-pty,no-port-forwarding ${ECDSA}`, ED25519, ''] }),
    );
    assert.equal(v.user.public_keys?.length, 2);
  });
});

void describe('validateUser: filters', () => {
  void test('bad CIDR', () => {
    rejects(
      () => validateUser(baseUser({ filters: { allowed_ip: ['10.0.0.1'] } })),
      /could not parse allowed IP\/Mask "10.0.0.1"/,
    );
    rejects(
      () => validateUser(baseUser({ filters: { denied_ip: ['300.1.1.1/8'] } })),
      /could not parse denied IP\/Mask "300.1.1.1\/8"/,
    );
    rejects(
      () => validateUser(baseUser({ filters: { denied_ip: ['::1/129'] } })),
      /could not parse denied IP\/Mask/,
    );
  });
  void test('unknown login method', () => {
    rejects(
      () => validateUser(baseUser({ filters: { denied_login_methods: ['magic'] } })),
      /invalid login method: "magic"/,
    );
  });
  void test('all login methods denied', () => {
    const all = [
      'publickey',
      'password',
      'keyboard-interactive',
      'publickey+password',
      'publickey+keyboard-interactive',
      'TLSCertificate',
      'TLSCertificate+password',
    ];
    rejects(
      () => validateUser(baseUser({ filters: { denied_login_methods: all } })),
      /invalid denied_login_methods/,
    );
  });
  void test('protocols', () => {
    rejects(
      () => validateUser(baseUser({ filters: { denied_protocols: ['SMB'] } })),
      /invalid protocol: "SMB"/,
    );
    rejects(
      () =>
        validateUser(baseUser({ filters: { denied_protocols: ['SSH', 'FTP', 'DAV', 'HTTP'] } })),
      /invalid denied_protocols/,
    );
  });
  void test('tls_username and web_client', () => {
    rejects(
      () => validateUser(baseUser({ filters: { tls_username: 'Email' } })),
      /invalid TLS username: "Email"/,
    );
    rejects(
      () => validateUser(baseUser({ filters: { web_client: ['write-disabled'] } })),
      /invalid web client options "write-disabled"/,
    );
  });
  void test('filters with wrong types', () => {
    rejects(
      () => validateUser(baseUser({ filters: 'none' })),
      /invalid filters: expected an object/,
    );
    rejects(
      () => validateUser(baseUser({ filters: { hooks: { pre_login_disabled: 'yes' } } })),
      /invalid filters\.hooks\.pre_login_disabled: expected a boolean/,
    );
    rejects(
      () => validateUser(baseUser({ filters: { max_upload_file_size: -1 } })),
      /invalid filters\.max_upload_file_size/,
    );
  });
  void test('file patterns', () => {
    rejects(
      () =>
        validateUser(
          baseUser({ filters: { file_patterns: [{ path: 'rel', allowed_patterns: ['*.jpg'] }] } }),
        ),
      /invalid path "rel" for file patterns filter/,
    );
    rejects(
      () =>
        validateUser(
          baseUser({ filters: { file_patterns: [{ path: '/d', allowed_patterns: ['[a-'] }] } }),
        ),
      /invalid file pattern filter "\[a-"/,
    );
    rejects(
      () => validateUser(baseUser({ filters: { file_patterns: [{ path: '/d' }] } })),
      /empty file patterns filter for path "\/d"/,
    );
    rejects(
      () =>
        validateUser(
          baseUser({
            filters: {
              file_patterns: [
                { path: '/d', denied_patterns: ['*.exe'] },
                { path: '/d/', denied_patterns: ['*.bat'] },
              ],
            },
          }),
        ),
      /duplicate file patterns filter for path "\/d\/"/,
    );
    const v = validateUser(
      baseUser({ filters: { file_patterns: [{ path: '/d/', allowed_patterns: ['*.JPG'] }] } }),
    );
    assert.deepEqual(v.user.filters?.file_patterns, [{ path: '/d', allowed_patterns: ['*.jpg'] }]);
  });
});

void describe('validateUser: filesystem', () => {
  void test('provider out of range and wrong type', () => {
    rejects(
      () => validateUser(baseUser({ filesystem: { provider: 9 } })),
      /invalid filesystem\.provider: 9/,
    );
    rejects(
      () => validateUser(baseUser({ filesystem: { provider: 's3' } })),
      /invalid filesystem\.provider: expected an integer/,
    );
    rejects(
      () => validateUser(baseUser({ filesystem: [] })),
      /invalid filesystem: expected an object/,
    );
  });
  void test('s3 required fields', () => {
    rejects(
      () => validateFilesystem({ provider: 1, s3config: { region: 'r' } }),
      /could not validate s3config: bucket cannot be empty/,
    );
    rejects(
      () => validateFilesystem({ provider: 1, s3config: { bucket: 'b' } }),
      /could not validate s3config: region cannot be empty/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 1,
          s3config: { bucket: 'b', region: 'r', access_key: 'k' },
        }),
      /access_secret cannot be empty with access_key not empty/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 1,
          s3config: { bucket: 'b', region: 'r', access_secret: { status: 'Plain', payload: 'x' } },
        }),
      /access_key cannot be empty with access_secret not empty/,
    );
  });
  void test('s3 key_prefix and part size', () => {
    rejects(
      () =>
        validateFilesystem({
          provider: 1,
          s3config: { bucket: 'b', region: 'r', key_prefix: '/abs/' },
        }),
      /key_prefix cannot start with \//,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 1,
          s3config: { bucket: 'b', region: 'r', upload_part_size: 3 },
        }),
      /upload_part_size cannot be != 0, lower than 5/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 1,
          s3config: { bucket: 'b', region: 'r', upload_concurrency: 65 },
        }),
      /invalid upload concurrency: 65/,
    );
    const fs = validateFilesystem({
      provider: 1,
      s3config: { bucket: 'b', region: 'r', key_prefix: 'a/./b' },
    });
    assert.equal(fs.s3config?.key_prefix, 'a/b/');
  });
  void test('a Redacted secret cannot be saved', () => {
    rejects(
      () =>
        validateFilesystem({
          provider: 1,
          s3config: {
            bucket: 'b',
            region: 'r',
            access_key: 'k',
            access_secret: { status: 'Redacted' },
          },
        }),
      /invalid access_secret: a Redacted secret cannot be saved/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 4,
          cryptconfig: { passphrase: { status: 'Bogus', payload: 'x' } },
        }),
      /invalid passphrase: unknown secret status "Bogus"/,
    );
  });
  void test('gcs, azure, crypt', () => {
    rejects(
      () => validateFilesystem({ provider: 2, gcsconfig: {} }),
      /could not validate GCS config: bucket cannot be empty/,
    );
    rejects(
      () => validateFilesystem({ provider: 2, gcsconfig: { bucket: 'b' } }),
      /could not validate GCS config: credentials cannot be empty/,
    );
    assert.equal(
      validateFilesystem({ provider: 2, gcsconfig: { bucket: 'b', automatic_credentials: 1 } })
        .gcsconfig?.bucket,
      'b',
    );
    rejects(
      () =>
        validateFilesystem({ provider: 2, gcsconfig: { bucket: 'b', automatic_credentials: 2 } }),
      /automatic_credentials: 2, must be <= 1/,
    );
    rejects(
      () => validateFilesystem({ provider: 3, azblobconfig: {} }),
      /could not validate Azure Blob config: container cannot be empty/,
    );
    rejects(
      () => validateFilesystem({ provider: 3, azblobconfig: { container: 'c' } }),
      /credentials cannot be empty or invalid/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 3,
          azblobconfig: {
            container: 'c',
            account_name: 'a',
            account_key: { status: 'Plain', payload: 'k' },
            access_tier: 'Frozen',
          },
        }),
      /invalid access tier "Frozen"/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 3,
          azblobconfig: {
            container: 'c',
            account_name: 'a',
            account_key: { status: 'Plain', payload: 'k' },
            upload_part_size: 101,
          },
        }),
      /invalid upload part size: 101/,
    );
    rejects(
      () => validateFilesystem({ provider: 4 }),
      /could not validate Crypt fs config: invalid passphrase/,
    );
    rejects(
      () => validateFilesystem({ provider: 4, cryptconfig: { passphrase: { status: 'Plain' } } }),
      /passphrase cannot be empty or invalid/,
    );
  });
  void test('sftp', () => {
    const pw = { status: 'Plain', payload: 'p' };
    rejects(
      () => validateFilesystem({ provider: 5, sftpconfig: { username: 'u', password: pw } }),
      /could not validate SFTP fs config: endpoint cannot be empty/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 5,
          sftpconfig: { endpoint: 'host', username: 'u', password: pw },
        }),
      /invalid endpoint: .*missing port/,
    );
    rejects(
      () => validateFilesystem({ provider: 5, sftpconfig: { endpoint: 'h:22', password: pw } }),
      /username cannot be empty/,
    );
    rejects(
      () => validateFilesystem({ provider: 5, sftpconfig: { endpoint: 'h:22', username: 'u' } }),
      /credentials cannot be empty/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 5,
          sftpconfig: { endpoint: 'h:22', username: 'u', password: pw, buffer_size: 17 },
        }),
      /invalid buffer_size, valid range is 0-16/,
    );
    rejects(
      () =>
        validateFilesystem({
          provider: 5,
          sftpconfig: { endpoint: 'h:22', username: 'u', password: pw, fingerprints: 'SHA256:x' },
        }),
      /sftpconfig\.fingerprints: expected an array/,
    );
    const fs = validateFilesystem({
      provider: 5,
      sftpconfig: { endpoint: '[::1]:2022', username: 'u', password: pw, prefix: 'data/../x/' },
    });
    assert.equal(fs.sftpconfig?.prefix, '/x');
  });
});

void describe('validateUser: virtual folders', () => {
  const vf = (extra: Record<string, unknown>) => ({
    name: 'f1',
    mapped_path: '/data/f1',
    virtual_path: '/v1',
    ...extra,
  });
  void test('virtual_folders not an array / entries not objects', () => {
    rejects(
      () => validateUser(baseUser({ virtual_folders: {} })),
      /invalid virtual_folders: expected an array/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: ['f1'] })),
      /invalid virtual_folders\[0\]: expected an object/,
    );
  });
  void test('virtual path must be absolute and not root', () => {
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ virtual_path: '/' })] })),
      /invalid virtual folder "\/"/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ virtual_path: 'rel' })] })),
      /invalid virtual folder "rel"/,
    );
  });
  void test('quota both -1 or both >= 0', () => {
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ quota_size: -1, quota_files: 0 })] })),
      /quota_size and quota_files must be both -1 or >= 0/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ quota_size: -2, quota_files: -2 })] })),
      /invalid quota_size: -2/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ quota_files: 'many' })] })),
      /invalid virtual_folders\[0\]\.quota_files: expected an integer/,
    );
  });
  void test('duplicate virtual path', () => {
    rejects(
      () =>
        validateUser(
          baseUser({
            virtual_folders: [
              vf({}),
              vf({ name: 'f2', mapped_path: '/data/f2', virtual_path: '/v1/' }),
            ],
          }),
        ),
      /invalid virtual folder "\/v1\/" overlaps with virtual folder "\/v1"/,
    );
  });
  void test('mapped path inside the home, or shared by two folders', () => {
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ mapped_path: '/srv/alice/sub' })] })),
      /cannot be inside or contain the user home dir "\/srv\/alice"/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ mapped_path: '/srv' })] })),
      /cannot be inside or contain the user home dir/,
    );
    rejects(
      () =>
        validateUser(
          baseUser({ virtual_folders: [vf({}), vf({ name: 'f2', virtual_path: '/v2' })] }),
        ),
      /invalid mapped folder "\/data\/f1" overlaps with mapped folder "\/data\/f1"/,
    );
  });
  void test('folder name and mapped path', () => {
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ name: 'bad name' })] })),
      /folder name "bad name" is not valid/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ mapped_path: 'rel/path' })] })),
      /invalid folder mapped path "rel\/path"/,
    );
    rejects(
      () => validateUser(baseUser({ virtual_folders: [vf({ mapped_path: '' })] })),
      /invalid folder mapped path ""/,
    );
  });
  void test('a folder given by name only refers to the stored one', () => {
    const stored: ApiFolder = {
      id: 7,
      name: 'f1',
      mapped_path: '/data/f1',
      filesystem: { provider: 0 },
      users: ['bob'],
    };
    const v = validateUser(baseUser({ virtual_folders: [{ name: 'f1', virtual_path: '/v1' }] }), {
      existingFolders: new Map([['f1', stored]]),
    });
    assert.equal(v.virtualFolders[0]?.upsert, false);
    assert.equal(v.virtualFolders[0]?.folder.id, 7);
    assert.equal(v.user.virtual_folders?.[0]?.mapped_path, '/data/f1');
  });
});

void describe('validateAdmin', () => {
  const admin = (extra: Record<string, unknown> = {}) => ({
    username: 'root',
    password: 'pw',
    status: 1,
    permissions: ['*'],
    ...extra,
  });
  void test('not an object', () => {
    rejects(() => validateAdmin(undefined), /invalid admin: expected an object/);
  });
  void test('username and password required', () => {
    rejects(() => validateAdmin(admin({ username: '' })), /username is mandatory/);
    rejects(() => validateAdmin(admin({ password: '' })), /please set a password/);
    rejects(() => validateAdmin(admin({ username: 'a/b' })), /username "a\/b" is not valid/);
  });
  void test('permissions', () => {
    rejects(
      () => validateAdmin(admin({ permissions: [] })),
      /please grant some permissions to this admin/,
    );
    rejects(() => validateAdmin(admin({ permissions: ['root'] })), /invalid permission: "root"/);
    rejects(
      () => validateAdmin(admin({ permissions: { a: 1 } })),
      /invalid permissions: expected an array/,
    );
    rejects(
      () => validateAdmin(admin({ permissions: [3] })),
      /invalid permissions\[0\]: expected a string/,
    );
    assert.deepEqual(
      validateAdmin(admin({ permissions: ['view_users', '*', 'view_users'] })).permissions,
      ['*'],
    );
    assert.deepEqual(
      validateAdmin(admin({ permissions: ['view_users', 'add_users', 'view_users'] })).permissions,
      ['view_users', 'add_users'],
    );
  });
  void test('email and allow list', () => {
    rejects(
      () => validateAdmin(admin({ email: 'not-an-email' })),
      /email "not-an-email" is not valid/,
    );
    rejects(() => validateAdmin(admin({ email: 'a@b' })), /email "a@b" is not valid/);
    rejects(
      () => validateAdmin(admin({ filters: { allow_list: ['1.2.3.4'] } })),
      /could not parse allow list entry "1.2.3.4"/,
    );
    rejects(
      () => validateAdmin(admin({ filters: { allow_list: '1.2.3.4/32' } })),
      /invalid filters\.allow_list: expected an array/,
    );
    assert.equal(validateAdmin(admin({ email: 'root@example.com' })).email, 'root@example.com');
  });
  void test('status and wrong types', () => {
    rejects(() => validateAdmin(admin({ status: 2 })), /invalid admin status: 2/);
    rejects(() => validateAdmin(admin({ password: 12345 })), /invalid password: expected a string/);
  });
});

void describe('validateFolder', () => {
  void test('name rules', () => {
    rejects(() => validateFolder({ mapped_path: '/x' }), /folder name is mandatory/);
    rejects(
      () => validateFolder({ name: 'a b', mapped_path: '/x' }),
      /folder name "a b" is not valid/,
    );
    rejects(
      () => validateFolder({ name: ['a'], mapped_path: '/x' }),
      /invalid folder\.name: expected a string/,
    );
  });
  void test('mapped path rules', () => {
    rejects(() => validateFolder({ name: 'f' }), /invalid folder mapped path ""/);
    rejects(
      () => validateFolder({ name: 'f', mapped_path: 'x/y' }),
      /invalid folder mapped path "x\/y"/,
    );
    rejects(
      () =>
        validateFolder({
          name: 'f',
          mapped_path: '',
          filesystem: {
            provider: 4,
            cryptconfig: { passphrase: { status: 'Plain', payload: 'p' } },
          },
        }),
      /invalid folder mapped path/,
    );
    assert.equal(validateFolder({ name: 'f', mapped_path: '/x/../y/' }).mapped_path, '/y');
    assert.equal(
      validateFolder({
        name: 'f',
        filesystem: { provider: 1, s3config: { bucket: 'b', region: 'r' } },
      }).mapped_path,
      '',
    );
  });
  void test('not an object', () => {
    rejects(() => validateFolder('f'), /invalid folder: expected an object/);
    rejects(() => validateFolder(null), /invalid folder: expected an object/);
  });
});

void describe('helpers', () => {
  void test('cleanPath mirrors Go path.Clean', () => {
    assert.equal(cleanPath(''), '.');
    assert.equal(cleanPath('/a/b/../c/'), '/a/c');
    assert.equal(cleanPath('//a//b'), '/a/b');
    assert.equal(cleanPath('/..'), '/');
  });
  void test('parseCidr', () => {
    assert.deepEqual(parseCidr('192.168.1.0/24'), {
      address: '192.168.1.0',
      prefix: 24,
      family: 'ipv4',
    });
    assert.equal(parseCidr('2001:db8::/32')?.family, 'ipv6');
    for (const bad of [
      '192.168.1.0',
      '192.168.1.0/33',
      'a/8',
      '1.2.3.4/-1',
      'fe80::1%eth0/64',
      '',
    ]) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });
  void test('isValidGlob', () => {
    for (const ok of ['*.jpg', 'a?b', '[abc]*', '[^a-z].txt', '\\*', 'x]'])
      assert.ok(isValidGlob(ok), ok);
    for (const bad of ['[', '[a-', '[]', 'ab\\', '[a-]']) assert.ok(!isValidGlob(bad), bad);
  });
  void test('isValidEmail does not backtrack on hostile input', () => {
    assert.ok(isValidEmail('a.b+c@sub.example.org'));
    assert.ok(isValidEmail('"quoted user"@example.com'));
    assert.ok(!isValidEmail(`a@${'a.'.repeat(150)}!`));
    assert.ok(!isValidEmail('a@b.1'));
  });
});

void describe('errors name the JSON path of their field', () => {
  const fieldOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      assert.ok(SftpgoError.is(e, 'INVALID_INPUT'), String(e));
      return e.field;
    }
    assert.fail('expected a validation error');
  };
  const folderRef = new Map<string, ApiFolder>([
    ['shared', { name: 'shared', mapped_path: '/srv/shared', filesystem: { provider: 0 } }],
  ]);
  const cases: [string, () => unknown, string][] = [
    ['relative home', () => validateUser(baseUser({ home_dir: 'rel' })), 'home_dir'],
    ['bad username', () => validateUser(baseUser({ username: 'a b' })), 'username'],
    ['no credentials', () => validateUser(baseUser({ password: '' })), 'password'],
    [
      'bad permission',
      () => validateUser(baseUser({ permissions: { '/': ['x'] } })),
      'permissions',
    ],
    ['negative uid', () => validateUser(baseUser({ uid: -1 })), 'uid'],
    [
      'bad CIDR',
      () => validateUser(baseUser({ filters: { allowed_ip: ['10.0.0.0/8', 'nope'] } })),
      'filters.allowed_ip[1]',
    ],
    [
      'bad pattern',
      () =>
        validateUser(
          baseUser({ filters: { file_patterns: [{ path: '/', denied_patterns: ['['] }] } }),
        ),
      'filters.file_patterns[0].denied_patterns',
    ],
    [
      'S3 bucket',
      () => validateUser(baseUser({ filesystem: { provider: 1, s3config: { region: 'r' } } })),
      'filesystem.s3config.bucket',
    ],
    [
      'virtual path',
      () =>
        validateUser(baseUser({ virtual_folders: [{ name: 'shared', virtual_path: '/' }] }), {
          existingFolders: folderRef,
        }),
      'virtual_folders[0].virtual_path',
    ],
    [
      'inline folder mapped path',
      () =>
        validateUser(
          baseUser({ virtual_folders: [{ name: 'new', mapped_path: 'rel', virtual_path: '/v' }] }),
        ),
      'virtual_folders[0].mapped_path',
    ],
    ['folder name', () => validateFolder({ name: 'a b', mapped_path: '/x' }), 'name'],
    [
      'folder SFTP endpoint',
      () =>
        validateFolder({
          name: 'f',
          filesystem: { provider: 5, sftpconfig: { endpoint: 'host', username: 'u' } },
        }),
      'filesystem.sftpconfig.endpoint',
    ],
    [
      'admin email',
      () => validateAdmin({ username: 'a', password: 'p', permissions: ['*'], email: 'x' }),
      'email',
    ],
    [
      'admin allow list',
      () =>
        validateAdmin({
          username: 'a',
          password: 'p',
          permissions: ['*'],
          filters: { allow_list: ['bad'] },
        }),
      'filters.allow_list[0]',
    ],
  ];
  for (const [name, fn, field] of cases) {
    void test(name, () => assert.equal(fieldOf(fn), field));
  }
});
