import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { SftpgoClient } from '../../../client/index.js';
import { sizeArg } from '../cmd.js';
import { formatBytes } from '../output.js';

export type QuotaKind = 'user' | 'folder';

export function kindArg(v: string): QuotaKind {
  const k = v.toLowerCase().replace(/s$/, '');
  if (k !== 'user' && k !== 'folder') throw new InvalidArgumentError('must be user or folder.');
  return k;
}

/** A size (suffixes K, M, G, T); the API refuses negative quota values, in `add` mode too. */
export function quotaSizeArg(v: string): number {
  if (v.trim().startsWith('-'))
    throw new InvalidArgumentError(
      'must not be negative (the server refuses negative quota values).',
    );
  return sizeArg(v.trim());
}

export function quotaFilesArg(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError('must be a non-negative integer.');
  return Number(v);
}

export interface Usage {
  used_quota_size?: number | undefined;
  used_quota_files?: number | undefined;
  quota_size?: number | undefined;
  quota_files?: number | undefined;
}

/** The user or folder with its quota counters. */
export async function fetchUsage(
  c: SftpgoClient,
  kind: QuotaKind,
  name: string,
): Promise<Usage & Record<string, unknown>> {
  return kind === 'user' ? c.getUser(name) : c.getFolder(name);
}

export function usageLine(kind: QuotaKind, name: string, u: Usage): string {
  const size = `${formatBytes(u.used_quota_size ?? 0)}${u.quota_size ? ` of ${formatBytes(u.quota_size)}` : ''}`;
  const files = `${u.used_quota_files ?? 0}${u.quota_files ? ` of ${u.quota_files}` : ''} files`;
  return `Quota usage of ${kind} "${name}": ${files}, ${size}`;
}
