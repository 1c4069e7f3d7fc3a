/**
 * The provider suite against a private MariaDB server (test/helpers/mysql.ts), one database per
 * case. Under CI=true a missing MariaDB fails the run; elsewhere it is skipped with the reason
 * printed.
 */
import { after, before, describe, test } from 'node:test';
import { mysqlUnavailableReason, startMysql, type MysqlServer } from '../../helpers/mysql.js';
import { defineProviderSuite, type DriverEnv } from './cases.js';
import { defineRevertSuite } from './revert-cases.js';
import { defineUpstreamSuite } from './upstream-cases.js';

const unavailable = mysqlUnavailableReason();
const inCi = process.env['CI'] === 'true';

if (unavailable !== undefined && inCi) {
  void test('mysql is required under CI', () => {
    throw new Error(`MySQL provider tests cannot run: ${unavailable}`);
  });
} else if (unavailable !== undefined) {
  console.log(`# SKIP mysql provider tests: ${unavailable}`);
  void describe('data provider (mysql)', { skip: `MariaDB unavailable: ${unavailable}` }, () => {
    void test('suite', () => undefined);
  });
} else {
  let db: MysqlServer | undefined;
  let n = 0;
  before(async () => {
    db = await startMysql();
  });
  after(async () => {
    await db?.stop();
  });
  const mysqlEnv: DriverEnv = {
    freshConfig: async () => {
      if (db === undefined) throw new Error('mariadb did not start');
      const name = `case${++n}`;
      await db.createDatabase(name);
      return {
        driver: 'mysql',
        host: db.host,
        port: db.port,
        username: db.user,
        password: db.password,
        name,
      };
    },
  };
  defineProviderSuite('mysql', mysqlEnv);
  defineRevertSuite('mysql', mysqlEnv);
  defineUpstreamSuite('mysql', mysqlEnv);
}
