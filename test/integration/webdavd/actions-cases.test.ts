/**
 * The shared custom-action cases (test/cases/table.ts ACTION_CASES) through WebDAV: the
 * notifications each operation sends, and what pre-* refusals do to it.
 */
import { davDriver } from '../../cases/drivers/webdav.js';
import { runCases } from '../../cases/run.js';
import { ACTION_CASES } from '../../cases/table.js';

runCases(davDriver, { cases: ACTION_CASES, actions: true });
