/**
 * TypeORM EntitySchema definitions (no decorators: tests run under tsx, which emits no decorator
 * metadata). Every column has an explicit type and every constraint/index an explicit name, the
 * same names the hand-written migrations create. Table names carry data_provider.sql_tables_prefix.
 *
 * Filters, filesystem configs, permissions and public keys are JSON text columns.
 */
import { EntitySchema, type ValueTransformer } from 'typeorm';

/** pg and mysql2 return BIGINT as strings: every bigint column reads back as a number. */
const bigintTransformer: ValueTransformer = {
  from: (v: unknown) => (v === null || v === undefined ? v : Number(v)),
  to: (v: unknown) => v,
};

export interface UserRow {
  id: number;
  username: string;
  description: string | null;
  password: string | null;
  public_keys: string | null;
  home_dir: string;
  uid: number;
  gid: number;
  max_sessions: number;
  quota_size: number;
  quota_files: number;
  permissions: string;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  upload_bandwidth: number;
  download_bandwidth: number;
  expiration_date: number;
  last_login: number;
  status: number;
  filters: string | null;
  filesystem: string | null;
  additional_info: string | null;
}

export interface AdminRow {
  id: number;
  username: string;
  description: string | null;
  password: string;
  email: string | null;
  status: number;
  permissions: string;
  filters: string | null;
  additional_info: string | null;
}

export interface FolderRow {
  id: number;
  name: string;
  description: string | null;
  path: string | null;
  used_quota_size: number;
  used_quota_files: number;
  last_quota_update: number;
  filesystem: string | null;
}

export interface MappingRow {
  id: number;
  user_id: number;
  folder_id: number;
  virtual_path: string;
  quota_size: number;
  quota_files: number;
  /** relations, declared only so that the foreign keys are part of the metadata (never loaded) */
  user?: UserRow;
  folder?: FolderRow;
}

export interface SchemaVersionRow {
  id: number;
  version: number;
}

export interface Entities {
  users: EntitySchema<UserRow>;
  admins: EntitySchema<AdminRow>;
  folders: EntitySchema<FolderRow>;
  mapping: EntitySchema<MappingRow>;
  schemaVersion: EntitySchema<SchemaVersionRow>;
}

/**
 * Table and constraint names for a prefix; shared by entities and migrations. They are SFTPGo
 * 2.0.x/2.1.2's (dataprovider/{sqlite,pgsql,mysql}.go), so that the two can use the same database:
 * the mapping table is `folders_mapping`, its constraints and index carry upstream's names, and
 * the unique keys of users, admins and folders have the names PostgreSQL gives upstream's unnamed
 * UNIQUE columns.
 */
export function tableNames(prefix: string) {
  return {
    users: `${prefix}users`,
    admins: `${prefix}admins`,
    folders: `${prefix}folders`,
    mapping: `${prefix}folders_mapping`,
    schemaVersion: `${prefix}schema_version`,
    migrations: `${prefix}typeorm_migrations`,
    usersUsernameKey: `${prefix}users_username_key`,
    adminsUsernameKey: `${prefix}admins_username_key`,
    foldersNameKey: `${prefix}folders_name_key`,
    mappingUserFolderKey: `${prefix}unique_mapping`,
    mappingFolderIdx: `${prefix}folders_mapping_folder_id_idx`,
    mappingUserFk: `${prefix}folders_mapping_user_id_fk_users_id`,
    mappingFolderFk: `${prefix}folders_mapping_folder_id_fk_folders_id`,
  };
}

/**
 * The names sftpgo-ts used for the mapping table before it took upstream's (see tableNames);
 * the UpstreamMappingNames migration renames them.
 */
export function legacyMappingNames(prefix: string) {
  return {
    mapping: `${prefix}users_folders_mapping`,
    mappingUserFolderKey: `${prefix}users_folders_mapping_user_folder_key`,
    mappingFolderIdx: `${prefix}users_folders_mapping_folder_id_idx`,
    mappingUserFk: `${prefix}users_folders_mapping_user_id_fk`,
    mappingFolderFk: `${prefix}users_folders_mapping_folder_id_fk`,
  };
}

const id = { type: 'integer', primary: true, generated: 'increment' } as const;
const int = { type: 'integer' } as const;
const big = { type: 'bigint', transformer: bigintTransformer } as const;
/** counters that start at 0 (DEFAULT 0 in the migrations) */
const int0 = { type: 'integer', default: 0 } as const;
const big0 = { type: 'bigint', default: 0, transformer: bigintTransformer } as const;

/**
 * The entities for a table prefix. `mysql` text columns are LONGTEXT (JSON configs can exceed
 * 64 KiB), as the MySQL migration creates them.
 */
export function createEntities(
  prefix: string,
  dialect: 'sqlite' | 'postgres' | 'mysql' = 'sqlite',
): Entities {
  const n = tableNames(prefix);
  const textType = dialect === 'mysql' ? 'longtext' : 'text';
  const text = { type: textType, nullable: true } as const;
  const textNotNull = { type: textType } as const;
  const users = new EntitySchema<UserRow>({
    name: 'User',
    tableName: n.users,
    columns: {
      id,
      username: { type: 'varchar', length: 255 },
      description: { type: 'varchar', length: 512, nullable: true },
      password: text,
      public_keys: text,
      home_dir: textNotNull,
      uid: int,
      gid: int,
      max_sessions: int,
      quota_size: big,
      quota_files: int,
      permissions: textNotNull,
      used_quota_size: big0,
      used_quota_files: int0,
      last_quota_update: big0,
      upload_bandwidth: int,
      download_bandwidth: int,
      expiration_date: big,
      last_login: big0,
      status: int,
      filters: text,
      filesystem: text,
      additional_info: text,
    },
    uniques: [{ name: n.usersUsernameKey, columns: ['username'] }],
  });
  const admins = new EntitySchema<AdminRow>({
    name: 'Admin',
    tableName: n.admins,
    columns: {
      id,
      username: { type: 'varchar', length: 255 },
      description: { type: 'varchar', length: 512, nullable: true },
      password: { type: 'varchar', length: 255 },
      email: { type: 'varchar', length: 255, nullable: true },
      status: int,
      permissions: textNotNull,
      filters: text,
      additional_info: text,
    },
    uniques: [{ name: n.adminsUsernameKey, columns: ['username'] }],
  });
  const folders = new EntitySchema<FolderRow>({
    name: 'Folder',
    tableName: n.folders,
    columns: {
      id,
      name: { type: 'varchar', length: 255 },
      description: { type: 'varchar', length: 512, nullable: true },
      path: text,
      used_quota_size: big0,
      used_quota_files: int0,
      last_quota_update: big0,
      filesystem: text,
    },
    uniques: [{ name: n.foldersNameKey, columns: ['name'] }],
  });
  const mapping = new EntitySchema<MappingRow>({
    name: 'UserFolderMapping',
    tableName: n.mapping,
    columns: {
      id,
      user_id: int,
      folder_id: int,
      virtual_path: textNotNull,
      quota_size: big0,
      quota_files: int0,
    },
    relations: {
      user: {
        type: 'many-to-one',
        target: 'User',
        joinColumn: { name: 'user_id', foreignKeyConstraintName: n.mappingUserFk },
        onDelete: 'CASCADE',
      },
      folder: {
        type: 'many-to-one',
        target: 'Folder',
        joinColumn: { name: 'folder_id', foreignKeyConstraintName: n.mappingFolderFk },
        onDelete: 'CASCADE',
      },
    },
    uniques: [{ name: n.mappingUserFolderKey, columns: ['user_id', 'folder_id'] }],
    indices: [{ name: n.mappingFolderIdx, columns: ['folder_id'] }],
  });
  const schemaVersion = new EntitySchema<SchemaVersionRow>({
    name: 'SchemaVersion',
    tableName: n.schemaVersion,
    columns: { id, version: int },
  });
  return { users, admins, folders, mapping, schemaVersion };
}
