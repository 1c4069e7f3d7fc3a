/**
 * `sftpgo portable` (upstream cmd/portable.go and service/service_portable.go at v2.1.2): serves
 * one directory (or one bucket/container/remote SFTP path) to one temporary user over SFTP and,
 * when asked, FTP and WebDAV, with no REST API and no telemetry.
 *
 * Differences from upstream, on purpose:
 * - the accounts live in an SQLite file in a temporary directory (upstream: its memory provider,
 *   which sftpgo-ts does not have), removed with the host keys when the process stops;
 * - no config file and no SFTPGO_* variable is read: everything comes from the flags, so what
 *   runs is exactly what the command line says;
 * - `--bind-address` (ours; default "" = every interface, as upstream) limits the listeners;
 *   mDNS (`-S`) still advertises the host name and every address of the host, as upstream.
 *
 * With `-S` every running protocol is advertised over mDNS (src/service/mdns.ts), with `-C` the
 * credentials too; the goodbye packets go out on stop, before the servers close.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import { VERSION } from '../util/version.js';
import {
  planAdvertisements,
  startAdvertising,
  type AdvertisedProtocol,
  type Advertiser,
} from './mdns.js';
import { runService } from './signals.js';
import type { RunningService } from './start.js';

export interface PortableOptions {
  directory: string;
  /** 0 = a random port in 49152-64151, < 0 = off */
  sftpdPort: number;
  ftpdPort: number;
  webdavPort: number;
  bindAddress: string;
  sshCommands: string[];
  username: string;
  password: string;
  publicKeys: string[];
  permissions: string[];
  /** "/dir::p1,p2" */
  allowedPatterns: string[];
  deniedPatterns: string[];
  logFilePath: string;
  logVerbose: boolean;
  advertiseService: boolean;
  advertiseCredentials: boolean;
  ftpdCert: string;
  ftpdKey: string;
  webdavCert: string;
  webdavKey: string;
  fsProvider: number;
  s3: {
    bucket: string;
    region: string;
    accessKey: string;
    accessSecret: string;
    endpoint: string;
    storageClass: string;
    keyPrefix: string;
    uploadPartSize: number;
    uploadConcurrency: number;
  };
  gcs: {
    bucket: string;
    storageClass: string;
    keyPrefix: string;
    credentialsFile: string;
    automaticCredentials: number;
  };
  azure: {
    container: string;
    accountName: string;
    accountKey: string;
    sasUrl: string;
    endpoint: string;
    accessTier: string;
    keyPrefix: string;
    uploadPartSize: number;
    uploadConcurrency: number;
    useEmulator: boolean;
  };
  cryptoPassphrase: string;
  sftp: {
    endpoint: string;
    username: string;
    password: string;
    keyPath: string;
    prefix: string;
    fingerprints: string[];
    disableConcurrentReads: boolean;
    bufferSize: number;
  };
}

/** upstream's range for a port given as 0 */
const RANDOM_PORT_MIN = 49152;
const RANDOM_PORT_MAX = 64151;

const plain = (payload: string): { status: 'Plain'; payload: string } | undefined =>
  payload === '' ? undefined : { status: 'Plain', payload };

/** "/dir::p1,p2" -> { path, patterns } (upstream getPatternsFromString) */
export function parsePatterns(values: readonly string[]): { path: string; patterns: string[] }[] {
  return values.map((v) => {
    const i = v.indexOf('::');
    if (i < 0)
      throw new SftpgoError(
        'INVALID_INPUT',
        `invalid file pattern filter ${JSON.stringify(v)}: expected "/dir::pattern1,pattern2"`,
      );
    const path = v.slice(0, i).trim();
    const patterns = v
      .slice(i + 2)
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter((p) => p !== '');
    return { path, patterns };
  });
}

function filePatterns(o: PortableOptions): NonNullable<User['filters']>['file_patterns'] {
  const byPath = new Map<
    string,
    { path: string; allowed_patterns?: string[]; denied_patterns?: string[] }
  >();
  const add = (
    list: { path: string; patterns: string[] }[],
    key: 'allowed_patterns' | 'denied_patterns',
  ): void => {
    for (const { path, patterns } of list) {
      const e = byPath.get(path) ?? { path };
      const merged: string[] = [...(e[key] ?? []), ...patterns];
      if (key === 'allowed_patterns') e.allowed_patterns = merged;
      else e.denied_patterns = merged;
      byPath.set(path, e);
    }
  };
  add(parsePatterns(o.allowedPatterns), 'allowed_patterns');
  add(parsePatterns(o.deniedPatterns), 'denied_patterns');
  return [...byPath.values()];
}

async function filesystemOf(o: PortableOptions): Promise<User['filesystem']> {
  switch (o.fsProvider) {
    case 0:
      return { provider: 0 };
    case 1:
      return {
        provider: 1,
        s3config: {
          bucket: o.s3.bucket,
          region: o.s3.region,
          access_key: o.s3.accessKey,
          access_secret: plain(o.s3.accessSecret),
          endpoint: o.s3.endpoint,
          storage_class: o.s3.storageClass,
          key_prefix: o.s3.keyPrefix,
          upload_part_size: o.s3.uploadPartSize,
          upload_concurrency: o.s3.uploadConcurrency,
        },
      };
    case 2:
      return {
        provider: 2,
        gcsconfig: {
          bucket: o.gcs.bucket,
          storage_class: o.gcs.storageClass,
          key_prefix: o.gcs.keyPrefix,
          automatic_credentials: o.gcs.automaticCredentials === 0 ? 0 : 1,
          credentials: plain(
            o.gcs.credentialsFile === '' ? '' : await readFile(o.gcs.credentialsFile, 'utf8'),
          ),
        },
      };
    case 3:
      return {
        provider: 3,
        azblobconfig: {
          container: o.azure.container,
          account_name: o.azure.accountName,
          account_key: plain(o.azure.accountKey),
          sas_url: plain(o.azure.sasUrl),
          endpoint: o.azure.endpoint,
          access_tier: o.azure.accessTier as '' | 'Archive' | 'Hot' | 'Cool',
          key_prefix: o.azure.keyPrefix,
          upload_part_size: o.azure.uploadPartSize,
          upload_concurrency: o.azure.uploadConcurrency,
          use_emulator: o.azure.useEmulator,
        },
      };
    case 4:
      return { provider: 4, cryptconfig: { passphrase: plain(o.cryptoPassphrase) } };
    case 5:
      return {
        provider: 5,
        sftpconfig: {
          endpoint: o.sftp.endpoint,
          username: o.sftp.username,
          password: plain(o.sftp.password),
          private_key: plain(o.sftp.keyPath === '' ? '' : await readFile(o.sftp.keyPath, 'utf8')),
          prefix: o.sftp.prefix,
          fingerprints: o.sftp.fingerprints,
          disable_concurrent_reads: o.sftp.disableConcurrentReads,
          buffer_size: o.sftp.bufferSize,
        },
      };
    default:
      throw new SftpgoError(
        'INVALID_INPUT',
        `invalid fs provider ${o.fsProvider}: expected 0 to 5`,
      );
  }
}

function pickPort(p: number): number {
  if (p < 0) return 0;
  if (p === 0) return randomInt(RANDOM_PORT_MIN, RANDOM_PORT_MAX + 1);
  return p;
}

function isAddrInUse(e: unknown): boolean {
  const text =
    e instanceof Error
      ? `${e.message} ${String((e.cause as { code?: unknown } | undefined)?.code)}`
      : '';
  return text.includes('EADDRINUSE');
}

export interface PortableHandle {
  service: RunningService;
  user: User;
  /** the generated password, when none was given */
  generatedPassword: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts portable mode; the returned handle's stop() (also run on SIGTERM/SIGINT) stops the
 * servers and removes the temporary directory.
 */
export async function startPortable(
  o: PortableOptions,
  io: { stderr: { write(s: string): unknown }; exit?: (code: number) => void },
): Promise<PortableHandle> {
  if (o.sftpdPort < 0 && o.ftpdPort < 0 && o.webdavPort < 0) {
    throw new SftpgoError(
      'INVALID_INPUT',
      'portable mode needs at least one of --sftpd-port, --ftpd-port, --webdav-port enabled',
    );
  }
  // upstream: a relative directory with a cloud provider becomes the OS temp dir
  const directory =
    o.fsProvider === 0 || o.fsProvider === 4 || isAbsolute(o.directory)
      ? resolve(o.directory)
      : tmpdir();
  const generatedPassword =
    o.password === '' && o.publicKeys.length === 0
      ? randomBytes(12).toString('base64url')
      : undefined;
  const username = o.username === '' ? 'user' : o.username;
  const user: User = {
    username,
    status: 1,
    home_dir: directory,
    // (the generated User type declares permissions as Record<string, never>; addUser validates them)
    permissions: { '/': o.permissions } as unknown as User['permissions'],
    filesystem: await filesystemOf(o),
    filters: { file_patterns: filePatterns(o) },
    ...(o.password !== '' || generatedPassword
      ? { password: o.password === '' ? generatedPassword : o.password }
      : {}),
    ...(o.publicKeys.length > 0 ? { public_keys: o.publicKeys } : {}),
  };

  const dir = await mkdtemp(join(tmpdir(), 'sftpgo-portable-'));
  let service: RunningService | undefined;
  let advertiser: Advertiser | undefined;
  try {
    for (let attempt = 0; service === undefined; attempt++) {
      const config = {
        sftpd: {
          bindings: [{ port: pickPort(o.sftpdPort), address: o.bindAddress }],
          enabled_ssh_commands: o.sshCommands,
        },
        ftpd: {
          bindings: [{ port: pickPort(o.ftpdPort), address: o.bindAddress, tls_mode: 0 }],
          certificate_file: o.ftpdCert,
          certificate_key_file: o.ftpdKey,
        },
        webdavd: {
          bindings: [
            {
              port: pickPort(o.webdavPort),
              address: o.bindAddress,
              enable_https: o.webdavCert !== '',
            },
          ],
          certificate_file: o.webdavCert,
          certificate_key_file: o.webdavKey,
        },
        httpd: { bindings: [{ port: 0 }] },
        telemetry: { bind_port: 0 },
        data_provider: { driver: 'sqlite', name: 'sftpgo.db', create_default_admin: false },
      };
      await writeFile(join(dir, 'sftpgo.json'), JSON.stringify(config, null, 2));
      try {
        service = await runService(
          {
            configDir: dir,
            env: {},
            logFilePath: o.logFilePath,
            logVerbose: o.logVerbose,
            summary: io.stderr,
          },
          {
            beforeStop: () => advertiser?.stop() ?? Promise.resolve(),
            exit: (code) =>
              void rm(dir, { recursive: true, force: true }).finally(() =>
                (io.exit ?? process.exit)(code),
              ),
          },
        );
      } catch (e) {
        // a random port picked was busy: pick again
        if (attempt < 5 && isAddrInUse(e)) continue;
        throw e;
      }
    }
    const stored = await service.provider.addUser(user);
    if (o.advertiseService) {
      advertiser = await advertise(service, o, username, user.password, io.stderr);
    }
    const patterns = user.filters?.file_patterns ?? [];
    io.stderr.write(
      `Portable mode ready, user: ${JSON.stringify(stored.username)}, ` +
        (generatedPassword
          ? `generated password: ${generatedPassword}, `
          : o.password !== ''
            ? 'password: as given, '
            : '') +
        `public keys: ${o.publicKeys.length}, directory: ${directory}, fs provider: ${o.fsProvider}, ` +
        `permissions: ${o.permissions.join(',')}, ssh commands: ${o.sshCommands.join(',') || 'none'}` +
        (patterns.length > 0 ? `, file patterns: ${JSON.stringify(patterns)}` : '') +
        '\n',
    );
    const running = service;
    return {
      service: running,
      user: stored,
      generatedPassword,
      stop: async () => {
        await advertiser?.stop();
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await advertiser?.stop();
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

const LABELS: Partial<Record<string, AdvertisedProtocol>> = {
  sftpd: 'SFTP',
  ftpd: 'FTP',
  webdavd: 'WebDAV',
};

/** -S: advertises the running protocols on their bound ports (-C: with the credentials) */
function advertise(
  service: RunningService,
  o: PortableOptions,
  username: string,
  password: string | undefined,
  console: { write(s: string): unknown },
): Promise<Advertiser> {
  const ports: Partial<Record<AdvertisedProtocol, number>> = {};
  for (const server of service.servers) {
    const label = LABELS[server.name];
    const port = server.addresses()[0]?.port;
    if (label !== undefined && port !== undefined) ports[label] = port;
  }
  const plan = planAdvertisements({
    ports,
    version: VERSION,
    ...(o.advertiseCredentials ? { credentials: { username, password } } : {}),
  });
  for (const note of plan.notes) console.write(`${note}\n`);
  return startAdvertising(plan.advertisements, {
    info: (m) => console.write(`${m}\n`),
    warn: (m) => {
      console.write(`${m}\n`);
      service.logger.warn({ sender: 'service' }, m);
    },
  });
}
