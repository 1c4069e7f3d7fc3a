/**
 * SFTPGo's own SQL, to build in tests the database an SFTPGo installation leaves behind.
 *
 * Copied verbatim from drakkan/sftpgo at v2.1.2 (the same statements as 2.1.0/2.1.1):
 * - dataprovider/sqlite.go `sqliteInitialSQL` and `sqliteV9SQL`,
 * - dataprovider/pgsql.go `pgsqlInitial` and `pgsqlV9SQL`,
 * - dataprovider/mysql.go `mysqlInitialSQL` and `mysqlV9SQL` (run split on ';', as upstream does),
 * with the `{{...}}` placeholders substituted as upstream's initializeDatabase does (table names
 * from dataprovider.go: users, folders, folders_mapping, admins, schema_version, each with
 * sql_tables_prefix in front). The initial SQL is schema version 8 (the SFTPGo 2.0.x layout); 2.1.x
 * then runs the v9 step (DDL) and the 9 -> 10 step, which changes no DDL (sqlcommon.go
 * sqlCommonUpdateDatabaseFrom9To10 re-encodes Azure SAS URLs) and sets the version to 10.
 *
 * The row inserts follow upstream's sqlcommon.go/sqlqueries.go (2.1.x): the columns its
 * getAddUserQuery, getAddFolderQuery, getAddAdminQuery and the mapping insert of
 * generateVirtualFoldersMapping write, with the JSON encoding/json gives its structs.
 */
import type { QueryRunner } from 'typeorm';
import type { Dialect } from '../../../src/dataprovider/migrations.js';

const SQLITE_INITIAL = `CREATE TABLE "{{schema_version}}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "version" integer NOT NULL);
CREATE TABLE "{{admins}}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "username" varchar(255) NOT NULL UNIQUE,
"password" varchar(255) NOT NULL, "email" varchar(255) NULL, "status" integer NOT NULL, "permissions" text NOT NULL,
"filters" text NULL, "additional_info" text NULL);
CREATE TABLE "{{folders}}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL UNIQUE,
"path" varchar(512) NULL, "used_quota_size" bigint NOT NULL, "used_quota_files" integer NOT NULL,
"last_quota_update" bigint NOT NULL);
CREATE TABLE "{{users}}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "username" varchar(255) NOT NULL UNIQUE,
"password" text NULL, "public_keys" text NULL, "home_dir" varchar(512) NOT NULL, "uid" integer NOT NULL, "gid" integer NOT NULL,
"max_sessions" integer NOT NULL, "quota_size" bigint NOT NULL, "quota_files" integer NOT NULL, "permissions" text NOT NULL,
"used_quota_size" bigint NOT NULL, "used_quota_files" integer NOT NULL, "last_quota_update" bigint NOT NULL,
"upload_bandwidth" integer NOT NULL, "download_bandwidth" integer NOT NULL, "expiration_date" bigint NOT NULL,
"last_login" bigint NOT NULL, "status" integer NOT NULL, "filters" text NULL, "filesystem" text NULL,
"additional_info" text NULL);
CREATE TABLE "{{folders_mapping}}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "virtual_path" varchar(512) NOT NULL,
"quota_size" bigint NOT NULL, "quota_files" integer NOT NULL, "folder_id" integer NOT NULL REFERENCES "{{folders}}" ("id")
ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL REFERENCES "{{users}}" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
CONSTRAINT "{{prefix}}unique_mapping" UNIQUE ("user_id", "folder_id"));
CREATE INDEX "{{prefix}}folders_mapping_folder_id_idx" ON "{{folders_mapping}}" ("folder_id");
CREATE INDEX "{{prefix}}folders_mapping_user_id_idx" ON "{{folders_mapping}}" ("user_id");
INSERT INTO {{schema_version}} (version) VALUES (8);
`;
const SQLITE_V9 = `ALTER TABLE "{{admins}}" ADD COLUMN "description" varchar(512) NULL;
ALTER TABLE "{{folders}}" ADD COLUMN "description" varchar(512) NULL;
ALTER TABLE "{{folders}}" ADD COLUMN "filesystem" text NULL;
ALTER TABLE "{{users}}" ADD COLUMN "description" varchar(512) NULL;
`;

const PGSQL_INITIAL = `CREATE TABLE "{{schema_version}}" ("id" serial NOT NULL PRIMARY KEY, "version" integer NOT NULL);
CREATE TABLE "{{admins}}" ("id" serial NOT NULL PRIMARY KEY, "username" varchar(255) NOT NULL UNIQUE,
"password" varchar(255) NOT NULL, "email" varchar(255) NULL, "status" integer NOT NULL, "permissions" text NOT NULL,
"filters" text NULL, "additional_info" text NULL);
CREATE TABLE "{{folders}}" ("id" serial NOT NULL PRIMARY KEY, "name" varchar(255) NOT NULL UNIQUE,
"path" varchar(512) NULL, "used_quota_size" bigint NOT NULL, "used_quota_files" integer NOT NULL,
"last_quota_update" bigint NOT NULL);
CREATE TABLE "{{users}}" ("id" serial NOT NULL PRIMARY KEY, "status" integer NOT NULL, "expiration_date" bigint NOT NULL,
"username" varchar(255) NOT NULL UNIQUE, "password" text NULL, "public_keys" text NULL, "home_dir" varchar(512) NOT NULL,
"uid" integer NOT NULL, "gid" integer NOT NULL, "max_sessions" integer NOT NULL, "quota_size" bigint NOT NULL,
"quota_files" integer NOT NULL, "permissions" text NOT NULL, "used_quota_size" bigint NOT NULL,
"used_quota_files" integer NOT NULL, "last_quota_update" bigint NOT NULL, "upload_bandwidth" integer NOT NULL,
"download_bandwidth" integer NOT NULL, "last_login" bigint NOT NULL, "filters" text NULL, "filesystem" text NULL,
"additional_info" text NULL);
CREATE TABLE "{{folders_mapping}}" ("id" serial NOT NULL PRIMARY KEY, "virtual_path" varchar(512) NOT NULL,
"quota_size" bigint NOT NULL, "quota_files" integer NOT NULL, "folder_id" integer NOT NULL, "user_id" integer NOT NULL);
ALTER TABLE "{{folders_mapping}}" ADD CONSTRAINT "{{prefix}}unique_mapping" UNIQUE ("user_id", "folder_id");
ALTER TABLE "{{folders_mapping}}" ADD CONSTRAINT "{{prefix}}folders_mapping_folder_id_fk_folders_id"
FOREIGN KEY ("folder_id") REFERENCES "{{folders}}" ("id") MATCH SIMPLE ON UPDATE NO ACTION ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "{{folders_mapping}}" ADD CONSTRAINT "{{prefix}}folders_mapping_user_id_fk_users_id"
FOREIGN KEY ("user_id") REFERENCES "{{users}}" ("id") MATCH SIMPLE ON UPDATE NO ACTION ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "{{prefix}}folders_mapping_folder_id_idx" ON "{{folders_mapping}}" ("folder_id");
CREATE INDEX "{{prefix}}folders_mapping_user_id_idx" ON "{{folders_mapping}}" ("user_id");
INSERT INTO {{schema_version}} (version) VALUES (8);
`;
const PGSQL_V9 = `ALTER TABLE "{{admins}}" ADD COLUMN "description" varchar(512) NULL;
ALTER TABLE "{{folders}}" ADD COLUMN "description" varchar(512) NULL;
ALTER TABLE "{{folders}}" ADD COLUMN "filesystem" text NULL;
ALTER TABLE "{{users}}" ADD COLUMN "description" varchar(512) NULL;
`;

const MYSQL_INITIAL =
  'CREATE TABLE `{{schema_version}}` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `version` integer NOT NULL);' +
  'CREATE TABLE `{{admins}}` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `username` varchar(255) NOT NULL UNIQUE, ' +
  '`password` varchar(255) NOT NULL, `email` varchar(255) NULL, `status` integer NOT NULL, `permissions` longtext NOT NULL, ' +
  '`filters` longtext NULL, `additional_info` longtext NULL);' +
  'CREATE TABLE `{{folders}}` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` varchar(255) NOT NULL UNIQUE, ' +
  '`path` varchar(512) NULL, `used_quota_size` bigint NOT NULL, `used_quota_files` integer NOT NULL, ' +
  '`last_quota_update` bigint NOT NULL);' +
  'CREATE TABLE `{{users}}` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `status` integer NOT NULL, ' +
  '`expiration_date` bigint NOT NULL, `username` varchar(255) NOT NULL UNIQUE, `password` longtext NULL, ' +
  '`public_keys` longtext NULL, `home_dir` varchar(512) NOT NULL, `uid` integer NOT NULL, `gid` integer NOT NULL, ' +
  '`max_sessions` integer NOT NULL, `quota_size` bigint NOT NULL, `quota_files` integer NOT NULL, ' +
  '`permissions` longtext NOT NULL, `used_quota_size` bigint NOT NULL, `used_quota_files` integer NOT NULL, ' +
  '`last_quota_update` bigint NOT NULL, `upload_bandwidth` integer NOT NULL, `download_bandwidth` integer NOT NULL, ' +
  '`last_login` bigint NOT NULL, `filters` longtext NULL, `filesystem` longtext NULL, `additional_info` longtext NULL);' +
  'CREATE TABLE `{{folders_mapping}}` (`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, `virtual_path` varchar(512) NOT NULL, ' +
  '`quota_size` bigint NOT NULL, `quota_files` integer NOT NULL, `folder_id` integer NOT NULL, `user_id` integer NOT NULL);' +
  'ALTER TABLE `{{folders_mapping}}` ADD CONSTRAINT `{{prefix}}unique_mapping` UNIQUE (`user_id`, `folder_id`);' +
  'ALTER TABLE `{{folders_mapping}}` ADD CONSTRAINT `{{prefix}}folders_mapping_folder_id_fk_folders_id` FOREIGN KEY (`folder_id`) REFERENCES `{{folders}}` (`id`) ON DELETE CASCADE;' +
  'ALTER TABLE `{{folders_mapping}}` ADD CONSTRAINT `{{prefix}}folders_mapping_user_id_fk_users_id` FOREIGN KEY (`user_id`) REFERENCES `{{users}}` (`id`) ON DELETE CASCADE;' +
  'INSERT INTO {{schema_version}} (version) VALUES (8);';
const MYSQL_V9 =
  'ALTER TABLE `{{admins}}` ADD COLUMN `description` varchar(512) NULL;' +
  'ALTER TABLE `{{folders}}` ADD COLUMN `description` varchar(512) NULL;' +
  'ALTER TABLE `{{folders}}` ADD COLUMN `filesystem` longtext NULL;' +
  'ALTER TABLE `{{users}}` ADD COLUMN `description` varchar(512) NULL;';

const SQL = {
  sqlite: { initial: SQLITE_INITIAL, v9: SQLITE_V9 },
  postgres: { initial: PGSQL_INITIAL, v9: PGSQL_V9 },
  mysql: { initial: MYSQL_INITIAL, v9: MYSQL_V9 },
} as const;

function substitute(sql: string, prefix: string): string {
  return sql
    .replaceAll('{{schema_version}}', `${prefix}schema_version`)
    .replaceAll('{{admins}}', `${prefix}admins`)
    .replaceAll('{{folders}}', `${prefix}folders`)
    .replaceAll('{{users}}', `${prefix}users`)
    .replaceAll('{{folders_mapping}}', `${prefix}folders_mapping`)
    .replaceAll('{{prefix}}', prefix);
}

async function execScript(qr: QueryRunner, sql: string): Promise<void> {
  for (const s of sql.split(';')) if (s.trim() !== '') await qr.query(s);
}

/** upstream sqlCommonUpdateDatabaseVersion */
async function setVersion(qr: QueryRunner, dialect: Dialect, prefix: string, v: number) {
  const p = dialect === 'postgres' ? '$1' : '?';
  await qr.query(`UPDATE ${prefix}schema_version SET version = ${p}`, [v]);
}

/**
 * Creates the schema SFTPGo would: version 8 (2.0.x) or 10 (2.1.x: initial, v9 step, version
 * set to 9 then 10; the 9 -> 10 data step has nothing to convert in an empty database).
 */
export async function createUpstreamSchema(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
  version: 8 | 10,
): Promise<void> {
  await execScript(qr, substitute(SQL[dialect].initial, prefix));
  if (version === 8) return;
  await execScript(qr, substitute(SQL[dialect].v9, prefix));
  await setVersion(qr, dialect, prefix, 9);
  await setVersion(qr, dialect, prefix, 10);
}

/** bcrypt of "upstream-secret", cost 10, the `$2a$` form Go's x/crypto/bcrypt writes */
export const USER_PASSWORD = 'upstream-secret';
export const USER_HASH = '$2a$10$LlTPcuzDe3SaP2cwOrPFW.jSLkiEw4uV6.mHixBTgd.mOP8TYaeXm';
/** bcrypt of "admin-secret", cost 10 */
export const ADMIN_PASSWORD = 'admin-secret';
export const ADMIN_HASH = '$2a$10$.LcN8Rfeuh/CeetW3R1/U.ux/D56ylHGYV3cZeA7daaQXsnCUvoFW';

/** what encoding/json makes of a 2.1.2 vfs.Filesystem for the local provider */
export const LOCAL_FS_JSON =
  '{"provider":0,"s3config":{},"gcsconfig":{},"azblobconfig":{},"cryptconfig":{},"sftpconfig":{}}';
/** a 2.1.2 dataprovider.UserFilters as encoding/json writes it (omitempty fields left out) */
export const USER_FILTERS_JSON =
  '{"allowed_ip":["192.168.1.0/24"],"denied_login_methods":["keyboard-interactive"],' +
  '"file_patterns":[{"path":"/docs","allowed_patterns":["*.pdf","*.txt"]}],' +
  '"max_upload_file_size":1048576,' +
  '"hooks":{"external_auth_disabled":false,"pre_login_disabled":false,"check_password_disabled":false},' +
  '"web_client":["publickey-change-disabled"]}';

/**
 * A user `legacy` with a virtual folder `shared` mounted at /shared, a folder `shared`, an admin
 * `root`, inserted as upstream's SQL does. `withDescription`: the version-9+ columns exist.
 */
export async function insertUpstreamRows(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
  withDescription: boolean,
): Promise<void> {
  const ph = (n: number): string[] =>
    Array.from({ length: n }, (_, i) => (dialect === 'postgres' ? `$${i + 1}` : '?'));
  const insert = async (table: string, cols: string[], vals: unknown[]): Promise<void> => {
    await qr.query(
      `INSERT INTO ${prefix}${table} (${cols.join(',')}) VALUES (${ph(vals.length).join(',')})`,
      vals,
    );
  };
  const d = withDescription;
  // getAddFolderQuery: path,used_quota_size,used_quota_files,last_quota_update,name(,description,filesystem)
  await insert(
    'folders',
    ['path', 'used_quota_size', 'used_quota_files', 'last_quota_update', 'name'].concat(
      d ? ['description', 'filesystem'] : [],
    ),
    ['/srv/shared', 4096, 2, 1638700000000, 'shared'].concat(
      d ? ['team share', LOCAL_FS_JSON] : [],
    ),
  );
  // getAddUserQuery
  await insert(
    'users',
    [
      'username',
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
      'status',
      'last_login',
      'expiration_date',
      'filters',
      'filesystem',
      'additional_info',
    ].concat(d ? ['description'] : []),
    [
      'legacy',
      USER_HASH,
      '[]',
      '/srv/sftpgo/legacy',
      0,
      0,
      2,
      1048576000,
      1000,
      '{"/":["*"],"/docs":["list","download"]}',
      12345,
      3,
      1638700000000,
      100,
      200,
      1,
      1638700000000,
      0,
      USER_FILTERS_JSON,
      LOCAL_FS_JSON,
      'migrated from 2.1.2',
    ].concat(d ? ['the legacy user'] : []),
  );
  // sqlCommonAddUser -> generateVirtualFoldersMapping (upstream passes the ids it just read)
  const p = ph(5);
  await qr.query(
    `INSERT INTO ${prefix}folders_mapping (virtual_path,quota_size,quota_files,folder_id,user_id) ` +
      `VALUES (${p[0]},${p[1]},${p[2]},(SELECT id FROM ${prefix}folders WHERE name = ${p[3]}),` +
      `(SELECT id FROM ${prefix}users WHERE username = ${p[4]}))`,
    ['/shared', -1, -1, 'shared', 'legacy'],
  );
  // getAddAdminQuery
  await insert(
    'admins',
    ['username', 'password', 'email', 'status', 'permissions', 'filters', 'additional_info'].concat(
      d ? ['description'] : [],
    ),
    [
      'root',
      ADMIN_HASH,
      'root@example.com',
      1,
      '["*"]',
      '{"allow_list":["127.0.0.0/8"]}',
      '',
    ].concat(d ? ['the first admin'] : []),
  );
}
