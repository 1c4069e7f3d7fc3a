/**
 * The web admin's forms as pure mappings, both ways:
 * - form → JSON: the body the REST API takes (POST/PUT /users, /folders, /admins), built without
 *   any rule of its own. A number field that is not an integer stays a string, so the API's
 *   decoding rejects it naming the field; an empty one is 0 (as an empty input means "none").
 *   Lists are sent whole (also when empty) so an update replaces them, as the form shows them.
 * - JSON → form: the values an edit or clone page starts from (all strings).
 * - an error's JSON path (SftpgoError.field / HttpError.field) → the input to show it next to.
 *
 * Secrets are never put into a form: a stored secret shows as "set", the form carries a marker
 * `<name>_set`, and an empty input sends `{status: "Redacted"}` back, which the provider
 * replaces by the stored secret exactly as for a REST PUT (secrets.ts keepStoredSecrets). A
 * typed value is sent as a Plain secret.
 */
import type { Admin, Folder, User } from '../../../dataprovider/provider.js';

export type JsonObject = Record<string, unknown>;

/** the filesystem sub-configs and the prefix of their form fields */
export const FS_PREFIX = {
  s3config: 's3',
  gcsconfig: 'gcs',
  azblobconfig: 'az',
  cryptconfig: 'crypt',
  sftpconfig: 'sftp',
} as const;
type FsKey = keyof typeof FS_PREFIX;

type FieldKind = 'str' | 'int' | 'bool' | 'secret' | 'lines';
/** the fields of each filesystem sub-config, in form order */
export const FS_FIELDS: Readonly<Record<FsKey, readonly (readonly [string, FieldKind])[]>> = {
  s3config: [
    ['bucket', 'str'],
    ['region', 'str'],
    ['access_key', 'str'],
    ['access_secret', 'secret'],
    ['endpoint', 'str'],
    ['storage_class', 'str'],
    ['key_prefix', 'str'],
    ['upload_part_size', 'int'],
    ['upload_concurrency', 'int'],
  ],
  gcsconfig: [
    ['bucket', 'str'],
    ['automatic_credentials', 'bool'],
    ['credentials', 'secret'],
    ['storage_class', 'str'],
    ['key_prefix', 'str'],
  ],
  azblobconfig: [
    ['container', 'str'],
    ['account_name', 'str'],
    ['account_key', 'secret'],
    ['sas_url', 'secret'],
    ['endpoint', 'str'],
    ['access_tier', 'str'],
    ['key_prefix', 'str'],
    ['upload_part_size', 'int'],
    ['upload_concurrency', 'int'],
    ['use_emulator', 'bool'],
  ],
  cryptconfig: [['passphrase', 'secret']],
  sftpconfig: [
    ['endpoint', 'str'],
    ['username', 'str'],
    ['password', 'secret'],
    ['private_key', 'secret'],
    ['fingerprints', 'lines'],
    ['prefix', 'str'],
    ['buffer_size', 'int'],
    ['disable_concurrent_reads', 'bool'],
  ],
};

const PROVIDER_KEY: Readonly<Record<number, FsKey>> = {
  1: 's3config',
  2: 'gcsconfig',
  3: 'azblobconfig',
  4: 'cryptconfig',
  5: 'sftpconfig',
};

const get = (f: URLSearchParams, name: string): string => f.get(name) ?? '';

/** an integer input: '' → 0, an integer → its value, anything else as typed (the API rejects it) */
export function intField(raw: string): number | string {
  const t = raw.trim();
  if (t === '') return 0;
  if (/^[+-]?\d+$/.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
  return raw;
}

/** non-empty trimmed lines */
export function lines(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** non-empty trimmed items separated by new lines or commas */
export function items(raw: string): string[] {
  return raw
    .split(/[\r\n,]+/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** a `<input type="date">` value (YYYY-MM-DD, UTC midnight) as ms since the epoch; '' → 0 */
export function dateField(raw: string): number | string {
  const t = raw.trim();
  if (t === '') return 0;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (!m) return raw;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? raw : ms;
}

export function dateValue(ms: number | undefined): string {
  if (!ms) return '';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

/**
 * `path: item1,item2` lines to [path, items] pairs; `splitAtLast` splits at the last colon
 * (permission names have none, paths may), otherwise at the first (patterns may have some)
 */
export function pathLines(raw: string, splitAtLast: boolean): [string, string[]][] {
  return lines(raw).map((l) => {
    const i = splitAtLast ? l.lastIndexOf(':') : l.indexOf(':');
    if (i < 0) return [l, []];
    return [l.slice(0, i).trim(), items(l.slice(i + 1))];
  });
}

function secretField(f: URLSearchParams, name: string): JsonObject | undefined {
  const v = get(f, name);
  if (v !== '') return { status: 'Plain', payload: v };
  if (get(f, `${name}_set`) !== '') return { status: 'Redacted' };
  return undefined;
}

/** the filesystem part of the user and folder forms */
export function filesystemFormToJson(f: URLSearchParams): JsonObject {
  const provider = intField(get(f, 'fs_provider'));
  const out: JsonObject = { provider };
  const key = typeof provider === 'number' ? PROVIDER_KEY[provider] : undefined;
  if (key === undefined) return out;
  const prefix = FS_PREFIX[key];
  const sub: JsonObject = {};
  for (const [name, kind] of FS_FIELDS[key]) {
    const input = `${prefix}_${name}`;
    switch (kind) {
      case 'str':
        sub[name] = get(f, input).trim();
        break;
      case 'int':
        sub[name] = intField(get(f, input));
        break;
      case 'bool':
        sub[name] = name === 'automatic_credentials' ? (f.has(input) ? 1 : 0) : f.has(input);
        break;
      case 'lines':
        sub[name] = lines(get(f, input));
        break;
      case 'secret': {
        const s = secretField(f, input);
        if (s !== undefined) sub[name] = s;
        break;
      }
    }
  }
  out[key] = sub;
  return out;
}

export function filesystemToForm(
  fs: User['filesystem'],
  out: URLSearchParams,
  o: { withSecrets: boolean },
): void {
  const provider = fs?.provider ?? 0;
  out.set('fs_provider', String(provider));
  const key = PROVIDER_KEY[provider];
  if (key === undefined) return;
  const sub = (fs?.[key] ?? {}) as JsonObject;
  const prefix = FS_PREFIX[key];
  for (const [name, kind] of FS_FIELDS[key]) {
    const input = `${prefix}_${name}`;
    const v = sub[name];
    if (kind === 'secret') {
      const s = v as { status?: string; payload?: string } | undefined;
      if (o.withSecrets && s?.status) out.set(`${input}_set`, '1');
    } else if (kind === 'bool') {
      if (v === true || v === 1) out.set(input, '1');
    } else if (kind === 'lines') {
      out.set(input, Array.isArray(v) ? v.join('\n') : '');
    } else if (kind === 'int') {
      out.set(input, typeof v === 'number' && v !== 0 ? String(v) : '');
    } else {
      out.set(input, typeof v === 'string' ? v : '');
    }
  }
}

const USER_INTS = [
  'uid',
  'gid',
  'max_sessions',
  'quota_size',
  'quota_files',
  'upload_bandwidth',
  'download_bandwidth',
] as const;
const HOOKS = ['external_auth_disabled', 'pre_login_disabled', 'check_password_disabled'] as const;

export interface UserFormJson {
  body: JsonObject;
  /** the form row of each virtual folder of the body (empty rows are not sent) */
  vfRows: number[];
}

/** the user form → the JSON body of POST /users and PUT /users/{username} */
export function userFormToJson(f: URLSearchParams): UserFormJson {
  const body: JsonObject = {
    status: intField(get(f, 'status')),
    username: get(f, 'username').trim(),
    description: get(f, 'description'),
    home_dir: get(f, 'home_dir').trim(),
    public_keys: lines(get(f, 'public_keys')),
    expiration_date: dateField(get(f, 'expiration_date')),
    additional_info: get(f, 'additional_info'),
  };
  const password = get(f, 'password');
  if (password !== '') body['password'] = password;
  for (const k of USER_INTS) body[k] = intField(get(f, k));
  const permissions: Record<string, string[]> = {};
  for (const [path, perms] of pathLines(get(f, 'permissions'), true)) permissions[path] = perms;
  body['permissions'] = permissions;

  const patterns = new Map<string, { path: string; allowed: string[]; denied: string[] }>();
  const addPatterns = (field: string, kind: 'allowed' | 'denied'): void => {
    for (const [path, list] of pathLines(get(f, field), false)) {
      const p = patterns.get(path) ?? { path, allowed: [], denied: [] };
      p[kind].push(...list);
      patterns.set(path, p);
    }
  };
  addPatterns('allowed_patterns', 'allowed');
  addPatterns('denied_patterns', 'denied');
  const hooks: JsonObject = {};
  for (const h of HOOKS) hooks[h] = f.has(h);
  body['filters'] = {
    allowed_ip: items(get(f, 'allowed_ip')),
    denied_ip: items(get(f, 'denied_ip')),
    denied_login_methods: f.getAll('denied_login_methods'),
    denied_protocols: f.getAll('denied_protocols'),
    file_patterns: [...patterns.values()].map((p) => ({
      path: p.path,
      allowed_patterns: p.allowed,
      denied_patterns: p.denied,
    })),
    max_upload_file_size: intField(get(f, 'max_upload_file_size')),
    tls_username: get(f, 'tls_username'),
    web_client: f.getAll('web_client'),
    hooks,
    disable_fs_checks: f.has('disable_fs_checks'),
  };
  body['filesystem'] = filesystemFormToJson(f);

  const names = f.getAll('vf_name');
  const paths = f.getAll('vf_path');
  const sizes = f.getAll('vf_quota_size');
  const files = f.getAll('vf_quota_files');
  const folders: JsonObject[] = [];
  const vfRows: number[] = [];
  for (let i = 0; i < Math.max(names.length, paths.length); i++) {
    const name = (names[i] ?? '').trim();
    const vpath = (paths[i] ?? '').trim();
    if (name === '' && vpath === '') continue;
    folders.push({
      name,
      virtual_path: vpath,
      quota_size: intField(sizes[i] ?? ''),
      quota_files: intField(files[i] ?? ''),
    });
    vfRows.push(i);
  }
  body['virtual_folders'] = folders;
  return { body, vfRows };
}

/** a stored user → the user form's values; `clone`: a new user from it (no name, password, secrets, as upstream) */
export function userToForm(u: User, o: { clone?: boolean } = {}): URLSearchParams {
  const out = new URLSearchParams();
  out.set('status', String(u.status ?? 1));
  out.set('username', o.clone ? '' : (u.username ?? ''));
  out.set('description', u.description ?? '');
  out.set('home_dir', u.home_dir ?? '');
  out.set('public_keys', (u.public_keys ?? []).join('\n'));
  out.set('expiration_date', dateValue(u.expiration_date));
  out.set('additional_info', u.additional_info ?? '');
  for (const k of USER_INTS) out.set(k, String(u[k] ?? 0));
  out.set(
    'permissions',
    Object.entries((u.permissions ?? {}) as Record<string, string[]>)
      .map(([p, perms]) => `${p}: ${perms.join(',')}`)
      .join('\n'),
  );
  const fl = u.filters ?? {};
  out.set('allowed_ip', (fl.allowed_ip ?? []).join('\n'));
  out.set('denied_ip', (fl.denied_ip ?? []).join('\n'));
  for (const m of fl.denied_login_methods ?? []) out.append('denied_login_methods', m);
  for (const p of fl.denied_protocols ?? []) out.append('denied_protocols', p);
  for (const w of fl.web_client ?? []) out.append('web_client', w);
  const pat = (k: 'allowed_patterns' | 'denied_patterns'): string =>
    (fl.file_patterns ?? [])
      .filter((p) => (p[k] ?? []).length > 0)
      .map((p) => `${p.path}: ${(p[k] ?? []).join(',')}`)
      .join('\n');
  out.set('allowed_patterns', pat('allowed_patterns'));
  out.set('denied_patterns', pat('denied_patterns'));
  out.set('max_upload_file_size', String(fl.max_upload_file_size ?? 0));
  out.set('tls_username', fl.tls_username ?? '');
  for (const h of HOOKS) if (fl.hooks?.[h]) out.set(h, '1');
  if (fl.disable_fs_checks) out.set('disable_fs_checks', '1');
  filesystemToForm(u.filesystem, out, { withSecrets: !o.clone });
  for (const vf of u.virtual_folders ?? []) {
    out.append('vf_name', vf.name ?? '');
    out.append('vf_path', vf.virtual_path ?? '');
    out.append('vf_quota_size', String(vf.quota_size ?? 0));
    out.append('vf_quota_files', String(vf.quota_files ?? 0));
  }
  return out;
}

/** the folder form → the JSON body of POST /folders and PUT /folders/{name} */
export function folderFormToJson(f: URLSearchParams): JsonObject {
  return {
    name: get(f, 'name').trim(),
    description: get(f, 'description'),
    mapped_path: get(f, 'mapped_path').trim(),
    filesystem: filesystemFormToJson(f),
  };
}

export function folderToForm(folder: Folder): URLSearchParams {
  const out = new URLSearchParams();
  out.set('name', folder.name ?? '');
  out.set('description', folder.description ?? '');
  out.set('mapped_path', folder.mapped_path ?? '');
  filesystemToForm(folder.filesystem, out, { withSecrets: true });
  return out;
}

/** the admin form → the JSON body of POST /admins and PUT /admins/{username} */
export function adminFormToJson(f: URLSearchParams): JsonObject {
  const body: JsonObject = {
    status: intField(get(f, 'status')),
    username: get(f, 'username').trim(),
    email: get(f, 'email').trim(),
    description: get(f, 'description'),
    permissions: f.getAll('permissions'),
    filters: { allow_list: items(get(f, 'allow_list')) },
    additional_info: get(f, 'additional_info'),
  };
  const password = get(f, 'password');
  if (password !== '') body['password'] = password;
  return body;
}

export function adminToForm(a: Admin): URLSearchParams {
  const out = new URLSearchParams();
  out.set('status', String(a.status ?? 1));
  out.set('username', a.username ?? '');
  out.set('email', a.email ?? '');
  out.set('description', a.description ?? '');
  for (const p of a.permissions ?? []) out.append('permissions', p);
  out.set('allow_list', (a.filters?.allow_list ?? []).join('\n'));
  out.set('additional_info', a.additional_info ?? '');
  return out;
}

const VF_COLUMN: Readonly<Record<string, string>> = {
  virtual_path: 'vf_path',
  quota_size: 'vf_quota_size',
  quota_files: 'vf_quota_files',
};

/**
 * The id of the form input an error's JSON path concerns (`home_dir` → `home_dir`,
 * `filesystem.s3config.bucket` → `s3_bucket`, `virtual_folders[1].virtual_path` → `vf_path_<row>`),
 * or undefined when no input matches (the error then shows only in the summary).
 */
export function inputForField(field: string, vfRows: readonly number[] = []): string | undefined {
  const vf = /^virtual_folders\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (vf) {
    const row = vfRows[Number(vf[1])];
    if (row === undefined) return undefined;
    return `${VF_COLUMN[vf[2] ?? ''] ?? 'vf_name'}_${row}`;
  }
  const f = field.replace(/\[\d+\]/g, '');
  const fs =
    /^(?:filesystem\.)?(s3config|gcsconfig|azblobconfig|cryptconfig|sftpconfig)\.(\w+)/.exec(f);
  if (fs) return `${FS_PREFIX[fs[1] as FsKey]}_${fs[2] ?? ''}`;
  if (f.startsWith('filesystem')) return 'fs_provider';
  if (f.startsWith('filters.file_patterns'))
    return f.endsWith('denied_patterns') ? 'denied_patterns' : 'allowed_patterns';
  if (f.startsWith('filters.hooks.')) return f.slice('filters.hooks.'.length);
  if (f.startsWith('filters.')) return f.slice('filters.'.length).split('.')[0];
  return f.split('.')[0];
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** what a form template reads its values and errors from */
export interface FormView {
  /** the (first) value of a field, '' when absent */
  v(name: string): string;
  all(name: string): string[];
  /** a checkbox: present at all, or present with this value */
  has(name: string, value?: string): boolean;
  err(name: string): string | undefined;
  /** ` aria-invalid="true" aria-describedby="<name>-error"` when the field has an error */
  inv(name: string): string;
  /** the `<small>` carrying the field's error, '' without one */
  msg(name: string): string;
}

export function formView(values: URLSearchParams, errors: Record<string, string> = {}): FormView {
  const err = (name: string): string | undefined =>
    Object.hasOwn(errors, name) ? errors[name] : undefined;
  return {
    v: (name) => values.get(name) ?? '',
    all: (name) => values.getAll(name),
    has: (name, value) =>
      value === undefined ? values.has(name) : values.getAll(name).includes(value),
    err,
    inv: (name) =>
      err(name) === undefined ? '' : ` aria-invalid="true" aria-describedby="${name}-error"`,
    msg: (name) => {
      const e = err(name);
      return e === undefined
        ? ''
        : `<small id="${escapeHtml(name)}-error" class="field-error">${escapeHtml(e)}</small>`;
    },
  };
}
