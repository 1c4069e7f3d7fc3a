/**
 * The provider suite against a private PostgreSQL server (test/helpers/postgres.ts), one database
 * per case. Under CI=true a missing PostgreSQL fails the run; elsewhere it is skipped with the
 * reason printed.
 */
import { after, before, describe, test } from 'node:test';
import {
  postgresUnavailableReason,
  startPostgres,
  type PostgresServer,
} from '../../helpers/postgres.js';
import { defineProviderSuite, type DriverEnv } from './cases.js';
import { defineRevertSuite } from './revert-cases.js';
import { defineUpstreamSuite } from './upstream-cases.js';

const unavailable = postgresUnavailableReason();
const inCi = process.env['CI'] === 'true';

if (unavailable !== undefined && inCi) {
  void test('postgresql is required under CI', () => {
    throw new Error(`PostgreSQL provider tests cannot run: ${unavailable}`);
  });
} else if (unavailable !== undefined) {
  console.log(`# SKIP postgresql provider tests: ${unavailable}`);
  void describe(
    'data provider (postgresql)',
    { skip: `PostgreSQL unavailable: ${unavailable}` },
    () => {
      void test('suite', () => undefined);
    },
  );
} else {
  let pg: PostgresServer | undefined;
  let n = 0;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  const pgEnv: DriverEnv = {
    freshConfig: async () => {
      if (pg === undefined) throw new Error('postgres did not start');
      const database = `case${++n}`;
      await pg.createDatabase(database);
      return {
        driver: 'postgresql',
        host: pg.host,
        port: pg.port,
        username: pg.user,
        password: pg.password,
        name: database,
      };
    },
  };
  defineProviderSuite('postgresql', pgEnv);
  defineRevertSuite('postgresql', pgEnv);
  defineUpstreamSuite('postgresql', pgEnv);
}
