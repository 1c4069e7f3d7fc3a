/**
 * What the REST API may show of stored objects (reference §4 "Secret redaction"): passwords are
 * never returned; Secrets keep only `{status, payload}` (key and additional_data blanked).
 * Idempotent: redacting a redacted object changes nothing.
 */
import type { Admin, Folder, User } from './provider.js';
import { cloneJson, redactFilesystem } from './secrets.js';

export function redactFolder(f: Folder): Folder {
  const out = cloneJson(f);
  const fs = redactFilesystem(out.filesystem);
  if (fs !== undefined) out.filesystem = fs;
  return out;
}

export function redactUser(u: User): User {
  const out = cloneJson(u);
  delete out.password;
  const fs = redactFilesystem(out.filesystem);
  if (fs !== undefined) out.filesystem = fs;
  if (out.virtual_folders !== undefined) {
    out.virtual_folders = out.virtual_folders.map((v) => {
      const vfs = redactFilesystem(v.filesystem);
      return vfs === undefined ? v : { ...v, filesystem: vfs };
    });
  }
  return out;
}

export function redactAdmin(a: Admin): Admin {
  const out = cloneJson(a);
  delete out.password;
  return out;
}
