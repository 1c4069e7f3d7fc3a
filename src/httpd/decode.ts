/**
 * Type-level decoding of request bodies, the equivalent of upstream's Go JSON decoding into
 * typed structs: a value of the wrong JSON type is a 400 naming the field; unknown fields are
 * dropped (Go ignores them); `null` means "not given". Semantic validation (allowed values,
 * paths, permissions, ...) belongs to the data provider so every entry point rejects the same
 * input with the same message.
 */
import type { ApiAdmin, ApiFolder, ApiUser } from '../api/index.js';
import { HttpError } from './errors.js';

export type Shape =
  | 'string'
  | 'int'
  | 'bool'
  | { readonly array: Shape }
  | { readonly record: Shape }
  | { readonly object: Readonly<Record<string, Shape>> };

const str = 'string' as const;
const int = 'int' as const;
const bool = 'bool' as const;
const strArray = { array: str } as const;

const SECRET: Shape = {
  object: { status: str, payload: str, key: str, additional_data: str, mode: int },
};

const FILESYSTEM: Shape = {
  object: {
    provider: int,
    s3config: {
      object: {
        bucket: str,
        region: str,
        access_key: str,
        access_secret: SECRET,
        endpoint: str,
        storage_class: str,
        upload_part_size: int,
        upload_concurrency: int,
        key_prefix: str,
      },
    },
    gcsconfig: {
      object: {
        bucket: str,
        credentials: SECRET,
        automatic_credentials: int,
        storage_class: str,
        key_prefix: str,
      },
    },
    azblobconfig: {
      object: {
        container: str,
        account_name: str,
        account_key: SECRET,
        sas_url: SECRET,
        endpoint: str,
        upload_part_size: int,
        upload_concurrency: int,
        access_tier: str,
        key_prefix: str,
        use_emulator: bool,
      },
    },
    cryptconfig: { object: { passphrase: SECRET } },
    sftpconfig: {
      object: {
        endpoint: str,
        username: str,
        password: SECRET,
        private_key: SECRET,
        fingerprints: strArray,
        prefix: str,
        disable_concurrent_reads: bool,
        buffer_size: int,
      },
    },
  },
};

const BASE_FOLDER_FIELDS = {
  id: int,
  name: str,
  mapped_path: str,
  description: str,
  used_quota_size: int,
  used_quota_files: int,
  last_quota_update: int,
  users: strArray,
  filesystem: FILESYSTEM,
} as const;

export const FOLDER_SHAPE: Shape = { object: BASE_FOLDER_FIELDS };

const VIRTUAL_FOLDER: Shape = {
  object: { ...BASE_FOLDER_FIELDS, virtual_path: str, quota_size: int, quota_files: int },
};

export const USER_SHAPE: Shape = {
  object: {
    id: int,
    status: int,
    username: str,
    description: str,
    expiration_date: int,
    password: str,
    public_keys: strArray,
    home_dir: str,
    virtual_folders: { array: VIRTUAL_FOLDER },
    uid: int,
    gid: int,
    max_sessions: int,
    quota_size: int,
    quota_files: int,
    permissions: { record: strArray },
    used_quota_size: int,
    used_quota_files: int,
    last_quota_update: int,
    upload_bandwidth: int,
    download_bandwidth: int,
    last_login: int,
    filters: {
      object: {
        allowed_ip: strArray,
        denied_ip: strArray,
        denied_login_methods: strArray,
        denied_protocols: strArray,
        file_patterns: {
          array: { object: { path: str, allowed_patterns: strArray, denied_patterns: strArray } },
        },
        max_upload_file_size: int,
        tls_username: str,
        hooks: {
          object: {
            external_auth_disabled: bool,
            pre_login_disabled: bool,
            check_password_disabled: bool,
          },
        },
        disable_fs_checks: bool,
        web_client: strArray,
      },
    },
    filesystem: FILESYSTEM,
    additional_info: str,
  },
};

export const ADMIN_SHAPE: Shape = {
  object: {
    id: int,
    status: int,
    username: str,
    description: str,
    password: str,
    email: str,
    permissions: strArray,
    filters: { object: { allow_list: strArray } },
    additional_info: str,
  },
};

export const PWD_CHANGE_SHAPE: Shape = {
  object: { current_password: str, new_password: str },
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number with a fraction';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

function expected(s: Shape): string {
  if (s === 'string') return 'a string';
  if (s === 'int') return 'an integer';
  if (s === 'bool') return 'a boolean';
  if ('array' in s) return 'an array';
  return 'an object';
}

function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function fail(path: string, shape: Shape, v: unknown): never {
  const where = path === '' ? 'the request body' : `field "${path}"`;
  const msg = `invalid JSON body: ${where} must be ${expected(shape)}, got ${jsonType(v)}`;
  throw new HttpError(400, msg, path === '' ? { detail: msg } : { detail: msg, field: path });
}

function decodeValue(shape: Shape, v: unknown, path: string): unknown {
  if (shape === 'string') {
    if (typeof v !== 'string') fail(path, shape, v);
    return v;
  }
  if (shape === 'bool') {
    if (typeof v !== 'boolean') fail(path, shape, v);
    return v;
  }
  if (shape === 'int') {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, shape, v);
    return v;
  }
  if ('array' in shape) {
    if (!Array.isArray(v)) fail(path, shape, v);
    return v.map((item: unknown, i) => decodeValue(shape.array, item, fieldPath(path, i)));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, shape, v);
  const out: Record<string, unknown> = {};
  const src = v as Record<string, unknown>;
  if ('record' in shape) {
    for (const [k, val] of Object.entries(src)) {
      if (FORBIDDEN_KEYS.has(k)) continue;
      out[k] = decodeValue(shape.record, val, fieldPath(path, k));
    }
    return out;
  }
  for (const [k, sub] of Object.entries(shape.object)) {
    if (!Object.prototype.hasOwnProperty.call(src, k)) continue;
    const val = src[k];
    if (val === null || val === undefined) continue;
    out[k] = decodeValue(sub, val, fieldPath(path, k));
  }
  return out;
}

/** Decodes `body` against `shape`; the top level must be an object. */
export function decodeBody(shape: Shape, body: unknown): Record<string, unknown> {
  return decodeValue(shape, body, '') as Record<string, unknown>;
}

export const decodeUser = (b: unknown): ApiUser => decodeBody(USER_SHAPE, b) as ApiUser;
export const decodeAdmin = (b: unknown): ApiAdmin => decodeBody(ADMIN_SHAPE, b) as ApiAdmin;
export const decodeFolder = (b: unknown): ApiFolder => decodeBody(FOLDER_SHAPE, b) as ApiFolder;
export const decodePwdChange = (
  b: unknown,
): { current_password?: string; new_password?: string } => decodeBody(PWD_CHANGE_SHAPE, b);
