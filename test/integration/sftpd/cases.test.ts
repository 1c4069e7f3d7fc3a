/**
 * The shared permission, quota, file-pattern, hostile-path and virtual-folder cases
 * (test/cases) through SFTP. What is specific to SFTP/SCP clients stays in refusals.test.ts.
 */
import { sftpDriver } from '../../cases/drivers/sftp.js';
import { runCases } from '../../cases/run.js';

runCases(sftpDriver);
