/**
 * The storage port under the data provider (upstream dataprovider.Provider, implemented per
 * driver in sqlcommon.go and friends): rows in, rows out, in the model shapes of provider.ts.
 * A store holds no rules. It does not validate, hash, encrypt, redact, apply quota tracking or
 * decide who may log in: ProviderCore (core.ts) does all that on top of any store. What a store
 * guarantees is atomicity where a rule needs it: one transaction per write, counters added in
 * the database, read-modify-write of credentials and conditional last login in one statement or
 * transaction, so several instances can share it.
 *
 * Objects given to a store are ready to be kept: `password` is the hash (absent: none), secrets
 * are encrypted envelopes. Objects returned are as stored: unredacted, without pending quota
 * deltas; a user comes with its virtual folders joined (the folder with its stored counters plus
 * the mapping's virtual_path, quota_size and quota_files), a folder with the sorted names of the
 * users mapping it (`users`, absent when none).
 *
 * Errors: SftpgoError. NOT_FOUND for an unknown name, ALREADY_EXISTS for a duplicate name,
 * BACKEND_UNAVAILABLE when the database cannot be reached or the store is closed, INTERNAL for
 * anything else.
 */
import type { Admin, Folder, User } from './provider.js';
import type { QuotaStore } from './quota.js';
import type { ValidatedVirtualFolder } from './validation/user.js';

/** one page of a list, already checked and clamped */
export interface ListWindow {
  take: number;
  skip: number;
  order: 'ASC' | 'DESC';
}

/** a user's login credentials as stored: '' is no password */
export interface UserCredentials {
  password: string;
  public_keys: string[];
}

export interface ProviderStore extends QuotaStore {
  // ---- users ----
  /**
   * a page ordered by username, which may leave the password hashes out (pages are for
   * listings, which never show them); without `w`, every user in ascending order, with them
   */
  getUsers(w?: ListWindow): Promise<User[]>;
  getUser(username: string): Promise<User>;
  /**
   * inserts the user (counters and last login at 0) and its folder mappings; a mapping whose
   * folder is new or marked `upsert` adds or updates that folder first
   */
  addUser(u: User, folders: readonly ValidatedVirtualFolder[]): Promise<void>;
  /** replaces the user's fields (not its counters nor last login) and its folder mappings */
  updateUser(username: string, u: User, folders: readonly ValidatedVirtualFolder[]): Promise<void>;
  /** deletes the user and its folder mappings (not the folders) */
  deleteUser(username: string): Promise<void>;
  /**
   * In one transaction: `change` gets the stored credentials and returns those to write (it may
   * throw to refuse the change, which is then not written).
   */
  updateUserCredentials(
    username: string,
    change: (stored: UserCredentials) => Partial<UserCredentials>,
  ): Promise<void>;
  /**
   * Sets last_login to `at` unless the stored value lies within [keep.from, keep.to], in one
   * statement; an unknown user is not an error.
   */
  setLastLogin(username: string, at: number, keep: { from: number; to: number }): Promise<void>;

  // ---- admins ----
  /** a page ordered by username; without `w`, every admin in ascending order */
  getAdmins(w?: ListWindow): Promise<Admin[]>;
  getAdmin(username: string): Promise<Admin>;
  addAdmin(a: Admin): Promise<void>;
  updateAdmin(username: string, a: Admin): Promise<void>;
  setAdminPassword(username: string, hash: string): Promise<void>;
  deleteAdmin(username: string): Promise<void>;
  countAdmins(): Promise<number>;

  // ---- folders ----
  /** a page ordered by name; without `w`, every folder in ascending order */
  getFolders(w?: ListWindow): Promise<Folder[]>;
  getFolder(name: string): Promise<Folder>;
  /** the stored folders among `names`, without their users; unknown names are left out */
  findFolders(names: readonly string[]): Promise<Folder[]>;
  /** inserts the folder with its counters at 0 */
  addFolder(f: Folder): Promise<void>;
  /** replaces the folder's fields (not its counters) */
  updateFolder(name: string, f: Folder): Promise<void>;
  /** deletes the folder and its user mappings */
  deleteFolder(name: string): Promise<void>;

  // ---- maintenance ----
  /** deletes every user, folder, mapping and admin in one transaction (the memory driver's reload) */
  clearAll(): Promise<void>;
  /** one round trip to the database */
  ping(): Promise<void>;
  /** closes the connections; the store then refuses everything with BACKEND_UNAVAILABLE */
  close(): Promise<void>;
}
