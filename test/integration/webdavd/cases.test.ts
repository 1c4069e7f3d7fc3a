/**
 * The shared permission, quota, file-pattern, hostile-path and virtual-folder cases
 * (test/cases) through WebDAV. What is specific to WebDAV clients and statuses stays in the
 * other files of this folder.
 */
import { runCases } from '../../cases/run.js';
import { davDriver } from '../../cases/drivers/webdav.js';

runCases(davDriver);
