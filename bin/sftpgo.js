#!/usr/bin/env -S node --max-semi-space-size=1
// Entry point: everything lives in dist/cli/main.js (built by `npm run build`).
// --max-semi-space-size=1 (MiB): V8's young generation grows to 2 x 16 MiB by default and stays
// that size; a server whose young objects are short-lived packet wrappers gains nothing from it,
// while every scavenge it delays keeps more transfer Buffers alive. With 1 MiB a `serve` process
// idles ~20 MiB lower and holds ~40 MiB less during 16 parallel uploads (docs/transfers.md).
// The flag only applies when the file is executed (`bin/sftpgo.js`, `sftpgo` once installed);
// `node bin/sftpgo.js` works the same with V8's defaults.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('sftpgo: not built yet, run "npm run build" first\n');
  } else {
    process.stderr.write(`sftpgo: ${err && err.stack ? err.stack : err}\n`);
  }
  process.exit(1);
});
