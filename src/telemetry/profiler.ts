/**
 * The built-in profiler of the telemetry server (telemetry.enable_profiler), under /debug/pprof/
 * as upstream's, with what V8 can give instead of Go's pprof profiles:
 * - /debug/pprof/heap: a heap snapshot (`.heapsnapshot`, JSON), streamed as V8 writes it; open
 *   it in Chrome DevTools' Memory tab. Taking it pauses the process while the heap is walked.
 * - /debug/pprof/profile?seconds=N: a CPU profile (`.cpuprofile`, JSON) of the next N seconds
 *   (default 30, at most 60 as upstream's write timeout allows), taken through node:inspector;
 *   open it in DevTools' Performance tab. One at a time (409 while one runs); the client going
 *   away stops it.
 * - /debug/pprof/: the list of both.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { pipeline } from 'node:stream/promises';
import { getHeapSnapshot } from 'node:v8';

export const PPROF_PREFIX = '/debug/pprof/';
const DEFAULT_SECONDS = 30;
const MAX_SECONDS = 60;

const INDEX = `sftpgo-ts profiler

${PPROF_PREFIX}heap               a V8 heap snapshot (.heapsnapshot, for Chrome DevTools' Memory tab)
${PPROF_PREFIX}profile?seconds=N  a CPU profile of N seconds, default ${DEFAULT_SECONDS}, at most ${MAX_SECONDS} (.cpuprofile, for DevTools' Performance tab)
`;

export interface ProfilerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

function attachment(res: ServerResponse, name: string): void {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
}

/** the `seconds` query parameter as upstream reads it: not a positive integer -> the default */
export function profileSeconds(query: URLSearchParams): number | 'too long' {
  const raw = query.get('seconds') ?? '';
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : 0;
  if (!(n > 0)) return DEFAULT_SECONDS;
  return n > MAX_SECONDS ? 'too long' : n;
}

/** resolves after `ms`, or as soon as the request's client goes away (false then) */
function waitOrGone(req: IncomingMessage, res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (completed: boolean): void => {
      clearTimeout(timer);
      res.off('close', onClose);
      resolve(completed);
    };
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(true), ms);
    if (res.destroyed || req.destroyed) done(false);
    else res.on('close', onClose);
  });
}

export class Profiler {
  private cpuBusy = false;

  constructor(private readonly log: ProfilerLogger) {}

  /** answers a request under PPROF_PREFIX (or the prefix without its slash) */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const name = url.pathname.slice(PPROF_PREFIX.length);
    const head = req.method === 'HEAD';
    switch (name) {
      case '':
        sendText(res, 200, INDEX);
        return;
      case 'heap':
        attachment(res, `sftpgo-${stamp()}.heapsnapshot`);
        if (head) {
          res.end();
          return;
        }
        await this.heap(res);
        return;
      case 'profile':
        await this.cpu(req, res, url, head);
        return;
      default:
        sendText(res, 404, 'Unknown profile\n');
    }
  }

  private async heap(res: ServerResponse): Promise<void> {
    this.log.info({}, 'writing a heap snapshot');
    try {
      await pipeline(getHeapSnapshot(), res);
    } catch (e) {
      // the client went away, or V8 failed midway: the response cannot be fixed any more
      this.log.warn({ err: e }, 'heap snapshot not sent whole');
      res.destroy();
    }
  }

  private async cpu(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    head: boolean,
  ): Promise<void> {
    const seconds = profileSeconds(url.searchParams);
    if (seconds === 'too long') {
      sendText(res, 400, `profile duration exceeds the maximum of ${MAX_SECONDS} seconds\n`);
      return;
    }
    if (head) {
      attachment(res, `sftpgo-${stamp()}.cpuprofile`);
      res.end();
      return;
    }
    if (this.cpuBusy) {
      sendText(res, 409, 'Could not enable CPU profiling: a CPU profile is being taken already\n');
      return;
    }
    this.cpuBusy = true;
    const session = new Session();
    try {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      this.log.info({ seconds }, 'CPU profile started');
      const completed = await waitOrGone(req, res, seconds * 1000);
      const { profile } = await session.post('Profiler.stop');
      if (!completed) {
        this.log.info({}, 'CPU profile abandoned: the client went away');
        return;
      }
      attachment(res, `sftpgo-${stamp()}.cpuprofile`);
      res.end(JSON.stringify(profile));
    } finally {
      session.disconnect();
      this.cpuBusy = false;
    }
  }
}
