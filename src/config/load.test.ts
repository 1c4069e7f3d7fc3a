import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { defaultConfig, loadConfig, resolvePath } from './index.js';

const FIXTURE = resolve(import.meta.dirname, '../../test/fixtures/sftpgo-2.1.2.json');

const dirs: string[] = [];
function tmp(files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'sftpgo-config-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs loadConfig expecting INVALID_INPUT and returns the message. */
function invalid(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(SftpgoError.is(e, 'INVALID_INPUT'), `expected INVALID_INPUT, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected loadConfig to throw');
}

void describe('defaults (reference §3)', () => {
  const dir = tmp();
  const { config: c, warnings, file } = loadConfig({ configDir: dir });

  void it('uses no file and warns nothing when the config dir is empty', () => {
    assert.equal(file, undefined);
    assert.deepEqual(warnings, []);
  });

  void it('common', () => {
    assert.equal(c.common.idle_timeout, 15);
    assert.equal(c.common.upload_mode, 0);
    assert.deepEqual(c.common.actions, { execute_on: [], execute_sync: [], hook: '' });
    assert.equal(c.common.setstat_mode, 0);
    assert.equal(c.common.temp_path, '');
    assert.equal(c.common.proxy_protocol, 0);
    assert.deepEqual(c.common.proxy_allowed, []);
    assert.equal(c.common.startup_hook, '');
    assert.equal(c.common.post_connect_hook, '');
    assert.equal(c.common.max_total_connections, 0);
    assert.equal(c.common.max_per_host_connections, 20);
    assert.deepEqual(c.common.defender, {
      enabled: false,
      ban_time: 30,
      ban_time_increment: 50,
      threshold: 15,
      score_invalid: 2,
      score_valid: 1,
      score_limit_exceeded: 3,
      observation_time: 30,
      entries_soft_limit: 100,
      entries_hard_limit: 150,
      safelist_file: '',
      blocklist_file: '',
    });
    assert.deepEqual(c.common.rate_limiters, [
      {
        average: 0,
        period: 1000,
        burst: 1,
        type: 2,
        protocols: ['SSH', 'FTP', 'DAV', 'HTTP'],
        generate_defender_events: false,
        entries_soft_limit: 100,
        entries_hard_limit: 150,
      },
    ]);
  });

  void it('sftpd', () => {
    assert.deepEqual(c.sftpd.bindings, [{ port: 2022, address: '', apply_proxy_config: true }]);
    assert.equal(c.sftpd.max_auth_tries, 0);
    assert.equal(c.sftpd.banner, '');
    assert.deepEqual(c.sftpd.host_keys, []);
    assert.deepEqual(c.sftpd.trusted_user_ca_keys, []);
    assert.deepEqual(c.sftpd.enabled_ssh_commands, ['md5sum', 'sha1sum', 'cd', 'pwd', 'scp']);
    assert.equal(c.sftpd.keyboard_interactive_auth_hook, '');
    assert.equal(c.sftpd.password_authentication, true);
  });

  void it('ftpd', () => {
    assert.deepEqual(c.ftpd.bindings, [
      {
        port: 0,
        address: '',
        apply_proxy_config: true,
        tls_mode: 0,
        force_passive_ip: '',
        client_auth_type: 0,
        tls_cipher_suites: [],
      },
    ]);
    assert.equal(c.ftpd.active_transfers_port_non_20, true);
    assert.deepEqual(c.ftpd.passive_port_range, { start: 50000, end: 50100 });
    assert.equal(c.ftpd.disable_active_mode, false);
    assert.equal(c.ftpd.enable_site, false);
    assert.equal(c.ftpd.hash_support, 0);
    assert.equal(c.ftpd.combine_support, 0);
  });

  void it('webdavd', () => {
    assert.deepEqual(c.webdavd.bindings, [
      {
        port: 0,
        address: '',
        enable_https: false,
        client_auth_type: 0,
        tls_cipher_suites: [],
        prefix: '',
        proxy_allowed: [],
      },
    ]);
    assert.equal(c.webdavd.cors.enabled, false);
    assert.equal(c.webdavd.cors.max_age, 0);
    assert.deepEqual(c.webdavd.cache, {
      users: { expiration_time: 0, max_size: 50 },
      mime_types: { enabled: true, max_size: 1000 },
    });
  });

  void it('data_provider', () => {
    const dp = c.data_provider;
    assert.equal(dp.driver, 'sqlite');
    assert.equal(dp.name, join(dir, 'sftpgo.db')); // resolved against the config dir
    assert.equal(dp.port, 0);
    assert.equal(dp.track_quota, 2);
    assert.equal(dp.delayed_quota_update, 0);
    assert.equal(dp.pool_size, 0);
    assert.deepEqual(dp.actions, { execute_on: [], hook: '' });
    assert.equal(dp.external_auth_scope, 0);
    assert.equal(dp.credentials_path, join(dir, 'credentials'));
    assert.equal(dp.prefer_database_credentials, false);
    assert.deepEqual(dp.password_hashing, {
      bcrypt_options: { cost: 10 },
      argon2_options: { memory: 65536, iterations: 1, parallelism: 2 },
      algo: 'bcrypt',
    });
    assert.equal(dp.password_caching, true);
    assert.equal(dp.update_mode, 0);
    assert.equal(dp.skip_natural_keys_validation, false);
    assert.equal(dp.create_default_admin, false);
  });

  void it('httpd (address 127.0.0.1 is our documented choice)', () => {
    assert.deepEqual(c.httpd.bindings, [
      {
        port: 8080,
        address: '127.0.0.1',
        enable_web_admin: true,
        enable_web_client: true,
        enable_https: false,
        client_auth_type: 0,
        tls_cipher_suites: [],
        proxy_allowed: [],
      },
    ]);
    assert.equal(c.httpd.templates_path, join(dir, 'templates'));
    assert.equal(c.httpd.static_files_path, join(dir, 'static'));
    assert.equal(c.httpd.backups_path, join(dir, 'backups'));
    assert.equal(c.httpd.web_root, '');
    assert.equal(c.httpd.signing_passphrase, '');
    assert.equal(c.httpd.max_header_bytes, 65536);
  });

  void it('telemetry, http, kms', () => {
    assert.deepEqual(c.telemetry, {
      bind_port: 10000,
      bind_address: '127.0.0.1',
      enable_profiler: false,
      auth_user_file: '',
      certificate_file: '',
      certificate_key_file: '',
      tls_cipher_suites: [],
    });
    assert.deepEqual(c.http, {
      timeout: 20,
      retry_wait_min: 2,
      retry_wait_max: 30,
      retry_max: 3,
      ca_certificates: [],
      certificates: [],
      skip_tls_verify: false,
      headers: [],
    });
    assert.deepEqual(c.kms, { secrets: { url: '', master_key_path: '' } });
  });

  void it('is deep-frozen', () => {
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.sftpd.bindings[0]));
    assert.ok(Object.isFrozen(c.data_provider.password_hashing.argon2_options));
    assert.throws(() => {
      (c.sftpd.bindings as unknown[]).push({});
    }, TypeError);
  });

  void it('defaultConfig() matches the unresolved defaults', () => {
    const d = defaultConfig();
    assert.equal(d.data_provider.name, 'sftpgo.db');
    assert.equal(d.sftpd.bindings[0]?.port, 2022);
    assert.ok(Object.isFrozen(d));
  });
});

void describe('shipped sftpgo.json of 2.1.2', () => {
  void it('loads with no errors and no warnings, and equals the defaults but for the httpd address', () => {
    const dir = tmp({ 'sftpgo.json': readFileSync(FIXTURE, 'utf8') });
    const r = loadConfig({ configDir: dir });
    assert.equal(r.file, join(dir, 'sftpgo.json'));
    assert.deepEqual(r.warnings, []);
    const d = loadConfig({ configDir: tmp() }).config;
    assert.equal(r.config.httpd.bindings[0]?.address, '');
    const { httpd: h1, data_provider: dp1, ...rest1 } = r.config;
    const { httpd: h2, data_provider: dp2, ...rest2 } = d;
    assert.deepEqual(rest1, rest2);
    assert.deepEqual(
      { ...dp1, name: '', credentials_path: '' },
      { ...dp2, name: '', credentials_path: '' },
    );
    assert.deepEqual(h1.bindings[0], { ...h2.bindings[0], address: '' });
  });

  void it('every key of the fixture is known to the schema', () => {
    const r = loadConfig({ configDir: tmp(), configFile: FIXTURE });
    assert.equal(r.file, FIXTURE);
    assert.equal(r.warnings.filter((w) => w.includes('unknown key')).length, 0);
  });
});

void describe('config file', () => {
  void it('reads YAML', () => {
    const dir = tmp({
      'sftpgo.yaml':
        'sftpd:\n  bindings:\n    - port: 2200\n      address: 127.0.0.1\n  enabled_ssh_commands: [pwd]\ncommon:\n  idle_timeout: 3\n',
    });
    const r = loadConfig({ configDir: dir });
    assert.equal(r.file, join(dir, 'sftpgo.yaml'));
    assert.deepEqual(r.config.sftpd.bindings, [
      { port: 2200, address: '127.0.0.1', apply_proxy_config: true },
    ]);
    assert.deepEqual(r.config.sftpd.enabled_ssh_commands, ['pwd']);
    assert.equal(r.config.common.idle_timeout, 3);
    assert.equal(r.config.common.max_per_host_connections, 20);
  });

  void it('reads .yml', () => {
    const r = loadConfig({ configDir: tmp({ 'sftpgo.yml': 'telemetry:\n  bind_port: 0\n' }) });
    assert.equal(r.config.telemetry.bind_port, 0);
  });

  void it('reads TOML', () => {
    const dir = tmp({
      'sftpgo.toml':
        '[data_provider]\ndriver = "postgresql"\nname = "sftpgo"\nport = 5432\n\n[[httpd.bindings]]\nport = 9090\nenable_web_client = false\n',
    });
    const r = loadConfig({ configDir: dir });
    assert.equal(r.config.data_provider.driver, 'postgresql');
    assert.equal(r.config.data_provider.name, 'sftpgo'); // not a path for postgresql
    assert.equal(r.config.data_provider.port, 5432);
    assert.equal(r.config.httpd.bindings[0]?.port, 9090);
    assert.equal(r.config.httpd.bindings[0]?.enable_web_client, false);
    assert.equal(r.config.httpd.bindings[0]?.enable_web_admin, true);
  });

  void it('prefers sftpgo.json over the other extensions', () => {
    const dir = tmp({
      'sftpgo.json': '{"common":{"idle_timeout":1}}',
      'sftpgo.yaml': 'common:\n  idle_timeout: 2\n',
    });
    assert.equal(loadConfig({ configDir: dir }).config.common.idle_timeout, 1);
  });

  void it('takes configFile relative to the config dir, format from the extension', () => {
    const dir = tmp({
      'custom.yaml': 'common:\n  idle_timeout: 9\n',
      'sftpgo.json': '{"common":{"idle_timeout":1}}',
    });
    const r = loadConfig({ configDir: dir, configFile: 'custom.yaml' });
    assert.equal(r.file, join(dir, 'custom.yaml'));
    assert.equal(r.config.common.idle_timeout, 9);
  });

  void it('rejects a missing configFile and an unknown extension', () => {
    const dir = tmp({ 'conf.ini': 'x=1' });
    assert.match(
      invalid(() => loadConfig({ configDir: dir, configFile: 'nope.json' })),
      /nope\.json not found/,
    );
    assert.match(
      invalid(() => loadConfig({ configDir: dir, configFile: 'conf.ini' })),
      /unsupported config file format "\.ini"/,
    );
  });

  void it('reports malformed JSON, YAML and TOML with the file name', () => {
    const j = tmp({ 'sftpgo.json': '{"common": {' });
    assert.match(
      invalid(() => loadConfig({ configDir: j })),
      new RegExp(`cannot parse config file ${join(j, 'sftpgo.json')}`),
    );
    const y = tmp({ 'sftpgo.yaml': 'common:\n  idle_timeout: [1\n' });
    assert.match(
      invalid(() => loadConfig({ configDir: y })),
      /cannot parse config file .*sftpgo\.yaml/,
    );
    const t = tmp({ 'sftpgo.toml': '[common\nidle_timeout = 1' });
    assert.match(
      invalid(() => loadConfig({ configDir: t })),
      /cannot parse config file .*sftpgo\.toml/,
    );
    const arr = tmp({ 'sftpgo.json': '[1,2]' });
    assert.match(
      invalid(() => loadConfig({ configDir: arr })),
      /top level must be an object/,
    );
  });

  void it('an empty YAML file means defaults', () => {
    const r = loadConfig({ configDir: tmp({ 'sftpgo.yaml': '' }) });
    assert.equal(r.config.sftpd.bindings[0]?.port, 2022);
  });

  void it('fills missing keys of every binding from the default binding', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({
        sftpd: { bindings: [{ port: 1 }, { port: 2, apply_proxy_config: false }] },
      }),
    });
    const b = loadConfig({ configDir: dir }).config.sftpd.bindings;
    assert.deepEqual(b, [
      { port: 1, address: '', apply_proxy_config: true },
      { port: 2, address: '', apply_proxy_config: false },
    ]);
  });

  void it('warns about unknown keys, including inside bindings, without failing', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({
        foo: 1,
        sftpd: { bar: true, bindings: [{ port: 22, baz: 1 }] },
        mfa: {},
      }),
    });
    const r = loadConfig({ configDir: dir });
    const file = join(dir, 'sftpgo.json');
    assert.ok(r.warnings.includes(`unknown key foo in ${file} ignored`), r.warnings.join('\n'));
    assert.ok(r.warnings.includes(`unknown key sftpd.bar in ${file} ignored`));
    assert.ok(r.warnings.includes(`unknown key sftpd.bindings[0].baz in ${file} ignored`));
    assert.ok(r.warnings.includes(`unknown key mfa in ${file} ignored`));
    assert.equal(r.config.sftpd.bindings[0]?.port, 22);
    assert.equal(Object.hasOwn(r.config, 'foo'), false);
  });
});

void describe('deprecated keys', () => {
  void it('maps bind_port/bind_address to the first binding', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({
        sftpd: { bind_port: 2200, bind_address: '127.0.0.1' },
        ftpd: { bind_port: 2121, force_passive_ip: '1.2.3.4' },
        webdavd: { bind_port: 8090 },
        httpd: { bind_port: 8081, bind_address: '' },
      }),
    });
    const r = loadConfig({ configDir: dir });
    assert.deepEqual(r.config.sftpd.bindings, [
      { port: 2200, address: '127.0.0.1', apply_proxy_config: true },
    ]);
    assert.equal(r.config.ftpd.bindings[0]?.port, 2121);
    assert.equal(r.config.ftpd.bindings[0]?.force_passive_ip, '1.2.3.4');
    assert.equal(r.config.webdavd.bindings[0]?.port, 8090);
    assert.equal(r.config.httpd.bindings[0]?.port, 8081);
    assert.equal(r.config.httpd.bindings[0]?.address, '');
    assert.ok(
      r.warnings.some(
        (w) => w.startsWith('sftpd.bind_port') && w.includes('mapped to sftpd.bindings[0].port'),
      ),
    );
    assert.equal(r.warnings.filter((w) => w.includes('unknown key')).length, 0);
  });

  void it('ignores bind_port when bindings are set', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({ sftpd: { bind_port: 1, bindings: [{ port: 2 }] } }),
    });
    const r = loadConfig({ configDir: dir });
    assert.equal(r.config.sftpd.bindings.length, 1);
    assert.equal(r.config.sftpd.bindings[0]?.port, 2);
    assert.ok(
      r.warnings.some(
        (w) => w.includes('sftpd.bind_port') && w.includes('ignored because sftpd.bindings is set'),
      ),
    );
  });

  void it('moves 1.x sftpd protocol keys to common and keys to host_keys', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({
        common: { setstat_mode: 2 },
        sftpd: {
          idle_timeout: 4,
          upload_mode: 1,
          setstat_mode: 1,
          actions: { execute_on: ['upload'], command: '/bin/hook' },
          keys: [{ private_key: 'id_rsa' }],
          enable_scp: true,
          umask: '0022',
        },
        data_provider: { users_table: 'users', manage_users: 1 },
      }),
    });
    const r = loadConfig({ configDir: dir });
    assert.equal(r.config.common.idle_timeout, 4);
    assert.equal(r.config.common.upload_mode, 1);
    assert.equal(r.config.common.setstat_mode, 2); // common wins
    assert.deepEqual(r.config.common.actions, {
      execute_on: ['upload'],
      execute_sync: [],
      hook: '/bin/hook',
    });
    assert.deepEqual(r.config.sftpd.host_keys, [join(dir, 'id_rsa')]);
    for (const k of [
      'sftpd.idle_timeout',
      'sftpd.setstat_mode',
      'sftpd.actions',
      'sftpd.keys',
      'sftpd.enable_scp',
      'sftpd.umask',
      'data_provider.users_table',
    ]) {
      assert.ok(
        r.warnings.some((w) => w.startsWith(`${k} in `) && w.includes('deprecated')),
        `no warning for ${k}`,
      );
    }
    assert.equal(r.warnings.filter((w) => w.includes('unknown key')).length, 0);
  });
});

void describe('environment', () => {
  void it('overrides scalars, nested keys and comma lists', () => {
    const r = loadConfig({
      configDir: tmp(),
      env: {
        SFTPGO_COMMON__IDLE_TIMEOUT: '5',
        SFTPGO_COMMON__DEFENDER__ENABLED: 'true',
        SFTPGO_COMMON__DEFENDER__BAN_TIME: '10',
        SFTPGO_SFTPD__ENABLED_SSH_COMMANDS: 'md5sum, pwd',
        SFTPGO_SFTPD__PASSWORD_AUTHENTICATION: '0',
        SFTPGO_WEBDAVD__CACHE__MIME_TYPES__ENABLED: 'false',
        SFTPGO_FTPD__PASSIVE_PORT_RANGE__END: '50200',
        SFTPGO_HTTPD__SIGNING_PASSPHRASE: 'secret',
        SFTPGO_HTTPD__MAX_HEADER_BYTES: '131072',
        SFTPGO_DATA_PROVIDER__PASSWORD_HASHING__ALGO: 'argon2id',
        SFTPGO_COMMON__PROXY_ALLOWED: '10.0.0.0/8,192.168.1.1',
      },
    });
    const c = r.config;
    assert.equal(c.common.idle_timeout, 5);
    assert.equal(c.common.defender.enabled, true);
    assert.equal(c.common.defender.ban_time, 10);
    assert.deepEqual(c.sftpd.enabled_ssh_commands, ['md5sum', 'pwd']);
    assert.equal(c.sftpd.password_authentication, false);
    assert.equal(c.webdavd.cache.mime_types.enabled, false);
    assert.equal(c.ftpd.passive_port_range.end, 50200);
    assert.equal(c.httpd.signing_passphrase, 'secret');
    assert.equal(c.httpd.max_header_bytes, 131072);
    assert.equal(c.data_provider.password_hashing.algo, 'argon2id');
    assert.deepEqual(c.common.proxy_allowed, ['10.0.0.0/8', '192.168.1.1']);
  });

  void it('an empty list variable clears the list', () => {
    const r = loadConfig({ configDir: tmp(), env: { SFTPGO_SFTPD__ENABLED_SSH_COMMANDS: '' } });
    assert.deepEqual(r.config.sftpd.enabled_ssh_commands, []);
  });

  void it('indexes bindings, creating missing ones from the default binding', () => {
    const dir = tmp();
    const r = loadConfig({
      configDir: dir,
      env: {
        SFTPGO_SFTPD__BINDINGS__0__PORT: '2222',
        SFTPGO_SFTPD__BINDINGS__1__PORT: '2223',
        SFTPGO_SFTPD__BINDINGS__1__ADDRESS: '127.0.0.1',
        SFTPGO_HTTPD__BINDINGS__1__ENABLE_WEB_ADMIN: 'false',
        SFTPGO_COMMON__RATE_LIMITERS__0__AVERAGE: '100',
        SFTPGO_COMMON__RATE_LIMITERS__0__PROTOCOLS: 'SSH,FTP',
        SFTPGO_HTTP__HEADERS__0__KEY: 'X-Api',
        SFTPGO_HTTP__HEADERS__0__VALUE: 'v',
        SFTPGO_HTTP__CERTIFICATES__0__CERT: 'client.crt',
      },
    });
    const c = r.config;
    assert.deepEqual(c.sftpd.bindings, [
      { port: 2222, address: '', apply_proxy_config: true },
      { port: 2223, address: '127.0.0.1', apply_proxy_config: true },
    ]);
    assert.equal(c.httpd.bindings.length, 2);
    assert.equal(c.httpd.bindings[0]?.enable_web_admin, true);
    assert.equal(c.httpd.bindings[1]?.enable_web_admin, false);
    assert.equal(c.httpd.bindings[1]?.port, 8080);
    assert.equal(c.common.rate_limiters[0]?.average, 100);
    assert.deepEqual(c.common.rate_limiters[0]?.protocols, ['SSH', 'FTP']);
    assert.equal(c.common.rate_limiters[0]?.period, 1000);
    assert.deepEqual(c.http.headers, [{ key: 'X-Api', value: 'v', url: '' }]);
    assert.deepEqual(c.http.certificates, [{ cert: join(dir, 'client.crt'), key: '' }]);
  });

  void it('an index beyond the list appends (upstream behaviour), keeping env index order', () => {
    const dir = tmp({ 'sftpgo.json': JSON.stringify({ sftpd: { bindings: [{ port: 1 }] } }) });
    const r = loadConfig({
      configDir: dir,
      env: {
        SFTPGO_SFTPD__BINDINGS__5__PORT: '5',
        SFTPGO_SFTPD__BINDINGS__5__ADDRESS: 'five',
        SFTPGO_SFTPD__BINDINGS__3__PORT: '3',
      },
    });
    assert.deepEqual(
      r.config.sftpd.bindings.map((b) => [b.port, b.address]),
      [
        [1, ''],
        [3, ''],
        [5, 'five'],
      ],
    );
  });

  void it('ignores SFTPGO_* variables that are not config keys, warns on index > 9', () => {
    const r = loadConfig({
      configDir: tmp(),
      env: {
        SFTPGO_CONFIG_DIR: '/etc',
        SFTPGO_CONFIG_FILE: 'x.json',
        SFTPGO_LOG_FILE_PATH: '',
        SFTPGO_LOADDATA_FROM: '/x',
        SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin',
        SFTPGO_ADMIN_PASSWORD: 'pw',
        SFTPGO_SFTPD: 'x',
        SFTPGO_SFTPD__NOPE: '1',
        SFTPGO_SFTPD__BINDINGS: '1',
        SFTPGO_SFTPD__BINDINGS__X__PORT: '1',
        SFTPGO_SFTPD__BINDINGS__10__PORT: '1',
        SFTPGO_COMMON__IDLE_TIMEOUT__X: '1',
        HOME: '/root',
      },
    });
    assert.deepEqual(r.config, defaultsIn(r.config.httpd.templates_path));
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /SFTPGO_SFTPD__BINDINGS__10__PORT ignored/);
  });

  void it('env wins over the file, overrides win over env', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({
        common: { idle_timeout: 1, max_total_connections: 7 },
        sftpd: { banner: 'file' },
      }),
    });
    const r = loadConfig({
      configDir: dir,
      env: { SFTPGO_COMMON__IDLE_TIMEOUT: '2', SFTPGO_SFTPD__BANNER: 'env' },
      overrides: { sftpd: { banner: 'flag' } },
    });
    assert.equal(r.config.common.idle_timeout, 2);
    assert.equal(r.config.common.max_total_connections, 7);
    assert.equal(r.config.sftpd.banner, 'flag');
  });

  void it('names the variable in validation errors', () => {
    const msg = invalid(() =>
      loadConfig({
        configDir: tmp(),
        env: { SFTPGO_SFTPD__BINDINGS__0__PORT: 'abc', SFTPGO_COMMON__DEFENDER__ENABLED: 'maybe' },
      }),
    );
    assert.match(
      msg,
      /sftpd\.bindings\[0\]\.port: expected an integer 0-65535 \(from environment variable SFTPGO_SFTPD__BINDINGS__0__PORT\)/,
    );
    assert.match(
      msg,
      /common\.defender\.enabled: expected a boolean .*SFTPGO_COMMON__DEFENDER__ENABLED/,
    );
  });
});

/** the default config as loaded from a config dir (paths resolved) */
function defaultsIn(templatesPath: string): unknown {
  return loadConfig({ configDir: resolve(templatesPath, '..') }).config;
}

void describe('validation', () => {
  const load = (content: unknown): string =>
    invalid(() => loadConfig({ configDir: tmp({ 'sftpgo.json': JSON.stringify(content) }) }));

  void it('lists every problem in one error, naming the file and each key path', () => {
    const msg = load({
      common: { upload_mode: 3, setstat_mode: -1, proxy_protocol: 9, idle_timeout: 'x' },
      sftpd: { bindings: [{ port: 70000 }, { port: 1.5 }] },
      ftpd: { bindings: [{ tls_mode: 3 }] },
      data_provider: { track_quota: 3, external_auth_scope: 16, password_hashing: { algo: 'md5' } },
    });
    assert.match(msg, /^invalid configuration in .*sftpgo\.json:/);
    for (const line of [
      'common.upload_mode: expected an integer 0-2',
      'common.setstat_mode: expected an integer 0-2',
      'common.proxy_protocol: expected an integer 0-2',
      'common.idle_timeout: expected an integer >= 0',
      'sftpd.bindings[0].port: expected an integer 0-65535',
      'sftpd.bindings[1].port: expected an integer 0-65535',
      'ftpd.bindings[0].tls_mode: expected an integer 0-2',
      'data_provider.track_quota: expected an integer 0-2',
      'data_provider.external_auth_scope: expected an integer 0-15',
      'data_provider.password_hashing.algo: expected one of bcrypt, argon2id',
    ]) {
      assert.ok(msg.includes(line), `missing "${line}" in:\n${msg}`);
    }
  });

  void it('each port issue is reported once', () => {
    const msg = load({ sftpd: { bindings: [{ port: -1 }] } });
    assert.equal(msg.split('sftpd.bindings[0].port').length - 1, 1, msg);
  });

  void it('drivers: unsupported upstream names get a clear message, unknown ones the list', () => {
    for (const d of ['bolt', 'cockroachdb']) {
      assert.match(
        load({ data_provider: { driver: d } }),
        new RegExp(`data_provider\\.driver: driver "${d}" is not supported by sftpgo-ts`),
      );
    }
    assert.match(
      load({ data_provider: { driver: 'oracle' } }),
      /data_provider\.driver: expected one of sqlite, postgresql, mysql/,
    );
    for (const d of ['sqlite', 'postgresql', 'mysql', 'memory']) {
      const r = loadConfig({
        configDir: tmp({ 'sftpgo.json': JSON.stringify({ data_provider: { driver: d } }) }),
      });
      assert.equal(r.config.data_provider.driver, d);
    }
  });

  void it('wrong types (what no weak conversion makes sensible)', () => {
    const msg = load({
      common: { actions: { execute_on: { upload: true } }, idle_timeout: true },
      sftpd: { password_authentication: 'yes', host_keys: [true], bindings: {} },
      httpd: { web_root: false, max_header_bytes: 1024 },
      data_provider: { track_quota: 'two', password_caching: 2 },
      kms: 'x',
    });
    assert.ok(msg.includes('common.actions.execute_on: expected a list of strings'), msg);
    assert.ok(msg.includes('common.idle_timeout: expected an integer >= 0'), msg);
    assert.ok(msg.includes('sftpd.password_authentication: expected a boolean (true/false)'), msg);
    assert.ok(msg.includes('sftpd.host_keys[0]: expected a string'), msg);
    assert.ok(msg.includes('sftpd.bindings: expected a list of objects'), msg);
    assert.ok(msg.includes('httpd.web_root: expected a string'), msg);
    assert.ok(msg.includes('data_provider.track_quota: expected an integer 0-2'), msg);
    assert.ok(msg.includes('data_provider.password_caching: expected a boolean'), msg);
    assert.ok(msg.includes('httpd.max_header_bytes: expected an integer 4096-1048576'), msg);
    assert.ok(msg.includes('kms: expected an object'), msg);
  });

  void it('semantic checks: proxy_allowed, passive range, rate limiter, defender, users_base_dir', () => {
    const msg = load({
      common: {
        proxy_allowed: ['10.0.0.1', 'not-an-ip', '10.0.0.0/33'],
        rate_limiters: [{ average: 10, period: 10, burst: 0, protocols: ['SSH', 'SMTP'] }],
        defender: {
          enabled: true,
          threshold: 2,
          score_invalid: 2,
          entries_soft_limit: 10,
          entries_hard_limit: 10,
        },
      },
      ftpd: { passive_port_range: { start: 60000, end: 50000 } },
      data_provider: { users_base_dir: 'relative/dir' },
    });
    for (const line of [
      'common.proxy_allowed[1]: "not-an-ip" is not an IP address or CIDR network',
      'common.proxy_allowed[2]: "10.0.0.0/33" is not an IP address or CIDR network',
      'common.rate_limiters[0].protocols[1]: expected one of SSH, FTP, DAV, HTTP',
      'common.defender.score_invalid: must be lower than threshold',
      'common.defender.entries_hard_limit: must be greater than entries_soft_limit',
      'ftpd.passive_port_range.end: end must not be lower than start',
      'data_provider.users_base_dir: must be an absolute path',
    ]) {
      assert.ok(msg.includes(line), `missing "${line}" in:\n${msg}`);
    }
    // rate limiter semantic checks run once the element types are valid
    const rl = load({ common: { rate_limiters: [{ average: 10, period: 10, burst: 0 }] } });
    assert.ok(rl.includes('common.rate_limiters[0].period: must be at least 100'), rl);
    assert.ok(rl.includes('common.rate_limiters[0].burst: must be at least 1'), rl);
  });

  void it('disabled defender and rate limiters are not checked semantically', () => {
    const r = loadConfig({
      configDir: tmp({
        'sftpgo.json': JSON.stringify({
          common: {
            defender: { enabled: false, threshold: 1 },
            rate_limiters: [{ average: 0, burst: 0, period: 0 }],
          },
        }),
      }),
    });
    assert.equal(r.config.common.defender.threshold, 1);
  });

  void it('unknown action names and SSH commands are warnings, not errors', () => {
    const r = loadConfig({
      configDir: tmp({
        'sftpgo.json': JSON.stringify({
          common: { actions: { execute_on: ['upload', 'explode'] } },
          sftpd: { enabled_ssh_commands: ['pwd', 'rm'] },
        }),
      }),
    });
    assert.ok(
      r.warnings.includes('common.actions.execute_on: unknown action "explode" ignored'),
      r.warnings.join('\n'),
    );
    assert.ok(r.warnings.includes('sftpd.enabled_ssh_commands: unknown SSH command "rm" ignored'));
  });
});

void describe('relative paths', () => {
  void it('resolvePath keeps "" and absolute paths, joins relative ones to the config dir', () => {
    assert.equal(resolvePath('/etc/sftpgo', ''), '');
    assert.equal(resolvePath('/etc/sftpgo', '/abs/key'), '/abs/key');
    assert.equal(resolvePath('/etc/sftpgo', 'keys/id_ed25519'), '/etc/sftpgo/keys/id_ed25519');
    assert.equal(resolvePath('/etc/sftpgo', '../x'), '/etc/x');
  });

  void it('loadConfig resolves the path keys against the config dir', () => {
    const dir = tmp({
      'sftpgo.json': JSON.stringify({
        sftpd: {
          host_keys: ['id_rsa', '/abs/id_ecdsa'],
          trusted_user_ca_keys: ['ca.pub'],
          login_banner_file: 'banner',
        },
        ftpd: {
          certificate_file: 'c.crt',
          certificate_key_file: 'c.key',
          ca_certificates: ['ca.crt'],
          banner_file: 'fb',
        },
        webdavd: { certificate_file: 'w.crt', ca_revocation_lists: ['crl.pem'] },
        httpd: { backups_path: 'bk', certificate_key_file: 'h.key' },
        telemetry: { auth_user_file: 'htpasswd' },
        http: { ca_certificates: ['hc.crt'], certificates: [{ cert: 'cl.crt', key: 'cl.key' }] },
        kms: { secrets: { master_key_path: 'mkey' } },
        common: { defender: { safelist_file: 'safe.json' } },
        data_provider: { credentials_path: '/var/creds' },
      }),
    });
    const c = loadConfig({ configDir: dir }).config;
    const p = (x: string): string => join(dir, x);
    assert.deepEqual(c.sftpd.host_keys, [p('id_rsa'), '/abs/id_ecdsa']);
    assert.deepEqual(c.sftpd.trusted_user_ca_keys, [p('ca.pub')]);
    assert.equal(c.sftpd.login_banner_file, p('banner'));
    assert.equal(c.ftpd.certificate_file, p('c.crt'));
    assert.equal(c.ftpd.certificate_key_file, p('c.key'));
    assert.deepEqual(c.ftpd.ca_certificates, [p('ca.crt')]);
    assert.equal(c.ftpd.banner_file, p('fb'));
    assert.equal(c.webdavd.certificate_file, p('w.crt'));
    assert.deepEqual(c.webdavd.ca_revocation_lists, [p('crl.pem')]);
    assert.equal(c.httpd.backups_path, p('bk'));
    assert.equal(c.httpd.certificate_key_file, p('h.key'));
    assert.equal(c.httpd.certificate_file, '');
    assert.equal(c.telemetry.auth_user_file, p('htpasswd'));
    assert.deepEqual(c.http.ca_certificates, [p('hc.crt')]);
    assert.deepEqual(c.http.certificates, [{ cert: p('cl.crt'), key: p('cl.key') }]);
    assert.equal(c.kms.secrets.master_key_path, p('mkey'));
    assert.equal(c.common.defender.safelist_file, p('safe.json'));
    assert.equal(c.common.defender.blocklist_file, '');
    assert.equal(c.data_provider.credentials_path, '/var/creds');
  });

  void it('a relative config dir is made absolute', () => {
    const dir = tmp();
    const c = loadConfig({ configDir: relative(process.cwd(), dir) }).config;
    assert.equal(c.data_provider.name, join(dir, 'sftpgo.db'));
  });
});
