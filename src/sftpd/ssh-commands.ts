/**
 * SSH commands over exec channels (upstream sftpd/ssh_cmd.go at v2.1.2): the hash commands,
 * `cd`, `pwd`, `sftpgo-copy` and `sftpgo-remove`. Results go to stdout, errors to stderr as
 * `<command>: <path> <error>`, and the exit status is 0 or 1.
 *
 * The hash commands need `list` (not `download`) on the file, as upstream, so they read
 * through the user's mount table after checking that permission and the file patterns.
 * sftpgo-copy and sftpgo-remove are Connection.copy (never overwriting) and
 * Connection.removeTree: every entry of the tree is checked before anything changes, and the
 * quota is checked and updated there.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { ServerChannel } from 'ssh2';
import type { Connection } from '../common/connection.js';
import { hasPerm, hasPerms, isFileAllowed } from '../common/user-policy.js';
import { ERR_QUOTA_EXCEEDED } from '../common/transfer.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import { normalizeVirtualPath, type Fs } from '../vfs/index.js';
import { metrics } from '../util/metrics.js';
import { ChannelReader, writeChannel } from './channel-io.js';

export const HASH_COMMANDS = ['md5sum', 'sha1sum', 'sha256sum', 'sha384sum', 'sha512sum'] as const;
export const SYSTEM_COMMANDS = ['git-receive-pack', 'git-upload-pack', 'git-upload-archive', 'rsync'] as const;
/** every command `enabled_ssh_commands` may list ("*" expands to all of them) */
export const SUPPORTED_SSH_COMMANDS = [
  ...HASH_COMMANDS,
  'cd',
  'pwd',
  'scp',
  ...SYSTEM_COMMANDS,
  'sftpgo-copy',
  'sftpgo-remove',
] as const;

const HASH_ALGO: Record<(typeof HASH_COMMANDS)[number], string> = {
  md5sum: 'md5',
  sha1sum: 'sha1',
  sha256sum: 'sha256',
  sha384sum: 'sha384',
  sha512sum: 'sha512',
};

export function isSystemCommand(name: string): name is (typeof SYSTEM_COMMANDS)[number] {
  return (SYSTEM_COMMANDS as readonly string[]).includes(name);
}

export function isHashCommand(name: string): name is (typeof HASH_COMMANDS)[number] {
  return (HASH_COMMANDS as readonly string[]).includes(name);
}

/** upstream cleanCommandPath: strips quotes, cleans, keeps a trailing "/" */
export function cleanCommandPath(name: string): string {
  const trimmed = name.replace(/^'+|'+$/g, '').replace(/^"+|"+$/g, '');
  const result = normalizeVirtualPath(trimmed);
  return trimmed.endsWith('/') && !result.endsWith('/') ? `${result}/` : result;
}

export interface SshCommandOptions {
  channel: ServerChannel;
  conn: Connection;
  command: string;
  args: string[];
}

/** the error of a command, as text for the client */
function errText(e: unknown): string {
  return exposedMessage(e);
}

export class SshCommand {
  private readonly channel: ServerChannel;
  private readonly conn: Connection;
  private readonly command: string;
  private readonly args: string[];
  /** why the last run failed (undefined: it succeeded), as the ssh_cmd custom action reports it */
  error: unknown;

  constructor(o: SshCommandOptions) {
    this.channel = o.channel;
    this.conn = o.conn;
    this.command = o.command;
    this.args = o.args;
  }

  /** the destination path: the last argument, cleaned ("" without arguments) */
  private destPath(): string {
    const last = this.args[this.args.length - 1];
    return last === undefined ? '' : cleanCommandPath(last);
  }

  private sourcePath(): string {
    const a = this.args[this.args.length - 2];
    return a === undefined ? '' : cleanCommandPath(a);
  }

  /**
   * The virtual paths the ssh_cmd custom action reports (upstream sendExitStatus): the last
   * argument ("" without arguments); for sftpgo-copy, the source and the destination.
   */
  actionPaths(): { path: string; target: string } {
    if (this.command === 'sftpgo-copy') return { path: this.sourcePath(), target: this.destPath() };
    return { path: this.destPath(), target: '' };
  }

  /**
   * runs the command; resolves with its exit status after writing its output. Counted in
   * sftpgo_ssh_commands_total, or sftpgo_ssh_command_errors_total when the status is not 0.
   */
  async run(): Promise<number> {
    const status = await this.runCommand();
    metrics.sshCommandCompleted(status === 0);
    return status;
  }

  private async runCommand(): Promise<number> {
    this.error = undefined;
    try {
      if (isSystemCommand(this.command)) {
        const status = await this.system();
        if (status !== 0) this.error = new Error(`${this.command} failed`);
        return status;
      }
      const out = await this.execute();
      if (out) await writeChannel(this.channel, out);
      return 0;
    } catch (e) {
      this.error = e;
      this.conn.log.info({ command: this.command, err: e }, 'command failed');
      try {
        await writeChannel(this.channel.stderr, `${this.command}: ${this.destPath()} ${errText(e)}\n`);
      } catch (we) {
        this.conn.log.debug({ err: we }, 'unable to write the command error');
      }
      return 1;
    }
  }

  private async execute(): Promise<string> {
    if (isHashCommand(this.command)) return this.hash(this.command);
    switch (this.command) {
      case 'cd':
        return '';
      case 'pwd':
        return '/\n';
      case 'sftpgo-copy':
        return this.copy();
      case 'sftpgo-remove':
        return this.remove();
      default:
        throw new SftpgoError('OP_UNSUPPORTED', `command ${JSON.stringify(this.command)} is not supported`);
    }
  }

  // ------------------------------------------------------------------ hash

  private async hash(cmd: (typeof HASH_COMMANDS)[number]): Promise<string> {
    const h = createHash(HASH_ALGO[cmd]);
    if (this.args.length === 0) {
      // upstream hashes what one read of stdin returns (at most 4 KiB)
      const data = await new ChannelReader(this.channel).readAll(4096);
      h.update(data);
      return `${h.digest('hex')}  -\n`;
    }
    const p = this.destPath();
    if (!isFileAllowed(this.conn.user, p)) {
      throw new SftpgoError('NAME_NOT_ALLOWED', 'permission denied');
    }
    if (!hasPerm(this.conn.user, 'list', p)) throw new SftpgoError('PERMISSION_DENIED', 'permission denied');
    const r = this.conn.mounts.resolve(p);
    const info = await r.fs.stat(r.relPath);
    if (info.isDirectory) throw new SftpgoError('INVALID_INPUT', 'is a directory');
    this.conn.touch();
    const stream = await r.fs.openRead(r.relPath);
    await pipeline(
      stream,
      new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          h.update(chunk);
          this.conn.touch();
          cb();
        },
      }),
    );
    return `${h.digest('hex')}  ${p}\n`;
  }

  // ------------------------------------------------------------------ system commands

  /** the local directory of the mount serving `p` (home_dir or the folder's mapped_path) */
  private localRoot(p: string): string {
    const m = this.conn.mounts.mountFor(p);
    if (m.path === '/') return this.conn.user.home_dir ?? '';
    const f = (this.conn.user.virtual_folders ?? []).find((v) => v.name === m.folder?.name);
    return f?.mapped_path ?? '';
  }

  /** upstream isSystemCommandAllowed: no virtual folders or file pattern filters in the tree */
  private checkSystemCommandTree(p: string): void {
    const unsupported = new SftpgoError('OP_UNSUPPORTED', 'command unsupported for this configuration');
    if (this.conn.mounts.isMountPoint(p)) return;
    if (this.conn.mounts.hasMountsInside(p)) throw unsupported;
    for (const f of this.conn.user.filters?.file_patterns ?? []) {
      const fp = normalizeVirtualPath(f.path ?? '/');
      if (fp === p || fp === '/' || p === '/' || p.startsWith(`${fp}/`) || fp.startsWith(`${p}/`)) throw unsupported;
    }
  }

  private async sizeOf(fs: Fs, rel: string): Promise<{ files: number; bytes: number }> {
    try {
      const info = await fs.lstat(rel);
      if (info.isDirectory) return await fs.usage(rel);
      return info.isFile ? { files: 1, bytes: info.size } : { files: 0, bytes: 0 };
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND')) return { files: 0, bytes: 0 };
      throw e;
    }
  }

  /**
   * git-receive-pack / git-upload-pack / git-upload-archive / rsync, executed from PATH on the
   * local directory behind the last argument (upstream executeSystemCommand): local storage
   * only, no virtual folders or pattern filters in the tree, every read/write permission
   * needed, quota checked before and updated from a rescan after. rsync gets --safe-links
   * (user may create symlinks) or --munge-links.
   */
  private async system(): Promise<number> {
    const user = this.conn.user;
    const dest = this.destPath();
    if (dest === '') throw new SftpgoError('INVALID_INPUT', `usage: ${this.command} <path>`);
    const p = normalizeVirtualPath(dest);
    const r = this.conn.mounts.resolve(p);
    if (r.fs.kind !== 'local') throw new SftpgoError('OP_UNSUPPORTED', 'command unsupported for this configuration');
    this.checkSystemCommandTree(p);
    let quotaPath = p;
    try {
      if ((await r.fs.stat(r.relPath)).isDirectory) quotaPath = posix.join(p, 'fakecontent');
    } catch (e) {
      if (!SftpgoError.is(e, 'NOT_FOUND')) throw e;
    }
    const q = await this.conn.checkQuota(true, quotaPath);
    if (!q.hasSpace) throw new SftpgoError('QUOTA_EXCEEDED', ERR_QUOTA_EXCEEDED);
    if (!hasPerms(user, ['download', 'upload', 'create_dirs', 'list', 'overwrite', 'delete'], p)) {
      throw new SftpgoError('PERMISSION_DENIED', 'permission denied');
    }
    const root = this.localRoot(p);
    if (root === '') throw new SftpgoError('OP_UNSUPPORTED', 'command unsupported for this configuration');
    let real = join(root, r.relPath);
    if (dest.endsWith('/') && !real.endsWith('/')) real += '/';
    let args = [...this.args.slice(0, -1), real];
    if (this.command === 'rsync') {
      const flag = hasPerm(user, 'create_symlinks', p) ? '--safe-links' : '--munge-links';
      if (!args.includes(flag)) args = [flag, ...args];
    }
    const initial = await this.sizeOf(r.fs, r.relPath);
    this.conn.log.debug({ sender: 'SSHCommand', command: this.command, args }, 'new system command');
    const code = await new Promise<number>((resolve) => {
      const child = spawn(this.command, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
      });
      const ch = this.channel;
      child.on('error', (e) => {
        this.conn.log.warn({ err: e, command: this.command }, 'unable to run the system command');
        resolve(127);
      });
      child.stdin.on('error', (e) => this.conn.log.debug({ err: e }, 'system command stdin closed'));
      ch.pipe(child.stdin);
      child.stdout.on('data', (d: Buffer) => {
        this.conn.touch();
        if (!ch.write(d)) {
          child.stdout.pause();
          ch.once('drain', () => child.stdout.resume());
        }
      });
      child.stderr.on('data', (d: Buffer) => ch.stderr.write(d));
      ch.on('close', () => {
        if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
      });
      child.on('close', (c) => resolve(c ?? 1));
    });
    const final = await this.sizeOf(r.fs, r.relPath);
    await this.conn.updateQuota(quotaPath, final.files - initial.files, final.bytes - initial.bytes);
    this.conn.log.info({ sender: 'SSHCommand', command: this.command, file_path: p, exit_code: code }, 'system command');
    return code === 0 ? 0 : 1;
  }

  // ------------------------------------------------------------------ sftpgo-copy

  /**
   * Connection.copy without overwriting. As upstream 2.1.2, trees with virtual folders inside
   * (source or destination) are refused, though the copy itself could span them.
   */
  private async copy(): Promise<string> {
    const src = this.sourcePath().replace(/(.)\/$/, '$1');
    let dst = this.destPath();
    if (dst.endsWith('/')) dst = posix.join(dst, posix.basename(src));
    if (src === '' || dst === '' || this.args.length !== 2) {
      throw new SftpgoError('INVALID_INPUT', 'usage sftpgo-copy <source dir path> <destination dir path>');
    }
    dst = normalizeVirtualPath(dst);
    const mounts = this.conn.mounts;
    if (mounts.hasMountsInside(src)) {
      throw new SftpgoError('OP_UNSUPPORTED', 'unsupported copy source: the source directory contains virtual folders');
    }
    if (mounts.hasMountsInside(dst) || mounts.isMountPoint(dst)) {
      throw new SftpgoError('OP_UNSUPPORTED', 'unsupported copy source: the destination directory contains virtual folders');
    }
    await this.conn.copy(src, dst, { overwrite: false });
    // as upstream, every SSH command leaves an SSHCommand line (the core logs the Copy itself)
    this.conn.log.info({ sender: 'SSHCommand', command: this.command, file_path: src, target_path: dst }, 'sftpgo-copy');
    return 'OK\n';
  }

  // ------------------------------------------------------------------ sftpgo-remove

  /** Connection.removeTree of a file or a directory (upstream refuses anything else) */
  private async remove(): Promise<string> {
    let p = this.destPath();
    if (p === '' || this.args.length !== 1) throw new SftpgoError('INVALID_INPUT', 'usage sftpgo-remove <destination path>');
    if (p.length > 1) p = p.replace(/\/$/, '');
    const info = await this.conn.lstat(p);
    if (!info.isFile && !(info.isDirectory && !info.isSymlink)) {
      throw new SftpgoError('OP_UNSUPPORTED', 'unsupported remove source: only files and directories are supported');
    }
    await this.conn.removeTree(p);
    this.conn.log.info({ sender: 'SSHCommand', command: this.command, file_path: p }, 'sftpgo-remove');
    return 'OK\n';
  }
}
