/**
 * One SSH connection + SFTP session to the remote server (upstream vfs/sftpfs.go: sftpConnection),
 * with its requests as promises. ssh2 is the client; what it does not expose publicly is read in
 * ./ssh2-internals.ts.
 *
 * Host key check, in upstream's order (storage-2.1.2.md §6): (1) the loop guard — the server
 * presents one of this SFTPGo's own host keys and the remote username is a forbidden one (the
 * connecting user: the backend would log in to itself; or a local user that itself uses an SFTP
 * backend: A → B → A chains); (2) `fingerprints`, when given, must list the key's `SHA256:`
 * fingerprint; (3) without fingerprints any key is accepted, with a warning.
 */
import ssh2 from 'ssh2';
import type {
  Attributes,
  PasswordAuthMethod,
  PublicKeyAuthMethod,
  Client,
  ConnectConfig,
  FileEntry,
  InputAttributes,
  SFTPWrapper,
  Stats,
} from 'ssh2';
import { SftpgoError } from '../../../errors/index.js';
import { fingerprintSha256 } from '../../../util/ssh-public-keys.js';
import { VERSION } from '../../../util/version.js';
import type { FsLogger } from '../../types.js';
import { connectionLost, isStatus, SFTP_STATUS } from './errors.js';
import { channelOpen, sftpExtension, symlinkTargetFirst } from './ssh2-internals.js';

export interface SessionConfig {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** PEM, unencrypted */
  privateKey?: string;
  /** allowed `SHA256:` fingerprints of the server's host key; empty = any (with a warning) */
  fingerprints: readonly string[];
  /** the fingerprints of this SFTPGo's own host keys (loop guard) */
  localHostKeyFingerprints: readonly string[];
  /** remote usernames that would make this server log in to itself (loop guard) */
  forbiddenUsernames: readonly string[];
  /**
   * whether a local user of this server has an SFTP backend (home or virtual folder); false for
   * an unknown user. Asked for the remote username when the server presents one of our own host
   * keys: such a user is forbidden too (loop guard, nested local SFTP filesystems)
   */
  userUsesSftp?: (username: string) => Promise<boolean>;
  logger: FsLogger;
  /** fields of every log line (sender, username, connection_id, mount path) */
  logFields: Readonly<Record<string, unknown>>;
  /** ssh2's handshake timeout, ms */
  readyTimeout: number;
}

export type HostKeyVerdict =
  { ok: true; warn?: string } | { ok: false; error: SftpgoError; log: string };

export const LOOP_DETECTED = 'SFTP loop or nested local SFTP folders detected';
export const NO_HOST_KEY_VALIDATION =
  'login without host key validation, please provide at least a fingerprint!';

/** the host key decision, a pure function of the presented fingerprint and the config */
export function checkHostKey(
  fp: string,
  c: Pick<
    SessionConfig,
    'fingerprints' | 'localHostKeyFingerprints' | 'forbiddenUsernames' | 'username'
  >,
): HostKeyVerdict {
  if (c.localHostKeyFingerprints.includes(fp) && c.forbiddenUsernames.includes(c.username)) {
    return {
      ok: false,
      error: new SftpgoError('PERMISSION_DENIED', LOOP_DETECTED),
      log: `${LOOP_DETECTED}, username ${JSON.stringify(c.username)}, forbidden usernames: ${JSON.stringify(c.forbiddenUsernames)}`,
    };
  }
  if (c.fingerprints.length > 0) {
    if (c.fingerprints.includes(fp)) return { ok: true };
    const msg = `invalid fingerprint ${JSON.stringify(fp)}`;
    return {
      ok: false,
      error: new SftpgoError('PERMISSION_DENIED', msg),
      log: `${msg}, allowed fingerprints: ${JSON.stringify(c.fingerprints)}`,
    };
  }
  return { ok: true, warn: NO_HOST_KEY_VALIDATION };
}

/**
 * The loop guard's forbidden usernames for a presented key: the configured ones, plus the remote
 * username when the key is one of ours and that local user itself uses an SFTP backend (upstream
 * getForbiddenSFTPSelfUsers, which looks the user up before dialing; we ask only when the key
 * is ours, so logins to other servers cost no provider query)
 */
export async function forbiddenUsernamesFor(
  fp: string,
  c: Pick<
    SessionConfig,
    'localHostKeyFingerprints' | 'forbiddenUsernames' | 'username' | 'userUsesSftp'
  >,
): Promise<readonly string[]> {
  if (
    !c.userUsesSftp ||
    !c.localHostKeyFingerprints.includes(fp) ||
    c.forbiddenUsernames.includes(c.username)
  )
    return c.forbiddenUsernames;
  return (await c.userUsesSftp(c.username))
    ? [c.username, ...c.forbiddenUsernames]
    : c.forbiddenUsernames;
}

/** the authentication methods to try: the key first (upstream), then the password */
export function authMethods(
  c: Pick<SessionConfig, 'username' | 'password' | 'privateKey'>,
): (PasswordAuthMethod | PublicKeyAuthMethod)[] {
  const methods: (PasswordAuthMethod | PublicKeyAuthMethod)[] = [];
  if (c.privateKey) methods.push({ type: 'publickey', username: c.username, key: c.privateKey });
  if (c.password) methods.push({ type: 'password', username: c.username, password: c.password });
  return methods;
}

function connectFailure(e: unknown): SftpgoError {
  const err = e as { level?: unknown; code?: unknown };
  let why: string;
  switch (err.level) {
    case 'client-authentication':
      why = 'authentication failed';
      break;
    case 'client-timeout':
      why = 'timed out';
      break;
    case 'client-socket':
      why = typeof err.code === 'string' ? err.code : 'socket error';
      break;
    default:
      why = 'handshake failed';
  }
  return new SftpgoError(
    'BACKEND_UNAVAILABLE',
    `unable to connect to the remote SFTP server: ${why}`,
    { cause: e },
  );
}

function abortedConnect(signal: AbortSignal): SftpgoError {
  return new SftpgoError('ABORTED', 'connecting to the remote SFTP server was aborted', {
    cause: signal.reason,
  });
}

/**
 * Dials, verifies the host key, authenticates and opens the SFTP subsystem. The returned
 * session calls `onClose` once when the connection or the channel ends.
 */
export async function openSession(
  c: SessionConfig,
  o: { signal?: AbortSignal; onClose?: (s: Session) => void } = {},
): Promise<Session> {
  o.signal?.throwIfAborted();
  const client = new ssh2.Client();
  let refusal: SftpgoError | undefined;
  // set when the connection is torn down: a late answer of the loop guard lookup is dropped
  let gone = false;
  const decide = (fp: string, forbiddenUsernames: readonly string[]): boolean => {
    const v = checkHostKey(fp, { ...c, forbiddenUsernames });
    if (v.ok) {
      if (v.warn) c.logger.warn({ ...c.logFields }, v.warn);
      return true;
    }
    refusal = v.error;
    c.logger.warn({ ...c.logFields }, v.log);
    return false;
  };
  // asynchronous: the loop guard may look the remote user up in the data provider
  const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
    const fp = fingerprintSha256(key);
    forbiddenUsernamesFor(fp, c).then(
      (forbidden) => {
        if (!gone) verify(decide(fp, forbidden));
      },
      (e: unknown) => {
        if (gone) return;
        refusal = new SftpgoError('INTERNAL', 'unable to check for an SFTP loop', { cause: e });
        c.logger.error({ ...c.logFields, err: e }, 'unable to check for an SFTP loop');
        verify(false);
      },
    );
  };
  const config: ConnectConfig = {
    host: c.host,
    port: c.port,
    username: c.username,
    ident: `SFTPGo_${VERSION}`,
    readyTimeout: c.readyTimeout,
    hostVerifier,
    authHandler: authMethods(c),
  };
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (e) => reject(refusal ?? connectFailure(e)));
      client.once('close', () => reject(refusal ?? connectFailure(new Error('connection closed'))));
      if (o.signal) {
        const signal = o.signal;
        onAbort = () => {
          reject(abortedConnect(signal));
          client.destroy();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      try {
        client.connect(config);
      } catch (e) {
        // ssh2 validates the config synchronously (an unparsable private key)
        reject(
          new SftpgoError(
            'INVALID_INPUT',
            'invalid SFTP fs config: unable to use the private key',
            {
              cause: e,
            },
          ),
        );
      }
    });
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
      client.sftp((err, s) => (err ? reject(connectFailure(err)) : resolve(s)));
      client.once('close', () => reject(connectFailure(new Error('connection closed'))));
    });
    return new Session(client, sftp, o.onClose);
  } catch (e) {
    gone = true;
    client.removeAllListeners('error');
    // errors of a connection being torn down have nowhere to go
    client.on('error', () => undefined);
    client.destroy();
    throw e;
  } finally {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
  }
}

export interface StatVfsReply {
  f_bsize: number | bigint;
  f_frsize: number | bigint;
  f_blocks: number | bigint;
  f_bfree: number | bigint;
  f_bavail: number | bigint;
  f_files: number | bigint;
  f_ffree: number | bigint;
  f_favail: number | bigint;
  f_sid: number | bigint;
  f_flag: number | bigint;
  f_namemax: number | bigint;
}

type Cb<T> = (err: Error | null | undefined, v: T) => void;

/** An open SFTP session; every request rejects with the native error (./errors.ts maps it). */
export class Session {
  private isAlive = true;
  private clientClosed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: Client,
    readonly sftp: SFTPWrapper,
    onClose?: (s: Session) => void,
  ) {
    const dead = (): void => {
      if (!this.isAlive) return;
      this.isAlive = false;
      onClose?.(this);
    };
    // errors after the handshake (a reset socket) end the connection: 'close' follows
    client.on('error', () => undefined);
    client.once('close', () => {
      this.clientClosed = true;
      dead();
    });
    sftp.once('end', dead);
    sftp.once('close', dead);
  }

  get alive(): boolean {
    return this.isAlive && channelOpen(this.sftp);
  }

  hasExtension(name: string, version: string): boolean {
    return sftpExtension(this.sftp, name) === version;
  }

  /** one request: rejected at once when the channel is gone (ssh2 would never call back) */
  private call<T>(fn: (cb: Cb<T>) => void): Promise<T> {
    if (!this.alive) return Promise.reject(connectionLost());
    return new Promise<T>((resolve, reject) => {
      try {
        fn((err, v) => (err ? reject(err) : resolve(v)));
      } catch (e) {
        reject(e);
      }
    });
  }

  stat(p: string): Promise<Stats> {
    return this.call((cb) => this.sftp.stat(p, cb));
  }

  lstat(p: string): Promise<Stats> {
    return this.call((cb) => this.sftp.lstat(p, cb));
  }

  realpath(p: string): Promise<string> {
    return this.call((cb) => this.sftp.realpath(p, cb));
  }

  readlink(p: string): Promise<string> {
    return this.call((cb) => this.sftp.readlink(p, cb));
  }

  opendir(p: string): Promise<Buffer> {
    return this.call((cb) => this.sftp.opendir(p, cb));
  }

  /** the next batch of entries ("." and ".." removed), null at the end */
  async readdir(h: Buffer): Promise<FileEntry[] | null> {
    try {
      return await this.call<FileEntry[]>((cb) => this.sftp.readdir(h, cb));
    } catch (e) {
      if (isStatus(e, SFTP_STATUS.EOF)) return null;
      throw e;
    }
  }

  close(h: Buffer): Promise<void> {
    return this.call((cb) => this.sftp.close(h, (err) => cb(err, undefined)));
  }

  open(p: string, flags: number, attrs?: InputAttributes): Promise<Buffer> {
    return this.call((cb) => this.sftp.open(p, flags, attrs ?? {}, cb));
  }

  /** bytes read into buf[off..off+len) from `position`; 0 at the end of the file */
  read(h: Buffer, buf: Buffer, off: number, len: number, position: number): Promise<number> {
    return this.call((cb) =>
      this.sftp.read(h, buf, off, len, position, (err, n) => cb(err, n ?? 0)),
    );
  }

  write(h: Buffer, buf: Buffer, off: number, len: number, position: number): Promise<void> {
    return this.call((cb) =>
      this.sftp.write(h, buf, off, len, position, (err) => cb(err, undefined)),
    );
  }

  fstat(h: Buffer): Promise<Stats> {
    return this.call((cb) => this.sftp.fstat(h, cb));
  }

  fsetstat(h: Buffer, attrs: InputAttributes): Promise<void> {
    return this.call((cb) => this.sftp.fsetstat(h, attrs, (err) => cb(err, undefined)));
  }

  setstat(p: string, attrs: InputAttributes): Promise<void> {
    return this.call((cb) => this.sftp.setstat(p, attrs, (err) => cb(err, undefined)));
  }

  mkdir(p: string, attrs?: InputAttributes): Promise<void> {
    return this.call((cb) => this.sftp.mkdir(p, attrs ?? {}, (err) => cb(err, undefined)));
  }

  rmdir(p: string): Promise<void> {
    return this.call((cb) => this.sftp.rmdir(p, (err) => cb(err, undefined)));
  }

  unlink(p: string): Promise<void> {
    return this.call((cb) => this.sftp.unlink(p, (err) => cb(err, undefined)));
  }

  /** SSH_FXP_RENAME: servers such as OpenSSH refuse an existing target */
  rename(from: string, to: string): Promise<void> {
    return this.call((cb) => this.sftp.rename(from, to, (err) => cb(err, undefined)));
  }

  /** posix-rename@openssh.com (rename(2)); only when offered */
  posixRename(from: string, to: string): Promise<void> {
    return this.call((cb) => this.sftp.ext_openssh_rename(from, to, (err) => cb(err, undefined)));
  }

  /**
   * SYMLINK whose content is `target`. The two paths always go target first, as OpenSSH and
   * pkg/sftp servers (upstream SFTPGo, this server) read them and as pkg/sftp (upstream's client)
   * sends them; ssh2 writes that order only to servers it recognizes as OpenSSH, so the
   * arguments are swapped for the others.
   */
  symlink(target: string, linkPath: string): Promise<void> {
    const [a, b] = symlinkTargetFirst(this.sftp) ? [target, linkPath] : [linkPath, target];
    return this.call((cb) => this.sftp.symlink(a, b, (err) => cb(err, undefined)));
  }

  statvfs(p: string): Promise<StatVfsReply> {
    return this.call<StatVfsReply>((cb) =>
      this.sftp.ext_openssh_statvfs(p, (err, v) => cb(err, v as StatVfsReply)),
    );
  }

  fsync(h: Buffer): Promise<void> {
    return this.call((cb) => this.sftp.ext_openssh_fsync(h, (err) => cb(err, undefined)));
  }

  /** closes the SFTP channel then the SSH connection (upstream: Close) */
  end(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.clientClosed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 5000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.isAlive = false;
      try {
        this.sftp.end();
      } finally {
        this.client.end();
      }
    });
    return this.closing;
  }
}

export type { Attributes, Stats };
