/**
 * The mapping table of a database sftpgo-ts created before it took SFTPGo's names
 * (`users_folders_mapping`) becomes upstream's `folders_mapping` (SFTPGo 2.0.x/2.1.2
 * dataprovider/{sqlite,pgsql,mysql}.go), with upstream's constraint and index names where renaming
 * is cheap and safe: every name on PostgreSQL (the primary key and id sequence too), the unique key
 * and the folder index on MySQL (its foreign keys keep their names: MySQL renames a foreign key
 * only by dropping and re-adding it), the folder index on SQLite (constraint names live inside
 * SQLite's table definition and only a table rebuild changes them). Nothing is dropped but that
 * SQLite index, recreated at once.
 */
import type { QueryRunner } from 'typeorm';
import { SftpgoError } from '../errors/index.js';
import { legacyMappingNames, tableNames } from './entities.js';
import type { Dialect } from './migrations.js';
import { quoter } from './schema-versions.js';

/** index (and, on PostgreSQL, constraint) names of a table */
async function indexNames(qr: QueryRunner, dialect: Dialect, table: string): Promise<Set<string>> {
  let rows: { name: string }[];
  if (dialect === 'mysql') {
    rows = (await qr.query(
      'SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS ' +
        'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [table],
    )) as { name: string }[];
  } else if (dialect === 'postgres') {
    rows = (await qr.query(
      'SELECT conname AS name FROM pg_constraint WHERE conrelid = to_regclass($1) ' +
        'UNION SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $2',
      [`"${table}"`, table],
    )) as { name: string }[];
  } else {
    rows = (await qr.query(`PRAGMA index_list("${table}")`)) as { name: string }[];
  }
  return new Set(rows.map((r) => r.name));
}

/**
 * Renames the legacy mapping table and its names to upstream's (see the file comment); does
 * nothing when there is no legacy table (a fresh database gets upstream's names from the start).
 * Each step checks what is there first, so a MySQL run cut short (its DDL is not transactional)
 * finishes on the next one.
 */
export async function renameLegacyMapping(
  qr: QueryRunner,
  dialect: Dialect,
  prefix: string,
): Promise<void> {
  const n = tableNames(prefix);
  const old = legacyMappingNames(prefix);
  const qi = quoter(dialect);
  if (await qr.hasTable(old.mapping)) {
    if (await qr.hasTable(n.mapping)) {
      throw new SftpgoError(
        'BACKEND_UNAVAILABLE',
        `both ${old.mapping} and ${n.mapping} exist, cannot rename the first to the second`,
      );
    }
    await qr.query(
      dialect === 'mysql'
        ? `RENAME TABLE ${qi(old.mapping)} TO ${qi(n.mapping)}`
        : `ALTER TABLE ${qi(old.mapping)} RENAME TO ${qi(n.mapping)}`,
    );
  } else if (!(await qr.hasTable(n.mapping))) return;
  const have = await indexNames(qr, dialect, n.mapping);
  const renames: [string, string][] = [
    [old.mappingUserFolderKey, n.mappingUserFolderKey],
    [old.mappingFolderIdx, n.mappingFolderIdx],
  ];
  if (dialect === 'postgres') {
    renames.push(
      [old.mappingUserFk, n.mappingUserFk],
      [old.mappingFolderFk, n.mappingFolderFk],
      [`${old.mapping}_pkey`, `${n.mapping}_pkey`],
    );
  }
  for (const [from, to] of renames) {
    if (!have.has(from) || have.has(to)) continue;
    if (dialect === 'mysql') {
      await qr.query(`ALTER TABLE ${qi(n.mapping)} RENAME INDEX ${qi(from)} TO ${qi(to)}`);
    } else if (dialect === 'postgres') {
      // a unique or primary key constraint renames its index with it
      await qr.query(
        from === old.mappingFolderIdx
          ? `ALTER INDEX ${qi(from)} RENAME TO ${qi(to)}`
          : `ALTER TABLE ${qi(n.mapping)} RENAME CONSTRAINT ${qi(from)} TO ${qi(to)}`,
      );
    } else if (from === old.mappingFolderIdx) {
      // SQLite has no ALTER INDEX: the plain index is dropped and created under its new name
      await qr.query(`DROP INDEX ${qi(from)}`);
      await qr.query(`CREATE INDEX ${qi(to)} ON ${qi(n.mapping)} (${qi('folder_id')})`);
    }
  }
  if (dialect === 'postgres') {
    await qr.query(
      `ALTER SEQUENCE IF EXISTS ${qi(`${old.mapping}_id_seq`)} RENAME TO ${qi(`${n.mapping}_id_seq`)}`,
    );
  }
}
