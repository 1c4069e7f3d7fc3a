/**
 * `sftpgo portable`: the flags of SFTPGo 2.1.2 (reference §2), plus `--bind-address`; the mode
 * itself is src/service/portable.ts.
 */
import type { Command } from '@commander-js/extra-typings';
import { startPortable } from '../service/portable.js';
import type { TextSink } from '../service/index.js';
import { parseBool, parseInteger } from './parse.js';

/** a repeatable flag whose values may also be comma separated (Go's StringSlice) */
const list = (v: string, prev: string[]): string[] => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];
/** a repeatable flag taken verbatim (public keys, pattern filters: they contain commas) */
const each = (v: string, prev: string[]): string[] => [...prev, v];

export function registerPortable(
  program: Command,
  io: { stderr: TextSink; exit: (code: number) => void },
): void {
  program
    .command('portable')
    .description(
      'Serve one directory (or bucket, container, remote SFTP path) to one temporary user over SFTP ' +
        'and optionally FTP and WebDAV, without the REST API. Reads no config file or SFTPGO_* variable.',
    )
    .option('-d, --directory <path>', 'the directory to serve (default ".")', '.')
    .option('-s, --sftpd-port <port>', '0 = a random port, < 0 = SFTP off', parseInteger, 0)
    .option('--ftpd-port <port>', '0 = a random port, < 0 = FTP off', parseInteger, -1)
    .option('--webdav-port <port>', '0 = a random port, < 0 = WebDAV off', parseInteger, -1)
    .option(
      '--bind-address <address>',
      'listen on this address only (sftpgo-ts; default every interface)',
      '',
    )
    .option(
      '-c, --ssh-commands <cmds>',
      'enabled SSH commands, comma separated or repeated; "*" all (default md5sum,sha1sum,cd,pwd,scp)',
      list,
      [],
    )
    .option('-u, --username <name>', 'the user (default "user")', '')
    .option(
      '-p, --password <password>',
      'the password (generated and printed when neither a password nor a public key is given)',
      '',
    )
    .option('-k, --public-key <key>', 'an allowed public key (repeatable)', each, [])
    .option(
      '-g, --permissions <perms>',
      'permissions for "/", comma separated or repeated (default list,download)',
      list,
      [],
    )
    .option(
      '--allowed-patterns <filter>',
      'allowed file patterns: "/dir::*.jpg,*.png" (repeatable)',
      each,
      [],
    )
    .option(
      '--denied-patterns <filter>',
      'denied file patterns: "/dir::*.zip" (repeatable)',
      each,
      [],
    )
    .option('-l, --log-file-path <path>', 'log file ("" = standard output)', '')
    .option('-v, --log-verbose [bool]', 'debug level logs', parseBool, false)
    .option(
      '-S, --advertise-service [bool]',
      'advertise the running services over multicast DNS (SFTP _sftp-ssh._tcp, FTP _ftp._tcp, WebDAV _http._tcp)',
      parseBool,
      false,
    )
    .option(
      '-C, --advertise-credentials [bool]',
      'with -S, put the username and password in the advertised TXT records',
      parseBool,
      false,
    )
    .option('--ftpd-cert <file>', 'FTPS certificate (explicit TLS)', '')
    .option('--ftpd-key <file>', 'FTPS key', '')
    .option('--webdav-cert <file>', 'WebDAV HTTPS certificate', '')
    .option('--webdav-key <file>', 'WebDAV HTTPS key', '')
    .option(
      '-f, --fs-provider <n>',
      '0 local, 1 S3, 2 GCS, 3 Azure Blob, 4 encrypted local, 5 SFTP',
      parseInteger,
      0,
    )
    .option('--s3-bucket <bucket>', '', '')
    .option('--s3-region <region>', '', '')
    .option('--s3-access-key <key>', '', '')
    .option('--s3-access-secret <secret>', '', '')
    .option('--s3-endpoint <url>', '', '')
    .option('--s3-storage-class <class>', '', '')
    .option('--s3-key-prefix <prefix>', 'a "folder/" of the bucket to serve', '')
    .option('--s3-upload-part-size <MB>', '', parseInteger, 5)
    .option('--s3-upload-concurrency <n>', '', parseInteger, 2)
    .option('--gcs-bucket <bucket>', '', '')
    .option('--gcs-storage-class <class>', '', '')
    .option('--gcs-key-prefix <prefix>', '', '')
    .option('--gcs-credentials-file <file>', 'service account JSON', '')
    .option(
      '--gcs-automatic-credentials <n>',
      '1 = application default credentials, 0 = --gcs-credentials-file',
      parseInteger,
      1,
    )
    .option('--az-container <name>', '', '')
    .option('--az-account-name <name>', '', '')
    .option('--az-account-key <key>', '', '')
    .option('--az-sas-url <url>', '', '')
    .option('--az-endpoint <url>', '', '')
    .option('--az-access-tier <tier>', 'Hot, Cool or Archive', '')
    .option('--az-key-prefix <prefix>', '', '')
    .option('--az-upload-part-size <MB>', '', parseInteger, 4)
    .option('--az-upload-concurrency <n>', '', parseInteger, 2)
    .option('--az-use-emulator [bool]', '', parseBool, false)
    .option('--crypto-passphrase <passphrase>', 'for --fs-provider 4', '')
    .option('--sftp-endpoint <host:port>', '', '')
    .option('--sftp-username <name>', '', '')
    .option('--sftp-password <password>', '', '')
    .option('--sftp-key-path <file>', 'private key file', '')
    .option('--sftp-prefix <path>', '', '')
    .option('--sftp-fingerprints <fp>', 'accepted host key fingerprints (repeatable)', list, [])
    .option('--sftp-disable-concurrent-reads [bool]', '', parseBool, false)
    .option('--sftp-buffer-size <MB>', '', parseInteger, 0)
    .action(async (o) => {
      await startPortable(
        {
          directory: o.directory,
          sftpdPort: o.sftpdPort,
          ftpdPort: o.ftpdPort,
          webdavPort: o.webdavPort,
          bindAddress: o.bindAddress,
          sshCommands:
            o.sshCommands.length > 0 ? o.sshCommands : ['md5sum', 'sha1sum', 'cd', 'pwd', 'scp'],
          username: o.username,
          password: o.password,
          publicKeys: o.publicKey,
          permissions: o.permissions.length > 0 ? o.permissions : ['list', 'download'],
          allowedPatterns: o.allowedPatterns,
          deniedPatterns: o.deniedPatterns,
          logFilePath: o.logFilePath,
          logVerbose: o.logVerbose === true,
          advertiseService: o.advertiseService === true,
          advertiseCredentials: o.advertiseCredentials === true,
          ftpdCert: o.ftpdCert,
          ftpdKey: o.ftpdKey,
          webdavCert: o.webdavCert,
          webdavKey: o.webdavKey,
          fsProvider: o.fsProvider,
          s3: {
            bucket: o.s3Bucket,
            region: o.s3Region,
            accessKey: o.s3AccessKey,
            accessSecret: o.s3AccessSecret,
            endpoint: o.s3Endpoint,
            storageClass: o.s3StorageClass,
            keyPrefix: o.s3KeyPrefix,
            uploadPartSize: o.s3UploadPartSize,
            uploadConcurrency: o.s3UploadConcurrency,
          },
          gcs: {
            bucket: o.gcsBucket,
            storageClass: o.gcsStorageClass,
            keyPrefix: o.gcsKeyPrefix,
            credentialsFile: o.gcsCredentialsFile,
            automaticCredentials: o.gcsAutomaticCredentials,
          },
          azure: {
            container: o.azContainer,
            accountName: o.azAccountName,
            accountKey: o.azAccountKey,
            sasUrl: o.azSasUrl,
            endpoint: o.azEndpoint,
            accessTier: o.azAccessTier,
            keyPrefix: o.azKeyPrefix,
            uploadPartSize: o.azUploadPartSize,
            uploadConcurrency: o.azUploadConcurrency,
            useEmulator: o.azUseEmulator === true,
          },
          cryptoPassphrase: o.cryptoPassphrase,
          sftp: {
            endpoint: o.sftpEndpoint,
            username: o.sftpUsername,
            password: o.sftpPassword,
            keyPath: o.sftpKeyPath,
            prefix: o.sftpPrefix,
            fingerprints: o.sftpFingerprints,
            disableConcurrentReads: o.sftpDisableConcurrentReads === true,
            bufferSize: o.sftpBufferSize,
          },
        },
        io,
      );
    });
}
