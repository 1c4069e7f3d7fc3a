/**
 * The VFS contract on the local backend: a temp directory as the root, once with atomic-upload
 * temp files beside their targets and once with them in a temp dir outside the root
 * (common.temp_path), where only listLeftovers can see them.
 */
import { LocalFs } from '../../../src/vfs/index.js';
import { describeFsContract } from './contract.js';
import { localRootSubject } from './local-root.js';

describeFsContract('local', () => localRootSubject(false, (o) => new LocalFs(o)));
describeFsContract('local with temp_path', () => localRootSubject(true, (o) => new LocalFs(o)));
