/**
 * What the REST API may show of stored objects (reference §4 "Secret redaction"): passwords are
 * never returned; Secrets keep only `{status, payload}` (key and additional_data blanked).
 * Idempotent: redacting a redacted object changes nothing.
 *
 * The results are views for output, not copies: the input is left as it was, but the parts
 * without secrets (filters, permissions, a filesystem without secrets, ...) are shared with it,
 * so neither may be modified afterwards. A deep copy of every user made listings cost a third of
 * their CPU, and the garbage more (issue 16); the properties keep their order, so the JSON is
 * the same.
 */
import type { Admin, Folder, User } from './provider.js';
import { redactFilesystem } from './secrets.js';

export function redactFolder(f: Folder): Folder {
  const out = { ...f };
  const fs = redactFilesystem(out.filesystem);
  if (fs !== undefined) out.filesystem = fs;
  return out;
}

export function redactUser(u: User): User {
  const fs = redactFilesystem(u.filesystem);
  let folders = u.virtual_folders;
  if (folders !== undefined && folders.length > 0) {
    const redacted = folders.map((v) => {
      const vfs = redactFilesystem(v.filesystem);
      return vfs === undefined || vfs === v.filesystem ? v : { ...v, filesystem: vfs };
    });
    if (redacted.some((v, i) => v !== folders?.[i])) folders = redacted;
  }
  // nothing to hide (a page of users is read without the hashes): the user itself
  if (!('password' in u) && fs === u.filesystem && folders === u.virtual_folders) return u;
  const { password: _password, ...out } = u;
  if (fs !== undefined) out.filesystem = fs;
  if (folders !== undefined) out.virtual_folders = folders;
  return out;
}

export function redactAdmin(a: Admin): Admin {
  const { password: _password, ...out } = a;
  return out;
}
