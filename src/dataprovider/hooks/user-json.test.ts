import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { User } from '../provider.js';
import { decodeOnto, goUserObject, rawUserJson, renderedUserObject } from './user-json.js';

/** the placeholder upstream marshals for an unknown login name */
const PLACEHOLDER_ALICE =
  '{"id":0,"status":0,"username":"alice","expiration_date":0,"home_dir":"","uid":0,"gid":0,' +
  '"max_sessions":0,"quota_size":0,"quota_files":0,"permissions":null,"used_quota_size":0,' +
  '"used_quota_files":0,"last_quota_update":0,"upload_bandwidth":0,"download_bandwidth":0,' +
  '"last_login":0,"filters":{"hooks":{"external_auth_disabled":false,"pre_login_disabled":false,' +
  '"check_password_disabled":false}},"filesystem":{"provider":0,"s3config":{},"azblobconfig":{},' +
  '"gcsconfig":{},"cryptconfig":{},"sftpconfig":{}}}';

void describe('hook user JSON', () => {
  void test('an unknown user is the placeholder, every field zero or empty', () => {
    assert.equal(rawUserJson(undefined, 'alice'), PLACEHOLDER_ALICE);
  });

  void test('a stored user: Go field order, omitempty, structs always present, hash and secrets kept', () => {
    const secret = {
      status: 'AES-256-GCM',
      payload: 'cipher',
      key: 'k',
      additional_data: 'bob',
      mode: 1,
    };
    const stored = {
      filesystem: {
        provider: 1,
        s3config: { bucket: 'b', region: '', access_secret: secret, upload_part_size: 0 },
      },
      additional_info: 'info',
      username: 'bob',
      id: 7,
      status: 1,
      password: '$2a$04$hash',
      public_keys: [],
      home_dir: '/srv/bob',
      virtual_folders: [
        { name: 'vf', mapped_path: '/m', virtual_path: '/v', quota_size: -1, quota_files: -1 },
      ],
      permissions: { '/': ['*'] },
      filters: { denied_protocols: ['FTP'], hooks: { pre_login_disabled: true }, web_client: [] },
      description: '',
      used_quota_size: 10,
      last_login: 5,
    } as unknown as User;
    const o = goUserObject(stored);
    assert.deepEqual(Object.keys(o), [
      'id',
      'status',
      'username',
      'expiration_date',
      'password',
      'home_dir',
      'virtual_folders',
      'uid',
      'gid',
      'max_sessions',
      'quota_size',
      'quota_files',
      'permissions',
      'used_quota_size',
      'used_quota_files',
      'last_quota_update',
      'upload_bandwidth',
      'download_bandwidth',
      'last_login',
      'filters',
      'filesystem',
      'additional_info',
    ]);
    assert.equal(o['password'], '$2a$04$hash');
    assert.deepEqual(o['filters'], {
      denied_protocols: ['FTP'],
      hooks: {
        external_auth_disabled: false,
        pre_login_disabled: true,
        check_password_disabled: false,
      },
    });
    assert.deepEqual(o['filesystem'], {
      provider: 1,
      s3config: { bucket: 'b', access_secret: secret },
      azblobconfig: {},
      gcsconfig: {},
      cryptconfig: {},
      sftpconfig: {},
    });
    assert.deepEqual(o['virtual_folders'], [
      {
        id: 0,
        name: 'vf',
        mapped_path: '/m',
        used_quota_size: 0,
        used_quota_files: 0,
        last_quota_update: 0,
        filesystem: {
          provider: 0,
          s3config: {},
          azblobconfig: {},
          gcsconfig: {},
          cryptconfig: {},
          sftpconfig: {},
        },
        virtual_path: '/v',
        quota_size: -1,
        quota_files: -1,
      },
    ]);
  });

  void test('an answer decodes onto the loaded user as json.Unmarshal does', () => {
    const loaded = goUserObject({
      username: 'bob',
      status: 1,
      home_dir: '/h',
      public_keys: ['k1', 'k2'],
      permissions: { '/': ['*'], '/ro': ['list'] },
      filters: { denied_ip: ['10.0.0.0/8'], hooks: { check_password_disabled: true } },
      filesystem: {
        provider: 4,
        sftpconfig: { endpoint: 'h:22', password: { status: 'AES-256-GCM', payload: 'p' } },
      },
      description: 'd',
    } as unknown as User);
    const out = decodeOnto(loaded, {
      status: 0,
      permissions: { '/ro': ['list', 'download'], '/new': ['*'] },
      public_keys: ['k3'],
      filters: { hooks: { pre_login_disabled: true }, denied_ip: null },
      filesystem: { sftpconfig: { password: { status: 'Plain', payload: 'new' } } },
      description: null,
      home_dir: null,
    });
    assert.equal(out['status'], 0);
    assert.deepEqual(out['permissions'], {
      '/': ['*'],
      '/ro': ['list', 'download'],
      '/new': ['*'],
    });
    assert.deepEqual(out['public_keys'], ['k3'], 'arrays are replaced');
    const filters = out['filters'] as Record<string, unknown>;
    assert.equal(filters['denied_ip'], undefined, 'null clears an array');
    assert.deepEqual(filters['hooks'], {
      external_auth_disabled: false,
      pre_login_disabled: true,
      check_password_disabled: true,
    });
    const fs = out['filesystem'] as Record<string, Record<string, unknown>>;
    assert.equal(fs['sftpconfig']?.['endpoint'], 'h:22', 'structs merge');
    assert.deepEqual(
      fs['sftpconfig']?.['password'],
      { status: 'Plain', payload: 'new' },
      'a secret is replaced whole',
    );
    assert.equal(out['description'], 'd', 'null leaves a string as it was');
    assert.equal(out['home_dir'], '/h');
    assert.deepEqual(decodeOnto({ permissions: { '/': ['*'] } }, { permissions: null }), {});
  });

  void test('the rendered form: no password hash, secrets without key and additional data', () => {
    const stored = {
      id: 3,
      status: 1,
      username: 'carol',
      password: '$2a$04$hash',
      public_keys: ['ssh-ed25519 AAAA'],
      home_dir: '/srv/carol',
      permissions: { '/': ['*'] },
      filesystem: {
        provider: 4,
        cryptconfig: {
          passphrase: {
            status: 'AES-256-GCM',
            payload: 'cipher',
            key: 'k',
            additional_data: 'carol',
            mode: 1,
          },
        },
      },
    } as unknown as User;
    const o = renderedUserObject(stored);
    assert.equal(o['password'], undefined);
    assert.deepEqual(o['public_keys'], ['ssh-ed25519 AAAA']);
    const fs = o['filesystem'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(fs['cryptconfig']?.['passphrase'], {
      status: 'AES-256-GCM',
      payload: 'cipher',
      mode: 1,
    });
    assert.equal(stored.password, '$2a$04$hash', 'the stored user is not changed');
    assert.equal(JSON.stringify(renderedUserObject(undefined, 'alice')), PLACEHOLDER_ALICE);
  });
});
