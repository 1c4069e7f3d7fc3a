/**
 * Versioned, hand-written migrations, one class per dialect where the SQL differs (STYLE §I:
 * migrations only, never `synchronize`). Each migration also records SFTPGo's schema version in
 * the `schema_version` table (10 at v2.1.2), as upstream does, so the schema is recognizable.
 *
 * TypeORM keeps its own bookkeeping in `<prefix>typeorm_migrations`. Classes are created per
 * table prefix, so one process can hold providers with different prefixes.
 *
 * Three migrations: InitSchemaV10 creates the version-10 schema of a fresh database, with
 * SFTPGo's table and constraint names (entities.ts tableNames); UpgradeToV10 then brings an older
 * schema (version 8, the SFTPGo 2.0.x layout left by `sftpgo revertprovider`, or 9) up to 10 and
 * does nothing on a fresh one; UpstreamMappingNames renames the mapping table of a database made
 * by an earlier sftpgo-ts (`users_folders_mapping`) to SFTPGo's `folders_mapping`
 * (legacy-mapping.ts) and does nothing on any other. `revertprovider` removes UpgradeToV10's
 * bookkeeping row, so the next `initprovider` (or start with update_mode 0) runs it again. A
 * database SFTPGo itself created gets these rows recorded instead (upstream-schema.ts).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { tableNames } from './entities.js';
import { renameLegacyMapping } from './legacy-mapping.js';
import { downgradeSchema, upgradeSchema } from './schema-versions.js';
import type { SecretEncrypter } from './secrets.js';

/** SFTPGo's SQL schema version at v2.1.2 */
export const SCHEMA_VERSION = 10;

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

function sqliteInit(prefix: string): string[] {
  const n = tableNames(prefix);
  return [
    `CREATE TABLE "${n.schemaVersion}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "version" integer NOT NULL)`,
    `CREATE TABLE "${n.admins}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "username" varchar(255) NOT NULL, ` +
      `"description" varchar(512) NULL, "password" varchar(255) NOT NULL, "email" varchar(255) NULL, ` +
      `"status" integer NOT NULL, "permissions" text NOT NULL, "filters" text NULL, "additional_info" text NULL, ` +
      `CONSTRAINT "${n.adminsUsernameKey}" UNIQUE ("username"))`,
    `CREATE TABLE "${n.folders}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL, ` +
      `"description" varchar(512) NULL, "path" text NULL, "used_quota_size" bigint NOT NULL DEFAULT 0, ` +
      `"used_quota_files" integer NOT NULL DEFAULT 0, "last_quota_update" bigint NOT NULL DEFAULT 0, ` +
      `"filesystem" text NULL, CONSTRAINT "${n.foldersNameKey}" UNIQUE ("name"))`,
    `CREATE TABLE "${n.users}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "username" varchar(255) NOT NULL, ` +
      `"description" varchar(512) NULL, "password" text NULL, "public_keys" text NULL, "home_dir" text NOT NULL, ` +
      `"uid" integer NOT NULL, "gid" integer NOT NULL, "max_sessions" integer NOT NULL, "quota_size" bigint NOT NULL, ` +
      `"quota_files" integer NOT NULL, "permissions" text NOT NULL, "used_quota_size" bigint NOT NULL DEFAULT 0, ` +
      `"used_quota_files" integer NOT NULL DEFAULT 0, "last_quota_update" bigint NOT NULL DEFAULT 0, ` +
      `"upload_bandwidth" integer NOT NULL, "download_bandwidth" integer NOT NULL, "expiration_date" bigint NOT NULL, ` +
      `"last_login" bigint NOT NULL DEFAULT 0, "status" integer NOT NULL, "filters" text NULL, "filesystem" text NULL, ` +
      `"additional_info" text NULL, CONSTRAINT "${n.usersUsernameKey}" UNIQUE ("username"))`,
    `CREATE TABLE "${n.mapping}" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, ` +
      `"user_id" integer NOT NULL, "folder_id" integer NOT NULL, "virtual_path" text NOT NULL, ` +
      `"quota_size" bigint NOT NULL DEFAULT 0, "quota_files" integer NOT NULL DEFAULT 0, ` +
      `CONSTRAINT "${n.mappingUserFolderKey}" UNIQUE ("user_id", "folder_id"), ` +
      `CONSTRAINT "${n.mappingUserFk}" FOREIGN KEY ("user_id") REFERENCES "${n.users}" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, ` +
      `CONSTRAINT "${n.mappingFolderFk}" FOREIGN KEY ("folder_id") REFERENCES "${n.folders}" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    `CREATE INDEX "${n.mappingFolderIdx}" ON "${n.mapping}" ("folder_id")`,
    `INSERT INTO "${n.schemaVersion}" ("version") VALUES (${SCHEMA_VERSION})`,
  ];
}

function postgresInit(prefix: string): string[] {
  const n = tableNames(prefix);
  return [
    `CREATE TABLE "${n.schemaVersion}" ("id" serial NOT NULL PRIMARY KEY, "version" integer NOT NULL)`,
    `CREATE TABLE "${n.admins}" ("id" serial NOT NULL PRIMARY KEY, "username" varchar(255) NOT NULL, ` +
      `"description" varchar(512) NULL, "password" varchar(255) NOT NULL, "email" varchar(255) NULL, ` +
      `"status" integer NOT NULL, "permissions" text NOT NULL, "filters" text NULL, "additional_info" text NULL, ` +
      `CONSTRAINT "${n.adminsUsernameKey}" UNIQUE ("username"))`,
    `CREATE TABLE "${n.folders}" ("id" serial NOT NULL PRIMARY KEY, "name" varchar(255) NOT NULL, ` +
      `"description" varchar(512) NULL, "path" text NULL, "used_quota_size" bigint NOT NULL DEFAULT 0, ` +
      `"used_quota_files" integer NOT NULL DEFAULT 0, "last_quota_update" bigint NOT NULL DEFAULT 0, ` +
      `"filesystem" text NULL, CONSTRAINT "${n.foldersNameKey}" UNIQUE ("name"))`,
    `CREATE TABLE "${n.users}" ("id" serial NOT NULL PRIMARY KEY, "username" varchar(255) NOT NULL, ` +
      `"description" varchar(512) NULL, "password" text NULL, "public_keys" text NULL, "home_dir" text NOT NULL, ` +
      `"uid" integer NOT NULL, "gid" integer NOT NULL, "max_sessions" integer NOT NULL, "quota_size" bigint NOT NULL, ` +
      `"quota_files" integer NOT NULL, "permissions" text NOT NULL, "used_quota_size" bigint NOT NULL DEFAULT 0, ` +
      `"used_quota_files" integer NOT NULL DEFAULT 0, "last_quota_update" bigint NOT NULL DEFAULT 0, ` +
      `"upload_bandwidth" integer NOT NULL, "download_bandwidth" integer NOT NULL, "expiration_date" bigint NOT NULL, ` +
      `"last_login" bigint NOT NULL DEFAULT 0, "status" integer NOT NULL, "filters" text NULL, "filesystem" text NULL, ` +
      `"additional_info" text NULL, CONSTRAINT "${n.usersUsernameKey}" UNIQUE ("username"))`,
    `CREATE TABLE "${n.mapping}" ("id" serial NOT NULL PRIMARY KEY, "user_id" integer NOT NULL, ` +
      `"folder_id" integer NOT NULL, "virtual_path" text NOT NULL, "quota_size" bigint NOT NULL DEFAULT 0, ` +
      `"quota_files" integer NOT NULL DEFAULT 0, CONSTRAINT "${n.mappingUserFolderKey}" UNIQUE ("user_id", "folder_id"))`,
    `ALTER TABLE "${n.mapping}" ADD CONSTRAINT "${n.mappingUserFk}" FOREIGN KEY ("user_id") ` +
      `REFERENCES "${n.users}" ("id") ON DELETE CASCADE`,
    `ALTER TABLE "${n.mapping}" ADD CONSTRAINT "${n.mappingFolderFk}" FOREIGN KEY ("folder_id") ` +
      `REFERENCES "${n.folders}" ("id") ON DELETE CASCADE`,
    `CREATE INDEX "${n.mappingFolderIdx}" ON "${n.mapping}" ("folder_id")`,
    `INSERT INTO "${n.schemaVersion}" ("version") VALUES (${SCHEMA_VERSION})`,
  ];
}

function mysqlInit(prefix: string): string[] {
  const n = tableNames(prefix);
  const opts = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';
  return [
    `CREATE TABLE \`${n.schemaVersion}\` (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`version\` integer NOT NULL) ${opts}`,
    `CREATE TABLE \`${n.admins}\` (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`username\` varchar(255) NOT NULL, ` +
      `\`description\` varchar(512) NULL, \`password\` varchar(255) NOT NULL, \`email\` varchar(255) NULL, ` +
      `\`status\` integer NOT NULL, \`permissions\` longtext NOT NULL, \`filters\` longtext NULL, ` +
      `\`additional_info\` longtext NULL, CONSTRAINT \`${n.adminsUsernameKey}\` UNIQUE (\`username\`)) ${opts}`,
    `CREATE TABLE \`${n.folders}\` (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`name\` varchar(255) NOT NULL, ` +
      `\`description\` varchar(512) NULL, \`path\` longtext NULL, \`used_quota_size\` bigint NOT NULL DEFAULT 0, ` +
      `\`used_quota_files\` integer NOT NULL DEFAULT 0, \`last_quota_update\` bigint NOT NULL DEFAULT 0, ` +
      `\`filesystem\` longtext NULL, CONSTRAINT \`${n.foldersNameKey}\` UNIQUE (\`name\`)) ${opts}`,
    `CREATE TABLE \`${n.users}\` (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`username\` varchar(255) NOT NULL, ` +
      `\`description\` varchar(512) NULL, \`password\` longtext NULL, \`public_keys\` longtext NULL, ` +
      `\`home_dir\` longtext NOT NULL, \`uid\` integer NOT NULL, \`gid\` integer NOT NULL, \`max_sessions\` integer NOT NULL, ` +
      `\`quota_size\` bigint NOT NULL, \`quota_files\` integer NOT NULL, \`permissions\` longtext NOT NULL, ` +
      `\`used_quota_size\` bigint NOT NULL DEFAULT 0, \`used_quota_files\` integer NOT NULL DEFAULT 0, ` +
      `\`last_quota_update\` bigint NOT NULL DEFAULT 0, \`upload_bandwidth\` integer NOT NULL, ` +
      `\`download_bandwidth\` integer NOT NULL, \`expiration_date\` bigint NOT NULL, \`last_login\` bigint NOT NULL DEFAULT 0, ` +
      `\`status\` integer NOT NULL, \`filters\` longtext NULL, \`filesystem\` longtext NULL, \`additional_info\` longtext NULL, ` +
      `CONSTRAINT \`${n.usersUsernameKey}\` UNIQUE (\`username\`)) ${opts}`,
    `CREATE TABLE \`${n.mapping}\` (\`id\` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \`user_id\` integer NOT NULL, ` +
      `\`folder_id\` integer NOT NULL, \`virtual_path\` longtext NOT NULL, \`quota_size\` bigint NOT NULL DEFAULT 0, ` +
      `\`quota_files\` integer NOT NULL DEFAULT 0, ` +
      `CONSTRAINT \`${n.mappingUserFolderKey}\` UNIQUE (\`user_id\`, \`folder_id\`)) ${opts}`,
    `ALTER TABLE \`${n.mapping}\` ADD CONSTRAINT \`${n.mappingUserFk}\` FOREIGN KEY (\`user_id\`) ` +
      `REFERENCES \`${n.users}\` (\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`,
    `ALTER TABLE \`${n.mapping}\` ADD CONSTRAINT \`${n.mappingFolderFk}\` FOREIGN KEY (\`folder_id\`) ` +
      `REFERENCES \`${n.folders}\` (\`id\`) ON DELETE CASCADE ON UPDATE NO ACTION`,
    `CREATE INDEX \`${n.mappingFolderIdx}\` ON \`${n.mapping}\` (\`folder_id\`)`,
    `INSERT INTO \`${n.schemaVersion}\` (\`version\`) VALUES (${SCHEMA_VERSION})`,
  ];
}

function dropAll(dialect: Dialect, prefix: string): string[] {
  const n = tableNames(prefix);
  const qi = (s: string) => (dialect === 'mysql' ? `\`${s}\`` : `"${s}"`);
  return [n.mapping, n.users, n.folders, n.admins, n.schemaVersion].map(
    (t) => `DROP TABLE ${qi(t)}`,
  );
}

async function exec(qr: QueryRunner, statements: string[]): Promise<void> {
  for (const s of statements) await qr.query(s);
}

const INIT = { sqlite: sqliteInit, postgres: postgresInit, mysql: mysqlInit } as const;

function capitalized(dialect: Dialect): string {
  return `${dialect[0]?.toUpperCase() ?? ''}${dialect.slice(1)}`;
}

/**
 * The bookkeeping name of the migration that upgrades a version 8/9 schema to 10; revertprovider
 * deletes its row. TypeORM reads a migration's timestamp from the last 13 digits of its name.
 */
export function upgradeMigrationName(dialect: Dialect): string {
  return `SftpgoUpgradeSchemaToV10${capitalized(dialect)}1767225600000`;
}

export interface MigrationOptions {
  /** encrypts the Azure sas_url strings of a version-9 schema (see schema-versions.ts) */
  kms?: SecretEncrypter | undefined;
}

/** The migration classes for a dialect and table prefix, oldest first. */
export function createMigrations(
  dialect: Dialect,
  prefix: string,
  o: MigrationOptions = {},
): (new () => MigrationInterface)[] {
  class InitSchemaV10 implements MigrationInterface {
    // TypeORM reads the migration's timestamp from the last 13 digits of its name
    readonly name = `SftpgoInitSchemaV10${capitalized(dialect)}1735689600000`;
    async up(qr: QueryRunner): Promise<void> {
      await exec(qr, INIT[dialect](prefix));
    }
    async down(qr: QueryRunner): Promise<void> {
      await exec(qr, dropAll(dialect, prefix));
    }
  }
  class UpgradeToV10 implements MigrationInterface {
    readonly name = upgradeMigrationName(dialect);
    async up(qr: QueryRunner): Promise<void> {
      await upgradeSchema(qr, dialect, prefix, o.kms);
    }
    async down(qr: QueryRunner): Promise<void> {
      await downgradeSchema(qr, dialect, prefix, o.kms);
    }
  }
  class UpstreamMappingNames implements MigrationInterface {
    readonly name = `SftpgoUpstreamMappingNames${capitalized(dialect)}1767312000000`;
    async up(qr: QueryRunner): Promise<void> {
      await renameLegacyMapping(qr, dialect, prefix);
    }
    down(): Promise<void> {
      // the old names are of no use to any version of sftpgo-ts that reads this migration
      return Promise.resolve();
    }
  }
  return [InitSchemaV10, UpgradeToV10, UpstreamMappingNames];
}
