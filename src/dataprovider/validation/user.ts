/**
 * User validation (upstream dataprovider.go `ValidateUser` and helpers at v2.1.2), as a pure
 * function over a JSON value. It does not hash the password nor encrypt secrets: the provider
 * does that on the validated result.
 */
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import type { ApiFolder, ApiUser, Permission, Schemas } from '../../api/index.js';
import {
  cleanPath,
  invalid,
  isAbsolutePath,
  isRecord,
  isValidGlob,
  NATURAL_KEY_RE,
  parseCidr,
  q,
  readBool,
  readInt,
  readObject,
  readString,
  readStringArray,
  removeDuplicates,
  type JsonObject,
} from './common.js';
import { isLocalOrCrypt, validateFilesystem } from './filesystem.js';
import { folderFromValidated, validateFolder, type NaturalKeyOptions } from './folder.js';
import { cloneJson, keepStoredSecrets } from '../secrets.js';
import { parseAuthorizedKey } from '../../util/ssh-public-keys.js';

export const VALID_PERMISSIONS: readonly Permission[] = [
  '*',
  'list',
  'download',
  'upload',
  'overwrite',
  'rename',
  'delete',
  'create_dirs',
  'create_symlinks',
  'chmod',
  'chown',
  'chtimes',
];
export const VALID_LOGIN_METHODS: readonly Schemas['LoginMethods'][] = [
  'publickey',
  'password',
  'keyboard-interactive',
  'publickey+password',
  'publickey+keyboard-interactive',
  'TLSCertificate',
  'TLSCertificate+password',
];
export const VALID_PROTOCOLS: readonly Schemas['SupportedProtocols'][] = [
  'SSH',
  'FTP',
  'DAV',
  'HTTP',
];
export const VALID_WEB_CLIENT_OPTIONS: readonly Schemas['WebClientOptions'][] = [
  'publickey-change-disabled',
];
export const VALID_TLS_USERNAMES = ['None', 'CommonName'] as const;

/** 2^31-1: the int32 columns of the schema */
const MAX_INT32 = 2147483647;

export interface UserValidationOptions extends NaturalKeyOptions {
  /** data_provider.users_base_dir: home_dir = <base>/<username> when home_dir is empty */
  usersBaseDir?: string;
  /** folders already in the store, by name: virtual folders given by name only refer to them */
  existingFolders?: ReadonlyMap<string, ApiFolder>;
  /** home for cloud users without home_dir nor users_base_dir (upstream: temp dir) */
  tempDir?: string;
}

/** A virtual folder of a validated user and what the provider has to do with its folder. */
export interface ValidatedVirtualFolder {
  /** the folder fields (base) with the per-user mapping fields */
  folder: ApiFolder;
  virtual_path: string;
  quota_size: number;
  quota_files: number;
  /** true: the folder definition came with the user and must be added or updated */
  upsert: boolean;
}

/** a user must keep a password or at least one public key (upstream validateUser) */
export function requirePasswordOrPublicKey(password: string, publicKeys: readonly string[]): void {
  if (password === '' && publicKeys.length === 0) {
    throw invalid('please set a password or at least a public_key', 'password');
  }
}

export interface ValidatedUser {
  /** normalized user; `password` is as given (plaintext or a known hash), virtual_folders joined */
  user: ApiUser;
  virtualFolders: ValidatedVirtualFolder[];
}

type DirPermissions = Record<string, Permission[]>;

/** upstream validatePermissions */
export function validatePermissions(input: unknown): DirPermissions {
  if (input === undefined || input === null)
    throw invalid('please grant some permissions to this user', 'permissions');
  if (!isRecord(input)) {
    throw invalid(
      'invalid permissions: expected an object mapping directories to lists of permissions',
      'permissions',
    );
  }
  const entries = Object.entries(input);
  if (entries.length === 0)
    throw invalid('please grant some permissions to this user', 'permissions');
  if (!Object.hasOwn(input, '/'))
    throw invalid('permissions for the root dir "/" must be set', 'permissions');
  const out: DirPermissions = {};
  for (const [dir, permsRaw] of entries) {
    if (!Array.isArray(permsRaw)) {
      throw invalid(
        `invalid permissions for directory ${q(dir)}: expected a list of permissions`,
        'permissions',
      );
    }
    const perms = permsRaw as unknown[];
    if (perms.length === 0 && dir === '/') {
      throw invalid(`no permissions granted for the directory: ${q(dir)}`, 'permissions');
    }
    if (perms.length > VALID_PERMISSIONS.length)
      throw invalid('invalid permissions', 'permissions');
    for (const p of perms) {
      if (typeof p !== 'string' || !(VALID_PERMISSIONS as readonly string[]).includes(p)) {
        throw invalid(`invalid permission: ${q(p)}`, 'permissions');
      }
    }
    const cleaned = cleanPath(dir);
    if (!isAbsolutePath(cleaned)) {
      throw invalid(`cannot set permissions for non absolute path: ${q(dir)}`, 'permissions');
    }
    if (dir !== cleaned && cleaned === '/') {
      throw invalid(
        `cannot set permissions for invalid subdirectory: ${q(dir)} is an alias for "/"`,
        'permissions',
      );
    }
    const list = perms as Permission[];
    out[cleaned] = list.includes('*') ? ['*'] : removeDuplicates(list);
  }
  return out;
}

/** upstream validatePublicKeys: empty entries dropped, each must parse, duplicates removed */
export function validatePublicKeys(input: unknown, label = 'public_keys'): string[] {
  const keys = readStringArray({ k: input }, 'k', label);
  const out: string[] = [];
  keys.forEach((k, i) => {
    if (k === '') return;
    // the parser sftpd matches logins with, so a key saved here is the key matched there
    const parsed = parseAuthorizedKey(k);
    if (!parsed.ok)
      throw invalid(`could not parse key nr. ${i + 1}: ${parsed.error}`, `${label}[${i}]`);
    out.push(k);
  });
  return removeDuplicates(out);
}

function validateCidrs(list: string[], what: string, field: string): string[] {
  list.forEach((c, i) => {
    if (parseCidr(c) === undefined) {
      throw invalid(
        `could not parse ${what} ${q(c)} : invalid CIDR address: ${c}`,
        `${field}[${i}]`,
      );
    }
  });
  return list;
}

type Filters = NonNullable<ApiUser['filters']>;
type PatternsFilter = Schemas['PatternsFilter'];

function validateFilePatterns(input: unknown): PatternsFilter[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input))
    throw invalid('invalid filters.file_patterns: expected an array', 'filters.file_patterns');
  const seen = new Set<string>();
  return (input as unknown[]).map((raw, i) => {
    const label = `filters.file_patterns[${i}]`;
    if (!isRecord(raw)) throw invalid(`invalid ${label}: expected an object`, label);
    const p = readString(raw, 'path', `${label}.path`);
    const allowed = readStringArray(raw, 'allowed_patterns', `${label}.allowed_patterns`);
    const denied = readStringArray(raw, 'denied_patterns', `${label}.denied_patterns`);
    const cleaned = cleanPath(p);
    if (!isAbsolutePath(cleaned))
      throw invalid(`invalid path ${q(p)} for file patterns filter`, `${label}.path`);
    if (seen.has(cleaned))
      throw invalid(`duplicate file patterns filter for path ${q(p)}`, `${label}.path`);
    if (allowed.length === 0 && denied.length === 0) {
      throw invalid(`empty file patterns filter for path ${q(p)}`, `${label}.allowed_patterns`);
    }
    for (const [key, list] of [
      ['allowed_patterns', allowed],
      ['denied_patterns', denied],
    ] as const) {
      for (const pattern of list) {
        if (!isValidGlob(pattern))
          throw invalid(`invalid file pattern filter ${q(pattern)}`, `${label}.${key}`);
      }
    }
    seen.add(cleaned);
    const out: PatternsFilter = { path: cleaned };
    if (allowed.length > 0) out.allowed_patterns = allowed.map((x) => x.toLowerCase());
    if (denied.length > 0) out.denied_patterns = denied.map((x) => x.toLowerCase());
    return out;
  });
}

/** upstream validateFilters (plus type checks); empty values are dropped from the result */
export function validateUserFilters(input: unknown): Filters {
  const f = readObject(input, 'filters');
  const allowedIp = validateCidrs(
    readStringArray(f, 'allowed_ip', 'filters.allowed_ip'),
    'allowed IP/Mask',
    'filters.allowed_ip',
  );
  const deniedIp = validateCidrs(
    readStringArray(f, 'denied_ip', 'filters.denied_ip'),
    'denied IP/Mask',
    'filters.denied_ip',
  );
  const methods = readStringArray(f, 'denied_login_methods', 'filters.denied_login_methods');
  if (methods.length >= VALID_LOGIN_METHODS.length)
    throw invalid('invalid denied_login_methods', 'filters.denied_login_methods');
  for (const m of methods) {
    if (!(VALID_LOGIN_METHODS as readonly string[]).includes(m))
      throw invalid(`invalid login method: ${q(m)}`, 'filters.denied_login_methods');
  }
  const protocols = readStringArray(f, 'denied_protocols', 'filters.denied_protocols');
  if (protocols.length >= VALID_PROTOCOLS.length)
    throw invalid('invalid denied_protocols', 'filters.denied_protocols');
  for (const p of protocols) {
    if (!(VALID_PROTOCOLS as readonly string[]).includes(p))
      throw invalid(`invalid protocol: ${q(p)}`, 'filters.denied_protocols');
  }
  const tlsUsername = readString(f, 'tls_username', 'filters.tls_username');
  if (tlsUsername !== '' && !(VALID_TLS_USERNAMES as readonly string[]).includes(tlsUsername)) {
    throw invalid(`invalid TLS username: ${q(tlsUsername)}`, 'filters.tls_username');
  }
  const webClient = readStringArray(f, 'web_client', 'filters.web_client');
  for (const o of webClient) {
    if (!(VALID_WEB_CLIENT_OPTIONS as readonly string[]).includes(o)) {
      throw invalid(`invalid web client options ${q(o)}`, 'filters.web_client');
    }
  }
  const maxUpload = readInt(f, 'max_upload_file_size', 'filters.max_upload_file_size', { min: 0 });
  const hooksRaw = readObject(f['hooks'], 'filters.hooks');
  const hooks: NonNullable<Filters['hooks']> = {};
  for (const k of [
    'external_auth_disabled',
    'pre_login_disabled',
    'check_password_disabled',
  ] as const) {
    if (readBool(hooksRaw, k, `filters.hooks.${k}`)) hooks[k] = true;
  }
  const disableFsChecks = readBool(f, 'disable_fs_checks', 'filters.disable_fs_checks');
  const patterns = validateFilePatterns(f['file_patterns']);

  const out: Filters = {};
  if (allowedIp.length > 0) out.allowed_ip = removeDuplicates(allowedIp);
  if (deniedIp.length > 0) out.denied_ip = removeDuplicates(deniedIp);
  if (methods.length > 0)
    out.denied_login_methods = removeDuplicates(methods) as Filters['denied_login_methods'];
  if (protocols.length > 0)
    out.denied_protocols = removeDuplicates(protocols) as Filters['denied_protocols'];
  if (patterns.length > 0) out.file_patterns = patterns;
  if (maxUpload > 0) out.max_upload_file_size = maxUpload;
  if (tlsUsername !== '') out.tls_username = tlsUsername as Filters['tls_username'];
  if (Object.keys(hooks).length > 0) out.hooks = hooks;
  if (disableFsChecks) out.disable_fs_checks = true;
  if (webClient.length > 0) out.web_client = removeDuplicates(webClient) as Filters['web_client'];
  return out;
}

function validateQuotaLimits(qs: number, qf: number, mapped: string, label: string): void {
  if (qs < -1)
    throw invalid(`invalid quota_size: ${qs} folder path ${q(mapped)}`, `${label}.quota_size`);
  if (qf < -1)
    throw invalid(`invalid quota_file: ${qf} folder path ${q(mapped)}`, `${label}.quota_files`);
  if ((qs === -1 && qf !== -1) || (qf === -1 && qs !== -1)) {
    throw invalid(
      `virtual folder quota_size and quota_files must be both -1 or >= 0, quota_size: ${qs} quota_files: ${qf}`,
      `${label}.${qs === -1 ? 'quota_files' : 'quota_size'}`,
    );
  }
}

function isMappedDirOverlapped(a: string, b: string, fullCheck: boolean): boolean {
  if (a === b) return true;
  if (fullCheck) {
    if (a.length > b.length && a.startsWith(`${b}/`)) return true;
    if (b.length > a.length && b.startsWith(`${a}/`)) return true;
  }
  return false;
}

function validateVirtualFolders(
  input: unknown,
  homeDir: string,
  o: UserValidationOptions,
): ValidatedVirtualFolder[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input))
    throw invalid('invalid virtual_folders: expected an array', 'virtual_folders');
  const mappedPaths: string[] = [];
  const virtualPaths: string[] = [];
  const names = new Set<string>();
  return (input as unknown[]).map((raw, i) => {
    const label = `virtual_folders[${i}]`;
    if (!isRecord(raw)) throw invalid(`invalid ${label}: expected an object`, label);
    const vpath = readString(raw, 'virtual_path', `${label}.virtual_path`);
    const qs = readInt(raw, 'quota_size', `${label}.quota_size`);
    const qf = readInt(raw, 'quota_files', `${label}.quota_files`, { max: MAX_INT32 });
    const cleanedV = cleanPath(vpath);
    if (!isAbsolutePath(cleanedV) || cleanedV === '/')
      throw invalid(`invalid virtual folder ${q(vpath)}`, `${label}.virtual_path`);
    validateQuotaLimits(qs, qf, readString(raw, 'mapped_path', `${label}.mapped_path`), label);
    const resolved = resolveFolder(raw, label, o);
    const folder = resolved.folder;
    const name = folder.name ?? '';
    if (names.has(name))
      throw invalid(`virtual folder ${q(name)} is mapped more than once`, `${label}.name`);
    names.add(name);
    const mapped = folder.mapped_path ?? '';
    if (isLocalOrCrypt(folder.filesystem)) {
      if (isMappedDirOverlapped(mapped, homeDir, true)) {
        throw invalid(
          `invalid mapped folder ${q(mapped)} cannot be inside or contain the user home dir ${q(homeDir)}`,
          `${label}.mapped_path`,
        );
      }
      for (const m of mappedPaths) {
        if (isMappedDirOverlapped(m, mapped, false)) {
          throw invalid(
            `invalid mapped folder ${q(mapped)} overlaps with mapped folder ${q(m)}`,
            `${label}.mapped_path`,
          );
        }
      }
      mappedPaths.push(mapped);
    }
    for (const v of virtualPaths) {
      if (v === cleanedV)
        throw invalid(
          `invalid virtual folder ${q(vpath)} overlaps with virtual folder ${q(v)}`,
          `${label}.virtual_path`,
        );
    }
    virtualPaths.push(cleanedV);
    return {
      folder,
      virtual_path: cleanedV,
      quota_size: qs,
      quota_files: qf,
      upsert: resolved.upsert,
    };
  });
}

/**
 * upstream getVirtualFolderIfInvalid: a valid inline definition is used (and upserted); a local
 * folder given by name only refers to the stored folder with that name.
 */
function resolveFolder(
  raw: JsonObject,
  label: string,
  o: UserValidationOptions,
): { folder: ApiFolder; upsert: boolean } {
  const name = typeof raw['name'] === 'string' ? raw['name'] : '';
  const stored = name !== '' ? o.existingFolders?.get(name) : undefined;
  let candidate = raw;
  if (stored !== undefined && isRecord(raw['filesystem'])) {
    // secrets sent back encrypted or Redacted keep the stored folder's ones (update semantics)
    candidate = {
      ...raw,
      filesystem: keepStoredSecrets(cloneJson(raw['filesystem']), stored.filesystem),
    };
  }
  try {
    const v = validateFolder(candidate, o, label);
    return { folder: folderFromValidated(v, stored), upsert: true };
  } catch (e) {
    const mapped = raw['mapped_path'];
    const fs = raw['filesystem'];
    const provider = isRecord(fs) ? fs['provider'] : undefined;
    const byNameOnly =
      name !== '' &&
      (mapped === undefined || mapped === null || mapped === '') &&
      (provider === undefined || provider === null || provider === 0);
    if (!byNameOnly || stored === undefined) throw e;
    const { users: _users, ...base } = stored;
    return { folder: base, upsert: false };
  }
}

export function userHomeDir(
  username: string,
  homeDir: string,
  provider: number,
  o: UserValidationOptions,
): string {
  if (homeDir !== '') return homeDir;
  if (o.usersBaseDir) return posix.join(o.usersBaseDir, username);
  if (provider === 1 || provider === 2 || provider === 3 || provider === 5) {
    return posix.join(o.tempDir ?? tmpdir(), username);
  }
  return '';
}

/**
 * Validates a user coming from JSON (REST body, dump entry, merged update). Throws INVALID_INPUT
 * with a message naming the field. Read-only fields (id, used quota, last login) are type checked
 * and otherwise ignored: the provider takes them from the store.
 */
export function validateUser(input: unknown, o: UserValidationOptions = {}): ValidatedUser {
  if (!isRecord(input)) throw invalid('invalid user: expected an object');
  const u = input;
  const username = readString(u, 'username');
  const password = readString(u, 'password');
  const homeDirIn = readString(u, 'home_dir');
  const description = readString(u, 'description');
  const additionalInfo = readString(u, 'additional_info');
  const status = readInt(u, 'status');
  const uid = readInt(u, 'uid', 'uid', { min: 0, max: MAX_INT32 });
  const gid = readInt(u, 'gid', 'gid', { min: 0, max: MAX_INT32 });
  const maxSessions = readInt(u, 'max_sessions', 'max_sessions', { min: 0, max: MAX_INT32 });
  const quotaSize = readInt(u, 'quota_size', 'quota_size', { min: 0 });
  const quotaFiles = readInt(u, 'quota_files', 'quota_files', { min: 0, max: MAX_INT32 });
  const upBw = readInt(u, 'upload_bandwidth', 'upload_bandwidth', { min: 0, max: MAX_INT32 });
  const downBw = readInt(u, 'download_bandwidth', 'download_bandwidth', { min: 0, max: MAX_INT32 });
  const expiration = readInt(u, 'expiration_date', 'expiration_date', { min: 0 });
  for (const k of [
    'id',
    'used_quota_size',
    'used_quota_files',
    'last_quota_update',
    'last_login',
  ]) {
    readInt(u, k);
  }

  if (username === '') throw invalid('username is mandatory', 'username');
  if (!o.skipNaturalKeysValidation && !NATURAL_KEY_RE.test(username)) {
    throw invalid(
      `username ${q(username)} is not valid, the following characters are allowed: a-zA-Z0-9-_.~`,
      'username',
    );
  }
  const fsRaw = u['filesystem'];
  const providerHint =
    isRecord(fsRaw) && typeof fsRaw['provider'] === 'number' ? fsRaw['provider'] : 0;
  const homeDir = userHomeDir(username, homeDirIn, providerHint, o);
  if (homeDir === '') throw invalid('home_dir is mandatory', 'home_dir');
  const publicKeys = validatePublicKeys(u['public_keys']);
  requirePasswordOrPublicKey(password, publicKeys);
  if (!isAbsolutePath(homeDir)) {
    throw invalid(`home_dir must be an absolute path, actual value: ${homeDir}`, 'home_dir');
  }
  const permissions = validatePermissions(u['permissions']);
  const filesystem = validateFilesystem(fsRaw);
  const virtualFolders = validateVirtualFolders(u['virtual_folders'], homeDir, o);
  if (status < 0 || status > 1) throw invalid(`invalid user status: ${status}`, 'status');
  const filters = validateUserFilters(u['filters']);

  const user: ApiUser = {
    status: status as 0 | 1,
    username,
    expiration_date: expiration,
    public_keys: publicKeys,
    home_dir: homeDir,
    uid,
    gid,
    max_sessions: maxSessions,
    quota_size: quotaSize,
    quota_files: quotaFiles,
    permissions: permissions as unknown as ApiUser['permissions'],
    upload_bandwidth: upBw,
    download_bandwidth: downBw,
    filters,
    filesystem,
    virtual_folders: virtualFolders.map((v) => ({
      ...v.folder,
      virtual_path: v.virtual_path,
      quota_size: v.quota_size,
      quota_files: v.quota_files,
    })),
  };
  if (password !== '') user.password = password;
  if (description !== '') user.description = description;
  if (additionalInfo !== '') user.additional_info = additionalInfo;
  return { user, virtualFolders };
}
