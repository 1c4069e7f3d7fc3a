/**
 * The not-implemented list (not-implemented.ts) stays true, and the startup check built on it
 * warns once per ignored key and refuses the keys whose ignoring weakens security.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfigFor } from './load.js';
import {
  checkNotImplemented,
  formatRefusals,
  NOT_IMPLEMENTED,
  type NotImplementedEntry,
} from './not-implemented.js';
import { configSchema, INDEXED_LISTS, type Config } from './schema.js';
import { isPlainObject } from './tree.js';

const SRC = resolve(import.meta.dirname, '..');
const DIR = '/srv/sftpgo';

// ---------------------------------------------------------------------------------------------
// every leaf key is read by the code or listed

/** leaf key patterns of the schema, `[]` for the elements of a list of objects */
function leafKeys(node: unknown, path: string, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    const element = INDEXED_LISTS[path];
    if (element !== undefined) return leafKeys(element.parse({}), `${path}[]`, out);
    out.push(path); // a list of strings is one value
    return out;
  }
  if (isPlainObject(node)) {
    for (const [k, v] of Object.entries(node)) leafKeys(v, path === '' ? k : `${path}.${k}`, out);
    return out;
  }
  out.push(path);
  return out;
}

/**
 * Where a config section is consumed. The service (composition root) hands values of several
 * sections to the layers below, so it counts for them; a service's section points at its folder.
 */
const SECTION_FOLDERS: Record<string, string[]> = {
  common: ['common', 'service'],
  sftpd: ['sftpd', 'service'],
  ftpd: ['ftpd'],
  webdavd: ['webdavd'],
  data_provider: ['dataprovider', 'service'],
  httpd: ['httpd', 'service'],
  telemetry: ['telemetry'],
  http: ['common', 'service', 'util'], // the hooks' HTTP client (src/util/hooks)
  kms: ['kms', 'service'],
};

/**
 * Comments and quoted strings removed: a key named in a comment or a log message is not read.
 * Template literals are kept (their `${...}` holds code). Good enough for our sources; the
 * alternation scans left to right, so a `//` inside a string is not taken for a comment.
 */
function stripNonCode(text: string): string {
  return text.replace(
    /\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|(`(?:\\.|[^`\\])*`)/g,
    (_m, template: string | undefined) => template ?? ' ',
  );
}

function sources(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out; // service not written yet
    throw e;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.tsx?$/.test(e) && !/\.test\.tsx?$/.test(e) && !e.endsWith('.gen.ts')) out.push(p);
  }
  return out;
}

/** folder -> its sources, raw and with comments and strings stripped */
const cache = new Map<string, { raw: string; code: string }>();
function folder(name: string): { raw: string; code: string } {
  let c = cache.get(name);
  if (c === undefined) {
    const raw = sources(join(SRC, name)).map((f) => readFileSync(f, 'utf8'));
    c = { raw: raw.join('\n'), code: raw.map(stripNonCode).join('\n') };
    cache.set(name, c);
  }
  return c;
}
const folderCode = (name: string): string => folder(name).code;

/**
 * "Read by the code": the key's last segment appears as a property access in a non-test source
 * file of the section's folders (src/config excluded: it defines and checks keys, it does not
 * use them). Property access means `.key` / `?.key`, `['key']`, or a shorthand destructuring
 * `const { a, key } = ...` / `({ key }) =>`. Not counted: type declarations (`key?: string`),
 * object literals, comments and strings. A renaming destructuring (`{ key: k }`) looks like a
 * type literal to a regex, so it does not count either: write `.key` or the shorthand. The last
 * segment alone is ambiguous (`port`, `hook`), which is why only the section's folders count.
 */
function isRead(key: string): boolean {
  const section = key.split(/[.[]/)[0] as string;
  const last = key.slice(key.lastIndexOf('.') + 1).replace('[]', '');
  const folders = SECTION_FOLDERS[section];
  assert.ok(folders, `no folder known for config section ${section}: add it to SECTION_FOLDERS`);
  const destructured = `\\{[^{}:;]*\\b${last}\\b[^{}:;]*\\}`;
  const inCode = new RegExp(
    `\\.${last}\\b|${destructured}\\s*=[^=>]|\\(\\s*${destructured}\\s*[:)]`,
  );
  // bracket access uses a quoted string, which stripNonCode removes: test it on the raw text
  const bracket = new RegExp(`\\[\\s*['"]${last}['"]\\s*\\]`);
  return folders.some((f) => inCode.test(folder(f).code) || bracket.test(folder(f).raw));
}

/** the listed entry covering `key`: itself, or a section entry above it */
function listedAs(key: string): string | undefined {
  return Object.keys(NOT_IMPLEMENTED).find((p) => key === p || key.startsWith(`${p}.`));
}

const LEAVES = leafKeys(configSchema.parse({}), '');

void describe('the not-implemented list stays true', () => {
  void it('walks the whole schema', () => {
    assert.ok(LEAVES.length > 150, `only ${LEAVES.length} leaf keys found`);
    assert.ok(LEAVES.includes('sftpd.bindings[].port'));
    assert.ok(LEAVES.includes('common.rate_limiters[].protocols'));
    assert.ok(LEAVES.includes('data_provider.password_hashing.bcrypt_options.cost'));
  });

  void it('every listed key exists in the schema', () => {
    for (const p of Object.keys(NOT_IMPLEMENTED)) {
      assert.ok(
        LEAVES.some((k) => k === p || k.startsWith(`${p}.`)),
        `${p} is in NOT_IMPLEMENTED but is not a key of the schema`,
      );
    }
  });

  void it('every leaf key is read by the code or listed as not implemented', () => {
    const silent = LEAVES.filter((k) => listedAs(k) === undefined && !isRead(k));
    assert.deepEqual(
      silent,
      [],
      `these keys are accepted but never read: implement them or add them to src/config/not-implemented.ts:\n  ${silent.join('\n  ')}`,
    );
  });

  void it('a listed key that the code reads now is removed from the list', () => {
    // a key listed one by one: as soon as it is read. A service section (ftpd ...): as soon as
    // its folder has code; its unread keys are then listed one by one. The `http` section (the
    // hooks' HTTP client) has no folder of its own: drop it when the first hook lands.
    const serviceFolder: Record<string, string> = {
      ftpd: 'ftpd',
      webdavd: 'webdavd',
      telemetry: 'telemetry',
    };
    const stale = Object.keys(NOT_IMPLEMENTED).filter((p) => {
      if (LEAVES.includes(p)) return isRead(p);
      const f = serviceFolder[p];
      return f !== undefined && folderCode(f) !== '';
    });
    assert.deepEqual(
      stale,
      [],
      `these keys are read by the code now: remove them from src/config/not-implemented.ts (or list the unread keys of the section one by one):\n  ${stale.join('\n  ')}`,
    );
  });

  void it('the detection works on known cases', () => {
    assert.ok(isRead('sftpd.max_auth_tries'));
    assert.ok(isRead('sftpd.bindings[].port'));
    assert.ok(isRead('common.defender.enabled'));
    assert.ok(isRead('common.post_connect_hook'));
    assert.ok(isRead('http.retry_wait_min'));
    assert.ok(isRead('ftpd.hash_support'));
    assert.ok(isRead('webdavd.bindings[].prefix'));
    assert.ok(isRead('webdavd.bindings[].tls_cipher_suites'));
    assert.ok(!isRead('webdavd.bindings[].no_such_key'));
    const stripped = stripNonCode(`a // .x\nb /* .y */ 'c.z' "d.w" \`\${e.v}\``);
    assert.equal(stripped.replace(/\s+/g, ' '), 'a b `${e.v}`');
  });
});

// ---------------------------------------------------------------------------------------------
// the startup check

const DEFAULTS = defaultConfigFor(DIR);

/** the defaults for DIR with `patch` merged in (objects by key; lists replace) */
function cfg(patch: Record<string, unknown>): Config {
  const c = structuredClone(DEFAULTS) as Config;
  const merge = (t: Record<string, unknown>, s: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(s)) {
      if (isPlainObject(v) && isPlainObject(t[k])) merge(t[k], v);
      else t[k] = v;
    }
  };
  merge(c as unknown as Record<string, unknown>, patch);
  return c;
}

const check = (patch: Record<string, unknown>) => checkNotImplemented(cfg(patch), DEFAULTS);

/** a list like the ones the project had while keys were missing, to test the mechanism */
const SAMPLE: Record<string, NotImplementedEntry> = {
  'httpd.bindings[].tls_cipher_suites': { action: 'warn', reason: 'sample reason' },
  'telemetry.tls_cipher_suites': {
    action: 'warn',
    reason: "Node's default TLS cipher suites are used",
  },
  'common.proxy_protocol': {
    action: 'refuse',
    reason: 'the PROXY protocol is not implemented yet',
  },
  'httpd.templates_path': {
    action: 'warn',
    reason: 'sample path key',
    refuseWhen: (c) => (c.httpd.web_root === '/refuse' ? 'web_root says so' : undefined),
  },
};
const checkSample = (patch: Record<string, unknown>) =>
  checkNotImplemented(cfg(patch), DEFAULTS, SAMPLE);

const NO_TELEMETRY = { telemetry: { bind_port: 0 } };

void describe('checkNotImplemented', () => {
  void it('the defaults (the telemetry server on, as upstream) are neither warned about nor refused', () => {
    assert.deepEqual(checkNotImplemented(DEFAULTS, DEFAULTS), { warnings: [], refusals: [] });
    assert.deepEqual(check(NO_TELEMETRY), { warnings: [], refusals: [] });
    assert.deepEqual(checkNotImplemented(DEFAULTS, DEFAULTS, SAMPLE), {
      warnings: [],
      refusals: [],
    });
  });

  void it('a non-default listed key gives exactly one warning naming it', () => {
    const r = checkSample({ telemetry: { tls_cipher_suites: ['TLS_AES_128_GCM_SHA256'] } });
    assert.deepEqual(r.refusals, []);
    assert.deepEqual(r.warnings, [
      "telemetry.tls_cipher_suites is set but not implemented yet in sftpgo-ts: ignored (Node's default TLS cipher suites are used)",
    ]);
  });

  void it('keys of list elements are named with their index', () => {
    const r = checkSample({
      httpd: {
        bindings: [
          { ...DEFAULTS.httpd.bindings[0] },
          {
            ...DEFAULTS.httpd.bindings[0],
            port: 8443,
            tls_cipher_suites: ['TLS_AES_128_GCM_SHA256'],
          },
        ],
      },
    });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] as string, /^httpd\.bindings\[1\]\.tls_cipher_suites is set/);
  });

  void it('refuse entries and refuseWhen escalations refuse the start; path keys compare resolved', () => {
    const r = checkSample({ common: { proxy_protocol: 1 } });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.refusals, [
      'common.proxy_protocol: the PROXY protocol is not implemented yet',
    ]);
    // the default templates path resolved for the same config dir is no change
    assert.deepEqual(checkSample({ httpd: { templates_path: join(DIR, 'templates') } }), {
      warnings: [],
      refusals: [],
    });
    assert.match(
      checkSample({ httpd: { templates_path: '/opt/t' } }).warnings[0] as string,
      /^httpd\.templates_path is set/,
    );
    const esc = checkSample({ httpd: { templates_path: '/opt/t', web_root: '/refuse' } });
    assert.deepEqual(esc.refusals, ['httpd.templates_path: sample path key; web_root says so']);
  });

  void it('TLS cipher suites are implemented on every listener: no warning', () => {
    const suites = ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'];
    const r = check({
      telemetry: { tls_cipher_suites: suites },
      httpd: { bindings: [{ ...DEFAULTS.httpd.bindings[0], tls_cipher_suites: suites }] },
      webdavd: {
        bindings: [{ ...DEFAULTS.webdavd.bindings[0], port: 8443, tls_cipher_suites: suites }],
      },
      ftpd: {
        bindings: [{ ...DEFAULTS.ftpd.bindings[0], port: 2121, tls_cipher_suites: suites }],
        hash_support: 1,
      },
    });
    assert.deepEqual(r, { warnings: [], refusals: [] });
  });

  void it('the implemented hooks (login, post-connect, post-login, startup, data-provider actions) and the hooks HTTP client section: no warning', () => {
    const r = check({
      ...NO_TELEMETRY,
      http: { timeout: 5, skip_tls_verify: true },
      common: { post_connect_hook: 'http://127.0.0.1:9000/check', startup_hook: '/bin/started' },
      sftpd: { keyboard_interactive_auth_hook: '/bin/otp' },
      data_provider: {
        external_auth_hook: '/bin/auth',
        external_auth_scope: 1,
        pre_login_hook: '/bin/pre',
        check_password_hook: '/bin/chk',
        check_password_scope: 2,
        actions: { execute_on: ['add'], hook: '/bin/notify' },
        post_login_hook: '/bin/logged',
        post_login_scope: 1,
      },
    });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.refusals, []);
  });

  void it('the security keys of the brief are implemented: neither refused nor warned about', () => {
    const r = check({
      ...NO_TELEMETRY,
      common: { proxy_protocol: 1, post_connect_hook: 'http://127.0.0.1:9000/check' },
      sftpd: { keyboard_interactive_auth_hook: '/bin/otp' },
      data_provider: {
        external_auth_hook: '/bin/auth',
        external_auth_scope: 1,
        pre_login_hook: '/bin/pre',
        check_password_hook: '/bin/chk',
      },
      httpd: {
        bindings: [{ ...DEFAULTS.httpd.bindings[0], client_auth_type: 1 }],
        ca_certificates: ['/etc/ca.pem'],
        ca_revocation_lists: ['/etc/crl.pem'],
      },
    });
    assert.deepEqual(r, { warnings: [], refusals: [] });
    const msg = formatRefusals(['some.key: why it matters'], '/etc/sftpgo/sftpgo.json');
    assert.match(
      msg,
      /^configuration in \/etc\/sftpgo\/sftpgo\.json uses features sftpgo-ts does not implement yet/,
    );
    assert.match(msg, /\n {2}some\.key: why it matters$/);
  });

  void it('the PROXY protocol is implemented: proxy_protocol and proxy_allowed are neither warned about nor refused', () => {
    for (const proxy_protocol of [0, 1, 2]) {
      const r = check({ ...NO_TELEMETRY, common: { proxy_protocol, proxy_allowed: ['10.0.0.1'] } });
      assert.deepEqual(r, { warnings: [], refusals: [] });
    }
  });

  void it('custom actions are implemented: neither a warning nor a refusal', () => {
    for (const execute_on of [['upload'], ['pre-delete', 'pre-upload']]) {
      const r = check({
        ...NO_TELEMETRY,
        common: { actions: { execute_on, execute_sync: ['upload'], hook: '/bin/notify' } },
      });
      assert.deepEqual(r, { warnings: [], refusals: [] });
    }
  });

  void it('the web UI keys are implemented: neither a warning nor a refusal', () => {
    const r = check({
      ...NO_TELEMETRY,
      httpd: {
        templates_path: '/opt/templates',
        static_files_path: '/opt/static',
        web_root: '/sftpgo',
      },
    });
    assert.deepEqual(r, { warnings: [], refusals: [] });
  });

  void it('the source scan sees the service code', () => {
    assert.ok(relative(SRC, join(SRC, 'service')) === 'service');
    assert.ok(folderCode('service').includes('checkNotImplemented'));
  });
});
