/**
 * The TypeORM implementation of the DataProvider port, one class for sqlite (better-sqlite3),
 * postgresql (pg) and mysql (mysql2). SQL that differs per dialect lives in the migrations;
 * queries here go through repositories and query builders, so they are dialect-neutral.
 *
 * SQLite: better-sqlite3 gives TypeORM one shared connection and query runner, so every operation
 * of a provider is serialized through a per-instance mutex (a transaction interleaved with another
 * statement would otherwise absorb it). PostgreSQL/MySQL use the driver's pool.
 */
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { ApiVirtualFolder } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import type { DataProviderConfig } from './config.js';
import { mapDbError } from './db-errors.js';
import type { AdminRow, Entities, FolderRow, MappingRow, UserRow } from './entities.js';
import { mergeAdminUpdate, mergeFolderUpdate, mergeUserUpdate } from './merge.js';
import type { Dialect } from './migrations.js';
import { Authenticator } from './auth.js';
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
import { QuotaTracker, type QuotaCounters, type QuotaKind, type QuotaWrite } from './quota.js';
import type { QuotaTimers } from './quota-updater.js';
import { redactAdmin, redactFolder, redactUser } from './redact.js';
import { encryptPlainSecrets, type SecretEncrypter } from './secrets.js';
import { validateAdmin } from './validation/admin.js';
import { invalid, isRecord, q } from './validation/common.js';
import { validateFolder, folderFromValidated } from './validation/folder.js';
import {
  validatePublicKeys,
  validateUser,
  type ValidatedVirtualFolder,
} from './validation/user.js';

/** SFTPGo's dump format version at v2.1.2 */
export const DUMP_VERSION = 8;
/** last_login is written at most this often (upstream lastLoginMinDelay) */
export const LAST_LOGIN_MIN_DELAY_MS = 10 * 60 * 1000;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.#tail.then(fn, fn);
    this.#tail = r.then(
      () => undefined,
      () => undefined,
    );
    return r;
  }
}

function parseJson<T>(s: string | null, fallback: T): T {
  if (s === null || s === '') return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    // upstream reads optional JSON columns leniently: a corrupt value reads as empty
    return fallback;
  }
}

function listWindow(o: ListOptions = {}): { take: number; skip: number; order: 'ASC' | 'DESC' } {
  const limit = o.limit ?? DEFAULT_LIMIT;
  const offset = o.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid('invalid limit');
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('invalid offset');
  const order = o.order ?? 'ASC';
  if (order !== 'ASC' && order !== 'DESC') throw invalid('invalid order');
  return { take: Math.min(limit, MAX_LIMIT), skip: offset, order };
}

/** IN (...) lists are split so that no query exceeds the drivers' parameter limits */
const IN_CHUNK = 500;

async function findInChunks<T>(
  ids: number[],
  fetch: (chunk: number[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IN_CHUNK)
    out.push(...(await fetch(ids.slice(i, i + IN_CHUNK))));
  return out;
}

function userFromRow(row: UserRow, virtualFolders: ApiVirtualFolder[]): User {
  const u: User = {
    id: row.id,
    status: row.status as 0 | 1,
    username: row.username,
    expiration_date: row.expiration_date,
    public_keys: parseJson<string[]>(row.public_keys, []),
    home_dir: row.home_dir,
    virtual_folders: virtualFolders,
    uid: row.uid,
    gid: row.gid,
    max_sessions: row.max_sessions,
    quota_size: row.quota_size,
    quota_files: row.quota_files,
    permissions: parseJson<User['permissions']>(row.permissions, {} as User['permissions']),
    used_quota_size: row.used_quota_size,
    used_quota_files: row.used_quota_files,
    last_quota_update: row.last_quota_update,
    upload_bandwidth: row.upload_bandwidth,
    download_bandwidth: row.download_bandwidth,
    last_login: row.last_login,
    filters: parseJson<NonNullable<User['filters']>>(row.filters, {}),
    filesystem: parseJson<NonNullable<User['filesystem']>>(row.filesystem, { provider: 0 }),
  };
  if (row.password !== null && row.password !== '') u.password = row.password;
  if (row.description !== null && row.description !== '') u.description = row.description;
  if (row.additional_info !== null && row.additional_info !== '')
    u.additional_info = row.additional_info;
  return u;
}

function folderFromRow(row: FolderRow, users?: string[]): Folder {
  const f: Folder = {
    id: row.id,
    name: row.name,
    mapped_path: row.path ?? '',
    used_quota_size: row.used_quota_size,
    used_quota_files: row.used_quota_files,
    last_quota_update: row.last_quota_update,
    filesystem: parseJson<NonNullable<Folder['filesystem']>>(row.filesystem, { provider: 0 }),
  };
  if (row.description !== null && row.description !== '') f.description = row.description;
  if (users !== undefined && users.length > 0) f.users = users;
  return f;
}

function adminFromRow(row: AdminRow): Admin {
  const a: Admin = {
    id: row.id,
    status: row.status as 0 | 1,
    username: row.username,
    password: row.password,
    email: row.email ?? '',
    permissions: parseJson<NonNullable<Admin['permissions']>>(row.permissions, []),
    filters: parseJson<NonNullable<Admin['filters']>>(row.filters, {}),
  };
  if (row.description !== null && row.description !== '') a.description = row.description;
  if (row.additional_info !== null && row.additional_info !== '')
    a.additional_info = row.additional_info;
  return a;
}

function userRowValues(
  u: User,
  password: string | null,
): Omit<
  UserRow,
  'id' | 'used_quota_size' | 'used_quota_files' | 'last_quota_update' | 'last_login'
> {
  return {
    username: u.username ?? '',
    description: u.description ?? null,
    password,
    public_keys: JSON.stringify(u.public_keys ?? []),
    home_dir: u.home_dir ?? '',
    uid: u.uid ?? 0,
    gid: u.gid ?? 0,
    max_sessions: u.max_sessions ?? 0,
    quota_size: u.quota_size ?? 0,
    quota_files: u.quota_files ?? 0,
    permissions: JSON.stringify(u.permissions ?? {}),
    upload_bandwidth: u.upload_bandwidth ?? 0,
    download_bandwidth: u.download_bandwidth ?? 0,
    expiration_date: u.expiration_date ?? 0,
    status: u.status ?? 0,
    filters: JSON.stringify(u.filters ?? {}),
    filesystem: JSON.stringify(u.filesystem ?? { provider: 0 }),
    additional_info: u.additional_info ?? null,
  };
}

function folderRowValues(f: Folder): Pick<FolderRow, 'path' | 'description' | 'filesystem'> {
  return {
    path: f.mapped_path ?? '',
    description: f.description ?? null,
    filesystem: JSON.stringify(f.filesystem ?? { provider: 0 }),
  };
}

function adminRowValues(a: Admin, password: string): Omit<AdminRow, 'id'> {
  return {
    username: a.username ?? '',
    description: a.description ?? null,
    password,
    email: a.email === undefined || a.email === '' ? null : a.email,
    status: a.status ?? 0,
    permissions: JSON.stringify(a.permissions ?? []),
    filters: JSON.stringify(a.filters ?? {}),
    additional_info: a.additional_info ?? null,
  };
}

/** names of the virtual folders mentioned in a (not yet validated) user body */
function referencedFolderNames(input: unknown): string[] {
  if (!isRecord(input) || !Array.isArray(input['virtual_folders'])) return [];
  const names = new Set<string>();
  for (const v of input['virtual_folders'] as unknown[]) {
    if (isRecord(v) && typeof v['name'] === 'string' && v['name'] !== '') names.add(v['name']);
  }
  return [...names];
}

export interface TypeormProviderDeps {
  dataSource: DataSource;
  entities: Entities;
  dialect: Dialect;
  config: DataProviderConfig;
  kms?: SecretEncrypter | undefined;
  logger?: ProviderLogger | undefined;
  /** clock in ms, for tests */
  now?: () => number;
  /** timers of the delayed quota update loop, for tests */
  quotaTimers?: QuotaTimers | undefined;
}

interface PreparedUser {
  user: User;
  password: string | null;
  virtualFolders: ValidatedVirtualFolder[];
}

export class TypeormProvider implements DataProvider {
  readonly driver: string;
  readonly #ds: DataSource;
  readonly #e: Entities;
  readonly #dialect: Dialect;
  readonly #cfg: DataProviderConfig;
  readonly #kms: SecretEncrypter | undefined;
  readonly #log: ProviderLogger | undefined;
  readonly #now: () => number;
  readonly #mutex = new Mutex();
  readonly #auth: Authenticator;
  readonly #quota: QuotaTracker;

  constructor(d: TypeormProviderDeps) {
    this.driver = d.config.driver;
    this.#ds = d.dataSource;
    this.#e = d.entities;
    this.#dialect = d.dialect;
    this.#cfg = d.config;
    this.#kms = d.kms;
    this.#log = d.logger;
    this.#now = d.now ?? Date.now;
    this.#auth = new Authenticator({
      accounts: this,
      passwordCaching: d.config.password_caching,
      now: this.#now,
    });
    this.#quota = new QuotaTracker({
      trackQuota: d.config.track_quota,
      delaySeconds: d.config.delayed_quota_update,
      store: {
        writeQuota: (kind, name, w) => this.#writeQuota(kind, name, w),
        readQuota: (kind, name) => this.#readQuota(kind, name),
      },
      now: this.#now,
      timers: d.quotaTimers,
      logger: d.logger,
    });
  }

  // ---------------------------------------------------------------- plumbing

  async #run<T>(what: string, fn: (m: EntityManager) => Promise<T>, tx = false): Promise<T> {
    const exec = async (): Promise<T> => {
      if (!this.#ds.isInitialized) {
        throw new SftpgoError('BACKEND_UNAVAILABLE', 'data provider is closed');
      }
      try {
        return tx ? await this.#ds.transaction((m) => fn(m)) : await fn(this.#ds.manager);
      } catch (e) {
        throw mapDbError(e, what);
      }
    };
    return this.#dialect === 'sqlite' ? this.#mutex.run(exec) : exec();
  }

  #users(m: EntityManager) {
    return m.getRepository(this.#e.users);
  }
  #admins(m: EntityManager) {
    return m.getRepository(this.#e.admins);
  }
  #folders(m: EntityManager) {
    return m.getRepository(this.#e.folders);
  }
  #mapping(m: EntityManager) {
    return m.getRepository(this.#e.mapping);
  }

  async #virtualFoldersOf(
    m: EntityManager,
    userIds: number[],
  ): Promise<Map<number, ApiVirtualFolder[]>> {
    const out = new Map<number, ApiVirtualFolder[]>();
    if (userIds.length === 0) return out;
    const maps: MappingRow[] = await findInChunks(userIds, (ids) =>
      this.#mapping(m).find({ where: { user_id: In(ids) }, order: { id: 'ASC' } }),
    );
    if (maps.length === 0) return out;
    const folders = await findInChunks([...new Set(maps.map((x) => x.folder_id))], (ids) =>
      this.#folders(m).find({ where: { id: In(ids) } }),
    );
    const byId = new Map(folders.map((f) => [f.id, f]));
    for (const mp of maps) {
      const row = byId.get(mp.folder_id);
      if (row === undefined) continue;
      const list = out.get(mp.user_id) ?? [];
      list.push({
        ...folderFromRow(row),
        virtual_path: mp.virtual_path,
        quota_size: mp.quota_size,
        quota_files: mp.quota_files,
      });
      out.set(mp.user_id, list);
    }
    return out;
  }

  async #usersOfFolders(m: EntityManager, folderIds: number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (folderIds.length === 0) return out;
    const maps = await findInChunks(folderIds, (ids) =>
      this.#mapping(m).find({ where: { folder_id: In(ids) } }),
    );
    if (maps.length === 0) return out;
    const users = await findInChunks([...new Set(maps.map((x) => x.user_id))], (ids) =>
      this.#users(m).find({ select: { id: true, username: true }, where: { id: In(ids) } }),
    );
    const names = new Map(users.map((u) => [u.id, u.username]));
    for (const mp of maps) {
      const n = names.get(mp.user_id);
      if (n === undefined) continue;
      const list = out.get(mp.folder_id) ?? [];
      list.push(n);
      out.set(mp.folder_id, list);
    }
    for (const list of out.values()) list.sort();
    return out;
  }

  async #usersFromRows(m: EntityManager, rows: UserRow[]): Promise<User[]> {
    const vf = await this.#virtualFoldersOf(
      m,
      rows.map((r) => r.id),
    );
    return rows.map((r) => this.#quota.user(userFromRow(r, vf.get(r.id) ?? [])));
  }

  async #foldersFromRows(m: EntityManager, rows: FolderRow[]): Promise<Folder[]> {
    const users = await this.#usersOfFolders(
      m,
      rows.map((r) => r.id),
    );
    return rows.map((r) => this.#quota.folder(folderFromRow(r, users.get(r.id) ?? [])));
  }

  async #getUserIn(m: EntityManager, username: string): Promise<User> {
    const row = await this.#users(m).findOne({ where: { username } });
    if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
    const [u] = await this.#usersFromRows(m, [row]);
    if (u === undefined) throw new SftpgoError('INTERNAL', 'unable to load the user');
    return u;
  }

  async #getFolderIn(m: EntityManager, name: string): Promise<Folder> {
    const row = await this.#folders(m).findOne({ where: { name } });
    if (row === null) throw new SftpgoError('NOT_FOUND', `folder ${q(name)} does not exist`);
    const [f] = await this.#foldersFromRows(m, [row]);
    if (f === undefined) throw new SftpgoError('INTERNAL', 'unable to load the folder');
    return f;
  }

  async #getAdminIn(m: EntityManager, username: string): Promise<Admin> {
    const row = await this.#admins(m).findOne({ where: { username } });
    if (row === null) throw new SftpgoError('NOT_FOUND', `admin ${q(username)} does not exist`);
    return adminFromRow(row);
  }

  /** validation, password hashing and secret encryption: everything before the write */
  async #prepareUser(input: unknown, stored?: User): Promise<PreparedUser> {
    const names = referencedFolderNames(input);
    const existing = new Map<string, Folder>();
    if (names.length > 0) {
      const rows = await this.#run('get folders', (m) =>
        this.#folders(m).find({ where: { name: In(names) } }),
      );
      for (const r of rows) existing.set(r.name, folderFromRow(r));
    }
    const v = validateUser(input, {
      skipNaturalKeysValidation: this.#cfg.skip_natural_keys_validation,
      usersBaseDir: this.#cfg.users_base_dir,
      existingFolders: existing,
    });
    const user = v.user;
    let password: string | null = user.password ?? null;
    if (password !== null && !(stored !== undefined && stored.password === password)) {
      password = await userPasswordForStorage(password, this.#cfg.password_hashing);
    }
    if (user.filesystem !== undefined)
      await encryptPlainSecrets(user.filesystem, this.#kms, user.username ?? '');
    for (const vf of v.virtualFolders) {
      if (vf.upsert && vf.folder.filesystem !== undefined) {
        await encryptPlainSecrets(vf.folder.filesystem, this.#kms, vf.folder.name ?? '');
      }
    }
    return { user, password, virtualFolders: v.virtualFolders };
  }

  /** inserts or updates a folder by name; returns its id */
  async #upsertFolder(m: EntityManager, f: Folder): Promise<number> {
    const repo = this.#folders(m);
    const name = f.name ?? '';
    const existing = await repo.findOne({ where: { name } });
    if (existing !== null) {
      await repo.update({ id: existing.id }, folderRowValues(f));
      return existing.id;
    }
    const r = await repo.insert({
      name,
      ...folderRowValues(f),
      used_quota_size: 0,
      used_quota_files: 0,
      last_quota_update: 0,
    });
    return this.#insertedId(r.identifiers, repo, { name });
  }

  async #insertedId(
    identifiers: Record<string, unknown>[],
    repo: { findOne(o: { where: Record<string, string> }): Promise<{ id: number } | null> },
    where: Record<string, string>,
  ): Promise<number> {
    const id = identifiers[0]?.['id'];
    if (typeof id === 'number') return id;
    if (typeof id === 'string' && id !== '') return Number(id);
    const row = await repo.findOne({ where });
    if (row === null) throw new SftpgoError('INTERNAL', 'inserted row not found');
    return row.id;
  }

  async #writeMappings(
    m: EntityManager,
    userId: number,
    vfs: ValidatedVirtualFolder[],
  ): Promise<void> {
    await this.#mapping(m).delete({ user_id: userId });
    for (const vf of vfs) {
      let folderId = vf.folder.id ?? 0;
      if (vf.upsert || folderId === 0) folderId = await this.#upsertFolder(m, vf.folder);
      await this.#mapping(m).insert({
        user_id: userId,
        folder_id: folderId,
        virtual_path: vf.virtual_path,
        quota_size: vf.quota_size,
        quota_files: vf.quota_files,
      });
    }
  }

  // ---------------------------------------------------------------- users

  async getUsers(o?: ListOptions): Promise<User[]> {
    const w = listWindow(o);
    if (w.take === 0) return [];
    const users = await this.#run('get users', async (m) => {
      const rows = await this.#users(m).find({
        order: { username: w.order },
        skip: w.skip,
        take: w.take,
      });
      return this.#usersFromRows(m, rows);
    });
    return users.map(redactUser);
  }

  async getUser(username: string): Promise<User> {
    return this.#run('get user', (m) => this.#getUserIn(m, username));
  }

  async addUser(u: User): Promise<User> {
    const p = await this.#prepareUser(u);
    const username = p.user.username ?? '';
    await this.#run(
      `add user ${q(username)}`,
      async (m) => {
        if ((await this.#users(m).count({ where: { username } })) > 0) {
          throw new SftpgoError('ALREADY_EXISTS', `user ${q(username)} already exists`);
        }
        const r = await this.#users(m).insert({
          ...userRowValues(p.user, p.password),
          used_quota_size: 0,
          used_quota_files: 0,
          last_quota_update: 0,
          last_login: 0,
        });
        const id = await this.#insertedId(r.identifiers, this.#users(m), { username });
        await this.#writeMappings(m, id, p.virtualFolders);
      },
      true,
    );
    this.#log?.debug({ sender: 'dataprovider', username }, 'user added');
    return this.getUser(username);
  }

  async updateUser(username: string, u: User, o: UpdateOptions = {}): Promise<User> {
    const stored = await this.getUser(username);
    const merged = mergeUserUpdate(stored, u, o.mode);
    merged['username'] = stored.username;
    const p = await this.#prepareUser(merged, stored);
    await this.#run(
      `update user ${q(username)}`,
      async (m) => {
        const row = await this.#users(m).findOne({ where: { username }, select: { id: true } });
        if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
        await this.#users(m).update({ id: row.id }, userRowValues(p.user, p.password));
        await this.#writeMappings(m, row.id, p.virtualFolders);
      },
      true,
    );
    this.#auth.forgetUser(username);
    return this.getUser(username);
  }

  async deleteUser(username: string): Promise<void> {
    await this.#run(
      `delete user ${q(username)}`,
      async (m) => {
        const row = await this.#users(m).findOne({ where: { username }, select: { id: true } });
        if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
        await this.#mapping(m).delete({ user_id: row.id });
        await this.#users(m).delete({ id: row.id });
      },
      true,
    );
    this.#quota.forget('user', username);
    this.#auth.forgetUser(username);
  }

  async dumpUsers(): Promise<User[]> {
    return this.#run('dump users', async (m) => {
      const rows = await this.#users(m).find({ order: { username: 'ASC' } });
      return this.#usersFromRows(m, rows);
    });
  }

  // ---------------------------------------------------------------- admins

  async getAdmins(o?: ListOptions): Promise<Admin[]> {
    const w = listWindow(o);
    if (w.take === 0) return [];
    const rows = await this.#run('get admins', (m) =>
      this.#admins(m).find({ order: { username: w.order }, skip: w.skip, take: w.take }),
    );
    return rows.map((r) => redactAdmin(adminFromRow(r)));
  }

  async getAdmin(username: string): Promise<Admin> {
    return this.#run('get admin', (m) => this.#getAdminIn(m, username));
  }

  async #prepareAdmin(input: unknown, stored?: Admin): Promise<{ admin: Admin; password: string }> {
    const admin = validateAdmin(input, {
      skipNaturalKeysValidation: this.#cfg.skip_natural_keys_validation,
    });
    let password = admin.password ?? '';
    if (!(stored !== undefined && stored.password === password)) {
      password = await adminPasswordForStorage(password, this.#cfg.password_hashing);
    }
    return { admin, password };
  }

  async addAdmin(a: Admin): Promise<Admin> {
    const p = await this.#prepareAdmin(a);
    const username = p.admin.username ?? '';
    await this.#run(`add admin ${q(username)}`, async (m) => {
      if ((await this.#admins(m).count({ where: { username } })) > 0) {
        throw new SftpgoError('ALREADY_EXISTS', `admin ${q(username)} already exists`);
      }
      await this.#admins(m).insert(adminRowValues(p.admin, p.password));
    });
    return this.getAdmin(username);
  }

  async updateAdmin(username: string, a: Admin, o: UpdateOptions = {}): Promise<Admin> {
    const stored = await this.getAdmin(username);
    const merged = mergeAdminUpdate(stored, a, o.mode);
    merged['username'] = stored.username;
    const p = await this.#prepareAdmin(merged, stored);
    await this.#run(`update admin ${q(username)}`, async (m) => {
      const r = await this.#admins(m).update({ username }, adminRowValues(p.admin, p.password));
      if (r.affected === 0)
        throw new SftpgoError('NOT_FOUND', `admin ${q(username)} does not exist`);
    });
    return this.getAdmin(username);
  }

  async deleteAdmin(username: string): Promise<void> {
    await this.#run(`delete admin ${q(username)}`, async (m) => {
      const r = await this.#admins(m).delete({ username });
      if (r.affected === 0)
        throw new SftpgoError('NOT_FOUND', `admin ${q(username)} does not exist`);
    });
  }

  async dumpAdmins(): Promise<Admin[]> {
    const rows = await this.#run('dump admins', (m) =>
      this.#admins(m).find({ order: { username: 'ASC' } }),
    );
    return rows.map(adminFromRow);
  }

  async countAdmins(): Promise<number> {
    return this.#run('count admins', (m) => this.#admins(m).count());
  }

  // ---------------------------------------------------------------- folders

  async getFolders(o?: ListOptions): Promise<Folder[]> {
    const w = listWindow(o);
    if (w.take === 0) return [];
    const folders = await this.#run('get folders', async (m) => {
      const rows = await this.#folders(m).find({
        order: { name: w.order },
        skip: w.skip,
        take: w.take,
      });
      return this.#foldersFromRows(m, rows);
    });
    return folders.map(redactFolder);
  }

  async getFolder(name: string): Promise<Folder> {
    return this.#run('get folder', (m) => this.#getFolderIn(m, name));
  }

  async #prepareFolder(input: unknown): Promise<Folder> {
    const v = validateFolder(input, {
      skipNaturalKeysValidation: this.#cfg.skip_natural_keys_validation,
    });
    await encryptPlainSecrets(v.filesystem, this.#kms, v.name);
    return folderFromValidated(v);
  }

  async addFolder(f: Folder): Promise<Folder> {
    const folder = await this.#prepareFolder(f);
    const name = folder.name ?? '';
    await this.#run(`add folder ${q(name)}`, async (m) => {
      if ((await this.#folders(m).count({ where: { name } })) > 0) {
        throw new SftpgoError('ALREADY_EXISTS', `folder ${q(name)} already exists`);
      }
      await this.#folders(m).insert({
        name,
        ...folderRowValues(folder),
        used_quota_size: 0,
        used_quota_files: 0,
        last_quota_update: 0,
      });
    });
    return this.getFolder(name);
  }

  async updateFolder(name: string, f: Folder, o: UpdateOptions = {}): Promise<Folder> {
    const stored = await this.getFolder(name);
    const merged = mergeFolderUpdate(stored, f, o.mode);
    merged['name'] = stored.name;
    const folder = await this.#prepareFolder(merged);
    await this.#run(`update folder ${q(name)}`, async (m) => {
      const r = await this.#folders(m).update({ name }, folderRowValues(folder));
      if (r.affected === 0) throw new SftpgoError('NOT_FOUND', `folder ${q(name)} does not exist`);
    });
    return this.getFolder(name);
  }

  async deleteFolder(name: string): Promise<void> {
    await this.#run(
      `delete folder ${q(name)}`,
      async (m) => {
        const row = await this.#folders(m).findOne({ where: { name }, select: { id: true } });
        if (row === null) throw new SftpgoError('NOT_FOUND', `folder ${q(name)} does not exist`);
        await this.#mapping(m).delete({ folder_id: row.id });
        await this.#folders(m).delete({ id: row.id });
      },
      true,
    );
    this.#quota.forget('folder', name);
  }

  async dumpFolders(): Promise<Folder[]> {
    return this.#run('dump folders', async (m) => {
      const rows = await this.#folders(m).find({ order: { name: 'ASC' } });
      return this.#foldersFromRows(m, rows);
    });
  }

  // ---------------------------------------------------------------- authentication

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
    await this.#run(`set admin password ${q(username)}`, async (m) => {
      const r = await this.#admins(m).update({ username }, { password: hash });
      if (r.affected === 0)
        throw new SftpgoError('NOT_FOUND', `admin ${q(username)} does not exist`);
    });
  }

  async setUserPassword(username: string, newPassword: string): Promise<void> {
    if (typeof newPassword !== 'string') throw invalid('invalid password: expected a string');
    const hash =
      newPassword === ''
        ? null
        : await userPasswordForStorage(newPassword, this.#cfg.password_hashing);
    await this.#run(
      `set user password ${q(username)}`,
      async (m) => {
        const row = await this.#users(m).findOne({ where: { username } });
        if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
        if (hash === null && parseJson<string[]>(row.public_keys, []).length === 0) {
          throw invalid('please set a password or at least a public_key');
        }
        await this.#users(m).update({ id: row.id }, { password: hash });
      },
      true,
    );
    this.#auth.forgetUser(username);
  }

  async setUserPublicKeys(username: string, keys: string[]): Promise<void> {
    const valid = validatePublicKeys(keys);
    await this.#run(
      `set public keys ${q(username)}`,
      async (m) => {
        const row = await this.#users(m).findOne({ where: { username } });
        if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
        if (valid.length === 0 && (row.password ?? '') === '') {
          throw invalid('please set a password or at least a public_key');
        }
        await this.#users(m).update({ id: row.id }, { public_keys: JSON.stringify(valid) });
      },
      true,
    );
  }

  async updateLastLogin(username: string): Promise<void> {
    const now = this.#now();
    await this.#run('update last login', (m) =>
      m
        .createQueryBuilder()
        .update(this.#e.users)
        .set({ last_login: now })
        .where('username = :username', { username })
        .andWhere('(last_login < :threshold OR last_login > :now)', {
          threshold: now - LAST_LOGIN_MIN_DELAY_MS,
          now,
        })
        .execute(),
    );
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

  /** one UPDATE of a user's or folder's counters: set (reset) or atomic `+ delta` */
  async #writeQuota(kind: QuotaKind, name: string, w: QuotaWrite): Promise<void> {
    const key = kind === 'user' ? 'username' : 'name';
    await this.#run(`update quota for ${kind} ${q(name)}`, async (m) => {
      const qb = m.createQueryBuilder().update(kind === 'user' ? this.#e.users : this.#e.folders);
      const set = w.reset
        ? qb.set({
            used_quota_size: w.sizeDelta,
            used_quota_files: w.filesDelta,
            last_quota_update: w.at,
          })
        : qb
            .set({
              used_quota_size: () => 'used_quota_size + :sizeDelta',
              used_quota_files: () => 'used_quota_files + :filesDelta',
              last_quota_update: w.at,
            })
            .setParameters({ sizeDelta: w.sizeDelta, filesDelta: w.filesDelta });
      let where = set.where(`${key} = :name`, { name });
      if (kind === 'user' && w.onlyIfRestricted)
        where = where.andWhere('(quota_size > 0 OR quota_files > 0)');
      const r = await where.execute();
      if (r.affected !== 0) return;
      const exists =
        kind === 'user'
          ? await this.#users(m).count({ where: { username: name } })
          : await this.#folders(m).count({ where: { name } });
      if (exists === 0) throw new SftpgoError('NOT_FOUND', `${kind} ${q(name)} does not exist`);
    });
  }

  async #readQuota(kind: QuotaKind, name: string): Promise<QuotaCounters> {
    const row =
      kind === 'user'
        ? await this.#run('get user quota', (m) =>
            this.#users(m).findOne({
              where: { username: name },
              select: {
                id: true,
                used_quota_size: true,
                used_quota_files: true,
                quota_size: true,
                quota_files: true,
              },
            }),
          )
        : await this.#run('get folder quota', (m) =>
            this.#folders(m).findOne({
              where: { name },
              select: { id: true, used_quota_size: true, used_quota_files: true },
            }),
          );
    if (row === null) throw new SftpgoError('NOT_FOUND', `${kind} ${q(name)} does not exist`);
    return row;
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
      await this.#run('availability check', (m) => m.query('SELECT 1'));
    } catch (e) {
      if (SftpgoError.is(e, 'BACKEND_UNAVAILABLE')) throw e;
      throw new SftpgoError(
        'BACKEND_UNAVAILABLE',
        `data provider unavailable: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  async close(): Promise<void> {
    if (this.#ds.isInitialized) await this.#quota.close();
    const destroy = async (): Promise<void> => {
      if (this.#ds.isInitialized) await this.#ds.destroy();
    };
    await (this.#dialect === 'sqlite' ? this.#mutex.run(destroy) : destroy());
    this.#auth.clear();
  }
}
