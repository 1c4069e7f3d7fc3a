/**
 * The shared custom-action cases (test/cases/table.ts ACTION_CASES) through SFTP: the
 * notifications each operation sends, and what pre-* refusals do to it.
 */
import { sftpDriver } from '../../cases/drivers/sftp.js';
import { runCases } from '../../cases/run.js';
import { ACTION_CASES } from '../../cases/table.js';

runCases(sftpDriver, { cases: ACTION_CASES, actions: true });
