/**
 * The shared permission, quota, file-pattern, hostile-path and virtual-folder cases
 * (test/cases) through FTP. What is specific to FTP clients and replies stays in the other
 * files of this folder.
 */
import { runCases } from '../../cases/run.js';
import { ftpDriver } from '../../cases/drivers/ftp.js';

runCases(ftpDriver);
