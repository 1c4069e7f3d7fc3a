/**
 * Test doubles for the client subcommands (used only by *.test.ts): a fake IO that records what
 * is printed, a fake REST server behind the client's fetch, and a factory wired to both.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchFn } from '../../client/index.js';
import type { AnyCommand } from './cmd.js';
import { CancelError } from './errors.js';
import { createFactory, type Factory } from './factory.js';
import type { IO } from './io.js';

export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface FakeIO extends IO {
  out(): string;
  err(): string;
  /** the questions asked */
  questions: string[];
}

export function fakeIO(o: { tty?: boolean; answers?: string[]; stdin?: string } = {}): FakeIO {
  let out = '';
  let err = '';
  const answers = [...(o.answers ?? [])];
  const questions: string[] = [];
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    isTTY: o.tty ?? false,
    canPrompt: o.tty ?? false,
    columns: 100,
    prompt(q) {
      questions.push(q);
      const a = answers.shift();
      return a === undefined ? Promise.reject(new CancelError()) : Promise.resolve(a);
    },
    readStdin: () => Promise.resolve(Buffer.from(o.stdin ?? '')),
    out: () => out,
    err: () => err,
    questions,
  };
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  auth: string | null;
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
  text?: string;
}

export type Routes = Record<string, (req: FakeRequest) => FakeResponse>;

export const ADMIN_PASSWORD = 'secret';

/** A REST server in a fetch: routes are "METHOD /path" under /api/v2 (or /healthz). */
export function fakeServer(routes: Routes): { fetch: FetchFn; calls: FakeRequest[] } {
  const calls: FakeRequest[] = [];
  const fetch: FetchFn = async (req) => {
    const u = new URL(req.url);
    const text = req.body === null ? '' : await req.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text; // not JSON: kept as text
    }
    const path = decodeURIComponent(u.pathname).replace(/^\/api\/v2/, '');
    const r: FakeRequest = { method: req.method, path, query: Object.fromEntries(u.searchParams), body, auth: req.headers.get('authorization') };
    if (path === '/token' && routes['GET /token'] === undefined) {
      const ok = r.auth === `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
      return ok
        ? Response.json({ access_token: 'tok', expires_at: new Date(Date.now() + 15 * 60_000).toISOString() })
        : Response.json({ message: 'Unauthorized', error: 'invalid credentials' }, { status: 401 });
    }
    calls.push(r);
    const h = routes[`${r.method} ${path}`];
    if (h === undefined) return Response.json({ message: 'Not Found', error: `no fake route ${r.method} ${path}` }, { status: 404 });
    const res = h(r);
    if (res.text !== undefined) return new Response(res.text, { status: res.status ?? 200 });
    return Response.json(res.body ?? { message: 'OK' }, { status: res.status ?? 200 });
  };
  return { fetch, calls };
}

export interface Harness {
  f: Factory;
  io: FakeIO;
  calls: FakeRequest[];
  configHome: string;
}

export function harness(o: { tty?: boolean; answers?: string[]; stdin?: string; routes?: Routes; env?: Record<string, string | undefined> } = {}): Harness {
  const io = fakeIO(o);
  const server = fakeServer(o.routes ?? {});
  const configHome = mkdtempSync(join(tmpdir(), 'sftpgo-cli-test-'));
  const f = createFactory({
    io,
    env: { SFTPGO_URL: 'http://127.0.0.1:9', SFTPGO_ADMIN_PASSWORD: ADMIN_PASSWORD, XDG_CONFIG_HOME: configHome, ...o.env },
    fetch: server.fetch,
    exit: (code) => {
      throw new ExitError(code);
    },
    fail: (code) => {
      throw new ExitError(code);
    },
  });
  return { f, io, calls: server.calls, configHome };
}

/** Parses and runs `args` on a command; returns the exit code (0 when it returned normally). */
export async function execute(cmd: AnyCommand, args: readonly string[]): Promise<number> {
  try {
    await cmd.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof ExitError) return e.code;
    throw e;
  }
}

/** A run function that records the options it was called with. */
export function capture<O>(): { run: (o: O) => Promise<void>; calls: O[] } {
  const calls: O[] = [];
  return { calls, run: (o) => (calls.push(o), Promise.resolve()) };
}
