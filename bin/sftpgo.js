#!/usr/bin/env node
// Entry point: everything lives in dist/cli/main.js (built by `npm run build`).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('sftpgo: not built yet, run "npm run build" first\n');
  } else {
    process.stderr.write(`sftpgo: ${err && err.stack ? err.stack : err}\n`);
  }
  process.exit(1);
});
