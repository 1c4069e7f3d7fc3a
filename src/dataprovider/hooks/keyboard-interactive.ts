/**
 * The keyboard-interactive authentication hook (`sftpd.keyboard_interactive_auth_hook`), as
 * SFTPGo 2.1.2 runs it (upstream dataprovider.go executeKeyboardInteractiveProgram and
 * executeKeyboardInteractiveHTTPHook): the hook asks questions, SFTPGo relays them to the SSH
 * client and hands the answers back, round after round, until the hook gives a result.
 *
 * One round is a JSON object `{"instruction": str, "questions": [str], "echos": [bool],
 * "check_password": int, "auth_result": int}`:
 * - `auth_result` other than 0 ends the exchange with that result (1 = success), before any
 *   validation, so `{"auth_result": 1}` alone is valid;
 * - otherwise `questions` must be non-empty and as long as `echos`, and the client must answer
 *   each question;
 * - with exactly one question and `check_password` > 0, the answer is checked as the user's
 *   password (check-password hook included) and, when right, sent on as `OK`.
 *
 * Program: env SFTPGO_AUTHD_USERNAME, SFTPGO_AUTHD_IP, SFTPGO_AUTHD_PASSWORD (the stored hash);
 * one round per stdout line, the answers written to stdin one per line; the whole exchange is
 * killed after 60 s; a line that is not a valid round, or a line longer than 64 KiB, ends it as
 * a failure, and so does the end of stdout without a result. The program is killed as soon as
 * the exchange ends; its exit status is never read.
 *
 * HTTP: one POST per round, plain client, body `{"request_id", "username", "ip", "password",
 * "answers", "questions"}` with empty fields left out (so only the first request has `ip`, and
 * only the later ones `answers` and `questions`), the answer a 200 whose first JSON value is
 * the round. Any error fails.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SftpgoError } from '../../errors/index.js';
import type { HookHttpClient } from '../../util/hooks/http-client.js';
import { checkProgramPath, hookEnv, isHttpHook } from '../../util/hooks/program.js';
import { MAX_HOOK_ANSWER } from './login-hooks.js';

/** upstream's limit for the whole exchange with a program */
export const KEYBOARD_INTERACTIVE_TIMEOUT_MS = 60_000;
/** bufio.Scanner's default token limit: a longer line ends the exchange */
const MAX_LINE = 64 * 1024;

/** asks the SSH client; resolves with one answer per question */
export type KeyboardInteractiveChallenge = (
  instruction: string,
  questions: string[],
  echos: boolean[],
) => Promise<string[]>;

export interface KeyboardInteractiveOptions {
  /** sftpd.keyboard_interactive_auth_hook */
  authHook: string;
  http?: HookHttpClient | undefined;
  username: string;
  ip: string;
  /** the stored password hash, '' when none */
  passwordHash: string;
  challenge: KeyboardInteractiveChallenge;
  /** checks an answer as the user's password (a check_password round); throws when wrong */
  checkPassword: (answer: string) => Promise<void>;
  /** Info/Warn lines, as upstream logs them */
  log: (level: 'info' | 'warn', msg: string) => void;
  /** program time limit (tests); default KEYBOARD_INTERACTIVE_TIMEOUT_MS */
  timeoutMs?: number | undefined;
}

interface Round {
  instruction: string;
  questions: string[];
  echos: boolean[];
  checkPassword: number;
  authResult: number;
}

function failed(msg: string, cause?: unknown): Error {
  return new Error(msg, cause === undefined ? {} : { cause });
}

/** one round from a decoded JSON value; throws on a shape upstream's decoder would refuse */
function toRound(v: unknown): Round {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw failed('interactive auth error parsing response: not a JSON object');
  }
  const r = v as Record<string, unknown>;
  const int = (k: string): number => {
    const x = r[k] ?? 0;
    if (typeof x !== 'number' || !Number.isInteger(x)) {
      throw failed(`interactive auth error parsing response: ${k} is not an integer`);
    }
    return x;
  };
  const list = <T>(k: string, type: 'string' | 'boolean'): T[] => {
    const x = r[k] ?? [];
    if (!Array.isArray(x) || x.some((e) => typeof e !== type)) {
      throw failed(`interactive auth error parsing response: ${k} is not a list of ${type}s`);
    }
    return x as T[];
  };
  const instruction = r['instruction'] ?? '';
  if (typeof instruction !== 'string') {
    throw failed('interactive auth error parsing response: instruction is not a string');
  }
  return {
    instruction,
    questions: list<string>('questions', 'string'),
    echos: list<boolean>('echos', 'boolean'),
    checkPassword: int('check_password'),
    authResult: int('auth_result'),
  };
}

function parseRound(text: string): Round {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw failed(`interactive auth error parsing response: ${(e as Error).message}`, e);
  }
  return toRound(v);
}

/** the first JSON value of an HTTP answer (trailing data ignored, as Go's json.Decoder) */
function firstJsonValue(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (first) {
    const start = body.search(/\S/);
    if (start >= 0 && body[start] === '{') {
      let depth = 0;
      let inString = false;
      for (let i = start; i < body.length; i++) {
        const c = body[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) return JSON.parse(body.slice(start, i + 1));
      }
    }
    throw first;
  }
}

/**
 * Validates a round and asks the client; returns the answers to send back (a checked password
 * replaced by OK). Throws when the round or the answers are not acceptable.
 */
async function askClient(r: Round, o: KeyboardInteractiveOptions): Promise<string[]> {
  if (r.questions.length === 0) {
    throw failed('interactive auth error: hook response does not contain questions');
  }
  if (r.questions.length !== r.echos.length) {
    throw failed(
      `interactive auth error, questions don't match echos: ${r.questions.length} ${r.echos.length}`,
    );
  }
  const answers = await o.challenge(r.instruction, r.questions, r.echos);
  if (answers.length !== r.questions.length) {
    throw failed(
      `interactive auth error: ${answers.length} answers for ${r.questions.length} questions`,
    );
  }
  if (r.questions.length === 1 && r.checkPassword > 0) {
    try {
      await o.checkPassword(answers[0] ?? '');
    } catch (e) {
      const msg = `interactive auth hook requested password validation for user ${JSON.stringify(o.username)}, validation error: ${(e as Error).message}`;
      o.log('info', msg);
      throw failed(msg, e);
    }
    return ['OK'];
  }
  return answers;
}

/** the program protocol; resolves with the auth result (0 when none was given) */
function runProgramExchange(o: KeyboardInteractiveOptions): Promise<number> {
  checkProgramPath(o.authHook);
  const child = spawn(o.authHook, [], {
    env: hookEnv({
      SFTPGO_AUTHD_USERNAME: o.username,
      SFTPGO_AUTHD_IP: o.ip,
      SFTPGO_AUTHD_PASSWORD: o.passwordHash,
    }),
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  // writes after the program exited fail with EPIPE: the exchange then ends on its own
  child.stdin.on('error', () => undefined);
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let buf = '';
    // rounds are handled one at a time, in order: the program waits for its answers anyway
    let chain: Promise<void> = Promise.resolve();
    const finish = (err: Error | undefined, result = 0): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdin.end();
      // killed at once, as upstream; the exit status is never read
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdout.destroy();
      if (err) reject(err);
      else resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish(
          failed(
            `keyboard interactive program timed out after ${o.timeoutMs ?? KEYBOARD_INTERACTIVE_TIMEOUT_MS} ms, killed`,
          ),
        ),
      o.timeoutMs ?? KEYBOARD_INTERACTIVE_TIMEOUT_MS,
    );
    const onLine = async (line: string): Promise<void> => {
      if (settled) return;
      const r = parseRound(line);
      if (r.authResult !== 0) {
        finish(undefined, r.authResult);
        return;
      }
      const answers = await askClient(r, o);
      if (settled) return;
      child.stdin.write(answers.map((a) => `${a}\n`).join(''));
    };
    child.on('error', (e) =>
      finish(failed(`keyboard interactive program could not be run: ${e.message}`, e)),
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (settled) return;
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        chain = chain.then(() => onLine(line));
      }
      if (buf.length > MAX_LINE) {
        // bufio.Scanner stops at a token over its limit: no result, a failure
        buf = '';
        o.log('info', 'kill interactive auth program after an unexpected error');
        chain = chain.then(() => finish(undefined, 0));
      }
      chain = chain.catch((e: unknown) => {
        o.log('info', 'kill interactive auth program after an unexpected error');
        finish(e instanceof Error ? e : failed(String(e)));
      });
    });
    // end of stdout: the last line (without its newline) counts, then no result means failure
    child.stdout.on('end', () => {
      const last = buf;
      buf = '';
      chain = chain
        .then(() => (last === '' ? undefined : onLine(last)))
        .then(() => finish(undefined, 0))
        .catch((e: unknown) => finish(e instanceof Error ? e : failed(String(e))));
    });
  });
}

/** the HTTP protocol; resolves with the auth result */
async function runHttpExchange(o: KeyboardInteractiveOptions): Promise<number> {
  const http = o.http;
  if (http === undefined) throw failed('no HTTP client for the keyboard interactive hook');
  // upstream's xid is 20 characters; any unique 20-character id does
  const requestId = randomBytes(10).toString('hex');
  let answers: string[] = [];
  let questions: string[] = [];
  for (let round = 0; ; round++) {
    const body: Record<string, unknown> = { request_id: requestId, username: o.username };
    if (round === 0 && o.ip !== '') body['ip'] = o.ip;
    if (o.passwordHash !== '') body['password'] = o.passwordHash;
    if (answers.length > 0) body['answers'] = answers;
    if (questions.length > 0) body['questions'] = questions;
    let res;
    try {
      res = await http.request({
        method: 'POST',
        url: o.authHook,
        body: JSON.stringify(body),
        retryable: false,
        maxBody: MAX_HOOK_ANSWER,
      });
    } catch (e) {
      o.log(
        'warn',
        `error getting keyboard interactive auth hook HTTP response: ${(e as Error).message}`,
      );
      throw e;
    }
    if (res.status !== 200) {
      throw failed(`wrong keyboard interactive auth http status code: ${res.status}, expected 200`);
    }
    let r: Round;
    try {
      r = toRound(firstJsonValue(res.body.toString('utf8')));
    } catch (e) {
      throw failed(`interactive auth error parsing response: ${(e as Error).message}`, e);
    }
    if (r.authResult !== 0) return r.authResult;
    answers = await askClient(r, o);
    questions = r.questions;
  }
}

/**
 * Runs the exchange and returns when the hook answered 1; throws AUTH_FAILED for any other
 * result and for any error (the message says which).
 */
export async function keyboardInteractiveAuth(o: KeyboardInteractiveOptions): Promise<void> {
  let result: number;
  try {
    result = isHttpHook(o.authHook) ? await runHttpExchange(o) : await runProgramExchange(o);
  } catch (e) {
    throw new SftpgoError(
      'AUTH_FAILED',
      `keyboard interactive hook error: ${(e as Error).message}`,
      {
        cause: e,
        expose: false,
      },
    );
  }
  if (result !== 1) {
    throw new SftpgoError('AUTH_FAILED', `keyboard interactive auth failed, result: ${result}`);
  }
}
