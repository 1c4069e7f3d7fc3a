/**
 * pino root logger with upstream's JSON line shape (zerolog in SFTPGo):
 * `{"level":"info","time":"2021-10-10T10:10:10.000Z","sender":"sftpd","message":"..."}`.
 * Field names used across the code base copy upstream (STYLE.md §F): sender, connection_id,
 * protocol, username, remote_addr, file_path, elapsed_ms, size_bytes.
 *
 * One key once per line. pino serializes child bindings into a string that each child appends
 * to its parent's, and appends the fields of a log call after them; it never deduplicates, so
 * `log.child({ sender: 'SFTP' }).info({ sender: 'Upload' })` wrote "sender" twice (strict JSON
 * consumers reject that; jq keeps the last). Loggers made here enforce, whatever a caller passes:
 * - a child's bindings REPLACE the parent's keys of the same name, in the parent's position
 *   (`onChild`, once per child; no cost when nothing clashes);
 * - a log call's field equal to a bound key wins over the binding, as JSON.parse/jq already
 *   read such lines ("last one wins"): the line is written through a memoized view of the logger
 *   without those bindings (`hooks.logMethod`: a few Set lookups per call, a view only on a clash);
 * - `level` and `time` are the line's own, and the message argument wins over a `message`
 *   field: such call-site fields are dropped.
 * Errors the client is told about (`expose: true`, e.g. not found, permission denied, quota
 * exceeded) are expected conditions: their `err` is logged without a stack trace.
 */
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { destination, pino, stdSerializers, symbols } from 'pino';
import { openLogFile } from './file-output.js';
import type { LogFile } from './file-output.js';

export type Logger = PinoLogger;

/** Secrets never reach a log line: these paths are replaced by "[redacted]". */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'access_secret',
  '*.access_secret',
  'private_key',
  '*.private_key',
  'payload',
  '*.payload',
  'key',
  '*.key',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];
export const REDACTED = '[redacted]';

export interface LoggerOptions {
  /** log file; empty/undefined = stdout (upstream `-l ""`) */
  filePath?: string;
  /** debug level when true, info otherwise (upstream `-v`) */
  verbose: boolean;
  maxSizeMB?: number;
  maxBackups?: number;
  maxAgeDays?: number;
  compress?: boolean;
  /** write here instead of filePath/stdout (tests, custom sinks) */
  stream?: DestinationStream;
}

export interface RootLogger {
  logger: Logger;
  /** flushes and closes the log file, if any */
  close(): Promise<void>;
  /** SIGUSR1: rotates the log file, or reopens it when it was moved away; undefined without a file */
  reopen(): Promise<'rotated' | 'reopened' | undefined>;
}

/** the keys bound to a logger (its own and its ancestors'), plus the line's reserved keys */
const BOUND_KEYS = Symbol('sftpgo.boundKeys');
/** memo of views of a logger without some bound keys (own property of each logger) */
const VIEWS = Symbol('sftpgo.views');
/** keys pino writes itself before the bindings (`message` after the call's fields) */
const RESERVED = ['level', 'time', 'message'] as const;

interface Internals {
  [symbols.chindingsSym]: string;
  [BOUND_KEYS]?: ReadonlySet<string>;
  [VIEWS]?: Map<string, Logger> | undefined;
}

function internals(l: Logger): Internals {
  return l as unknown as Internals;
}

/** the `,"k":v` chunk pino keeps for bindings; values are already serialized/redacted JSON */
function chindingsOf(bindings: Record<string, unknown>): string {
  let out = '';
  for (const [k, v] of Object.entries(bindings))
    out += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  return out;
}

function parseChindings(chunk: string): Record<string, unknown> {
  return chunk === '' ? {} : (JSON.parse(`{${chunk.slice(1)}}`) as Record<string, unknown>);
}

/**
 * onChild: pino has appended the child's bindings to the parent's chunk; when a key is bound
 * again, rebuild the chunk with the new value in the old position so each key appears once.
 */
function dedupeChildBindings(child: Logger): void {
  const parent = Object.getPrototypeOf(child) as Logger;
  const c = internals(child);
  const parentChunk = internals(parent)[symbols.chindingsSym];
  const parentKeys = internals(parent)[BOUND_KEYS] ?? new Set<string>(RESERVED);
  const own = parseChindings(c[symbols.chindingsSym].slice(parentChunk.length));
  const keys = new Set(parentKeys);
  let clash = false;
  for (const k of Object.keys(own)) {
    if (keys.has(k)) clash = true;
    // the line's own level/time/message win over such bindings
    if ((RESERVED as readonly string[]).includes(k)) delete own[k];
    keys.add(k);
  }
  if (clash) c[symbols.chindingsSym] = chindingsOf({ ...parseChindings(parentChunk), ...own });
  c[BOUND_KEYS] = keys;
  // views are per logger: never reuse the parent's (inherited through the prototype)
  c[VIEWS] = undefined;
}

/** the logger without the bindings named in `drop` (memoized: the same call sites repeat) */
function viewWithout(l: Logger, drop: readonly string[]): Logger {
  const li = internals(l);
  const memoKey = drop.join('\0');
  const views =
    Object.hasOwn(li, VIEWS) && li[VIEWS] ? li[VIEWS] : (li[VIEWS] = new Map<string, Logger>());
  let view = views.get(memoKey);
  if (!view) {
    const bound = parseChindings(li[symbols.chindingsSym]);
    for (const k of drop) delete bound[k];
    // a view has the level, stream and serializers of `l` (its own properties as they are now,
    // its prototype's); only its bindings differ. A sibling of `l`, not a child: making every
    // short-lived logger (one per WebDAV request) a prototype costs V8 far more than copying a
    // few properties. The level a view writes at is the call's, decided before the hook runs.
    view = Object.create(Object.getPrototypeOf(l) as object) as Logger;
    for (const k of Reflect.ownKeys(l)) {
      if (k === VIEWS) continue;
      Object.defineProperty(view, k, Object.getOwnPropertyDescriptor(l, k) as PropertyDescriptor);
    }
    const vi = internals(view);
    vi[symbols.chindingsSym] = chindingsOf(bound);
    const keys = new Set(li[BOUND_KEYS]);
    for (const k of drop) keys.delete(k);
    vi[BOUND_KEYS] = keys;
    vi[VIEWS] = undefined;
    views.set(memoKey, view);
  }
  return view;
}

/**
 * logMethod hook: a call-site field named like a binding wins over the binding (see the module
 * comment); call-site `level`/`time` and a `message` next to a message argument are dropped.
 */
function logMethod(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
  const o: unknown = args[0];
  const keys = internals(this)[BOUND_KEYS];
  if (keys === undefined || typeof o !== 'object' || o === null || o instanceof Error) {
    method.apply(this, args);
    return;
  }
  const fields = o as Record<string, unknown>;
  let drop: string[] | undefined;
  let reserved: string[] | undefined;
  for (const k in fields) {
    if (!keys.has(k) || !Object.hasOwn(fields, k) || fields[k] === undefined) continue;
    if (
      k === 'level' ||
      k === 'time' ||
      (k === 'message' && args.length > 1 && args[1] !== undefined)
    ) {
      (reserved ??= []).push(k);
    } else if (k !== 'message') (drop ??= []).push(k);
  }
  if (reserved) {
    const copy = { ...fields };
    for (const k of reserved) delete copy[k];
    args[0] = copy;
  }
  method.apply(drop ? viewWithout(this, drop) : this, args);
}

/**
 * `err` as pino's standard serializer, minus the stack trace for errors a client is told about
 * (`expose: true`): those are expected conditions, and a stack only buries the message.
 */
function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const s = stdSerializers.err(e) as unknown as Record<string, unknown>;
  if ((e as { expose?: unknown }).expose === true) delete s.stack;
  return s;
}

function pinoOptions(verbose: boolean): pino.LoggerOptions {
  return {
    level: verbose ? 'debug' : 'info',
    base: null,
    messageKey: 'message',
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    onChild: dedupeChildBindings,
    hooks: { logMethod },
  };
}

/** root loggers carry the reserved keys so the hooks see them from the first call */
function rootLogger(opts: pino.LoggerOptions, stream?: DestinationStream): Logger {
  const l = stream ? pino(opts, stream) : pino(opts);
  internals(l)[BOUND_KEYS] = new Set<string>(RESERVED);
  return l;
}

/** Root logger plus a close() for the file (service uses this one). */
export function openRootLogger(o: LoggerOptions): RootLogger {
  let file: LogFile | undefined;
  let stream: DestinationStream;
  if (o.stream) stream = o.stream;
  else if (o.filePath) {
    file = openLogFile({
      filePath: o.filePath,
      maxSizeMB: o.maxSizeMB ?? 10,
      maxBackups: o.maxBackups ?? 5,
      maxAgeDays: o.maxAgeDays ?? 28,
      compress: o.compress ?? false,
    });
    stream = file.stream;
  } else stream = destination({ dest: 1, sync: true });
  const logger = rootLogger(pinoOptions(o.verbose), stream);
  return {
    logger,
    close: async () => (file ? file.close() : undefined),
    reopen: async () => (file ? file.reopen() : undefined),
  };
}

/** The root logger; defaults as upstream `serve`: 10 MB, 5 backups, 28 days, no compression. */
export function createLogger(o: LoggerOptions): Logger {
  return openRootLogger(o).logger;
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return rootLogger({ ...pinoOptions(false), level: 'silent' });
}

/** Child logger for one module (`sender` as upstream: "sftpd", "httpd", "dataprovider" ...). */
export function senderLogger(root: Logger, sender: string): Logger {
  return root.child({ sender });
}

export interface ConnectionLogFields {
  sender: string;
  connection_id: string;
  protocol: string;
  username: string;
  remote_addr: string;
}

/** Child logger of one client connection. */
export function connectionLogger(root: Logger, f: ConnectionLogFields): Logger {
  return root.child({
    sender: f.sender,
    connection_id: f.connection_id,
    protocol: f.protocol,
    username: f.username,
    remote_addr: f.remote_addr,
  });
}

export interface ConnectionFailedFields {
  client_ip: string;
  username: string;
  /** upstream login methods: "password", "publickey", "keyboard-interactive", "TLSCertificate", "no_auth_tryed" ... */
  login_type: string;
  protocol: string;
  error: string;
}

/**
 * The `connection_failed` line upstream's fail2ban filter matches:
 * `"sender":"connection_failed","client_ip":"<HOST>"` (adjacent, in this order; debug level).
 * Use the root logger (no bindings) so nothing is placed between level/time and these fields.
 */
export function logConnectionFailed(root: Pick<Logger, 'debug'>, f: ConnectionFailedFields): void {
  root.debug({
    sender: 'connection_failed',
    client_ip: f.client_ip,
    username: f.username,
    login_type: f.login_type,
    protocol: f.protocol,
    error: f.error,
  });
}

export interface TransferLogFields {
  /** "Upload" or "Download" */
  operation: 'Upload' | 'Download';
  elapsed_ms: number;
  size_bytes: number;
  username: string;
  file_path: string;
  connection_id: string;
  protocol: string;
}

/** One line per finished transfer, upstream's TransferLog shape (info level). */
export function logTransfer(root: Logger, f: TransferLogFields): void {
  root.info({
    sender: f.operation,
    elapsed_ms: f.elapsed_ms,
    size_bytes: f.size_bytes,
    username: f.username,
    file_path: f.file_path,
    connection_id: f.connection_id,
    protocol: f.protocol,
  });
}
