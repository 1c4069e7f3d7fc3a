/**
 * Admin validation (upstream dataprovider/admin.go `validate` at v2.1.2), as a pure function over
 * a JSON value. The password is returned as given; the provider hashes it.
 */
import type { AdminPermission, ApiAdmin } from '../../api/index.js';
import {
  invalid,
  isRecord,
  isValidEmail,
  NATURAL_KEY_RE,
  parseCidr,
  q,
  readInt,
  readObject,
  readString,
  readStringArray,
  removeDuplicates,
} from './common.js';
import type { NaturalKeyOptions } from './folder.js';

export const VALID_ADMIN_PERMISSIONS: readonly AdminPermission[] = [
  '*',
  'add_users',
  'edit_users',
  'del_users',
  'view_users',
  'view_conns',
  'close_conns',
  'view_status',
  'manage_admins',
  'quota_scans',
  'manage_system',
  'manage_defender',
  'view_defender',
];

/**
 * Validates an admin coming from JSON. Throws INVALID_INPUT naming the field: username (natural
 * key), password required, at least one valid permission (duplicates removed, `*` collapses the
 * list), email format, filters.allow_list CIDRs, status 0/1.
 */
export function validateAdmin(input: unknown, o: NaturalKeyOptions = {}): ApiAdmin {
  if (!isRecord(input)) throw invalid('invalid admin: expected an object');
  const a = input;
  const username = readString(a, 'username');
  const password = readString(a, 'password');
  const email = readString(a, 'email');
  const description = readString(a, 'description');
  const additionalInfo = readString(a, 'additional_info');
  const status = readInt(a, 'status');
  readInt(a, 'id');
  const permsRaw = a['permissions'];
  if (permsRaw !== undefined && permsRaw !== null && !Array.isArray(permsRaw)) {
    throw invalid('invalid permissions: expected an array of admin permissions');
  }
  const perms = removeDuplicates(readStringArray(a, 'permissions'));
  const filters = readObject(a['filters'], 'filters');
  const allowList = readStringArray(filters, 'allow_list', 'filters.allow_list');

  if (username === '') throw invalid('username is mandatory', 'username');
  if (password === '') throw invalid('please set a password', 'password');
  if (!o.skipNaturalKeysValidation && !NATURAL_KEY_RE.test(username)) {
    throw invalid(
      `username ${q(username)} is not valid, the following characters are allowed: a-zA-Z0-9-_.~`,
      'username',
    );
  }
  if (perms.length === 0)
    throw invalid('please grant some permissions to this admin', 'permissions');
  for (const p of perms) {
    if (!(VALID_ADMIN_PERMISSIONS as readonly string[]).includes(p)) {
      throw invalid(`invalid permission: ${q(p)}`, 'permissions');
    }
  }
  const permissions = (perms.includes('*') ? ['*'] : perms) as AdminPermission[];
  if (email !== '' && !isValidEmail(email))
    throw invalid(`email ${q(email)} is not valid`, 'email');
  allowList.forEach((c, i) => {
    if (parseCidr(c) === undefined) {
      throw invalid(
        `could not parse allow list entry ${q(c)} : invalid CIDR address: ${c}`,
        `filters.allow_list[${i}]`,
      );
    }
  });
  if (status < 0 || status > 1) throw invalid(`invalid admin status: ${status}`, 'status');

  const out: ApiAdmin = {
    status: status as 0 | 1,
    username,
    password,
    email,
    permissions,
    filters: allowList.length > 0 ? { allow_list: removeDuplicates(allowList) } : {},
  };
  if (description !== '') out.description = description;
  if (additionalInfo !== '') out.additional_info = additionalInfo;
  return out;
}
