/**
 * Values SFTPGo 2.1.2 accepts in a real config (viper + weakly typed mapstructure, upstream's own
 * range rules) load here too: converted where needed, with one warning naming each converted key.
 * What is really invalid is still refused with the single message listing every bad key.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SftpgoError } from '../errors/index.js';
import { defaultSearchDirs, loadConfig, type LoadedConfig } from './load.js';

const dirs: string[] = [];
function tmp(files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'sftpgo-compat-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** loads `content` as the sftpgo.json of a fresh dir; only that dir is searched */
function load(content: unknown): LoadedConfig {
  const dir = tmp({ 'sftpgo.json': JSON.stringify(content) });
  return loadConfig({ configDir: dir, searchDirs: [dir] });
}

function invalid(content: unknown): string {
  try {
    load(content);
  } catch (e) {
    assert.ok(SftpgoError.is(e, 'INVALID_INPUT'), `expected INVALID_INPUT, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected loadConfig to throw');
}

/** the warnings that mention `key`: asserts there is exactly one and returns it */
function oneWarning(r: LoadedConfig, key: string): string {
  const hits = r.warnings.filter((w) => w.startsWith(`${key} `) || w.startsWith(`${key}:`));
  assert.equal(hits.length, 1, `expected one warning for ${key}, got:\n${r.warnings.join('\n')}`);
  return hits[0] as string;
}

void describe('values upstream accepts', () => {
  void it('ftpd/webdavd client_auth_type 2 (verify a client certificate if given); httpd stays 0-1', () => {
    const r = load({
      ftpd: { bindings: [{ port: 0, client_auth_type: 2 }] },
      webdavd: { bindings: [{ port: 0, client_auth_type: 2 }] },
    });
    assert.equal(r.config.ftpd.bindings[0]?.client_auth_type, 2);
    assert.equal(r.config.webdavd.bindings[0]?.client_auth_type, 2);
    assert.deepEqual(r.warnings, []);
    assert.match(
      invalid({ httpd: { bindings: [{ client_auth_type: 2 }] } }),
      /httpd\.bindings\[0\]\.client_auth_type: expected an integer 0-1/,
    );
  });

  void it('a negative sftpd.max_auth_tries (unlimited)', () => {
    assert.equal(load({ sftpd: { max_auth_tries: -1 } }).config.sftpd.max_auth_tries, -1);
    assert.match(
      invalid({ sftpd: { max_auth_tries: 1.5 } }),
      /sftpd\.max_auth_tries: expected an integer/,
    );
  });

  void it('a fractional http.timeout; a negative one is refused', () => {
    assert.equal(load({ http: { timeout: 7.5 } }).config.http.timeout, 7.5);
    assert.match(invalid({ http: { timeout: -1 } }), /http\.timeout: expected a number >= 0/);
  });

  void it('hash_support/combine_support above 1 (> 0 means enabled)', () => {
    const c = load({ ftpd: { hash_support: 2, combine_support: 5 } }).config;
    assert.equal(c.ftpd.hash_support, 2);
    assert.equal(c.ftpd.combine_support, 5);
    assert.match(
      invalid({ ftpd: { hash_support: -1 } }),
      /ftpd\.hash_support: expected an integer >= 0/,
    );
  });

  void it('a bcrypt cost below 4 means the default cost 10, with a warning; above 31 is refused', () => {
    for (const cost of [3, 0, -2]) {
      const r = load({ data_provider: { password_hashing: { bcrypt_options: { cost } } } });
      assert.equal(r.config.data_provider.password_hashing.bcrypt_options.cost, 10);
      assert.match(
        oneWarning(r, 'data_provider.password_hashing.bcrypt_options.cost'),
        new RegExp(`${cost} is below bcrypt's minimum 4, the default cost 10 is used`),
      );
    }
    assert.equal(
      load({ data_provider: { password_hashing: { bcrypt_options: { cost: 4 } } } }).config
        .data_provider.password_hashing.bcrypt_options.cost,
      4,
    );
    assert.match(
      invalid({ data_provider: { password_hashing: { bcrypt_options: { cost: 32 } } } }),
      /bcrypt_options\.cost: expected an integer <= 31/,
    );
  });

  void it('a disabled rate limiter (average 0 or less) whatever its other fields', () => {
    const r = load({
      common: {
        rate_limiters: [
          {
            average: 0,
            period: -5,
            burst: -1,
            type: 9,
            protocols: ['SMTP'],
            entries_soft_limit: -1,
          },
          { average: -1, protocols: [], entries_hard_limit: 0 },
        ],
      },
    });
    assert.equal(r.config.common.rate_limiters[0]?.type, 9);
    assert.deepEqual(r.config.common.rate_limiters[0]?.protocols, ['SMTP']);
    assert.deepEqual(r.warnings, []);
    // the same values on an enabled limiter are refused, every one named
    const msg = invalid({
      common: {
        rate_limiters: [{ average: 10, period: -5, burst: -1, type: 9, protocols: ['SMTP'] }],
      },
    });
    for (const line of [
      'common.rate_limiters[0].period: must be at least 100',
      'common.rate_limiters[0].burst: must be at least 1',
      'common.rate_limiters[0].type: expected an integer 1-2',
      'common.rate_limiters[0].protocols[0]: expected one of SSH, FTP, DAV, HTTP',
    ]) {
      assert.ok(msg.includes(line), `missing "${line}" in:\n${msg}`);
    }
  });

  void it('keys in any case (viper is case-insensitive), lists of objects included', () => {
    const r = load({
      Common: { Idle_Timeout: 3, Defender: { ENABLED: true } },
      SFTPD: { Max_Auth_Tries: 2, Bindings: [{ Port: 2200, ADDRESS: '127.0.0.1' }] },
      Data_Provider: { Password_Hashing: { Algo: 'argon2id' } },
    });
    assert.equal(r.config.common.idle_timeout, 3);
    assert.equal(r.config.common.defender.enabled, true);
    assert.equal(r.config.sftpd.max_auth_tries, 2);
    assert.deepEqual(r.config.sftpd.bindings, [
      { port: 2200, address: '127.0.0.1', apply_proxy_config: true },
    ]);
    assert.equal(r.config.data_provider.password_hashing.algo, 'argon2id');
    assert.deepEqual(r.warnings, [], 'no unknown-key warnings for other spellings');
  });

  void it('deprecated keys in another case are still mapped', () => {
    const r = load({ SFTPD: { Bind_Port: 2201 } });
    assert.equal(r.config.sftpd.bindings[0]?.port, 2201);
    assert.ok(r.warnings.some((w) => w.startsWith('sftpd.bind_port') && w.includes('deprecated')));
  });

  void it('one key spelled twice in different cases is ambiguous: refused with the other problems', () => {
    const msg = invalid({
      common: { idle_timeout: 1, IDLE_TIMEOUT: 2 },
      sftpd: { bindings: [{ port: 70000 }] },
    });
    assert.match(msg, /common\.idle_timeout: given twice, as "idle_timeout" and "IDLE_TIMEOUT"/);
    assert.match(msg, /sftpd\.bindings\[0\]\.port: expected an integer 0-65535/);
  });
});

void describe('weakly typed values (mapstructure WeaklyTypedInput)', () => {
  void it('a decimal string for a number: converted, one warning naming the key', () => {
    const r = load({
      common: { idle_timeout: '5' },
      sftpd: { bindings: [{ port: ' 2222 ' }] },
      http: { timeout: '2.5' },
    });
    assert.equal(r.config.common.idle_timeout, 5);
    assert.equal(r.config.sftpd.bindings[0]?.port, 2222);
    assert.equal(r.config.http.timeout, 2.5);
    assert.match(oneWarning(r, 'common.idle_timeout'), /the string "5" taken as the number 5/);
    oneWarning(r, 'sftpd.bindings[0].port');
    oneWarning(r, 'http.timeout');
    assert.equal(r.warnings.length, 3, r.warnings.join('\n'));
  });

  void it('"true"/"false" (Go ParseBool spellings) and 1/0 for a boolean', () => {
    const r = load({
      common: { defender: { enabled: 'true' } },
      sftpd: { password_authentication: 0, bindings: [{ apply_proxy_config: 'F' }] },
      data_provider: { password_caching: '0', create_default_admin: 1 },
    });
    assert.equal(r.config.common.defender.enabled, true);
    assert.equal(r.config.sftpd.password_authentication, false);
    assert.equal(r.config.sftpd.bindings[0]?.apply_proxy_config, false);
    assert.equal(r.config.data_provider.password_caching, false);
    assert.equal(r.config.data_provider.create_default_admin, true);
    assert.match(
      oneWarning(r, 'common.defender.enabled'),
      /the string "true" taken as the boolean true/,
    );
    assert.match(
      oneWarning(r, 'data_provider.create_default_admin'),
      /the number 1 taken as the boolean true/,
    );
    assert.equal(r.warnings.length, 5, r.warnings.join('\n'));
  });

  void it('a number for a string, also inside a list of strings', () => {
    const r = load({
      data_provider: { password: 1234, name: 42 },
      sftpd: { host_keys: ['id_rsa', 7] },
    });
    assert.equal(r.config.data_provider.password, '1234');
    assert.match(
      oneWarning(r, 'data_provider.password'),
      /the number 1234 taken as the string "1234"/,
    );
    assert.equal(r.config.sftpd.host_keys[1]?.endsWith('/7'), true);
    oneWarning(r, 'sftpd.host_keys[1]');
  });

  void it('a comma separated string for a list of strings (viper StringToSlice)', () => {
    const r = load({
      sftpd: { enabled_ssh_commands: 'md5sum, pwd' },
      common: { proxy_allowed: '' },
    });
    assert.deepEqual(r.config.sftpd.enabled_ssh_commands, ['md5sum', 'pwd']);
    assert.deepEqual(r.config.common.proxy_allowed, []);
    assert.match(
      oneWarning(r, 'sftpd.enabled_ssh_commands'),
      /the string "md5sum, pwd" taken as the list \["md5sum","pwd"\]/,
    );
  });

  void it('converted values still go through validation; what is not convertible is refused', () => {
    const msg = invalid({
      common: { upload_mode: '3', idle_timeout: 'soon' },
      sftpd: { bindings: [{ port: '70000' }], password_authentication: 'yes' },
      data_provider: { password_caching: 2, password: true },
    });
    for (const line of [
      'common.upload_mode: expected an integer 0-2',
      'common.idle_timeout: expected an integer >= 0',
      'sftpd.bindings[0].port: expected an integer 0-65535',
      'sftpd.password_authentication: expected a boolean (true/false)',
      'data_provider.password_caching: expected a boolean (true/false)',
      'data_provider.password: expected a string',
    ]) {
      assert.ok(msg.includes(line), `missing "${line}" in:\n${msg}`);
    }
  });
});

void describe('a real 2.1.2 config with all of the above', () => {
  void it('starts (loads) with one warning per converted key and nothing else', () => {
    const r = load({
      Common: {
        Idle_Timeout: '15',
        rate_limiters: [{ average: 0, type: 0, protocols: ['SSH', 'SMTP'] }],
      },
      SFTPD: { Max_Auth_Tries: -1 },
      ftpd: { hash_support: 1, combine_support: 3, bindings: [{ port: 0, client_auth_type: 2 }] },
      webdavd: { bindings: [{ port: 0, client_auth_type: 2 }] },
      data_provider: { password_hashing: { bcrypt_options: { cost: 2 } } },
      http: { timeout: 0.5 },
    });
    assert.equal(r.config.sftpd.max_auth_tries, -1);
    assert.deepEqual(
      r.warnings.map((w) => w.split(/[ :]/)[0]),
      ['common.idle_timeout', 'data_provider.password_hashing.bcrypt_options.cost'],
    );
  });
});

void describe('config file search order', () => {
  void it('default list: the config dir, then $HOME/.config/sftpgo and /etc/sftpgo on Linux only', () => {
    assert.deepEqual(defaultSearchDirs('/cfg', { HOME: '/home/u' }, 'linux'), [
      '/cfg',
      '/home/u/.config/sftpgo',
      '/etc/sftpgo',
    ]);
    assert.deepEqual(defaultSearchDirs('/cfg', {}, 'linux'), ['/cfg', '/etc/sftpgo']);
    assert.deepEqual(defaultSearchDirs('/etc/sftpgo', undefined, 'linux'), ['/etc/sftpgo']);
    assert.deepEqual(defaultSearchDirs('/cfg', { HOME: '/home/u' }, 'darwin'), ['/cfg']);
  });

  void it('the first directory holding a sftpgo.* file wins; relative paths stay relative to the config dir', () => {
    const root = tmp({
      'home/.config/sftpgo/sftpgo.yaml': 'common:\n  idle_timeout: 2\nsftpd:\n  host_keys: [k]\n',
      'etc/sftpgo/sftpgo.json': '{"common":{"idle_timeout":3}}',
    });
    const configDir = join(root, 'cfg');
    mkdirSync(configDir);
    const home = join(root, 'home');
    const etc = join(root, 'etc', 'sftpgo');
    const searchDirs = [configDir, join(home, '.config', 'sftpgo'), etc];

    // nothing in the config dir: $HOME/.config/sftpgo
    let r = loadConfig({ configDir, searchDirs });
    assert.equal(r.file, join(home, '.config', 'sftpgo', 'sftpgo.yaml'));
    assert.equal(r.config.common.idle_timeout, 2);
    assert.deepEqual(r.config.sftpd.host_keys, [join(configDir, 'k')]);
    assert.deepEqual(r.searched, searchDirs);

    // nothing in the config dir nor in HOME: /etc/sftpgo
    r = loadConfig({ configDir, searchDirs: [configDir, join(root, 'nohome'), etc] });
    assert.equal(r.file, join(etc, 'sftpgo.json'));
    assert.equal(r.config.common.idle_timeout, 3);

    // a file in the config dir wins over both
    writeFileSync(join(configDir, 'sftpgo.toml'), '[common]\nidle_timeout = 1\n');
    r = loadConfig({ configDir, searchDirs });
    assert.equal(r.file, join(configDir, 'sftpgo.toml'));
    assert.equal(r.config.common.idle_timeout, 1);

    // an explicit config file: no search at all
    r = loadConfig({ configDir, configFile: join(etc, 'sftpgo.json'), searchDirs: [] });
    assert.equal(r.file, join(etc, 'sftpgo.json'));
    assert.deepEqual(r.searched, []);
  });

  void it('HOME is taken from the passed environment (missing directories are fine)', () => {
    const home = tmp({ '.config/sftpgo/sftpgo.json': '{"common":{"idle_timeout":7}}' });
    const configDir = tmp();
    const r = loadConfig({ configDir, env: { HOME: home } });
    if (process.platform === 'linux') {
      assert.equal(r.file, join(home, '.config', 'sftpgo', 'sftpgo.json'));
      assert.equal(r.config.common.idle_timeout, 7);
    }
    const none = loadConfig({
      configDir,
      env: { HOME: join(home, 'missing') },
      searchDirs: [configDir, join(home, 'missing')],
    });
    assert.equal(none.file, undefined);
  });
});
