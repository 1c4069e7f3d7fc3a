import type { AdminPermission } from '../../../api/index.js';
import type { Admin } from '../../../client/index.js';
import { collectCsv, type AnyCommand } from '../cmd.js';
import { FlagError } from '../errors.js';
import { statusArg } from '../shared/input.js';

export const ADMIN_PERMISSIONS: readonly AdminPermission[] = [
  '*', 'add_users', 'edit_users', 'del_users', 'view_users', 'view_conns', 'close_conns',
  'view_status', 'manage_admins', 'quota_scans', 'manage_system', 'manage_defender', 'view_defender',
];

export interface AdminFlags {
  fromFile?: string | undefined;
  password?: string | undefined;
  email?: string | undefined;
  permission?: string[] | undefined;
  allowList?: string[] | undefined;
  status?: 0 | 1 | undefined;
  description?: string | undefined;
  additionalInfo?: string | undefined;
}

export function withAdminFlags<C extends AnyCommand>(cmd: C): C {
  cmd
    .option('--from-file <file>', 'read the admin object (JSON, as in the API) from a file, - for stdin; flags override it')
    .option('--password <password>', 'password of the admin (stored hashed)')
    .option('--email <address>', 'email address')
    .option('--permission <perms>', `admin permissions (${ADMIN_PERMISSIONS.join(', ')}); repeatable or comma-separated; replaces the list`, collectCsv)
    .option('--allow-list <cidr>', 'networks the admin may log in from; repeatable or comma-separated ("" clears)', collectCsv)
    .option('--status <status>', 'enabled or disabled', statusArg)
    .option('--description <text>', 'free description')
    .option('--additional-info <text>', 'free text');
  return cmd;
}

export function pickAdminFlags(o: AdminFlags): AdminFlags {
  const { fromFile, password, email, permission, allowList, status, description, additionalInfo } = o;
  return Object.fromEntries(
    Object.entries({ fromFile, password, email, permission, allowList, status, description, additionalInfo }).filter(([, v]) => v !== undefined),
  ) as AdminFlags;
}

export function hasAdminFieldFlags(f: AdminFlags): boolean {
  return Object.entries(f).some(([k, v]) => k !== 'fromFile' && v !== undefined);
}

export function applyAdminFlags(base: Admin, f: AdminFlags): Admin {
  const a: Admin = structuredClone(base);
  if (f.password !== undefined) a.password = f.password;
  if (f.email !== undefined) a.email = f.email;
  if (f.permission !== undefined) {
    const bad = f.permission.filter((p) => !(ADMIN_PERMISSIONS as readonly string[]).includes(p));
    if (bad.length > 0) {
      throw new FlagError(`--permission: unknown value ${bad.join(', ')} (valid: ${ADMIN_PERMISSIONS.join(', ')})`);
    }
    a.permissions = f.permission as AdminPermission[];
  }
  if (f.allowList !== undefined) a.filters = { ...a.filters, allow_list: f.allowList };
  if (f.status !== undefined) a.status = f.status;
  if (f.description !== undefined) a.description = f.description;
  if (f.additionalInfo !== undefined) a.additional_info = f.additionalInfo;
  return a;
}
