/** Runs the CLI from source (tests spawn `node --import tsx src/cli/entry.ts ...`). */
import { main } from './main.js';

await main(process.argv);
