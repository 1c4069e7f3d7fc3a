/**
 * Virtual folder validation (upstream dataprovider.go `ValidateFolder` at v2.1.2).
 */
import type { ApiFilesystemConfig, ApiFolder } from '../../api/index.js';
import {
  cleanPath,
  fieldPath,
  invalid,
  isAbsolutePath,
  NATURAL_KEY_RE,
  q,
  readObject,
  readString,
} from './common.js';
import { isLocalOrCrypt, validateFilesystem } from './filesystem.js';

export interface NaturalKeyOptions {
  /** data_provider.skip_natural_keys_validation */
  skipNaturalKeysValidation?: boolean;
}

/** The writable part of a folder, normalized. */
export interface ValidatedFolder {
  name: string;
  mapped_path: string;
  description: string;
  filesystem: ApiFilesystemConfig;
}

/** Reads and checks the name of a folder. */
export function validateFolderName(name: string, o: NaturalKeyOptions, field = 'name'): void {
  if (name === '') throw invalid('folder name is mandatory', field);
  if (!o.skipNaturalKeysValidation && !NATURAL_KEY_RE.test(name)) {
    throw invalid(
      `folder name ${q(name)} is not valid, the following characters are allowed: a-zA-Z0-9-_.~`,
      field,
    );
  }
}

/**
 * Validates a folder coming from JSON: name (natural key), mapped_path (absolute, cleaned, for
 * local and crypt folders or whenever given), filesystem. Read-only fields (id, used quota,
 * users) are ignored. Throws INVALID_INPUT.
 */
export function validateFolder(
  input: unknown,
  o: NaturalKeyOptions = {},
  label = 'folder',
  /** the JSON path of the folder in the input ('' for a folder body), for SftpgoError.field */
  at = label === 'folder' ? '' : label,
): ValidatedFolder {
  const f = readObject(input, label);
  if (input === undefined || input === null) throw invalid(`invalid ${label}: expected an object`);
  const name = readString(f, 'name', `${label}.name`);
  const mappedPath = readString(f, 'mapped_path', `${label}.mapped_path`);
  const description = readString(f, 'description', `${label}.description`);
  validateFolderName(name, o, fieldPath(at, 'name'));
  const filesystem = validateFilesystem(
    f['filesystem'],
    `${label}.filesystem`,
    fieldPath(at, 'filesystem'),
  );
  let mapped = mappedPath;
  if (isLocalOrCrypt(filesystem) || mappedPath !== '') {
    const cleaned = cleanPath(mappedPath);
    if (!isAbsolutePath(cleaned))
      throw invalid(`invalid folder mapped path ${q(mappedPath)}`, fieldPath(at, 'mapped_path'));
    mapped = cleaned;
  }
  return { name, mapped_path: mapped, description, filesystem };
}

/** The stored form of a validated folder (used quota and users come from the store). */
export function folderFromValidated(v: ValidatedFolder, base: Partial<ApiFolder> = {}): ApiFolder {
  const out: ApiFolder = {
    id: base.id ?? 0,
    name: v.name,
    mapped_path: v.mapped_path,
    used_quota_size: base.used_quota_size ?? 0,
    used_quota_files: base.used_quota_files ?? 0,
    last_quota_update: base.last_quota_update ?? 0,
    filesystem: v.filesystem,
  };
  if (v.description !== '') out.description = v.description;
  return out;
}
