import { render } from 'ink';
import type { TopDataSource } from './data-source.js';
import { TopApp } from './top-app.js';

export interface RunTopOptions {
  source: TopDataSource;
  intervalMs: number;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** Runs the dashboard full-screen until the user quits. */
export async function runTop(o: RunTopOptions): Promise<void> {
  const stdout = o.stdout ?? process.stdout;
  const alt = stdout.isTTY === true;
  if (alt) stdout.write('\x1b[?1049h\x1b[H');
  try {
    const app = render(<TopApp source={o.source} intervalMs={o.intervalMs} />, {
      stdout,
      stdin: o.stdin ?? process.stdin,
      exitOnCtrlC: true,
    });
    await app.waitUntilExit();
  } finally {
    if (alt) stdout.write('\x1b[?1049l');
  }
}
