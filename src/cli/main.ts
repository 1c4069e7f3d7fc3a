/**
 * The `sftpgo` executable: `serve`, `initprovider`, `revertprovider`, `--version`, plus the REST-client
 * subcommands registered by src/cli/commands. Exit codes: 0 ok, 1 failure, 2 usage error.
 * Flags win over their SFTPGO_* environment equivalents (reference §2), which win over defaults.
 */
import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import {
  Command,
  CommanderError,
  type OutputConfiguration,
} from '@commander-js/extra-typings';
import { loadConfig } from '../config/index.js';
import { initializeProvider, OLDEST_SCHEMA_VERSION, revertProvider } from '../dataprovider/index.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import { createKms } from '../kms/index.js';
import { openRootLogger } from '../logger/index.js';
import { runService, secretDecrypter, secretEncrypter, type StartServiceOptions, type TextSink } from '../service/index.js';
import { runSubsystem } from '../service/subsystem.js';
import { VERSION } from '../util/version.js';
import { registerClientCommands } from './commands/index.js';
import { parseBool, parseInteger } from './parse.js';
import { registerPortable } from './portable.js';

export interface MainIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: TextSink;
  stderr: TextSink;
  /** ends the process after a signal-triggered stop (default process.exit) */
  exit: (code: number) => void;
}

/** a usage problem found after commander parsed the line (bad env value, ...) -> exit 2 */
class UsageError extends Error {
  readonly exitCode = 2;
}

function fromEnv<T>(
  flag: T | undefined,
  env: MainIo['env'],
  name: string,
  parse: (v: string) => T,
): T | undefined {
  if (flag !== undefined) return flag;
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    return parse(raw);
  } catch (e) {
    throw new UsageError(`invalid value for ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const asString = (v: string): string => v;

function configDirOf(flag: string | undefined, env: MainIo['env']): string {
  return resolve(fromEnv(flag, env, 'SFTPGO_CONFIG_DIR', asString) ?? '.');
}

/**
 * What initprovider and revertprovider share: the config dir and file (flags, then env), the
 * loaded config, a logger for diagnostics on stderr (stdout carries only the result line), the KMS.
 */
function providerCommandSetup(o: { configDir?: string; configFile?: string }, env: MainIo['env']) {
  const configDir = configDirOf(o.configDir, env);
  const configFile = fromEnv(o.configFile, env, 'SFTPGO_CONFIG_FILE', asString);
  const { config } = loadConfig({ configDir, env, ...(configFile ? { configFile } : {}) });
  const logger = openRootLogger({ verbose: false, stream: process.stderr }).logger;
  return { configDir, config, logger, kms: createKms(config.kms, configDir) };
}

function buildProgram(io: MainIo): Command {
  const program = new Command()
    .name('sftpgo')
    .description(
      'Fully featured and highly configurable SFTP server with optional HTTP, FTP/S and WebDAV support ' +
        '(sftpgo-ts, compatible with SFTPGo 2.1.2)',
    )
    .version(`SFTPGo ${VERSION}`, '-v, --version', 'print the version and exit')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('serve')
    .description(
      'Start the SFTPGo service: the REST API and every protocol with an enabled binding. ' +
        'Unlike SFTPGo 2.1.2, a configuration with only the HTTP server enabled starts too.',
    )
    .option('-c, --config-dir <dir>', 'configuration directory (default ".", env SFTPGO_CONFIG_DIR)')
    .option('--config-file <file>', 'config file, absolute or relative to the config dir (env SFTPGO_CONFIG_FILE)')
    .option(
      '-l, --log-file-path <path>',
      'log file, relative to the config dir; "" logs to standard output (default "sftpgo.log", env SFTPGO_LOG_FILE_PATH)',
    )
    .option('-s, --log-max-size <MB>', 'rotate the log file at this size (default 10, env SFTPGO_LOG_MAX_SIZE)', parseInteger)
    .option('-b, --log-max-backups <n>', 'rotated log files to keep (default 5, env SFTPGO_LOG_MAX_BACKUPS)', parseInteger)
    .option('-a, --log-max-age <days>', 'days to keep rotated logs (default 28, env SFTPGO_LOG_MAX_AGE)', parseInteger)
    .option('-z, --log-compress [bool]', 'gzip rotated log files (default false, env SFTPGO_LOG_COMPRESS)', parseBool)
    .option('-v, --log-verbose [bool]', 'debug level logs (default true, env SFTPGO_LOG_VERBOSE)', parseBool)
    .option('--loaddata-from <file>', 'absolute path of a dump to load at start (env SFTPGO_LOADDATA_FROM)')
    .option(
      '--loaddata-mode <n>',
      '0 add and update, 1 add only (default 1, env SFTPGO_LOADDATA_MODE)',
      parseInteger,
    )
    .option(
      '--loaddata-scan <n>',
      'quota scan after loading: 0 none, 1 all users, 2 users with quota (default 0, env SFTPGO_LOADDATA_QUOTA_SCAN)',
      parseInteger,
    )
    .option('--loaddata-clean [bool]', 'remove the dump after loading it (default false, env SFTPGO_LOADDATA_CLEAN)', parseBool)
    .action(async (o) => {
      const env = io.env;
      const configDir = configDirOf(o.configDir, env);
      const opts: StartServiceOptions = {
        configDir,
        configFile: fromEnv(o.configFile, env, 'SFTPGO_CONFIG_FILE', asString),
        env,
        logFilePath: o.logFilePath ?? env.SFTPGO_LOG_FILE_PATH ?? 'sftpgo.log',
        logMaxSize: fromEnv(o.logMaxSize, env, 'SFTPGO_LOG_MAX_SIZE', parseInteger) ?? 10,
        logMaxBackups: fromEnv(o.logMaxBackups, env, 'SFTPGO_LOG_MAX_BACKUPS', parseInteger) ?? 5,
        logMaxAge: fromEnv(o.logMaxAge, env, 'SFTPGO_LOG_MAX_AGE', parseInteger) ?? 28,
        logCompress: fromEnv(o.logCompress, env, 'SFTPGO_LOG_COMPRESS', parseBool) ?? false,
        logVerbose: fromEnv(o.logVerbose, env, 'SFTPGO_LOG_VERBOSE', parseBool) ?? true,
        loaddataFrom: fromEnv(o.loaddataFrom, env, 'SFTPGO_LOADDATA_FROM', asString),
        loaddataMode: fromEnv(o.loaddataMode, env, 'SFTPGO_LOADDATA_MODE', parseInteger) ?? 1,
        loaddataScan: fromEnv(o.loaddataScan, env, 'SFTPGO_LOADDATA_QUOTA_SCAN', parseInteger) ?? 0,
        loaddataClean: fromEnv(o.loaddataClean, env, 'SFTPGO_LOADDATA_CLEAN', parseBool) ?? false,
        summary: io.stderr,
      };
      await runService(opts, { exit: io.exit });
    });

  program
    .command('initprovider')
    .description(
      'Initialize or update the data provider schema (needed when data_provider.update_mode is 1)',
    )
    .option('-c, --config-dir <dir>', 'configuration directory (default ".", env SFTPGO_CONFIG_DIR)')
    .option('--config-file <file>', 'config file, absolute or relative to the config dir (env SFTPGO_CONFIG_FILE)')
    .action(async (o) => {
      const { configDir, config, logger, kms } = providerCommandSetup(o, io.env);
      try {
        const r = await initializeProvider(config.data_provider, { configDir, logger, kms: secretEncrypter(kms) });
        io.stdout.write(
          r === 'created'
            ? 'Data provider successfully initialized/updated\n'
            : 'The data provider is up to date\n',
        );
      } catch (e) {
        throw new SftpgoError('INTERNAL', `Unable to initialize/update the data provider: ${exposedMessage(e)}`, {
          cause: e,
          expose: true,
        });
      }
    });

  program
    .command('startsubsys')
    .description(
      'Serve SFTP on standard input/output as OpenSSH\'s SFTP subsystem, for the OS user sshd ' +
        'authenticated ("Subsystem sftp /usr/bin/sftpgo startsubsys" in sshd_config; the flags go on that line). ' +
        'The data provider\'s user of the same name is served, with its rules, and created when missing; ' +
        'an sqlite provider is replaced by a private in-memory one. ' +
        'Unlike SFTPGo 2.1.2: a new user gets a random password (not the logged connection id) and is enabled, ' +
        'a relative --base-home-dir is an error, -l is ours, -j is refused',
    )
    .option('-c, --config-dir <dir>', 'configuration directory (default ".", env SFTPGO_CONFIG_DIR)')
    .option('--config-file <file>', 'config file, absolute or relative to the config dir (env SFTPGO_CONFIG_FILE)')
    .option(
      '-p, --preserve-home [bool]',
      'if the user already exists, keep its home directory instead of setting it to the OS user\'s home (default false)',
      parseBool,
    )
    .option(
      '-d, --base-home-dir <dir>',
      'absolute directory: a new user\'s home is <base-home-dir>/<username> instead of the OS user\'s home',
    )
    .option(
      '-j, --log-to-journald [bool]',
      'send the logs to journald (not implemented in sftpgo-ts: refused; use -l or the default standard error)',
      parseBool,
    )
    .option(
      '-l, --log-file-path <path>',
      'log file, relative to the config dir, appended to and never rotated (sftpgo-ts; default "": standard error)',
    )
    .option('-v, --log-verbose [bool]', 'debug level logs (default true, env SFTPGO_LOG_VERBOSE)', parseBool)
    .action(async (o) => {
      const env = io.env;
      if (o.logToJournald === true) {
        throw new UsageError(
          'logging to journald (-j, --log-to-journald) is not implemented in sftpgo-ts: omit it to log to ' +
            'standard error, or use -l/--log-file-path',
        );
      }
      const baseHomeDir = o.baseHomeDir ?? '';
      if (baseHomeDir !== '' && !isAbsolute(baseHomeDir)) {
        throw new UsageError(`--base-home-dir must be an absolute path, got ${JSON.stringify(baseHomeDir)}`);
      }
      const os = userInfo();
      const code = await runSubsystem({
        configDir: configDirOf(o.configDir, env),
        configFile: fromEnv(o.configFile, env, 'SFTPGO_CONFIG_FILE', asString),
        env,
        preserveHome: o.preserveHome === true,
        baseHomeDir,
        logVerbose: fromEnv(o.logVerbose, env, 'SFTPGO_LOG_VERBOSE', parseBool) ?? true,
        logFilePath: o.logFilePath ?? '',
        osUser: { username: os.username, homedir: os.homedir },
        input: process.stdin,
        output: process.stdout,
        stderr: io.stderr,
      });
      // stdin may still be open (a session closed by a signal): it must not keep the process alive
      process.stdin.destroy();
      if (code !== 0) throw Object.assign(new Error('the SFTP session did not end normally'), { exitCode: code });
    });

  program
    .command('revertprovider')
    .description(
      'Revert the data provider schema to a previous version: 8 is the layout of SFTPGo 2.0.x ' +
        '(the columns added later and their data are dropped). Not supported for the memory provider',
    )
    .option('-c, --config-dir <dir>', 'configuration directory (default ".", env SFTPGO_CONFIG_DIR)')
    .option('--config-file <file>', 'config file, absolute or relative to the config dir (env SFTPGO_CONFIG_FILE)')
    .requiredOption('--to-version <version>', '8 means the version supported in SFTPGo v2.0.x')
    .action(async (o) => {
      // as upstream, any other value (a number or not) exits 1, before the config is read
      const toVersion = o.toVersion.trim() === String(OLDEST_SCHEMA_VERSION) ? OLDEST_SCHEMA_VERSION : undefined;
      if (toVersion === undefined) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `Unsupported target version ${JSON.stringify(o.toVersion)}, ${OLDEST_SCHEMA_VERSION} is the only supported one`,
        );
      }
      const { configDir, config, logger, kms } = providerCommandSetup(o, io.env);
      try {
        const r = await revertProvider(config.data_provider, toVersion, {
          configDir,
          logger,
          // decrypts the Azure Blob SAS URLs, stored in clear before version 10
          kms: { ...secretEncrypter(kms), decrypt: secretDecrypter(kms) },
        });
        io.stdout.write(
          r === 'reverted'
            ? `Data provider successfully reverted to version ${toVersion}\n`
            : `The data provider is already at version ${toVersion}, nothing to do\n`,
        );
      } catch (e) {
        throw new SftpgoError('INTERNAL', `Error reverting provider: ${exposedMessage(e)}`, {
          cause: e,
          expose: true,
        });
      }
    });

  registerPortable(program, io);
  registerClientCommands(program);

  const output: OutputConfiguration = {
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
  };
  const configure = (c: Command): void => {
    c.exitOverride();
    c.configureOutput(output);
    for (const sub of c.commands) configure(sub as Command);
  };
  configure(program);
  return program;
}

function commanderExitCode(e: CommanderError): number {
  switch (e.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return 0;
    case 'commander.help':
      return e.exitCode === 0 ? 0 : 2;
    case 'commander.error':
    case 'commander.executeSubCommandAsync':
      return e.exitCode;
    default:
      return 2;
  }
}

function errorMessage(e: unknown): string {
  if (SftpgoError.is(e)) return exposedMessage(e);
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Runs the CLI. Returns the exit code; with the default io it is also set as process.exitCode.
 * `serve` returns once the service is up and leaves the process running.
 */
export async function main(argv: readonly string[], io: Partial<MainIo> = {}): Promise<number> {
  const full: MainIo = {
    env: io.env ?? process.env,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    exit: io.exit ?? ((code: number) => process.exit(code)),
  };
  let code = 0;
  try {
    await buildProgram(full).parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      code = commanderExitCode(e);
    } else {
      const exitCode = (e as { exitCode?: unknown }).exitCode;
      code = typeof exitCode === 'number' && exitCode > 0 ? exitCode : 1;
      full.stderr.write(`Error: ${errorMessage(e)}\n`);
    }
  }
  if (io.exit === undefined && io.stdout === undefined) process.exitCode = code;
  return code;
}
