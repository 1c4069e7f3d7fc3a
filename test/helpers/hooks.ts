/**
 * What the hook tests share: a real local HTTP receiver that records every request and answers
 * as the test says, and real shell-script hooks that record their arguments, environment and
 * stdin in a file and answer with a fixed output and exit status.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReceivedRequest {
  method: string;
  /** path and query as received */
  url: string;
  /** the parsed query */
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface HookAnswer {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** wait this long before answering (a hook that hangs) */
  delayMs?: number;
}

export type HookResponder = (req: ReceivedRequest, n: number) => HookAnswer | Promise<HookAnswer>;

/** a local HTTP hook receiver on 127.0.0.1 */
export class HookReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: HookResponder = () => ({ status: 200 });
  #server: Server | undefined;
  #url = '';
  #waiters: (() => void)[] = [];

  /** the base URL, e.g. http://127.0.0.1:PORT */
  get url(): string {
    return this.#url;
  }

  async start(respond?: HookResponder): Promise<this> {
    if (respond) this.respond = respond;
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((r) => this.#server?.listen(0, '127.0.0.1', r));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.requests.push(r);
      const n = this.requests.length;
      for (const w of this.#waiters.splice(0)) w();
      void Promise.resolve(this.respond(r, n)).then(
        async (a) => {
          if (a.delayMs) await new Promise((t) => setTimeout(t, a.delayMs));
          if (res.destroyed) return;
          res.writeHead(a.status ?? 200, a.headers ?? {});
          res.end(a.body ?? '');
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  }

  /** resolves once `count` requests (matching `filter`, if given) have arrived */
  async waitFor(
    count: number,
    filter: (r: ReceivedRequest) => boolean = () => true,
    timeoutMs = 15000,
  ): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.requests.filter(filter);
      if (got.length >= count) return got;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`hook receiver: ${got.length}/${count} requests after ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

/** one call of a script hook, as recorded */
export interface ScriptCall {
  args: string[];
  /** the whole environment of the call */
  env: Record<string, string>;
  /** what the hook read on stdin (up to EOF) */
  stdin: string;
}

export interface ScriptHookOptions {
  /** printed on stdout */
  stdout?: string;
  /** exit status (default 0) */
  exitCode?: number;
  /** sleep this many seconds before answering (a hook that hangs) */
  sleepSeconds?: number;
  /** read stdin to EOF and record it (default false: stdin is left alone) */
  readStdin?: boolean;
}

/**
 * Shell-script hooks in a temporary directory. Each call of a script appends one JSON line
 * (args, env, stdin) to its record file; `calls(path)` reads them back. The recording uses
 * node (the test's own binary) so any byte of any variable is kept exactly.
 */
export class ScriptHooks {
  #dir = '';
  #n = 0;

  get dir(): string {
    return this.#dir;
  }

  async init(): Promise<this> {
    this.#dir = await mkdtemp(join(tmpdir(), 'sftpgo-hooks-'));
    return this;
  }

  /** writes an executable hook script and returns its absolute path */
  async script(name: string, o: ScriptHookOptions = {}): Promise<string> {
    const path = join(this.#dir, `${name}-${++this.#n}.sh`);
    const record = `${path}.calls`;
    const out = join(this.#dir, `${name}-${this.#n}.out`);
    await writeFile(out, o.stdout ?? '');
    const recorder = `const fs=require('fs');let stdin='';try{stdin=${o.readStdin ? "fs.readFileSync(0,'utf8')" : "''"}}catch{}fs.appendFileSync(${JSON.stringify(record)},JSON.stringify({args:process.argv.slice(1),env:process.env,stdin})+'\\n')`;
    const lines = [
      '#!/bin/sh',
      `${JSON.stringify(process.execPath)} -e ${shellQuote(recorder)} -- "$@"`,
      o.sleepSeconds ? `sleep ${o.sleepSeconds}` : '',
      `cat ${shellQuote(out)}`,
      `exit ${o.exitCode ?? 0}`,
    ];
    await writeFile(path, `${lines.filter((l) => l !== '').join('\n')}\n`);
    await chmod(path, 0o755);
    return path;
  }

  /** every recorded call of the script at `path`, oldest first */
  async calls(path: string): Promise<ScriptCall[]> {
    let text: string;
    try {
      text = await readFile(`${path}.calls`, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as ScriptCall);
  }

  /** waits until the script was called `count` times (hooks run asynchronously) */
  async waitForCalls(path: string, count: number, timeoutMs = 15000): Promise<ScriptCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.calls(path);
      if (c.length >= count) return c;
      if (Date.now() > deadline)
        throw new Error(`script hook ${path}: ${c.length}/${count} calls after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async cleanup(): Promise<void> {
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
