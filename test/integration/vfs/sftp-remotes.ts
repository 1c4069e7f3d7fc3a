/**
 * The two real remote SFTP servers the SFTP backend is tested against, both on 127.0.0.1 of
 * this machine (so a remote directory is also a local one the tests can prepare and inspect):
 * OpenSSH's sshd (test/helpers/openssh-sshd.ts, key authentication) and this project's own
 * server (test/helpers/sftpd.ts) with one user that has a password and a public key.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiFilesystemConfig } from '../../../src/api/index.js';
import { parseHostKey } from '../../../src/sftpd/host-keys.js';
import { create } from '../../../src/vfs/backends/sftp/index.js';
import type { CreateFsOptions, Fs } from '../../../src/vfs/index.js';
import { readPem, startOpenSshd } from '../../helpers/openssh-sshd.js';
import { startSftpTestServer, testHostKeys, type SftpTestEnv } from '../../helpers/sftpd.js';
import { generateKey } from '../../helpers/ssh.js';

export type SftpConfig = NonNullable<ApiFilesystemConfig['sftpconfig']>;

export interface SftpRemote {
  name: 'openssh' | 'sftpgo';
  endpoint: string;
  username: string;
  /** the remote user's password, where the remote accepts passwords */
  password?: string;
  privateKey: string;
  /** fingerprints of the host keys the remote presents */
  fingerprints: string[];
  /**
   * a new empty directory on the remote: its remote path (a `prefix`) and its local path
   */
  fresh(): Promise<{ prefix: string; local: string }>;
  /** the local path of a remote path */
  localPath(remote: string): string;
  /** the client versions of the sessions open on the remote, where it lists them */
  clientVersions?(): string[];
  /** ends every SFTP session open on the remote (kills sshd's session processes, or disconnects the user) */
  killSessions(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOpenSshRemote(): Promise<SftpRemote> {
  const d = await startOpenSshd();
  let n = 0;
  return {
    name: 'openssh',
    endpoint: `127.0.0.1:${d.port}`,
    username: d.user,
    privateKey: await readPem(d.userKey),
    fingerprints: [d.hostKeyFingerprint],
    async fresh() {
      const local = join(d.dataDir, `t${++n}-${randomBytes(3).toString('hex')}`);
      await mkdir(local);
      return { prefix: local, local };
    },
    localPath: (remote) => remote,
    async killSessions() {
      await d.killSessions();
    },
    stop: () => d.stop(),
  };
}

export async function startSftpgoRemote(): Promise<SftpRemote & { env: SftpTestEnv }> {
  const env = await startSftpTestServer();
  const key = await generateKey(env.dir, 'remote-user-key');
  const u = await env.createUser({ public_keys: [key.publicKey] });
  const keys = await testHostKeys();
  const fingerprints: string[] = [];
  for (const f of keys.files) fingerprints.push(parseHostKey(f, await readFile(f)).fingerprint);
  let n = 0;
  return {
    env,
    name: 'sftpgo',
    endpoint: `127.0.0.1:${env.port}`,
    username: u.username,
    password: u.password,
    privateKey: await readFile(key.privatePath, 'utf8'),
    fingerprints,
    async fresh() {
      const prefix = `/t${++n}-${randomBytes(3).toString('hex')}`;
      const local = join(u.home, prefix);
      await mkdir(local);
      return { prefix, local };
    },
    localPath: (remote) => join(u.home, remote),
    clientVersions: () =>
      env.connections().flatMap((c) => (c.client_version ? [c.client_version] : [])),
    async killSessions() {
      await env.srv.service.connections.disconnectUser(u.username);
    },
    stop: () => env.stop(),
  };
}

/** an sftpconfig for `remote` with Plain secrets (key auth unless `auth` says otherwise) */
export function sftpConfig(
  remote: SftpRemote,
  o: Partial<SftpConfig> & { auth?: 'key' | 'password' | 'both' } = {},
): SftpConfig {
  const { auth = 'key', ...rest } = o;
  return {
    endpoint: remote.endpoint,
    username: remote.username,
    ...(auth !== 'password'
      ? { private_key: { status: 'Plain', payload: remote.privateKey } }
      : {}),
    ...(auth !== 'key' ? { password: { status: 'Plain', payload: remote.password ?? '' } } : {}),
    fingerprints: remote.fingerprints,
    ...rest,
  };
}

/** builds the backend as a login does (registry options), with Plain secrets */
export function sftpFs(config: SftpConfig, o: Partial<CreateFsOptions> = {}): Promise<Fs> {
  return create(
    { provider: 5, sftpconfig: config },
    { root: '/nonexistent', username: 'local-user', ...o },
  );
}
