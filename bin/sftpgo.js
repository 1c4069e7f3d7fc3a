#!/usr/bin/env -S node --max-semi-space-size=4 --initial-old-space-size=64
// Entry point: everything lives in dist/cli/main.js (built by `npm run build`).
// --max-semi-space-size=4 (MiB): V8's young generation grows to 2 x 16 MiB by default and stays
// that size (idle RSS +16 MiB); with 1 MiB every scavenge comes so early that transfer Buffers
// still being written survive it, get promoted and make the old generation collect every few MiB
// moved (an FTP upload cost 3-5 s of CPU per GiB). 4 MiB idles 2-4 MiB higher than 1 MiB and costs 2.2-3.2
// s/GiB there (bench/README.md, "The young generation: 4 MiB").
// --initial-old-space-size=64 (MiB): V8 then never starts a mark-compact below 64 MiB of old
// generation. It counts the transfer Buffers allocated since the last mark-compact (socket reads,
// ssh2's packets: up to ~32 MiB of them wait for the next scavenge) as old generation; once a
// mark-compact had shrunk the limit to a few MiB above the ~27 MiB of live objects, big transfers
// started one every 15-30 ms (70 per GiB, 3x the CPU of a transfer without). A threshold, not a
// reservation: idle RSS +2-5 MiB, the start-up's garbage collected later (bench/README.md,
// "Mark-compact storms").
// The flags only apply when the file is executed (`bin/sftpgo.js`, `sftpgo` once installed);
// `node bin/sftpgo.js` works the same with V8's defaults.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('sftpgo: not built yet, run "npm run build" first\n');
  } else {
    process.stderr.write(`sftpgo: ${err && err.stack ? err.stack : err}\n`);
  }
  process.exit(1);
});
