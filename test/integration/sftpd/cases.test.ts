/**
 * The shared permission, quota, file-pattern, hostile-path and virtual-folder cases
 * (test/cases) through SFTP. SFTP-specific checks (status texts, OpenSSH clients, SCP, SSH
 * commands) stay in the feature files next to this one.
 */
import { sftpDriver } from '../../cases/drivers/sftp.js';
import { runCases } from '../../cases/run.js';
import { requireSshTools } from '../../helpers/sftpd.js';

requireSshTools();
runCases(sftpDriver);
