/**
 * The DataProvider every layer above uses, on top of any ProviderStore (store.ts). The rules live
 * here, the SQL in the store, as upstream separates dataprovider/dataprovider.go from
 * sqlcommon.go at v2.1.2:
 * - lists: limit/offset/order checked, limit clamped to 500, output redacted;
 * - saves: update semantics (merge.ts), validation (validation/), password hashing (a known hash
 *   is stored as given, the stored hash sent back is kept), Plain secrets encrypted (secrets.ts);
 * - GCS credentials kept in files under credentials_path unless prefer_database_credentials
 *   (credentials-files.ts): written on save, filled back in on every load, removed on delete;
 * - credentials: a user keeps a password or at least one public key; admins need a password;
 * - authentication: auth.ts, one login entry for users whatever the protocol and method, with
 *   the password cache this class invalidates whenever a user's credentials or status may have
 *   changed;
 * - quota: quota.ts (track_quota modes, delayed updates and the pending deltas readers see);
 * - last login: written at most every LAST_LOGIN_MIN_DELAY_MS;
 * - data-provider actions (actions.ts): fired by the public user add/update/delete paths and the
 *   user's own password and key changes, never by last-login or quota updates.
 */
import { SftpgoError } from '../errors/index.js';
import type { HookHttpClient } from '../util/hooks/http-client.js';
import { AdminCache } from './admin-cache.js';
import { ProviderActions, type ProviderAction } from './hooks/actions.js';
import { Authenticator, type LoginAttempt } from './auth.js';
import type { DataProviderConfig, PasswordHashingConfig } from './config.js';
import {
  saveWithCredentials,
  type CredentialsFiles,
  type CredentialsOwner,
} from './credentials-files.js';
import { DUMP_VERSION } from './dump.js';
import { LoginHooks } from './hooks/login-hooks.js';
import { mergeAdminUpdate, mergeFolderUpdate, mergeUserUpdate } from './merge.js';
import { adminPasswordForStorage, userPasswordForStorage } from './passwords.js';
import type {
  Admin,
  DataProvider,
  Folder,
  ListOptions,
  ProviderLogger,
  QuotaUsage,
  UpdateOptions,
  User,
} from './provider.js';
import { QuotaTracker } from './quota.js';
import type { QuotaTimers } from './quota-updater.js';
import { redactAdmin, redactFolder, redactUser } from './redact.js';
import { encryptPlainSecrets, folderSecretAd, type SecretEncrypter } from './secrets.js';
import type { ListWindow, ProviderStore } from './store.js';
import { validateAdmin } from './validation/admin.js';
import { invalid, isRecord, type JsonObject } from './validation/common.js';
import { folderFromValidated, validateFolder } from './validation/folder.js';
import {
  requirePasswordOrPublicKey,
  validatePublicKeys,
  validateUser,
  type ValidatedVirtualFolder,
} from './validation/user.js';

/** last_login is written at most this often (upstream lastLoginMinDelay) */
export const LAST_LOGIN_MIN_DELAY_MS = 10 * 60 * 1000;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

function listWindow(o: ListOptions = {}): ListWindow {
  const limit = o.limit ?? DEFAULT_LIMIT;
  const offset = o.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid('invalid limit');
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('invalid offset');
  const order = o.order ?? 'ASC';
  if (order !== 'ASC' && order !== 'DESC') throw invalid('invalid order');
  return { take: Math.min(limit, MAX_LIMIT), skip: offset, order };
}

/** one checked page of a list from the store, each object passed through `out` */
async function listPage<T>(
  o: ListOptions | undefined,
  fetch: (w: ListWindow) => Promise<T[]>,
  out: (x: T) => T | Promise<T>,
): Promise<T[]> {
  const w = listWindow(o);
  if (w.take === 0) return [];
  const page: T[] = [];
  for (const x of await fetch(w)) {
    // no await (a microtask and a promise per object of the page) when `out` is synchronous
    const y = out(x);
    page.push(y instanceof Promise ? await y : y);
  }
  return page;
}

const userOwner = (name: string | undefined): CredentialsOwner => ({
  kind: 'user',
  name: name ?? '',
});
const folderOwner = (name: string | undefined): CredentialsOwner => ({
  kind: 'folder',
  name: name ?? '',
});

/** names of the virtual folders mentioned in a (not yet validated) user body */
function referencedFolderNames(input: unknown): string[] {
  if (!isRecord(input) || !Array.isArray(input['virtual_folders'])) return [];
  const names = new Set<string>();
  for (const v of input['virtual_folders'] as unknown[]) {
    if (isRecord(v) && typeof v['name'] === 'string' && v['name'] !== '') names.add(v['name']);
  }
  return [...names];
}

/** the value to store for a password: the stored hash sent back as is, else hashed for storage */
function passwordToStore(
  given: string,
  storedHash: string | undefined,
  forStorage: (p: string, cfg: PasswordHashingConfig) => Promise<string>,
  cfg: PasswordHashingConfig,
): Promise<string> {
  return given === storedHash ? Promise.resolve(given) : forStorage(given, cfg);
}

export interface ProviderCoreDeps {
  store: ProviderStore;
  config: DataProviderConfig;
  /** encrypts Plain secrets on save; without it, saving a Plain secret fails */
  kms?: SecretEncrypter | undefined;
  /** GCS credentials files; without it, they stay in the store (prefer_database_credentials) */
  credentialsFiles?: CredentialsFiles | undefined;
  logger?: ProviderLogger | undefined;
  /** clock in ms, for tests */
  now?: () => number;
  /** timers of the delayed quota update loop, for tests */
  quotaTimers?: QuotaTimers | undefined;
  /** the hooks' HTTP client (the service's one, `http` section): login hooks and actions */
  hookHttp?: HookHttpClient | undefined;
  /** time limits of login hook programs, for tests (default: upstream's 30 s and 60 s) */
  hookTimeouts?: { loginMs?: number; keyboardInteractiveMs?: number } | undefined;
}

export class ProviderCore implements DataProvider {
  readonly driver: string;
  readonly #store: ProviderStore;
  readonly #cfg: DataProviderConfig;
  readonly #kms: SecretEncrypter | undefined;
  readonly #files: CredentialsFiles | undefined;
  readonly #log: ProviderLogger | undefined;
  readonly #now: () => number;
  readonly #auth: Authenticator;
  readonly #quota: QuotaTracker;
  readonly #actions: ProviderActions;
  readonly #admins: AdminCache;
  readonly #userListeners = new Set<(username: string | undefined) => void>();
  #closed = false;

  constructor(d: ProviderCoreDeps) {
    this.driver = d.config.driver;
    this.#store = d.store;
    this.#cfg = d.config;
    this.#kms = d.kms;
    this.#files = d.credentialsFiles;
    this.#log = d.logger;
    this.#now = d.now ?? Date.now;
    this.#auth = new Authenticator({
      accounts: this,
      passwordCaching: d.config.password_caching,
      now: this.#now,
      hooks: new LoginHooks({
        config: d.config,
        http: d.hookHttp,
        logger: d.logger,
        sender: `dataprovider_${d.config.driver}`,
        timeoutMs: d.hookTimeouts?.loginMs,
      }),
      saveUser: (input, stored) => this.saveUserFromHook(input, stored),
      hookHttp: d.hookHttp,
      keyboardInteractiveTimeoutMs: d.hookTimeouts?.keyboardInteractiveMs,
    });
    this.#admins = new AdminCache({ load: (u) => this.#store.getAdmin(u), now: this.#now });
    this.#quota = new QuotaTracker({
      trackQuota: d.config.track_quota,
      delaySeconds: d.config.delayed_quota_update,
      store: d.store,
      now: this.#now,
      timers: d.quotaTimers,
      logger: d.logger,
    });
    this.#actions = new ProviderActions({
      config: d.config.actions,
      http: d.hookHttp,
      logger: d.logger,
      sender: `dataprovider_${d.config.driver}`,
    });
  }

  /** data-provider action `op` for `username`, in the background; add/update re-read the user */
  #notify(op: ProviderAction, username: string): void {
    this.#actions.notify(op, () => this.getUser(username));
  }

  onUserChanged(listener: (username: string | undefined) => void): () => void {
    this.#userListeners.add(listener);
    return () => this.#userListeners.delete(listener);
  }

  /** tells the listeners that a user (undefined: any user mapping a folder) may have changed */
  #userChanged(username: string | undefined): void {
    for (const l of this.#userListeners) l(username);
  }

  // ---------------------------------------------------------------- users

  getUsers(o?: ListOptions): Promise<User[]> {
    return listPage(
      o,
      (w) => this.#store.getUsers(w),
      (u) =>
        this.#needsCredentials(u)
          ? this.#withCredentials(u).then((c) => redactUser(this.#quota.user(c)))
          : redactUser(this.#quota.user(u)),
    );
  }

  async getUser(username: string): Promise<User> {
    return this.#quota.user(await this.#withCredentials(await this.#store.getUser(username)));
  }

  /**
   * The GCS credentials kept in files filled in: the user's own and its virtual folders'.
   * `strict` (dumps): an unreadable file is an error instead of missing credentials.
   */
  async #withCredentials(u: User, strict = false): Promise<User> {
    if (this.#files === undefined) return u;
    await this.#files.fill(u.filesystem, userOwner(u.username), strict);
    for (const vf of u.virtual_folders ?? []) {
      await this.#files.fill(vf.filesystem, folderOwner(vf.name), strict);
    }
    return u;
  }

  /** whether #withCredentials has a file to read for `u` (a GCS filesystem without secret) */
  #needsCredentials(u: User): boolean {
    const files = this.#files;
    if (files === undefined) return false;
    return (
      files.needsFill(u.filesystem) ||
      (u.virtual_folders ?? []).some((vf) => files.needsFill(vf.filesystem))
    );
  }

  async #folderWithCredentials(f: Folder, strict = false): Promise<Folder> {
    await this.#files?.fill(f.filesystem, folderOwner(f.name), strict);
    return f;
  }

  /**
   * Not yet validated input: an empty GCS secret is filled from the file, as upstream's
   * validation accepts a file in place of the secret (and the save then writes it back).
   */
  async #inputWithCredentials(input: unknown): Promise<void> {
    if (this.#files === undefined || !isRecord(input)) return;
    const name = input['username'];
    await this.#files.fill(input['filesystem'], userOwner(typeof name === 'string' ? name : ''));
    const vfs = input['virtual_folders'];
    for (const v of Array.isArray(vfs) ? (vfs as unknown[]) : []) {
      if (isRecord(v) && typeof v['name'] === 'string') {
        await this.#files.fill(v['filesystem'], folderOwner(v['name']));
      }
    }
  }

  /** runs a store write of `user`, keeping GCS credentials in files where configured */
  async #writeUser(
    p: { user: User; virtualFolders: ValidatedVirtualFolder[] },
    write: () => Promise<void>,
  ): Promise<void> {
    try {
      await this.#writeUserAndCredentials(p, write);
    } finally {
      // a saved virtual folder may be another user's too
      if (p.virtualFolders.some((vf) => vf.upsert)) this.#userChanged(undefined);
    }
  }

  #writeUserAndCredentials(
    p: { user: User; virtualFolders: ValidatedVirtualFolder[] },
    write: () => Promise<void>,
  ): Promise<void> {
    if (this.#files === undefined) return write();
    const items = [{ fs: p.user.filesystem, owner: userOwner(p.user.username) }];
    for (const vf of p.virtualFolders) {
      if (vf.upsert) items.push({ fs: vf.folder.filesystem, owner: folderOwner(vf.folder.name) });
    }
    return saveWithCredentials(this.#files, items, write);
  }

  /** validation, password hashing and secret encryption: everything before the write */
  async #prepareUser(
    input: unknown,
    stored?: User,
  ): Promise<{ user: User; virtualFolders: ValidatedVirtualFolder[] }> {
    const names = referencedFolderNames(input);
    const existing = new Map<string, Folder>();
    if (names.length > 0) {
      for (const f of await this.#store.findFolders(names)) {
        existing.set(f.name ?? '', await this.#folderWithCredentials(f));
      }
    }
    await this.#inputWithCredentials(input);
    const v = validateUser(input, {
      skipNaturalKeysValidation: this.#cfg.skip_natural_keys_validation,
      usersBaseDir: this.#cfg.users_base_dir,
      existingFolders: existing,
    });
    const user = v.user;
    if (user.password !== undefined) {
      user.password = await passwordToStore(
        user.password,
        stored?.password,
        userPasswordForStorage,
        this.#cfg.password_hashing,
      );
    }
    if (user.filesystem !== undefined)
      await encryptPlainSecrets(user.filesystem, this.#kms, user.username ?? '');
    for (const vf of v.virtualFolders) {
      if (vf.upsert && vf.folder.filesystem !== undefined) {
        await encryptPlainSecrets(
          vf.folder.filesystem,
          this.#kms,
          folderSecretAd(vf.folder.name ?? ''),
        );
      }
    }
    return { user, virtualFolders: v.virtualFolders };
  }

  async addUser(u: User): Promise<User> {
    const username = await this.#insertUser(u);
    this.#log?.debug({ sender: 'dataprovider', username }, 'user added');
    const added = await this.getUser(username);
    this.#notify('add', username);
    return added;
  }

  async updateUser(username: string, u: User, o: UpdateOptions = {}): Promise<User> {
    const stored = await this.getUser(username);
    await this.#replaceUser(stored, mergeUserUpdate(stored, u, o.mode));
    const updated = await this.getUser(username);
    this.#notify('update', username);
    return updated;
  }

  /**
   * The internal write of a user a login hook (external auth, pre-login) created (`stored`
   * undefined) or answered for an existing account: validated, hashed and encrypted as any save,
   * the answer replacing the stored user (its id, quota usage and last login excepted), but not
   * an API change: no data-provider actions, no disconnection of the user's sessions.
   */
  async saveUserFromHook(input: JsonObject, stored: User | undefined): Promise<void> {
    if (stored === undefined) await this.#insertUser(input);
    else await this.#replaceUser(stored, mergeUserUpdate(stored, input, 'restore'));
  }

  /** validates and inserts a new user; returns its name */
  async #insertUser(input: unknown): Promise<string> {
    const p = await this.#prepareUser(input);
    await this.#writeUser(p, () => this.#store.addUser(p.user, p.virtualFolders));
    return p.user.username ?? '';
  }

  /** validates and writes `merged` over the stored user (whose name it keeps) */
  async #replaceUser(stored: User, merged: JsonObject): Promise<void> {
    const username = stored.username ?? '';
    merged['username'] = username;
    const p = await this.#prepareUser(merged, stored);
    await this.#writeUser(p, () => this.#store.updateUser(username, p.user, p.virtualFolders));
    this.#auth.forgetUser(username);
    this.#userChanged(username);
  }

  async deleteUser(username: string): Promise<void> {
    // the delete action sends the user as it was (loaded only when the action is wanted)
    const before = this.#actions.wants('delete') ? await this.getUser(username) : undefined;
    await this.#store.deleteUser(username);
    await this.#files?.remove(userOwner(username));
    this.#quota.forget('user', username);
    this.#auth.forgetUser(username);
    this.#userChanged(username);
    if (before !== undefined) this.#actions.notify('delete', () => Promise.resolve(before));
  }

  async dumpUsers(): Promise<User[]> {
    const users: User[] = [];
    for (const u of await this.#store.getUsers()) {
      users.push(this.#quota.user(await this.#withCredentials(u, true)));
    }
    return users;
  }

  // ---------------------------------------------------------------- admins

  getAdmins(o?: ListOptions): Promise<Admin[]> {
    return listPage(o, (w) => this.#store.getAdmins(w), redactAdmin);
  }

  getAdmin(username: string): Promise<Admin> {
    return this.#store.getAdmin(username);
  }

  getAdminCached(username: string): Promise<Readonly<Admin>> {
    return this.#admins.get(username);
  }

  /** runs an admin write, then drops the cached admin (also when the write failed half-way) */
  async #writeAdmin<T>(username: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.#admins.forget(username);
    }
  }

  async #prepareAdmin(input: unknown, stored?: Admin): Promise<Admin> {
    const admin = validateAdmin(input, {
      skipNaturalKeysValidation: this.#cfg.skip_natural_keys_validation,
    });
    admin.password = await passwordToStore(
      admin.password ?? '',
      stored?.password,
      adminPasswordForStorage,
      this.#cfg.password_hashing,
    );
    return admin;
  }

  async addAdmin(a: Admin): Promise<Admin> {
    const admin = await this.#prepareAdmin(a);
    const username = admin.username ?? '';
    await this.#writeAdmin(username, () => this.#store.addAdmin(admin));
    return this.getAdmin(username);
  }

  async updateAdmin(username: string, a: Admin, o: UpdateOptions = {}): Promise<Admin> {
    const stored = await this.getAdmin(username);
    const merged = mergeAdminUpdate(stored, a, o.mode);
    merged['username'] = stored.username;
    const admin = await this.#prepareAdmin(merged, stored);
    await this.#writeAdmin(username, () => this.#store.updateAdmin(username, admin));
    return this.getAdmin(username);
  }

  deleteAdmin(username: string): Promise<void> {
    return this.#writeAdmin(username, () => this.#store.deleteAdmin(username));
  }

  dumpAdmins(): Promise<Admin[]> {
    return this.#store.getAdmins();
  }

  countAdmins(): Promise<number> {
    return this.#store.countAdmins();
  }

  // ---------------------------------------------------------------- folders

  getFolders(o?: ListOptions): Promise<Folder[]> {
    return listPage(
      o,
      (w) => this.#store.getFolders(w),
      async (f) => redactFolder(this.#quota.folder(await this.#folderWithCredentials(f))),
    );
  }

  async getFolder(name: string): Promise<Folder> {
    return this.#quota.folder(await this.#folderWithCredentials(await this.#store.getFolder(name)));
  }

  async #prepareFolder(input: unknown): Promise<Folder> {
    if (isRecord(input) && typeof input['name'] === 'string') {
      await this.#files?.fill(input['filesystem'], folderOwner(input['name']));
    }
    const v = validateFolder(input, {
      skipNaturalKeysValidation: this.#cfg.skip_natural_keys_validation,
    });
    await encryptPlainSecrets(v.filesystem, this.#kms, folderSecretAd(v.name));
    return folderFromValidated(v);
  }

  async addFolder(f: Folder): Promise<Folder> {
    const folder = await this.#prepareFolder(f);
    await this.#writeFolder(folder, () => this.#store.addFolder(folder));
    return this.getFolder(folder.name ?? '');
  }

  async updateFolder(name: string, f: Folder, o: UpdateOptions = {}): Promise<Folder> {
    const stored = await this.getFolder(name);
    const merged = mergeFolderUpdate(stored, f, o.mode);
    merged['name'] = stored.name;
    const folder = await this.#prepareFolder(merged);
    try {
      await this.#writeFolder(folder, () => this.#store.updateFolder(name, folder));
    } finally {
      this.#userChanged(undefined);
    }
    return this.getFolder(name);
  }

  #writeFolder(folder: Folder, write: () => Promise<void>): Promise<void> {
    if (this.#files === undefined) return write();
    return saveWithCredentials(
      this.#files,
      [{ fs: folder.filesystem, owner: folderOwner(folder.name) }],
      write,
    );
  }

  async deleteFolder(name: string): Promise<void> {
    await this.#store.deleteFolder(name);
    this.#userChanged(undefined);
    await this.#files?.remove(folderOwner(name));
    this.#quota.forget('folder', name);
  }

  async dumpFolders(): Promise<Folder[]> {
    const folders: Folder[] = [];
    for (const f of await this.#store.getFolders()) {
      folders.push(this.#quota.folder(await this.#folderWithCredentials(f, true)));
    }
    return folders;
  }

  // ---------------------------------------------------------------- authentication

  authenticateUser(attempt: LoginAttempt): Promise<User> {
    return this.#auth.authenticateUser(attempt);
  }

  checkUserPassword(username: string, password: string): Promise<User> {
    return this.#auth.checkUserPassword(username, password);
  }

  checkAdminPassword(username: string, password: string, ip?: string): Promise<Admin> {
    return this.#auth.checkAdminPassword(username, password, ip);
  }

  async setAdminPassword(username: string, newPassword: string): Promise<void> {
    if (typeof newPassword !== 'string' || newPassword === '')
      throw invalid('please set a password');
    const hash = await adminPasswordForStorage(newPassword, this.#cfg.password_hashing);
    await this.#writeAdmin(username, () => this.#store.setAdminPassword(username, hash));
  }

  async setUserPassword(username: string, newPassword: string): Promise<void> {
    if (typeof newPassword !== 'string') throw invalid('invalid password: expected a string');
    const hash =
      newPassword === ''
        ? ''
        : await userPasswordForStorage(newPassword, this.#cfg.password_hashing);
    await this.#store.updateUserCredentials(username, (stored) => {
      requirePasswordOrPublicKey(hash, stored.public_keys);
      return { password: hash };
    });
    this.#auth.forgetUser(username);
    this.#userChanged(username);
    this.#notify('update', username);
  }

  async setUserPublicKeys(username: string, keys: string[]): Promise<void> {
    const valid = validatePublicKeys(keys);
    await this.#store.updateUserCredentials(username, (stored) => {
      requirePasswordOrPublicKey(stored.password, valid);
      return { public_keys: valid };
    });
    this.#userChanged(username);
    this.#notify('update', username);
  }

  async updateLastLogin(username: string): Promise<void> {
    const now = this.#now();
    // a stored value in the future (clock moved back) is overwritten too
    await this.#store.setLastLogin(username, now, {
      from: now - LAST_LOGIN_MIN_DELAY_MS,
      to: now,
    });
  }

  // ---------------------------------------------------------------- quota

  updateUserQuota(
    username: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void> {
    return this.#quota.update('user', username, sizeDelta, filesDelta, reset);
  }

  updateFolderQuota(
    name: string,
    sizeDelta: number,
    filesDelta: number,
    reset: boolean,
  ): Promise<void> {
    return this.#quota.update('folder', name, sizeDelta, filesDelta, reset);
  }

  getUserUsedQuota(username: string): Promise<QuotaUsage> {
    return this.#quota.usage('user', username);
  }

  getFolderUsedQuota(name: string): Promise<QuotaUsage> {
    return this.#quota.usage('folder', name);
  }

  // ---------------------------------------------------------------- maintenance

  async dump(): Promise<{ users: User[]; folders: Folder[]; admins: Admin[]; version: number }> {
    const users = await this.dumpUsers();
    const folders = await this.dumpFolders();
    const admins = await this.dumpAdmins();
    return { users, folders, admins, version: DUMP_VERSION };
  }

  async checkAvailability(): Promise<void> {
    try {
      await this.#store.ping();
    } catch (e) {
      if (SftpgoError.is(e, 'BACKEND_UNAVAILABLE')) throw e;
      throw new SftpgoError(
        'BACKEND_UNAVAILABLE',
        `data provider unavailable: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  async clearAll(): Promise<void> {
    if (this.driver !== 'memory') {
      throw new SftpgoError('INVALID_INPUT', `the ${this.driver} data provider cannot be cleared`);
    }
    // pending delayed quota deltas belong to the objects being removed
    await this.#quota.flush();
    await this.#store.clearAll();
    this.#auth.clear();
    this.#admins.clear();
    this.#userChanged(undefined);
  }

  /** writes the pending delayed quota deltas, then closes the store */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#actions.close();
      await this.#quota.close();
    }
    await this.#store.close();
    this.#auth.clear();
    this.#admins.clear();
  }
}
