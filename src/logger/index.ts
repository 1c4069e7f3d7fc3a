/** Public surface of src/logger: pino root logger factory, child-logger helpers, redaction list. */
export {
  createLogger,
  openRootLogger,
  silentLogger,
  senderLogger,
  connectionLogger,
  logConnectionFailed,
  logTransfer,
  REDACT_PATHS,
  REDACTED,
} from './logger.js';
export type {
  Logger,
  LoggerOptions,
  RootLogger,
  ConnectionLogFields,
  ConnectionFailedFields,
  TransferLogFields,
} from './logger.js';
export { openLogFile } from './file-output.js';
export type { LogFile, LogFileOptions } from './file-output.js';
