import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  adminFormToJson,
  dateField,
  folderFormToJson,
  formView,
  inputForField,
  intField,
  pathLines,
  userFormToJson,
  userToForm,
} from './forms.js';

void describe('web admin forms: form → REST JSON', () => {
  void test('numbers: empty is 0, integers parse, anything else stays as typed', () => {
    assert.equal(intField(''), 0);
    assert.equal(intField(' 42 '), 42);
    assert.equal(intField('-1'), -1);
    assert.equal(intField('1.5'), '1.5');
    assert.equal(intField('1e300'), '1e300');
    assert.equal(intField('99999999999999999999'), '99999999999999999999');
  });

  void test('dates: YYYY-MM-DD is UTC midnight in ms, empty is 0', () => {
    assert.equal(dateField('2030-01-02'), Date.UTC(2030, 0, 2));
    assert.equal(dateField(''), 0);
    assert.equal(dateField('tomorrow'), 'tomorrow');
  });

  void test('path lines split at the last colon for permissions, the first for patterns', () => {
    assert.deepEqual(pathLines('/: *\n\n /a:b: list, upload \n/x', true), [
      ['/', ['*']],
      ['/a:b', ['list', 'upload']],
      ['/x', []],
    ]);
    assert.deepEqual(pathLines('/docs: *.txt,a:b', false), [['/docs', ['*.txt', 'a:b']]]);
  });

  void test('a full user form', () => {
    const f = new URLSearchParams([
      ['status', '1'],
      ['username', ' bob '],
      ['password', 'pw'],
      ['home_dir', '/srv/bob'],
      ['public_keys', 'ssh-ed25519 AAAA a\n\nssh-rsa BBBB b'],
      ['permissions', '/: *\n/ro: list,download'],
      ['quota_size', ''],
      ['uid', 'x'],
      ['allowed_ip', '10.0.0.0/8, 192.168.0.0/16'],
      ['denied_protocols', 'FTP'],
      ['denied_protocols', 'DAV'],
      ['allowed_patterns', '/pics: *.jpg,*.png'],
      ['denied_patterns', '/pics: *.exe\n/bin: *'],
      ['pre_login_disabled', '1'],
      ['fs_provider', '1'],
      ['s3_bucket', 'b'],
      ['s3_access_secret', ''],
      ['s3_access_secret_set', '1'],
      ['s3_upload_part_size', '5'],
      ['vf_name', ''],
      ['vf_path', ''],
      ['vf_quota_size', '-1'],
      ['vf_quota_files', '-1'],
      ['vf_name', 'shared'],
      ['vf_path', '/shared'],
      ['vf_quota_size', '-1'],
      ['vf_quota_files', '-1'],
    ]);
    const { body, vfRows } = userFormToJson(f);
    assert.equal(body['username'], 'bob');
    assert.equal(body['password'], 'pw');
    assert.deepEqual(body['public_keys'], ['ssh-ed25519 AAAA a', 'ssh-rsa BBBB b']);
    assert.deepEqual(body['permissions'], { '/': ['*'], '/ro': ['list', 'download'] });
    assert.equal(body['quota_size'], 0);
    assert.equal(body['uid'], 'x', 'left for the API to reject');
    const filters = body['filters'] as Record<string, unknown>;
    assert.deepEqual(filters['allowed_ip'], ['10.0.0.0/8', '192.168.0.0/16']);
    assert.deepEqual(filters['denied_ip'], [], 'sent empty so an update clears it');
    assert.deepEqual(filters['denied_protocols'], ['FTP', 'DAV']);
    assert.deepEqual(filters['file_patterns'], [
      { path: '/pics', allowed_patterns: ['*.jpg', '*.png'], denied_patterns: ['*.exe'] },
      { path: '/bin', allowed_patterns: [], denied_patterns: ['*'] },
    ]);
    assert.deepEqual(filters['hooks'], {
      external_auth_disabled: false,
      pre_login_disabled: true,
      check_password_disabled: false,
    });
    assert.deepEqual(body['filesystem'], {
      provider: 1,
      s3config: {
        bucket: 'b',
        region: '',
        access_key: '',
        access_secret: { status: 'Redacted' },
        endpoint: '',
        storage_class: '',
        key_prefix: '',
        upload_part_size: 5,
        upload_concurrency: 0,
      },
    });
    assert.deepEqual(body['virtual_folders'], [
      { name: 'shared', virtual_path: '/shared', quota_size: -1, quota_files: -1 },
    ]);
    assert.deepEqual(vfRows, [1], 'the empty first row is skipped');
  });

  void test('no password typed: none sent (an update keeps the stored one)', () => {
    assert.equal('password' in userFormToJson(new URLSearchParams()).body, false);
    assert.equal('password' in adminFormToJson(new URLSearchParams({ password: '' })), false);
  });

  void test('secrets: typed → Plain, untouched with a stored one → Redacted, else none', () => {
    const fs = (extra: Record<string, string>): unknown =>
      folderFormToJson(new URLSearchParams({ name: 'f', fs_provider: '4', ...extra }))[
        'filesystem'
      ];
    assert.deepEqual(fs({ crypt_passphrase: 'p' }), {
      provider: 4,
      cryptconfig: { passphrase: { status: 'Plain', payload: 'p' } },
    });
    assert.deepEqual(fs({ crypt_passphrase_set: '1' }), {
      provider: 4,
      cryptconfig: { passphrase: { status: 'Redacted' } },
    });
    assert.deepEqual(fs({}), { provider: 4, cryptconfig: {} });
  });

  void test('admin form', () => {
    const a = adminFormToJson(
      new URLSearchParams([
        ['username', 'root2'],
        ['status', '0'],
        ['permissions', 'view_users'],
        ['permissions', 'add_users'],
        ['allow_list', '10.0.0.0/8\n127.0.0.1/32'],
      ]),
    );
    assert.deepEqual(a['permissions'], ['view_users', 'add_users']);
    assert.deepEqual(a['filters'], { allow_list: ['10.0.0.0/8', '127.0.0.1/32'] });
    assert.equal(a['status'], 0);
  });
});

void describe('web admin forms: stored → form', () => {
  void test('a user round-trips through its form; secrets become a marker only', () => {
    const stored = {
      username: 'al',
      status: 1,
      home_dir: '/h',
      permissions: { '/': ['*'] },
      expiration_date: Date.UTC(2031, 5, 7),
      filters: { denied_login_methods: ['password'], hooks: { pre_login_disabled: true } },
      filesystem: {
        provider: 1,
        s3config: {
          bucket: 'b',
          region: 'r',
          access_key: 'k',
          access_secret: { status: 'AES-256-GCM', payload: 'ENCRYPTED' },
        },
      },
      virtual_folders: [{ name: 'v', virtual_path: '/v', quota_size: 0, quota_files: 0 }],
    } as never;
    const form = userToForm(stored);
    assert.equal(form.get('expiration_date'), '2031-06-07');
    assert.equal(form.get('s3_access_secret_set'), '1');
    assert.ok(![...form.values()].some((v) => v.includes('ENCRYPTED')));
    const back = userFormToJson(form).body;
    assert.equal(back['expiration_date'], Date.UTC(2031, 5, 7));
    assert.deepEqual((back['filters'] as { denied_login_methods: string[] }).denied_login_methods, [
      'password',
    ]);
    const clone = userToForm(stored, { clone: true });
    assert.equal(clone.get('username'), '');
    assert.equal(clone.has('s3_access_secret_set'), false);
  });
});

void describe('web admin forms: error paths → inputs', () => {
  void test('paths map to the input ids of the forms', () => {
    assert.equal(inputForField('home_dir'), 'home_dir');
    assert.equal(inputForField('permissions'), 'permissions');
    assert.equal(inputForField('filters.allowed_ip[3]'), 'allowed_ip');
    assert.equal(inputForField('filters.hooks.pre_login_disabled'), 'pre_login_disabled');
    assert.equal(inputForField('filters.file_patterns[0].denied_patterns'), 'denied_patterns');
    assert.equal(inputForField('filesystem.s3config.bucket'), 's3_bucket');
    assert.equal(inputForField('filesystem.azblobconfig.account_key'), 'az_account_key');
    assert.equal(inputForField('filesystem.provider'), 'fs_provider');
    assert.equal(inputForField('virtual_folders[1].virtual_path', [0, 3]), 'vf_path_3');
    assert.equal(inputForField('virtual_folders[0].quota_files', [2]), 'vf_quota_files_2');
    assert.equal(inputForField('virtual_folders[0].mapped_path', [2]), 'vf_name_2');
    assert.equal(inputForField('virtual_folders[5].name', [0]), undefined);
  });

  void test('the form view escapes messages and marks invalid fields', () => {
    const v = formView(new URLSearchParams({ a: '1' }), { a: '<b>bad</b>' });
    assert.equal(v.inv('a'), ' aria-invalid="true" aria-describedby="a-error"');
    assert.equal(
      v.msg('a'),
      '<small id="a-error" class="field-error">&lt;b&gt;bad&lt;/b&gt;</small>',
    );
    assert.equal(v.inv('b'), '');
    assert.equal(v.msg('b'), '');
  });
});
