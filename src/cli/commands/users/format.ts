import type { User } from '../../../client/index.js';
import type { IO } from '../io.js';
import { formatBytes, formatQuota, formatTime, printTable } from '../output.js';
import { providerName } from '../shared/fs-flags.js';
import { statusText } from '../shared/input.js';

export function printUsersTable(io: IO, users: readonly User[]): void {
  printTable(
    io,
    ['username', 'status', 'storage', 'quota', 'files', 'last login', 'home'],
    users.map((u) => [
      u.username ?? '',
      statusText(u.status),
      providerName(u.filesystem?.provider),
      formatQuota(u.used_quota_size, u.quota_size, true),
      formatQuota(u.used_quota_files, u.quota_files, false),
      formatTime(u.last_login),
      u.home_dir ?? '',
    ]),
  );
}

/** The key facts of one user, then every other field flattened. */
export function userSummary(u: User): [string, string][] {
  return [
    ['username', u.username ?? ''],
    ['status', statusText(u.status)],
    ['home_dir', u.home_dir ?? ''],
    ['storage', providerName(u.filesystem?.provider)],
    ['quota size', formatQuota(u.used_quota_size, u.quota_size, true)],
    ['quota files', formatQuota(u.used_quota_files, u.quota_files, false)],
    ['bandwidth (KB/s)', `up ${u.upload_bandwidth || 'unlimited'}, down ${u.download_bandwidth || 'unlimited'}`],
    ['max sessions', u.max_sessions ? String(u.max_sessions) : 'unlimited'],
    ['expiration', u.expiration_date ? formatTime(u.expiration_date) : 'never'],
    ['last login', formatTime(u.last_login)],
    ['public keys', String(u.public_keys?.length ?? 0)],
    ['max upload file size', u.filters?.max_upload_file_size ? formatBytes(u.filters.max_upload_file_size) : 'unlimited'],
  ];
}
