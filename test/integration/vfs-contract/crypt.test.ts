/**
 * The VFS contract on the encrypted local backend, rooted like the local one (local-root.ts):
 * temp files beside their targets, then in a temp_path outside the root. Sizes everywhere,
 * usage() included, are plaintext sizes (src/vfs/backends/crypt/index.ts).
 */
import { CryptFs } from '../../../src/vfs/backends/crypt/index.js';
import { describeFsContract } from './contract.js';
import { localRootSubject } from './local-root.js';

const passphrase = 'contract passphrase ✓';

describeFsContract('crypt', () =>
  localRootSubject(false, (o) => new CryptFs({ ...o, passphrase })),
);
describeFsContract('crypt with temp_path', () =>
  localRootSubject(true, (o) => new CryptFs({ ...o, passphrase })),
);
