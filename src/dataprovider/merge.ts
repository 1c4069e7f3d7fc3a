/**
 * Update semantics of PUT /users/{username}, /folders/{name}, /admins/{username} (reference §4
 * "Update semantics"; upstream httpd/api_user.go `updateUser` at v2.1.2 decodes the body over the
 * stored object):
 * - id and name come from the stored record; quota usage and last login are never taken from input;
 * - a top-level field omitted from the body keeps its stored value (password included);
 * - user permissions omitted or `{}` keep the stored ones;
 * - filesystem sub-configs and (user) virtual_folders are replaced by the body, omitting them
 *   clears them; the filesystem provider is kept when omitted;
 * - filters are overlaid field by field (Go decodes into the existing struct);
 * - a secret sent back encrypted (as GET returns it) or Redacted keeps the stored one.
 *
 * Restore of a dump (mode 'restore', upstream restoreBackup calls UpdateUser with the dump
 * object) replaces instead: the body is the new object (only id, name, quota usage and last
 * login come from the store) and encrypted secrets are stored as given; a Redacted secret still
 * keeps the stored one, since there is nothing else to store.
 */
import type { Admin, Folder, User } from './provider.js';
import { cloneJson, keepStoredSecrets } from './secrets.js';
import { invalid, isRecord, type JsonObject } from './validation/common.js';

const USER_READ_ONLY = [
  'id',
  'username',
  'used_quota_size',
  'used_quota_files',
  'last_quota_update',
  'last_login',
];
const FOLDER_READ_ONLY = [
  'id',
  'name',
  'used_quota_size',
  'used_quota_files',
  'last_quota_update',
  'users',
];
const ADMIN_READ_ONLY = ['id', 'username'];

function overlay(stored: JsonObject, body: JsonObject, readOnly: string[]): JsonObject {
  const out: JsonObject = cloneJson(stored);
  for (const [k, v] of Object.entries(body)) {
    // Go leaves a field untouched when the JSON value is null
    if (readOnly.includes(k) || v === undefined || v === null) continue;
    out[k] = v;
  }
  return out;
}

function mergeFilesystem(storedFs: User['filesystem'], bodyFs: unknown): unknown {
  const provider = storedFs?.provider ?? 0;
  if (bodyFs === undefined || bodyFs === null) return { provider };
  if (!isRecord(bodyFs)) return bodyFs; // rejected by validation with a message
  const fs = cloneJson(bodyFs);
  if (fs['provider'] === undefined || fs['provider'] === null) fs['provider'] = provider;
  return keepStoredSecrets(fs, storedFs);
}

export type UpdateMode = 'api' | 'restore';

function replaceForRestore(stored: JsonObject, body: JsonObject, readOnly: string[]): JsonObject {
  const out: JsonObject = cloneJson(body);
  for (const k of readOnly) {
    if (stored[k] === undefined) delete out[k];
    else out[k] = cloneJson(stored[k]);
  }
  const fs = out['filesystem'];
  if (isRecord(fs)) {
    keepStoredSecrets(fs, stored['filesystem'] as User['filesystem'], { onlyRedacted: true });
  }
  return out;
}

export function mergeUserUpdate(stored: User, body: unknown, mode: UpdateMode = 'api'): JsonObject {
  if (!isRecord(body)) throw invalid('invalid user: expected an object');
  if (mode === 'restore') return replaceForRestore(stored as JsonObject, body, USER_READ_ONLY);
  const out = overlay(stored as JsonObject, body, USER_READ_ONLY);
  const perms = body['permissions'];
  if (
    perms === undefined ||
    perms === null ||
    (isRecord(perms) && Object.keys(perms).length === 0)
  ) {
    out['permissions'] = cloneJson(stored.permissions);
  }
  out['filesystem'] = mergeFilesystem(stored.filesystem, body['filesystem']);
  out['virtual_folders'] = body['virtual_folders'] ?? [];
  const f = body['filters'];
  if (isRecord(f)) {
    const merged: JsonObject = { ...cloneJson((stored.filters ?? {}) as JsonObject) };
    for (const [k, v] of Object.entries(f)) {
      if (v === undefined || v === null) continue;
      if (k === 'hooks' && isRecord(v) && isRecord(merged['hooks']))
        merged[k] = { ...merged['hooks'], ...v };
      else merged[k] = v;
    }
    out['filters'] = merged;
  }
  return out;
}

export function mergeFolderUpdate(
  stored: Folder,
  body: unknown,
  mode: UpdateMode = 'api',
): JsonObject {
  if (!isRecord(body)) throw invalid('invalid folder: expected an object');
  if (mode === 'restore') return replaceForRestore(stored as JsonObject, body, FOLDER_READ_ONLY);
  const out = overlay(stored as JsonObject, body, FOLDER_READ_ONLY);
  out['filesystem'] = mergeFilesystem(stored.filesystem, body['filesystem']);
  return out;
}

export function mergeAdminUpdate(
  stored: Admin,
  body: unknown,
  mode: UpdateMode = 'api',
): JsonObject {
  if (!isRecord(body)) throw invalid('invalid admin: expected an object');
  if (mode === 'restore') return replaceForRestore(stored as JsonObject, body, ADMIN_READ_ONLY);
  const out = overlay(stored as JsonObject, body, ADMIN_READ_ONLY);
  const f = body['filters'];
  if (isRecord(f)) out['filters'] = { ...cloneJson((stored.filters ?? {}) as JsonObject), ...f };
  return out;
}
