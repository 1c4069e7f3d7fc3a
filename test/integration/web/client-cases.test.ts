/**
 * The shared permission, quota, file-pattern, hostile-path and virtual-folder cases
 * (test/cases) through the web client's forms. What is specific to the web pages (CSRF,
 * sessions, messages, the browser) stays in the other client-*.test.ts files.
 */
import { runCases } from '../../cases/run.js';
import { webClientDriver } from '../../cases/drivers/webclient.js';

runCases(webClientDriver);
