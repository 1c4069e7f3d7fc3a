export { clientDataSource, type TopDataSource } from './data-source.js';
export { runTop, type RunTopOptions } from './run.js';
export { TopApp, type TopAppProps } from './top-app.js';
export type { Snapshot } from './model.js';
