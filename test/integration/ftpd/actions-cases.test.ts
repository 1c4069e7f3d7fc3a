/**
 * The shared custom-action cases (test/cases/table.ts ACTION_CASES) through FTP: the
 * notifications each operation sends, and what pre-* refusals do to it.
 */
import { ftpDriver } from '../../cases/drivers/ftp.js';
import { runCases } from '../../cases/run.js';
import { ACTION_CASES } from '../../cases/table.js';

runCases(ftpDriver, { cases: ACTION_CASES, actions: true });
