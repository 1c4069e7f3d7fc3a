/**
 * One SFTP session over plain streams (upstream sftpd/sftpd.go ServeSubSystemConnection at
 * v2.1.2): what `sftpgo startsubsys` runs once sshd authenticated the OS user and started us as
 * its `Subsystem sftp`. The session is the same SftpSession and common Connection as `serve`'s,
 * so every rule of the user (permissions, file patterns, quota, virtual folders, bandwidth,
 * custom actions) applies.
 */
import type { Readable, Writable } from 'node:stream';
import { Connection } from '../common/connection.js';
import { newConnectionId, type ConnectionRegistry } from '../common/registry.js';
import type { ConnectionConfig } from '../common/types.js';
import type { DataProvider, User } from '../dataprovider/provider.js';
import type { Logger } from '../logger/index.js';
import type { MountTable } from '../vfs/index.js';
import { SftpSession } from './sftp-session.js';
import { sftpOverStreams } from './ssh2-internals.js';

export interface SubsystemConnectionOptions {
  user: User;
  /** the id part after `SFTP_` (upstream: an xid) */
  id: string;
  input: Readable;
  output: Writable;
  /** `ip:port` of the SSH client, as sshd tells it (SSH_CLIENT / SSH_CONNECTION) */
  remoteAddress: string;
  localAddress?: string;
  logger: Logger;
  provider: DataProvider;
  registry: ConnectionRegistry;
  connConfig: ConnectionConfig;
  /** builds the user's mount table (common's userFsBuilder); creates the home dir as at login */
  buildFs: (user: User) => Promise<MountTable>;
}

export interface SubsystemConnection {
  /** `SFTP_<id>` */
  readonly connectionId: string;
  /**
   * Settles when the session is over; resolves to 0 after the client's EOF (a normal end),
   * 1 when it ended otherwise (protocol error, output gone, closed by us)
   */
  readonly done: Promise<number>;
  /** ends the session from our side (SIGTERM): open uploads are aborted as for `serve` */
  close(): Promise<void>;
}

/**
 * Builds the user's filesystem, registers the connection and serves SFTP until the client's
 * EOF. Rejects when the filesystem cannot be built (the home directory cannot be created, a
 * backend is misconfigured); nothing was read from `input` then.
 */
export async function serveSubsystemConnection(
  o: SubsystemConnectionOptions,
): Promise<SubsystemConnection> {
  const mounts = await o.buildFs(o.user);
  const id = newConnectionId('SFTP', o.id);
  const username = o.user.username ?? '';
  const holder: { session?: SftpSession } = {};
  const conn = new Connection({
    id,
    protocol: 'SFTP',
    user: o.user,
    mounts,
    remoteAddress: o.remoteAddress,
    ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
    logger: o.logger.child({
      sender: 'SFTP',
      connection_id: id,
      protocol: 'SFTP',
      username,
      remote_addr: o.remoteAddress,
    }),
    provider: o.provider,
    config: o.connConfig,
    registry: o.registry,
    onClose: () => holder.session?.close('connection closed'),
    closeMounts: true,
  });
  conn.register();
  o.provider.updateLastLogin(username).catch((e: unknown) => {
    conn.log.warn({ err: e }, 'unable to update the last login');
  });
  const stream = sftpOverStreams(o.input, o.output);
  let ended!: () => void;
  const sessionEnded = new Promise<void>((resolve) => (ended = resolve));
  holder.session = new SftpSession({
    sftp: stream.sftp,
    conn,
    log: conn.log,
    batch: stream.batch,
    onEnd: () => {
      void conn.close().finally(ended);
    },
  });
  const done = Promise.all([stream.closed, sessionEnded]).then(([status]) =>
    status === 0 ? 0 : 1,
  );
  return {
    connectionId: id,
    done,
    close: async () => {
      await conn.close();
      await done;
    },
  };
}
