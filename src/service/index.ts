/** Public surface of src/service, the composition root of `sftpgo serve`. */
export { startService, secretEncrypter, secretDecrypter, NOTHING_TO_DO } from './start.js';
export type { StartServiceOptions, RunningService, TextSink } from './start.js';
export { runService } from './signals.js';
export type { RunServiceOptions } from './signals.js';
export { formatSummary } from './summary.js';
