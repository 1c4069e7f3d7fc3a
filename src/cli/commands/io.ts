import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CancelError } from './errors.js';

export interface OutStream {
  write(chunk: string): unknown;
}

export interface PromptOptions {
  /** do not echo what is typed (passwords) */
  hidden?: boolean;
}

/**
 * Everything a command may use to talk to the person or script that runs it. Tests pass a fake;
 * `systemIO()` is the real terminal.
 */
export interface IO {
  stdout: OutStream;
  stderr: OutStream;
  /** stdout is a terminal: tables with headers, progress indications */
  isTTY: boolean;
  /** stdin and stderr are terminals: questions may be asked */
  canPrompt: boolean;
  /** terminal width, 80 when unknown */
  columns: number;
  /** asks a question on stderr and reads the answer; CancelError on Ctrl-C or end of input */
  prompt(question: string, o?: PromptOptions): Promise<string>;
  /** reads all of stdin (for `-` file arguments) */
  readStdin(): Promise<Buffer>;
}

/** The process's terminal. */
export function systemIO(): IO {
  const canPrompt = process.stdin.isTTY === true && process.stderr.isTTY === true;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
    canPrompt,
    columns: process.stdout.columns ?? 80,
    prompt: (q, o) => terminalPrompt(q, o?.hidden === true),
    readStdin: () => readStream(process.stdin),
  };
}

export async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/** Reads a local file, or stdin when the path is `-`. */
export async function readInput(io: IO, path: string): Promise<Buffer> {
  return path === '-' ? io.readStdin() : readFile(path);
}

function terminalPrompt(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const out = new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        if (!muted) process.stderr.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input: process.stdin, output: out, terminal: true });
    let answered = false;
    rl.on('SIGINT', () => {
      process.stderr.write('\n');
      rl.close();
    });
    rl.on('close', () => {
      if (!answered) {
        if (muted) process.stderr.write('\n');
        reject(new CancelError());
      }
    });
    rl.question(question, (answer) => {
      answered = true;
      if (hidden) process.stderr.write('\n');
      rl.close();
      resolve(answer);
    });
    muted = hidden; // the question is written; from here on keystrokes are not echoed
  });
}

/** Asks a yes/no question; anything but y/yes is a no. */
export async function confirm(io: IO, question: string): Promise<boolean> {
  const a = await io.prompt(`${question} [y/N] `);
  return /^\s*y(es)?\s*$/i.test(a);
}
