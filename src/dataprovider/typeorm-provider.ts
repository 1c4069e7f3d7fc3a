/**
 * The TypeORM store (store.ts) under the data provider, one class for sqlite (better-sqlite3),
 * postgresql (pg) and mysql (mysql2): SQL only, the rules are in core.ts. SQL that differs per
 * dialect lives in the migrations; queries here go through repositories and query builders, so
 * they are dialect-neutral.
 *
 * SQLite: better-sqlite3 gives TypeORM one shared connection and query runner, so every operation
 * of a store is serialized through a per-instance mutex (a transaction interleaved with another
 * statement would otherwise absorb it). PostgreSQL/MySQL use the driver's pool.
 */
import { In, type DataSource, type EntityManager, type FindManyOptions } from 'typeorm';
import type { ApiVirtualFolder } from '../api/index.js';
import { SftpgoError } from '../errors/index.js';
import { mapDbError } from './db-errors.js';
import type { AdminRow, Entities, FolderRow, UserRow } from './entities.js';
import type { Dialect } from './migrations.js';
import type { Admin, Folder, User } from './provider.js';
import type { QuotaCounters, QuotaKind, QuotaWrite } from './quota.js';
import type { ListWindow, ProviderStore, UserCredentials } from './store.js';
import { q } from './validation/common.js';
import type { ValidatedVirtualFolder } from './validation/user.js';

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

/**
 * The hand-written SELECTs of the hot reads (a user, a page of users and their virtual folders):
 * TypeORM's find() builds the SQL again on every call and hydrates entities column by column,
 * which cost more CPU than the database itself (issue 16's profile). Built once per store from
 * the entity metadata, so table prefixes and column names stay those of entities.ts. In joins
 * the mapping's columns come back as `m_<column>` and the folder's as `f_<column>`.
 */
interface ReadSql {
  /** `SELECT <every users column> FROM users u` */
  users: string;
  /** one user (`= ?` appended) with its mappings and their folders, one row per mapping */
  userWithFolders: string;
  /**
   * the mappings of some users joined with their folders; append `IN (...)` and the order.
   * PostgreSQL: the whole statement, the user ids one array parameter (one prepared statement
   * for any page), joined with unnest(): `= ANY($1)` in a generic plan compared every mapping
   * row with every id of the array, 15 % of the database's CPU on a page (perf, issue 16).
   */
  mappedFolders: string;
  /** the folders' column names */
  folderColumns: readonly string[];
  /** numeric columns: pg and mysql return BIGINT as strings */
  numeric: ReadonlySet<string>;
}

/**
 * Rows of a hand-written SELECT: each row the values in the order of the SELECT's columns, and
 * the position of each column by name (the name as the database returns it: `m_`/`f_` aliases
 * in joins). Arrays, because building an object per row cost more than what is read from it.
 */
interface Rows {
  index: ReadonlyMap<string, number>;
  values: unknown[][];
}

const USER_COLUMNS = [
  'id',
  'username',
  'description',
  'password',
  'public_keys',
  'home_dir',
  'uid',
  'gid',
  'max_sessions',
  'quota_size',
  'quota_files',
  'permissions',
  'used_quota_size',
  'used_quota_files',
  'last_quota_update',
  'upload_bandwidth',
  'download_bandwidth',
  'expiration_date',
  'last_login',
  'status',
  'filters',
  'filesystem',
  'additional_info',
] as const satisfies readonly (keyof UserRow)[];

/** the positions of `names` (with `prefix`) in `rows`; INTERNAL when the SELECT lacks one */
function positions<K extends string>(
  rows: Rows,
  names: readonly K[],
  prefix = '',
): Readonly<Record<K, number>> {
  const out = {} as Record<K, number>;
  for (const n of names) {
    const i = rows.index.get(`${prefix}${n}`);
    if (i === undefined) throw new SftpgoError('INTERNAL', `column ${prefix}${n} not selected`);
    out[n] = i;
  }
  return out;
}

type UserPositions = Readonly<Record<(typeof USER_COLUMNS)[number], number>>;

/** a virtual folder from a row of the joins of ReadSql (m_ and f_ columns) */
function virtualFolderFromValues(
  v: readonly unknown[],
  rows: Rows,
  folderColumns: readonly string[],
): ApiVirtualFolder {
  const f: Record<string, unknown> = {};
  for (const c of folderColumns) f[c] = v[rows.index.get(`f_${c}`) ?? -1];
  const m = positions(rows, ['virtual_path', 'quota_size', 'quota_files'] as const, 'm_');
  return {
    ...folderFromRow(f as unknown as FolderRow),
    virtual_path: v[m.virtual_path] as string,
    quota_size: v[m.quota_size] as number,
    quota_files: v[m.quota_files] as number,
  };
}

/** `withPassword` false: without the hash (pages of users are for listings, which hide it) */
function userFromValues(
  v: readonly unknown[],
  p: UserPositions,
  virtualFolders: ApiVirtualFolder[],
  withPassword = true,
): User {
  // no helper closures here: this runs for every user of a page
  const u: User = {
    id: v[p.id] as number,
    status: v[p.status] as 0 | 1,
    username: v[p.username] as string,
    expiration_date: v[p.expiration_date] as number,
    public_keys: parseJson<string[]>(v[p.public_keys] as string | null, []),
    home_dir: v[p.home_dir] as string,
    virtual_folders: virtualFolders,
    uid: v[p.uid] as number,
    gid: v[p.gid] as number,
    max_sessions: v[p.max_sessions] as number,
    quota_size: v[p.quota_size] as number,
    quota_files: v[p.quota_files] as number,
    permissions: parseJson<User['permissions']>(
      v[p.permissions] as string,
      {} as User['permissions'],
    ),
    used_quota_size: v[p.used_quota_size] as number,
    used_quota_files: v[p.used_quota_files] as number,
    last_quota_update: v[p.last_quota_update] as number,
    upload_bandwidth: v[p.upload_bandwidth] as number,
    download_bandwidth: v[p.download_bandwidth] as number,
    last_login: v[p.last_login] as number,
    filters: parseJson<NonNullable<User['filters']>>(v[p.filters] as string | null, {}),
    filesystem: parseJson<NonNullable<User['filesystem']>>(v[p.filesystem] as string | null, {
      provider: 0,
    }),
  };
  const password = withPassword ? (v[p.password] as string | null) : null;
  if (password !== null && password !== '') u.password = password;
  const description = v[p.description] as string | null;
  if (description !== null && description !== '') u.description = description;
  const info = v[p.additional_info] as string | null;
  if (info !== null && info !== '') u.additional_info = info;
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
): Omit<
  UserRow,
  'id' | 'used_quota_size' | 'used_quota_files' | 'last_quota_update' | 'last_login'
> {
  return {
    username: u.username ?? '',
    description: u.description ?? null,
    password: u.password ?? null,
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

function adminRowValues(a: Admin): Omit<AdminRow, 'id'> {
  return {
    username: a.username ?? '',
    description: a.description ?? null,
    password: a.password ?? '',
    email: a.email === undefined || a.email === '' ? null : a.email,
    status: a.status ?? 0,
    permissions: JSON.stringify(a.permissions ?? []),
    filters: JSON.stringify(a.filters ?? {}),
    additional_info: a.additional_info ?? null,
  };
}

/** find options of one page, ordered by `column`; every row in ascending order without `w` */
function page<T>(column: keyof T & string, w: ListWindow | undefined): FindManyOptions<T> {
  if (w === undefined) return { order: { [column]: 'ASC' } } as FindManyOptions<T>;
  return { order: { [column]: w.order }, skip: w.skip, take: w.take } as FindManyOptions<T>;
}

/** the part of a better-sqlite3 Database the raw reads use (the package ships no types) */
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface SqliteStatement {
  raw(on: boolean): SqliteStatement;
  columns(): { name: string }[];
  all(...params: unknown[]): unknown[][];
}

/** the part of pg (node-postgres) the prepared reads use, reached through TypeORM's driver */
interface PgTypes {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}
interface PgModule {
  types: PgTypes;
}
interface PgPool {
  query(q: {
    name: string;
    text: string;
    values: unknown[];
    rowMode: 'array';
    types: PgTypes;
  }): Promise<{ fields: { name: string }[]; rows: unknown[][] }>;
}

/** PostgreSQL's INT8 (BIGINT, oid 20) */
const PG_INT8 = 20;

/**
 * pg's type parsers with BIGINT as a number: our BIGINT columns are sizes, counters and
 * millisecond timestamps, within 2^53 (what entities.ts's transformer assumes too)
 */
function pgTypes(pg: PgModule): PgTypes {
  const int8 = (v: string): number => Number(v);
  return {
    getTypeParser: (oid, format) =>
      oid === PG_INT8 && format !== 'binary' ? int8 : pg.types.getTypeParser(oid, format),
  };
}

/** prepared raw statements kept per store; past this many the oldest goes (IN lists vary) */
const SQLITE_STATEMENTS = 64;

export interface TypeormStoreDeps {
  dataSource: DataSource;
  entities: Entities;
  dialect: Dialect;
}

export class TypeormStore implements ProviderStore {
  readonly #ds: DataSource;
  readonly #e: Entities;
  readonly #dialect: Dialect;
  readonly #mutex = new Mutex();
  #sql: ReadSql | undefined;
  /** the names of the prepared PostgreSQL statements by SQL, and their columns by name */
  readonly #pgStatements = new Map<string, string>();
  readonly #pgIndexes = new Map<string, ReadonlyMap<string, number>>();
  #pgTypes: PgTypes | undefined;
  readonly #sqliteStatements = new Map<
    string,
    { stmt: SqliteStatement; index: ReadonlyMap<string, number> }
  >();

  constructor(d: TypeormStoreDeps) {
    this.#ds = d.dataSource;
    this.#e = d.entities;
    this.#dialect = d.dialect;
  }

  get #readSql(): ReadSql {
    if (this.#sql !== undefined) return this.#sql;
    const esc = (n: string): string => this.#ds.driver.escape(n);
    const numeric = new Set<string>();
    const metadata = (entity: Entities[keyof Entities]) => this.#ds.getMetadata(entity);
    /** `alias.column [AS prefixcolumn]` of every column of an entity */
    const columns = (entity: Entities[keyof Entities], alias: string, prefix = ''): string[] =>
      metadata(entity).columns.map((c) => {
        if (c.type === 'integer' || c.type === 'bigint') numeric.add(`${prefix}${c.databaseName}`);
        const col = `${alias}.${esc(c.databaseName)}`;
        return prefix === '' ? col : `${col} AS ${prefix}${c.databaseName}`;
      });
    const table = (entity: Entities[keyof Entities]): string => esc(metadata(entity).tableName);
    const joined = [
      ...columns(this.#e.mapping, 'm', 'm_').filter((c) => !/ AS m_(id|folder_id)$/.test(c)),
      ...columns(this.#e.folders, 'f', 'f_'),
    ].join(', ');
    const users = `SELECT ${columns(this.#e.users, 'u').join(', ')}`;
    const [uid, mid, fid] = ['u', 'm', 'f'].map((a) => `${a}.${esc('id')}`);
    const [userId, folderId] = ['user_id', 'folder_id'].map((c) => `m.${esc(c)}`);
    this.#sql = {
      users: `${users} FROM ${table(this.#e.users)} u`,
      userWithFolders:
        `${users}, ${joined} FROM ${table(this.#e.users)} u ` +
        `LEFT JOIN ${table(this.#e.mapping)} m ON ${userId} = ${uid} ` +
        `LEFT JOIN ${table(this.#e.folders)} f ON ${fid} = ${folderId} ` +
        `WHERE u.${esc('username')} = ${this.#params(1)} ORDER BY ${mid}`,
      mappedFolders:
        this.#dialect === 'postgres'
          ? `SELECT ${joined} FROM unnest($1::integer[]) AS ids(id) ` +
            `INNER JOIN ${table(this.#e.mapping)} m ON ${userId} = ids.id ` +
            `INNER JOIN ${table(this.#e.folders)} f ON ${fid} = ${folderId} ORDER BY ${mid}`
          : `SELECT ${joined} FROM ${table(this.#e.mapping)} m ` +
            `INNER JOIN ${table(this.#e.folders)} f ON ${fid} = ${folderId} WHERE ${userId}`,
      folderColumns: metadata(this.#e.folders).columns.map((c) => c.databaseName),
      numeric,
    };
    return this.#sql;
  }

  /** placeholders of the dialect for `n` parameters after `from` others: ?, ? or $3, $4 */
  #params(n: number, from = 0): string {
    const out: string[] = [];
    for (let i = 1; i <= n; i++) out.push(this.#dialect === 'postgres' ? `$${from + i}` : '?');
    return out.join(', ');
  }

  async #select(m: EntityManager, sql: string, params: unknown[]): Promise<Rows> {
    if (this.#dialect === 'sqlite') return this.#sqliteSelect(sql, params);
    if (this.#dialect === 'postgres' && m.queryRunner === undefined) {
      return this.#postgresSelect(sql, params);
    }
    const objects = (await m.query(sql, params)) as Record<string, unknown>[];
    const names = objects[0] === undefined ? [] : Object.keys(objects[0]);
    const numeric = this.#readSql.numeric;
    const values = objects.map((o) =>
      names.map((n) => {
        const x = o[n];
        // pg and mysql return BIGINT as strings (what entities.ts's transformer undoes)
        return numeric.has(n) && (typeof x === 'string' || typeof x === 'bigint') ? Number(x) : x;
      }),
    );
    return { index: new Map(names.map((n, i) => [n, i])), values };
  }

  /**
   * SQLite: the statement straight on better-sqlite3's connection (the one TypeORM uses, under
   * this store's mutex), in raw mode: better-sqlite3's row objects cost more than the arrays (a
   * page of 100 users 0.5 ms against 0.24 ms, issue 16). SQLite returns numbers as numbers.
   */
  #sqliteSelect(sql: string, params: unknown[]): Rows {
    let prepared = this.#sqliteStatements.get(sql);
    if (prepared === undefined) {
      const db = (this.#ds.driver as unknown as { databaseConnection: SqliteConnection })
        .databaseConnection;
      const stmt = db.prepare(sql).raw(true);
      const index = new Map(stmt.columns().map((c, i) => [c.name, i]));
      prepared = { stmt, index };
      this.#sqliteStatements.set(sql, prepared);
      for (const k of this.#sqliteStatements.keys()) {
        if (this.#sqliteStatements.size <= SQLITE_STATEMENTS) break;
        this.#sqliteStatements.delete(k);
      }
    }
    return { index: prepared.index, values: prepared.stmt.all(...params) };
  }

  /**
   * PostgreSQL outside a transaction: the statement straight on the pool TypeORM made, as a
   * named (prepared) statement, rows as arrays and BIGINT parsed as a number by pg. TypeORM's
   * query() made a row object per row (then turned into arrays here) and the database parsed
   * and planned every statement again: a page of 100 users cost 1.7–1.9 ms of our CPU and
   * 0.8–0.9 ms of the database's, 1.2–1.5 and 0.5–0.65 ms since (issue 16). pg prepares a named statement once per pooled connection;
   * only the SELECTs of #readSql come here, so the names stay few.
   */
  async #postgresSelect(sql: string, params: unknown[]): Promise<Rows> {
    const driver = this.#ds.driver as unknown as { master: PgPool; postgres: PgModule };
    let name = this.#pgStatements.get(sql);
    if (name === undefined) {
      name = `sftpgo_read_${this.#pgStatements.size + 1}`;
      this.#pgStatements.set(sql, name);
    }
    this.#pgTypes ??= pgTypes(driver.postgres);
    const r = await driver.master.query({
      name,
      text: sql,
      values: params,
      rowMode: 'array',
      types: this.#pgTypes,
    });
    let index = this.#pgIndexes.get(name);
    if (index === undefined) {
      index = new Map(r.fields.map((f, i) => [f.name, i]));
      this.#pgIndexes.set(name, index);
    }
    return { index, values: r.rows };
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
    const { mappedFolders, folderColumns } = this.#readSql;
    const id = this.#ds.driver.escape('id');
    const pg = this.#dialect === 'postgres';
    for (let i = 0; i < userIds.length; i += pg ? userIds.length : IN_CHUNK) {
      const ids = pg ? userIds : userIds.slice(i, i + IN_CHUNK);
      const sql = pg
        ? mappedFolders
        : `${mappedFolders} IN (${this.#params(ids.length)}) ORDER BY m.${id}`;
      const rows = await this.#select(m, sql, pg ? [ids] : ids);
      if (rows.values.length === 0) continue;
      const { user_id: userIdAt } = positions(rows, ['user_id'] as const, 'm_');
      for (const v of rows.values) {
        const userId = v[userIdAt] as number;
        const list = out.get(userId) ?? [];
        list.push(virtualFolderFromValues(v, rows, folderColumns));
        out.set(userId, list);
      }
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

  async #usersFromRows(m: EntityManager, rows: Rows, withPassword: boolean): Promise<User[]> {
    if (rows.values.length === 0) return [];
    const p = positions(rows, USER_COLUMNS);
    const vf = await this.#virtualFoldersOf(
      m,
      rows.values.map((v) => v[p.id] as number),
    );
    return rows.values.map((v) =>
      userFromValues(v, p, vf.get(v[p.id] as number) ?? [], withPassword),
    );
  }

  async #foldersFromRows(m: EntityManager, rows: FolderRow[]): Promise<Folder[]> {
    const users = await this.#usersOfFolders(
      m,
      rows.map((r) => r.id),
    );
    return rows.map((r) => folderFromRow(r, users.get(r.id) ?? []));
  }

  /** one statement: the user's row once per mapping (once with NULL m_/f_ columns when none) */
  async #getUserIn(m: EntityManager, username: string): Promise<User> {
    const { userWithFolders, folderColumns } = this.#readSql;
    const rows = await this.#select(m, userWithFolders, [username]);
    const [first] = rows.values;
    if (first === undefined) {
      throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
    }
    const { id: folderIdAt } = positions(rows, ['id'] as const, 'f_');
    const folders = rows.values
      .filter((v) => v[folderIdAt] !== null && v[folderIdAt] !== undefined)
      .map((v) => virtualFolderFromValues(v, rows, folderColumns));
    return userFromValues(first, positions(rows, USER_COLUMNS), folders);
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
    vfs: readonly ValidatedVirtualFolder[],
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

  getUsers(w?: ListWindow): Promise<User[]> {
    const order = `ORDER BY u.${this.#ds.driver.escape('username')} ${w?.order === 'DESC' ? 'DESC' : 'ASC'}`;
    const sql =
      w === undefined
        ? `${this.#readSql.users} ${order}`
        : `${this.#readSql.users} ${order} LIMIT ${this.#params(1)} OFFSET ${this.#params(1, 1)}`;
    const params = w === undefined ? [] : [w.take, w.skip];
    // the page selects the password too, but leaves it out of the users: on PostgreSQL a
    // SELECT of every column in table order returns the scanned rows as they are, any other
    // list deforms each of the OFFSET rows it skips (8 times the page's cost, issue 16)
    return this.#run(w === undefined ? 'dump users' : 'get users', async (m) =>
      this.#usersFromRows(m, await this.#select(m, sql, params), w === undefined),
    );
  }

  getUser(username: string): Promise<User> {
    return this.#run('get user', (m) => this.#getUserIn(m, username));
  }

  async addUser(u: User, folders: readonly ValidatedVirtualFolder[]): Promise<void> {
    const username = u.username ?? '';
    await this.#run(
      `add user ${q(username)}`,
      async (m) => {
        if ((await this.#users(m).count({ where: { username } })) > 0) {
          throw new SftpgoError('ALREADY_EXISTS', `user ${q(username)} already exists`);
        }
        const r = await this.#users(m).insert({
          ...userRowValues(u),
          used_quota_size: 0,
          used_quota_files: 0,
          last_quota_update: 0,
          last_login: 0,
        });
        const id = await this.#insertedId(r.identifiers, this.#users(m), { username });
        await this.#writeMappings(m, id, folders);
      },
      true,
    );
  }

  async updateUser(
    username: string,
    u: User,
    folders: readonly ValidatedVirtualFolder[],
  ): Promise<void> {
    await this.#run(
      `update user ${q(username)}`,
      async (m) => {
        const id = await this.#userId(m, username);
        await this.#users(m).update({ id }, userRowValues(u));
        await this.#writeMappings(m, id, folders);
      },
      true,
    );
  }

  async deleteUser(username: string): Promise<void> {
    await this.#run(
      `delete user ${q(username)}`,
      async (m) => {
        const id = await this.#userId(m, username);
        await this.#mapping(m).delete({ user_id: id });
        await this.#users(m).delete({ id });
      },
      true,
    );
  }

  async #userId(m: EntityManager, username: string): Promise<number> {
    const row = await this.#users(m).findOne({ where: { username }, select: { id: true } });
    if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
    return row.id;
  }

  async updateUserCredentials(
    username: string,
    change: (stored: UserCredentials) => Partial<UserCredentials>,
  ): Promise<void> {
    await this.#run(
      `update credentials of user ${q(username)}`,
      async (m) => {
        const row = await this.#users(m).findOne({ where: { username } });
        if (row === null) throw new SftpgoError('NOT_FOUND', `user ${q(username)} does not exist`);
        const c = change({
          password: row.password ?? '',
          public_keys: parseJson<string[]>(row.public_keys, []),
        });
        const set: Partial<Pick<UserRow, 'password' | 'public_keys'>> = {};
        if (c.password !== undefined) set.password = c.password === '' ? null : c.password;
        if (c.public_keys !== undefined) set.public_keys = JSON.stringify(c.public_keys);
        await this.#users(m).update({ id: row.id }, set);
      },
      true,
    );
  }

  async setLastLogin(
    username: string,
    at: number,
    keep: { from: number; to: number },
  ): Promise<void> {
    await this.#run('update last login', (m) =>
      m
        .createQueryBuilder()
        .update(this.#e.users)
        .set({ last_login: at })
        .where('username = :username', { username })
        .andWhere('(last_login < :from OR last_login > :to)', keep)
        .execute(),
    );
  }

  // ---------------------------------------------------------------- admins

  async getAdmins(w?: ListWindow): Promise<Admin[]> {
    const rows = await this.#run(w === undefined ? 'dump admins' : 'get admins', (m) =>
      this.#admins(m).find(page<AdminRow>('username', w)),
    );
    return rows.map(adminFromRow);
  }

  getAdmin(username: string): Promise<Admin> {
    return this.#run('get admin', (m) => this.#getAdminIn(m, username));
  }

  async addAdmin(a: Admin): Promise<void> {
    const username = a.username ?? '';
    await this.#run(`add admin ${q(username)}`, async (m) => {
      if ((await this.#admins(m).count({ where: { username } })) > 0) {
        throw new SftpgoError('ALREADY_EXISTS', `admin ${q(username)} already exists`);
      }
      await this.#admins(m).insert(adminRowValues(a));
    });
  }

  updateAdmin(username: string, a: Admin): Promise<void> {
    return this.#updateAdminRow(`update admin ${q(username)}`, username, adminRowValues(a));
  }

  setAdminPassword(username: string, hash: string): Promise<void> {
    return this.#updateAdminRow(`set admin password ${q(username)}`, username, { password: hash });
  }

  async #updateAdminRow(
    what: string,
    username: string,
    values: Partial<Omit<AdminRow, 'id'>>,
  ): Promise<void> {
    await this.#run(what, async (m) => {
      const r = await this.#admins(m).update({ username }, values);
      if (r.affected === 0)
        throw new SftpgoError('NOT_FOUND', `admin ${q(username)} does not exist`);
    });
  }

  async deleteAdmin(username: string): Promise<void> {
    await this.#run(`delete admin ${q(username)}`, async (m) => {
      const r = await this.#admins(m).delete({ username });
      if (r.affected === 0)
        throw new SftpgoError('NOT_FOUND', `admin ${q(username)} does not exist`);
    });
  }

  countAdmins(): Promise<number> {
    return this.#run('count admins', (m) => this.#admins(m).count());
  }

  // ---------------------------------------------------------------- folders

  getFolders(w?: ListWindow): Promise<Folder[]> {
    return this.#run(w === undefined ? 'dump folders' : 'get folders', async (m) =>
      this.#foldersFromRows(m, await this.#folders(m).find(page<FolderRow>('name', w))),
    );
  }

  getFolder(name: string): Promise<Folder> {
    return this.#run('get folder', (m) => this.#getFolderIn(m, name));
  }

  async findFolders(names: readonly string[]): Promise<Folder[]> {
    const rows = await this.#run('get folders', (m) =>
      this.#folders(m).find({ where: { name: In([...names]) } }),
    );
    return rows.map((r) => folderFromRow(r));
  }

  async addFolder(f: Folder): Promise<void> {
    const name = f.name ?? '';
    await this.#run(`add folder ${q(name)}`, async (m) => {
      if ((await this.#folders(m).count({ where: { name } })) > 0) {
        throw new SftpgoError('ALREADY_EXISTS', `folder ${q(name)} already exists`);
      }
      await this.#folders(m).insert({
        name,
        ...folderRowValues(f),
        used_quota_size: 0,
        used_quota_files: 0,
        last_quota_update: 0,
      });
    });
  }

  async updateFolder(name: string, f: Folder): Promise<void> {
    await this.#run(`update folder ${q(name)}`, async (m) => {
      const r = await this.#folders(m).update({ name }, folderRowValues(f));
      if (r.affected === 0) throw new SftpgoError('NOT_FOUND', `folder ${q(name)} does not exist`);
    });
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
  }

  // ---------------------------------------------------------------- quota

  /** one UPDATE of a user's or folder's counters: set (reset) or atomic `+ delta` */
  async writeQuota(kind: QuotaKind, name: string, w: QuotaWrite): Promise<void> {
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

  async readQuota(kind: QuotaKind, name: string): Promise<QuotaCounters> {
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

  async clearAll(): Promise<void> {
    await this.#run(
      'clear the data provider',
      async (m) => {
        for (const e of [this.#e.mapping, this.#e.users, this.#e.folders, this.#e.admins]) {
          await m.createQueryBuilder().delete().from(e).execute();
        }
      },
      true,
    );
  }

  async ping(): Promise<void> {
    await this.#run('availability check', (m) => m.query('SELECT 1'));
  }

  async close(): Promise<void> {
    const destroy = async (): Promise<void> => {
      if (this.#ds.isInitialized) await this.#ds.destroy();
    };
    await (this.#dialect === 'sqlite' ? this.#mutex.run(destroy) : destroy());
  }
}
