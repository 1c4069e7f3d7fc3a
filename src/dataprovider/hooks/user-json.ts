/**
 * The user as the login hooks see it and answer it (upstream SFTPGo 2.1.2 marshals its
 * dataprovider.User struct with encoding/json, and decodes the hooks' answers the same way).
 *
 * - `goUserObject` / `rawUserJson`: the "raw" form sent to external auth and pre-login: the
 *   stored user as stored (password hash, encrypted secrets with their key and additional data),
 *   keys in the order of the Go struct, a field tagged omitempty left out when empty, every
 *   struct present even when empty (`filters.hooks` with its three flags, the five filesystem
 *   sub-configs). An unknown user is the placeholder: id 0, the login name, everything else
 *   zero or empty, `permissions: null`.
 * - `renderedUserObject`: the "rendered" form sent to post-login and data-provider actions
 *   (upstream PrepareForRendering, then json.Marshal): the raw form without the password hash,
 *   each secret's key and additional data blanked (public keys are kept).
 * - `decodeOnto`: json.Unmarshal of a hook's answer onto an already loaded user (pre-login):
 *   absent keys keep their value, objects merge key by key (maps such as `permissions` keep the
 *   keys not given), arrays and scalars are replaced, secrets (pointers to a struct with its own
 *   decoder) are replaced whole, and `null` clears arrays, maps and secrets but leaves scalars
 *   and structs as they were.
 */
import type { User } from '../provider.js';
import { redactUser } from '../redact.js';
import { isRecord, type JsonObject } from '../validation/common.js';

/** keys whose value is a *kms.Secret upstream: replaced whole, cleared by null */
const SECRET_KEYS = new Set([
  'access_secret',
  'account_key',
  'sas_url',
  'credentials',
  'passphrase',
  'private_key',
]);

/** keys whose value is a Go map: cleared by null */
const MAP_KEYS = new Set(['permissions']);

const FS_CONFIGS = ['s3config', 'azblobconfig', 'gcsconfig', 'cryptconfig', 'sftpconfig'] as const;

const HOOK_FLAGS = ['external_auth_disabled', 'pre_login_disabled', 'check_password_disabled'];

const FILTER_KEYS = [
  'allowed_ip',
  'denied_ip',
  'denied_login_methods',
  'denied_protocols',
  'file_patterns',
  'max_upload_file_size',
  'tls_username',
  'hooks',
  'disable_fs_checks',
  'web_client',
];

const FOLDER_KEYS = [
  'id',
  'name',
  'mapped_path',
  'description',
  'used_quota_size',
  'used_quota_files',
  'last_quota_update',
  'users',
  'filesystem',
  'virtual_path',
  'quota_size',
  'quota_files',
];

/** Go's omitempty: false, 0, "", an empty array or map, null/absent */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return isRecord(v) && Object.keys(v).length === 0;
}

/** an object holding only the non-empty values of `src`, in its own order */
function withoutEmpty(src: unknown): JsonObject {
  const out: JsonObject = {};
  if (!isRecord(src)) return out;
  for (const [k, v] of Object.entries(src)) if (!isEmpty(v)) out[k] = v;
  return out;
}

/** `provider` then the five sub-configs, each always present (Go does not omit structs) */
function goFilesystem(fs: unknown): JsonObject {
  const f = isRecord(fs) ? fs : {};
  const out: JsonObject = { provider: typeof f['provider'] === 'number' ? f['provider'] : 0 };
  for (const k of FS_CONFIGS) out[k] = withoutEmpty(f[k]);
  return out;
}

function goFilters(filters: unknown): JsonObject {
  const f = isRecord(filters) ? filters : {};
  const out: JsonObject = {};
  for (const k of FILTER_KEYS) {
    if (k === 'hooks') {
      const h = isRecord(f['hooks']) ? f['hooks'] : {};
      out['hooks'] = Object.fromEntries(HOOK_FLAGS.map((flag) => [flag, h[flag] === true]));
    } else if (!isEmpty(f[k])) {
      out[k] = f[k];
    }
  }
  return out;
}

function goFolder(v: unknown): JsonObject {
  const f = isRecord(v) ? v : {};
  const out: JsonObject = {};
  for (const k of FOLDER_KEYS) {
    if (k === 'filesystem') out[k] = goFilesystem(f[k]);
    else if (['mapped_path', 'description', 'users'].includes(k)) {
      if (!isEmpty(f[k])) out[k] = f[k];
    } else out[k] = f[k] ?? (k === 'name' || k === 'virtual_path' ? '' : 0);
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** the user (or, undefined, the placeholder of `username`) as upstream marshals it */
export function goUserObject(user: User | undefined, username = ''): JsonObject {
  const u: JsonObject = user === undefined ? { username } : (user as JsonObject);
  const out: JsonObject = {
    id: num(u['id']),
    status: num(u['status']),
    username: str(u['username']),
    expiration_date: num(u['expiration_date']),
  };
  if (!isEmpty(u['password'])) out['password'] = u['password'];
  if (!isEmpty(u['public_keys'])) out['public_keys'] = u['public_keys'];
  out['home_dir'] = str(u['home_dir']);
  const vfs = u['virtual_folders'];
  if (Array.isArray(vfs) && vfs.length > 0) out['virtual_folders'] = vfs.map(goFolder);
  for (const k of ['uid', 'gid', 'max_sessions', 'quota_size', 'quota_files']) out[k] = num(u[k]);
  out['permissions'] = isRecord(u['permissions']) ? u['permissions'] : null;
  for (const k of [
    'used_quota_size',
    'used_quota_files',
    'last_quota_update',
    'upload_bandwidth',
    'download_bandwidth',
    'last_login',
  ]) {
    out[k] = num(u[k]);
  }
  out['filters'] = goFilters(u['filters']);
  out['filesystem'] = goFilesystem(u['filesystem']);
  if (!isEmpty(u['description'])) out['description'] = u['description'];
  if (!isEmpty(u['additional_info'])) out['additional_info'] = u['additional_info'];
  return out;
}

/** the raw JSON of the stored user, or of the placeholder for an unknown `username` */
export function rawUserJson(user: User | undefined, username: string): string {
  return JSON.stringify(goUserObject(user, username));
}

/** the rendered form of the user (or, undefined, of the placeholder of `username`) */
export function renderedUserObject(user: User | undefined, username = ''): JsonObject {
  return goUserObject(user === undefined ? undefined : redactUser(user), username);
}

/**
 * `patch` decoded onto `target` (modified in place and returned) as json.Unmarshal decodes onto
 * a loaded struct; see the file comment.
 */
export function decodeOnto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(patch)) {
    const cur = target[k];
    if (v === null) {
      if (Array.isArray(cur) || MAP_KEYS.has(k) || SECRET_KEYS.has(k)) delete target[k];
      continue;
    }
    if (isRecord(v) && isRecord(cur) && !SECRET_KEYS.has(k)) {
      decodeOnto(cur, v);
      continue;
    }
    target[k] = v;
  }
  return target;
}
