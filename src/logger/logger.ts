/**
 * pino root logger with upstream's JSON line shape (zerolog in SFTPGo):
 * `{"level":"info","time":"2021-10-10T10:10:10.000Z","sender":"sftpd","message":"..."}`.
 * Field names used across the code base copy upstream (STYLE.md §F): sender, connection_id,
 * protocol, username, remote_addr, file_path, elapsed_ms, size_bytes.
 */
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { destination, pino } from 'pino';
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
}

function pinoOptions(verbose: boolean): pino.LoggerOptions {
  return {
    level: verbose ? 'debug' : 'info',
    base: null,
    messageKey: 'message',
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
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
  const logger = pino(pinoOptions(o.verbose), stream);
  return { logger, close: async () => (file ? file.close() : undefined) };
}

/** The root logger; defaults as upstream `serve`: 10 MB, 5 backups, 28 days, no compression. */
export function createLogger(o: LoggerOptions): Logger {
  return openRootLogger(o).logger;
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return pino({ ...pinoOptions(false), level: 'silent' });
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
export function logConnectionFailed(root: Logger, f: ConnectionFailedFields): void {
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
