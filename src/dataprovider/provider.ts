/**
 * The data provider port: what every layer above (common, httpd, service, loaddata) may ask of
 * the store of users, admins and virtual folders. One implementation (TypeORM) serves the
 * sqlite, postgresql and mysql drivers.
 *
 * Model objects use the wire shapes of the REST contract (snake_case, src/api types), because
 * the API, the dump format and the store all share them. Stored objects differ from API output
 * only in secrets: `password` holds the hash and Secret payloads are the encrypted envelopes.
 * `redactUser`/`redactAdmin`/`redactFolder` produce what the API may show.
 *
 * Errors: every method throws SftpgoError — NOT_FOUND for an unknown name, INVALID_INPUT for a
 * validation failure (message names the field, as upstream's ValidationError), ALREADY_EXISTS
 * for a duplicate name, BACKEND_UNAVAILABLE when the database cannot be reached.
 */
import type { ApiAdmin, ApiFolder, ApiUser, BackupData } from '../api/index.js';
import type { LoginAttempt } from './auth.js';

export type User = ApiUser;
export type Admin = ApiAdmin;
export type Folder = ApiFolder;

/** pino-compatible subset used for the few things the data provider logs */
export interface ProviderLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ListOptions {
  /** default 100, clamped to 500 */
  limit?: number;
  offset?: number;
  order?: 'ASC' | 'DESC';
}

/**
 * How an update treats the incoming object:
 * - 'api' (default): REST PUT semantics, the body is decoded over the stored object (see
 *   updateUser); a secret sent back encrypted or Redacted keeps the stored one;
 * - 'restore': loaddata semantics, the object replaces the stored one (id, name, quota usage and
 *   last login excepted) and encrypted secrets are stored as given (Redacted keeps the stored one).
 */
export interface UpdateOptions {
  mode?: 'api' | 'restore';
}

export interface QuotaUsage {
  usedQuotaSize: number;
  usedQuotaFiles: number;
}

export interface DataProvider {
  /** 'sqlite' | 'postgresql' | 'mysql' */
  readonly driver: string;

  // ---- users (virtual_folders are returned joined, with the folder's used quota) ----
  /** a page ordered by username; list results are already redacted (redactUser) */
  getUsers(o?: ListOptions): Promise<User[]>;
  /** the stored user (password hash, encrypted secrets); throws NOT_FOUND */
  getUser(username: string): Promise<User>;
  /** validates, hashes a plain password, encrypts Plain secrets, creates missing folders */
  addUser(u: User): Promise<User>;
  /**
   * Replace the stored user with `u` (username/id taken from the stored record). Upstream
   * semantics: omitted password keeps the stored one; omitted permissions keep the stored ones;
   * a secret sent back encrypted (as GET returned it) or with status Redacted keeps the stored one.
   */
  updateUser(username: string, u: User, o?: UpdateOptions): Promise<User>;
  deleteUser(username: string): Promise<void>;
  /**
   * Calls `listener` after every write through this provider that may change how a user logs
   * in or what it sees (update, deletion, password, keys: its name; a folder update or deletion:
   * undefined, any user may map it), for in-process caches of users (the WebDAV user cache).
   * Writes by other instances sharing the database are not seen. Returns the unsubscribe.
   */
  onUserChanged?(listener: (username: string | undefined) => void): () => void;
  /** every user, unredacted, for dumps */
  dumpUsers(): Promise<User[]>;

  // ---- admins ----
  /** a page ordered by username, already redacted (no password) */
  getAdmins(o?: ListOptions): Promise<Admin[]>;
  getAdmin(username: string): Promise<Admin>;
  /**
   * getAdmin for the check of an API token on every request: answered from a cache (shared,
   * frozen object). Changes made through this provider are seen at once; changes made by another
   * instance sharing the database after at most ADMIN_CACHE_TTL_MS (admin-cache.ts).
   */
  getAdminCached(username: string): Promise<Readonly<Admin>>;
  addAdmin(a: Admin): Promise<Admin>;
  updateAdmin(username: string, a: Admin, o?: UpdateOptions): Promise<Admin>;
  deleteAdmin(username: string): Promise<void>;
  dumpAdmins(): Promise<Admin[]>;
  /** number of admins in the store (first-admin logic) */
  countAdmins(): Promise<number>;

  // ---- folders (`users` lists the names of the users mapping the folder) ----
  /** a page ordered by name, already redacted (secrets) */
  getFolders(o?: ListOptions): Promise<Folder[]>;
  getFolder(name: string): Promise<Folder>;
  addFolder(f: Folder): Promise<Folder>;
  updateFolder(name: string, f: Folder, o?: UpdateOptions): Promise<Folder>;
  deleteFolder(name: string): Promise<void>;
  dumpFolders(): Promise<Folder[]>;

  // ---- authentication ----
  /**
   * The login of a user, for every protocol and method (auth.ts): returns the user when the
   * attempt's credentials are valid and the user is enabled and not expired; throws AUTH_FAILED
   * otherwise. For an unknown user the AUTH_FAILED error's `cause` is the NOT_FOUND error
   * (defender: "user not found" event). A TLS certificate attempt for a user that does not log
   * in by certificate throws METHOD_DISABLED.
   */
  authenticateUser(attempt: LoginAttempt): Promise<User>;
  /**
   * The stored password only (no login hooks), same errors as authenticateUser: for tools and
   * tests. Protocol logins use authenticateUser.
   */
  checkUserPassword(username: string, password: string): Promise<User>;
  /**
   * returns the admin when the password matches; throws AUTH_FAILED otherwise (disabled admin,
   * unknown admin with a NOT_FOUND cause). When `ip` is given the admin's allow_list applies.
   */
  checkAdminPassword(username: string, password: string, ip?: string): Promise<Admin>;
  /** hash and store a new password (admin changepwd) */
  setAdminPassword(username: string, newPassword: string): Promise<void>;
  setUserPassword(username: string, newPassword: string): Promise<void>;
  setUserPublicKeys(username: string, keys: string[]): Promise<void>;
  /** saved at most once every 10 minutes per user, as upstream */
  updateLastLogin(username: string): Promise<void>;

  // ---- quota ----
  /** reset=false adds the (possibly negative) deltas; reset=true sets the values */
  updateUserQuota(
    username: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void>;
  updateFolderQuota(
    name: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void>;
  getUserUsedQuota(username: string): Promise<QuotaUsage>;
  getFolderUsedQuota(name: string): Promise<QuotaUsage>;

  // ---- maintenance ----
  dump(): Promise<BackupData>;
  /** throws BACKEND_UNAVAILABLE when the database does not answer */
  checkAvailability(): Promise<void>;
  /**
   * The memory driver only (its dump reload): deletes every user, folder and admin, without
   * data-provider actions, and forgets every cached password, admin and user. Other drivers
   * refuse (INVALID_INPUT).
   */
  clearAll(): Promise<void>;
  close(): Promise<void>;
}
