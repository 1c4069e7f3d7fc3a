/**
 * loadConfig: defaults < config file < SFTPGO_* env < overrides, validated in one pass and
 * returned deep-frozen (STYLE.md §E). A pure function: the environment is passed in.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SftpgoError } from '../errors/index.js';
import { coerceWeakTypes, lowercaseKeys } from './coerce.js';
import { applyEnv } from './env.js';
import { resolvePath } from './paths.js';
import type { Config } from './schema.js';
import {
  configSchema,
  INDEXED_LISTS,
  PROTOCOL_ACTIONS,
  PROVIDER_ACTIONS,
  SSH_COMMANDS,
} from './schema.js';
import { deepFreeze, deepMerge, formatPath, isPlainObject } from './tree.js';

export const CONFIG_NAME = 'sftpgo';
export const CONFIG_EXTENSIONS = ['.json', '.yaml', '.yml', '.toml'] as const;

export interface LoadConfigOptions {
  /** config dir (`-c/--config-dir`); relative paths in the config resolve against it */
  configDir: string;
  /** `--config-file`: absolute or relative to configDir; the extension decides the format */
  configFile?: string;
  /** environment to read SFTPGO_* overrides from; nothing when omitted */
  env?: Readonly<Record<string, string | undefined>>;
  /** highest-precedence values (e.g. from CLI flags), same shape as the file */
  overrides?: Readonly<Record<string, unknown>>;
  /**
   * Directories searched in order for sftpgo.{json,yaml,yml,toml} when no configFile is given.
   * Default: see defaultSearchDirs (the config dir, then upstream's $HOME/.config/sftpgo and
   * /etc/sftpgo on Linux). Tests pass their own list so the host's /etc does not leak in.
   */
  searchDirs?: readonly string[];
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** deprecated or unknown keys, ignored variables: worth logging, not fatal */
  warnings: string[];
  /** absolute path of the config file used, if any */
  file?: string;
  /** the directories searched for a config file (empty when configFile was given) */
  searched: string[];
}

/** The complete default configuration (the shipped sftpgo.json plus our documented changes). */
export function defaultConfig(): Readonly<Config> {
  return deepFreeze(configSchema.parse({}));
}

/**
 * The defaults as loadConfig would return them for `configDir` (relative paths resolved), so a
 * loaded config can be compared with them key by key (src/config/not-implemented.ts).
 */
export function defaultConfigFor(configDir: string): Readonly<Config> {
  const c = configSchema.parse({});
  resolveConfigPaths(c, resolve(configDir));
  return deepFreeze(c);
}

export function loadConfig(o: LoadConfigOptions): LoadedConfig {
  const configDir = resolve(o.configDir);
  const warnings: string[] = [];
  const explicit = o.configFile !== undefined && o.configFile !== '';
  const searched = explicit ? [] : [...(o.searchDirs ?? defaultSearchDirs(configDir, o.env))];
  const file = findConfigFile(configDir, o.configFile, searched);
  const raw: Record<string, unknown> = file === undefined ? {} : readConfigFile(file);
  const where = file === undefined ? '' : ` in ${file}`;

  // problems found before schema validation, reported together with the schema's issues
  const issues: string[] = [];
  lowercaseKeys(raw, [], issues); // viper is case-insensitive: "Common", "Max_Auth_Tries" ...
  mapDeprecated(raw, warnings, where);
  const defaults = configSchema.parse({});
  coerceWeakTypes(raw, defaults, warnings, where);
  warnUnknownKeys(raw, defaults, [], warnings, where);

  const envOverlay = o.env === undefined ? undefined : applyEnv(raw, o.env, defaults);
  if (envOverlay) warnings.push(...envOverlay.warnings);
  if (o.overrides) deepMerge(raw, o.overrides);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...parsed.error.issues.map((iss) => formatIssue(iss, envOverlay?.sources)));
  }
  if (!parsed.success || issues.length > 0) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `invalid configuration${where}:\n  ${issues.join('\n  ')}`,
    );
  }
  const config = parsed.data;
  applyUpstreamFallbacks(config, warnings);
  warnUnknownValues(config, warnings);
  resolveConfigPaths(config, configDir);
  const out: LoadedConfig = { config: deepFreeze(config), warnings, searched };
  if (file !== undefined) out.file = file;
  return out;
}

/**
 * Upstream's search path (config/config.go LoadConfig + config_linux.go): the config dir, then on
 * Linux `$HOME/.config/sftpgo` and `/etc/sftpgo`. Upstream also searches the working directory
 * last; we do not, so what is loaded never depends on where the command was started (the config
 * dir defaults to "." anyway). HOME comes from the passed environment, keeping loadConfig pure.
 */
export function defaultSearchDirs(
  configDir: string,
  env: Readonly<Record<string, string | undefined>> | undefined,
  platform: NodeJS.Platform = process.platform,
): string[] {
  const dirs = [resolve(configDir)];
  if (platform !== 'linux') return dirs;
  const home = env?.HOME;
  if (home !== undefined && home !== '') dirs.push(join(home, '.config', 'sftpgo'));
  dirs.push('/etc/sftpgo');
  return dirs.filter((d, i) => dirs.indexOf(d) === i);
}

/** Values upstream accepts and replaces by a default at use: replaced here, with a warning. */
function applyUpstreamFallbacks(c: Config, warnings: string[]): void {
  const bcrypt = c.data_provider.password_hashing.bcrypt_options;
  if (bcrypt.cost < BCRYPT_MIN_COST) {
    warnings.push(
      `data_provider.password_hashing.bcrypt_options.cost: ${bcrypt.cost} is below bcrypt's minimum ${BCRYPT_MIN_COST}, the default cost ${BCRYPT_DEFAULT_COST} is used (as upstream)`,
    );
    bcrypt.cost = BCRYPT_DEFAULT_COST;
  }
}

/** golang.org/x/crypto/bcrypt MinCost and DefaultCost */
const BCRYPT_MIN_COST = 4;
const BCRYPT_DEFAULT_COST = 10;

function formatIssue(iss: z.core.$ZodIssue, sources: Map<string, string> | undefined): string {
  const path = formatPath(iss.path);
  const from = sources?.get(path);
  const suffix = from === undefined ? '' : ` (from environment variable ${from})`;
  return `${path === '' ? '(root)' : path}: ${iss.message}${suffix}`;
}

// ---------------------------------------------------------------------------------------------
// file

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch (e) {
    if (
      (e as NodeJS.ErrnoException).code === 'ENOENT' ||
      (e as NodeJS.ErrnoException).code === 'ENOTDIR'
    )
      return false;
    throw new SftpgoError(
      'INVALID_INPUT',
      `cannot access config file ${p}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * `configFile` if given (absolute or relative to configDir; it must exist), else the first
 * sftpgo.{json,yaml,yml,toml} found in `searchDirs` (directory order first, as viper does).
 */
export function findConfigFile(
  configDir: string,
  configFile?: string,
  searchDirs: readonly string[] = [configDir],
): string | undefined {
  if (configFile !== undefined && configFile !== '') {
    const p = isAbsolute(configFile) ? configFile : resolve(configDir, configFile);
    const ext = extname(p).toLowerCase();
    if (!(CONFIG_EXTENSIONS as readonly string[]).includes(ext)) {
      throw new SftpgoError(
        'INVALID_INPUT',
        `unsupported config file format "${ext || '(none)'}" for ${p}: use one of ${CONFIG_EXTENSIONS.join(', ')}`,
      );
    }
    if (!isFile(p)) throw new SftpgoError('INVALID_INPUT', `config file ${p} not found`);
    return p;
  }
  for (const dir of searchDirs) {
    for (const ext of CONFIG_EXTENSIONS) {
      const p = resolve(dir, `${CONFIG_NAME}${ext}`);
      if (isFile(p)) return p;
    }
  }
  return undefined;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `cannot read config file ${file}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  let data: unknown;
  try {
    const ext = extname(file).toLowerCase();
    if (ext === '.json') data = JSON.parse(text);
    else if (ext === '.toml') data = parseToml(text);
    else data = parseYaml(text);
  } catch (e) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `cannot parse config file ${file}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (data === null || data === undefined) return {}; // empty YAML document
  if (!isPlainObject(data)) {
    throw new SftpgoError(
      'INVALID_INPUT',
      `cannot parse config file ${file}: the top level must be an object`,
    );
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// deprecated keys (upstream config.go compatibility shims)

function section(raw: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  const s = raw[name];
  return isPlainObject(s) ? s : undefined;
}

/**
 * bind_port/bind_address (and ftpd.force_passive_ip) from 1.x become the first binding when the
 * file has no `bindings`; sftpd's 1.x protocol-wide keys move to `common` when it does not set
 * them; other removed keys are dropped. Each produces a warning.
 */
function mapDeprecated(raw: Record<string, unknown>, warnings: string[], where: string): void {
  const deprecated = (key: string, msg: string): void => {
    warnings.push(`${key}${where} is deprecated: ${msg}`);
  };
  const bindingKeys: Record<string, Record<string, string>> = {
    sftpd: { bind_port: 'port', bind_address: 'address' },
    ftpd: { bind_port: 'port', bind_address: 'address', force_passive_ip: 'force_passive_ip' },
    webdavd: { bind_port: 'port', bind_address: 'address' },
    httpd: { bind_port: 'port', bind_address: 'address' },
  };
  for (const [name, keys] of Object.entries(bindingKeys)) {
    const s = section(raw, name);
    if (s === undefined) continue;
    const present = Object.keys(keys).filter((k) => Object.hasOwn(s, k));
    if (present.length === 0) continue;
    if (Object.hasOwn(s, 'bindings')) {
      for (const k of present)
        deprecated(`${name}.${k}`, `ignored because ${name}.bindings is set`);
    } else {
      const binding: Record<string, unknown> = {};
      for (const k of present) binding[keys[k] as string] = s[k];
      s.bindings = [binding];
      for (const k of present)
        deprecated(`${name}.${k}`, `mapped to ${name}.bindings[0].${keys[k] as string}`);
    }
    for (const k of present) delete s[k];
  }

  const sftpd = section(raw, 'sftpd');
  if (sftpd !== undefined) {
    const toCommon = [
      'idle_timeout',
      'upload_mode',
      'setstat_mode',
      'proxy_protocol',
      'proxy_allowed',
    ];
    for (const k of toCommon) {
      if (!Object.hasOwn(sftpd, k)) continue;
      const common = section(raw, 'common') ?? {};
      if (raw.common === undefined) raw.common = common;
      if (Object.hasOwn(common, k)) deprecated(`sftpd.${k}`, `ignored because common.${k} is set`);
      else {
        common[k] = sftpd[k];
        deprecated(`sftpd.${k}`, `mapped to common.${k}`);
      }
      delete sftpd[k];
    }
    if (Object.hasOwn(sftpd, 'actions')) {
      const a = sftpd.actions;
      const common = section(raw, 'common') ?? {};
      if (raw.common === undefined) raw.common = common;
      if (Object.hasOwn(common, 'actions') || !isPlainObject(a)) {
        deprecated('sftpd.actions', 'ignored, use common.actions');
      } else {
        const mapped: Record<string, unknown> = {};
        if (a.execute_on !== undefined) mapped.execute_on = a.execute_on;
        // 1.x had two hooks; 2.x one: the URL wins, as upstream's migration did
        const url = typeof a.http_notification_url === 'string' ? a.http_notification_url : '';
        const cmd = typeof a.command === 'string' ? a.command : '';
        if (url !== '' || cmd !== '') mapped.hook = url !== '' ? url : cmd;
        if (url !== '' && cmd !== '')
          deprecated(
            'sftpd.actions.command',
            'ignored because sftpd.actions.http_notification_url is set',
          );
        common.actions = mapped;
        deprecated('sftpd.actions', 'mapped to common.actions');
      }
      delete sftpd.actions;
    }
    if (Object.hasOwn(sftpd, 'keys')) {
      const keys = sftpd.keys;
      if (Object.hasOwn(sftpd, 'host_keys') || !Array.isArray(keys)) {
        deprecated('sftpd.keys', 'ignored, use sftpd.host_keys');
      } else {
        sftpd.host_keys = keys.map((k) => (isPlainObject(k) ? k.private_key : k));
        deprecated('sftpd.keys', 'mapped to sftpd.host_keys');
      }
      delete sftpd.keys;
    }
    for (const k of ['enable_scp', 'umask']) {
      if (!Object.hasOwn(sftpd, k)) continue;
      deprecated(
        `sftpd.${k}`,
        k === 'enable_scp' ? 'ignored, add "scp" to sftpd.enabled_ssh_commands' : 'ignored',
      );
      delete sftpd[k];
    }
  }
  const removed: Record<string, string[]> = {
    data_provider: ['users_table', 'manage_users'],
    httpd: ['auth_user_file'],
  };
  for (const [name, keys] of Object.entries(removed)) {
    const s = section(raw, name);
    if (s === undefined) continue;
    for (const k of keys) {
      if (!Object.hasOwn(s, k)) continue;
      deprecated(`${name}.${k}`, 'ignored');
      delete s[k];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// unknown keys and values: warnings

function warnUnknownKeys(
  node: unknown,
  def: unknown,
  keys: (string | number)[],
  warnings: string[],
  where: string,
): void {
  if (!isPlainObject(node) || !isPlainObject(def)) return;
  for (const [k, v] of Object.entries(node)) {
    const path = [...keys, k];
    if (!Object.hasOwn(def, k)) {
      warnings.push(`unknown key ${formatPath(path)}${where} ignored`);
      continue;
    }
    const d = def[k];
    if (Array.isArray(d)) {
      const element = INDEXED_LISTS[formatPath(path)];
      if (element === undefined || !Array.isArray(v)) continue;
      const template = element.parse({});
      v.forEach((item, i) => warnUnknownKeys(item, template, [...path, i], warnings, where));
    } else {
      warnUnknownKeys(v, d, path, warnings, where);
    }
  }
}

/** Values upstream ignores (with a log line) rather than rejecting. */
function warnUnknownValues(c: Config, warnings: string[]): void {
  const check = (
    path: string,
    values: readonly string[],
    allowed: readonly string[],
    what: string,
  ): void => {
    for (const v of values) {
      if (!allowed.includes(v)) warnings.push(`${path}: unknown ${what} "${v}" ignored`);
    }
  };
  check('common.actions.execute_on', c.common.actions.execute_on, PROTOCOL_ACTIONS, 'action');
  check('common.actions.execute_sync', c.common.actions.execute_sync, PROTOCOL_ACTIONS, 'action');
  check(
    'data_provider.actions.execute_on',
    c.data_provider.actions.execute_on,
    PROVIDER_ACTIONS,
    'action',
  );
  check('sftpd.enabled_ssh_commands', c.sftpd.enabled_ssh_commands, SSH_COMMANDS, 'SSH command');
}

// ---------------------------------------------------------------------------------------------
// relative paths -> config dir

/** Resolves, in place, the keys upstream takes relative to the config dir. */
function resolveConfigPaths(c: Config, dir: string): void {
  const one = (p: string): string => resolvePath(dir, p);
  const many = (l: string[]): string[] => l.map(one);

  c.common.temp_path = one(c.common.temp_path);
  c.common.defender.safelist_file = one(c.common.defender.safelist_file);
  c.common.defender.blocklist_file = one(c.common.defender.blocklist_file);

  c.sftpd.host_keys = many(c.sftpd.host_keys);
  c.sftpd.trusted_user_ca_keys = many(c.sftpd.trusted_user_ca_keys);
  c.sftpd.login_banner_file = one(c.sftpd.login_banner_file);

  c.ftpd.banner_file = one(c.ftpd.banner_file);
  for (const s of [c.ftpd, c.webdavd, c.httpd]) {
    s.certificate_file = one(s.certificate_file);
    s.certificate_key_file = one(s.certificate_key_file);
    s.ca_certificates = many(s.ca_certificates);
    s.ca_revocation_lists = many(s.ca_revocation_lists);
  }

  // sqlite: the database file; memory: the dump loaded at start and on SIGHUP
  if (c.data_provider.driver === 'sqlite' || c.data_provider.driver === 'memory')
    c.data_provider.name = one(c.data_provider.name);
  c.data_provider.credentials_path = one(c.data_provider.credentials_path);

  c.httpd.templates_path = one(c.httpd.templates_path);
  c.httpd.static_files_path = one(c.httpd.static_files_path);
  c.httpd.backups_path = one(c.httpd.backups_path);

  c.telemetry.auth_user_file = one(c.telemetry.auth_user_file);
  c.telemetry.certificate_file = one(c.telemetry.certificate_file);
  c.telemetry.certificate_key_file = one(c.telemetry.certificate_key_file);

  c.http.ca_certificates = many(c.http.ca_certificates);
  for (const cert of c.http.certificates) {
    cert.cert = one(cert.cert);
    cert.key = one(cert.key);
  }

  c.kms.secrets.master_key_path = one(c.kms.secrets.master_key_path);
}
