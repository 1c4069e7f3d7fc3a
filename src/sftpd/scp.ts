/**
 * The legacy SCP protocol (rcp over an exec channel, `scp -O` with OpenSSH ≥ 9) on top of a
 * common Connection, so permissions, file patterns, quota and atomic uploads apply exactly as
 * for SFTP. Mirrors upstream sftpd/scp.go at v2.1.2 — sink (`-t`, upload) and source (`-f`,
 * download), `-r` recursive, `-p` times, `-d` target must be a directory — with OpenSSH's
 * target naming (an existing directory receives the items; otherwise the target names the
 * copy) and, unlike upstream, the `-p` times of uploads applied when the user may chtimes.
 *
 * Protocol: every message is acknowledged with one byte, 0 (ok), 1 (warning + text + \n) or
 * 2 (fatal error + text + \n). A fatal error ends the command with exit status 1.
 */
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerChannel } from 'ssh2';
import type { User } from '../dataprovider/provider.js';
import { exposedMessage, SftpgoError } from '../errors/index.js';
import { OPEN_FLAGS } from '../common/actions.js';
import type { Logger } from '../common/types.js';
import { normalizeVirtualPath, type FileInfo } from '../vfs/index.js';
import { ChannelReader, writeChannel } from './channel-io.js';
import type { DownloadHandle, SessionConnection, UploadHandle } from './ports.js';

const CHUNK = 256 * 1024;
/** unacknowledged upload bytes handed to the write queue before we wait for the storage */
const MAX_WRITES_IN_FLIGHT = 4 * 1024 * 1024;

export interface ScpOptions {
  channel: ServerChannel;
  conn: SessionConnection;
  user: User;
  log: Logger;
  /** the words after "scp" */
  args: string[];
}

export interface ScpArgs {
  direction: 'to' | 'from';
  recursive: boolean;
  preserveTimes: boolean;
  targetIsDir: boolean;
  paths: string[];
}

/** Parses scp's server-side flags (`-t`/`-f`, `-r`, `-p`, `-d`, `-v`, `-q`, `--`). */
export function parseScpArgs(args: readonly string[]): ScpArgs {
  let direction: 'to' | 'from' | undefined;
  let recursive = false;
  let preserveTimes = false;
  let targetIsDir = false;
  const paths: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (const f of a.slice(1)) {
      switch (f) {
        case 't':
          direction = 'to';
          break;
        case 'f':
          direction = 'from';
          break;
        case 'r':
          recursive = true;
          break;
        case 'p':
          preserveTimes = true;
          break;
        case 'd':
          targetIsDir = true;
          break;
        case 'v':
        case 'q':
        case 'E':
          break;
        default:
          throw new SftpgoError('INVALID_INPUT', `scp: unsupported option -${f}`);
      }
    }
  }
  for (; i < args.length; i++) paths.push(args[i] as string);
  if (!direction)
    throw new SftpgoError('INVALID_INPUT', `scp command not supported, args: ${args.join(' ')}`);
  if (paths.length === 0) throw new SftpgoError('INVALID_INPUT', 'scp: missing path');
  return { direction, recursive, preserveTimes, targetIsDir, paths };
}

/** "0644" style mode of scp messages (upstream getFileModeAsString) */
function modeString(fi: FileInfo): string {
  const m = fi.mode & 0o7777;
  if (m === 0) return fi.isDirectory ? '0755' : '0644';
  return m.toString(8).padStart(4, '0');
}

/** An error the remote side reported (0x01/0x02 + text). */
class RemoteScpError extends Error {}

interface Times {
  mtime: Date;
  atime: Date;
}

export class ScpCommand {
  private readonly channel: ServerChannel;
  private readonly conn: SessionConnection;
  private readonly user: User;
  private readonly log: Logger;
  private readonly reader: ChannelReader;
  private readonly args: ScpArgs;

  constructor(o: ScpOptions, parsed: ScpArgs) {
    this.channel = o.channel;
    this.conn = o.conn;
    this.user = o.user;
    this.log = o.log;
    this.args = parsed;
    this.reader = new ChannelReader(o.channel, 1024 * 1024);
  }

  /** runs the transfer; resolves with the exit status (0 ok, 1 error) after reporting errors */
  async run(): Promise<number> {
    try {
      if (this.args.direction === 'to') await this.sink();
      else await this.source();
      return 0;
    } catch (e) {
      if (e instanceof RemoteScpError) {
        this.log.info({ error: e.message }, 'scp error message received from the client');
      } else {
        const msg = e instanceof Error && !SftpgoError.is(e) ? e.message : exposedMessage(e);
        this.log.info({ err: e }, 'scp command failed');
        await this.sendError(msg);
      }
      return 1;
    }
  }

  // ------------------------------------------------------------------ protocol primitives

  private async send(data: Buffer | string): Promise<void> {
    await writeChannel(this.channel, data);
  }

  private sendOk(): Promise<void> {
    return this.send(Buffer.from([0]));
  }

  private async sendError(msg: string): Promise<void> {
    try {
      await this.send(
        Buffer.concat([Buffer.from([2]), Buffer.from(`scp: ${msg.replace(/\n/g, ' ')}\n`)]),
      );
    } catch (e) {
      this.log.debug({ err: e }, 'unable to send the scp error message');
    }
  }

  /** reads the client's acknowledgement; a warning or error becomes a RemoteScpError */
  private async readAck(): Promise<void> {
    const b = await this.reader.readByte();
    if (b === null) throw new RemoteScpError('connection closed by the client');
    if (b === 0) return;
    const text = (await this.reader.readLine().catch(() => '')) ?? '';
    throw new RemoteScpError(text || `unexpected acknowledgement ${b}`);
  }

  // ------------------------------------------------------------------ sink (upload)

  private async isDir(p: string): Promise<boolean> {
    try {
      return (await this.conn.stat(p)).isDirectory;
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }

  private async sink(): Promise<void> {
    const target = normalizeVirtualPath(this.args.paths[this.args.paths.length - 1] as string);
    const targetIsDir = await this.isDir(target);
    if (this.args.targetIsDir && !targetIsDir)
      throw new SftpgoError('INVALID_INPUT', `${target}: Not a directory`);
    const dirs: { path: string; times: Times | undefined }[] = [];
    let times: Times | undefined;
    await this.sendOk();
    for (;;) {
      const line = await this.reader.readLine();
      if (line === null) return;
      const kind = line[0];
      if (kind === '\x01' || kind === '\x02') throw new RemoteScpError(line.slice(1));
      const cur =
        dirs.length > 0
          ? { path: (dirs[dirs.length - 1] as { path: string }).path, isDir: true }
          : { path: target, isDir: targetIsDir };
      switch (kind) {
        case 'T': {
          const m = /^T(\d+) \d+ (\d+) \d+$/.exec(line);
          if (!m) throw new SftpgoError('INVALID_INPUT', 'protocol error: mtime.sec not delimited');
          times = { mtime: new Date(Number(m[1]) * 1000), atime: new Date(Number(m[2]) * 1000) };
          await this.sendOk();
          break;
        }
        case 'C':
        case 'D': {
          const m = /^[CD]([0-7]{3,4}) (\d+) (.+)$/.exec(line);
          if (!m)
            throw new SftpgoError('INVALID_INPUT', `unknown or invalid upload message: ${line}`);
          const size = Number(m[2]);
          const name = m[3] as string;
          if (name.includes('/') || name === '.' || name === '..') {
            throw new SftpgoError('INVALID_INPUT', `error: unexpected filename: ${name}`);
          }
          const dest = cur.isDir ? posix.join(cur.path, name) : cur.path;
          if (kind === 'D') {
            if (!this.args.recursive)
              throw new SftpgoError('INVALID_INPUT', 'received directory without -r');
            await this.createDir(dest);
            dirs.push({ path: dest, times });
            times = undefined;
            await this.sendOk();
          } else {
            if (!Number.isSafeInteger(size))
              throw new SftpgoError('INVALID_INPUT', 'invalid file size');
            await this.receiveFile(dest, size, times);
            times = undefined;
          }
          break;
        }
        case 'E': {
          const d = dirs.pop();
          if (!d) throw new SftpgoError('INVALID_INPUT', 'unacceptable end dir command');
          if (d.times) await this.applyTimes(d.path, d.times);
          await this.sendOk();
          break;
        }
        case undefined:
        default:
          throw new SftpgoError('INVALID_INPUT', `unknown or invalid upload message: ${line}`);
      }
    }
  }

  private async createDir(p: string): Promise<void> {
    if (await this.isDir(p)) return;
    await this.conn.mkdir(p);
  }

  private async applyTimes(p: string, t: Times): Promise<void> {
    try {
      await this.conn.setStat(p, { atime: t.atime, mtime: t.mtime });
    } catch (e) {
      // -p is best effort (upstream ignores it): a user without chtimes still gets the file
      this.log.debug({ err: e, file_path: p }, 'scp -p: times not applied');
    }
  }

  private async receiveFile(dest: string, size: number, times: Times | undefined): Promise<void> {
    // upstream's scp reports O_TRUNC to the pre-upload action, for new files too
    const upload = await this.conn.openUpload(dest, {
      mode: 'truncate',
      openFlags: { existing: OPEN_FLAGS.O_TRUNC, newFile: OPEN_FLAGS.O_TRUNC },
    });
    let failure: unknown;
    try {
      await this.sendOk();
      await this.receiveData(upload, size, (e) => (failure ??= e));
      if (failure !== undefined) {
        // the client sent the whole file (drained below) and its trailing ack: read the ack so
        // the error we answer with is the next thing it reads (otherwise: "lost connection")
        await this.readAck().catch((e: unknown) =>
          this.log.debug({ err: e }, 'scp: no ack after a failed upload'),
        );
        throw failure;
      }
      await this.readAck();
    } catch (e) {
      await upload.abort(e);
      throw e;
    }
    await upload.close();
    if (times) await this.applyTimes(dest, times);
    await this.sendOk();
  }

  private async receiveData(
    upload: UploadHandle,
    size: number,
    onError: (e: unknown) => void,
  ): Promise<void> {
    let pos = 0;
    const inflight: { p: Promise<void>; n: number }[] = [];
    let inflightBytes = 0;
    let failed = false;
    while (pos < size) {
      const chunk = await this.reader.read(Math.min(CHUNK, size - pos));
      if (chunk === null)
        throw new SftpgoError('ABORTED', 'unexpected end of data from the client');
      if (failed) {
        // a write failed (quota, storage): OpenSSH's scp sends the whole file before it reads
        // our answer, so the rest is read and discarded, as OpenSSH's own sink does; closing the
        // channel now would show the client "lost connection" instead of the reason
        pos += chunk.length;
        continue;
      }
      const p = upload.write(pos, chunk).catch((e: unknown) => {
        failed = true;
        onError(e);
      });
      inflight.push({ p, n: chunk.length });
      inflightBytes += chunk.length;
      pos += chunk.length;
      // throttling acts on reading: the channel is not consumed while ahead of the rate
      const ms = upload.throttleDelay();
      if (ms > 0) await sleep(ms);
      while (inflightBytes > MAX_WRITES_IN_FLIGHT) {
        const first = inflight.shift() as { p: Promise<void>; n: number };
        await first.p;
        inflightBytes -= first.n;
      }
    }
    await Promise.all(inflight.map((x) => x.p));
  }

  // ------------------------------------------------------------------ source (download)

  private async source(): Promise<void> {
    await this.readAck();
    for (const p of this.args.paths) {
      await this.sendItem(normalizeVirtualPath(p));
    }
  }

  private async sendTimes(fi: FileInfo): Promise<void> {
    if (!this.args.preserveTimes) return;
    const m = Math.floor(fi.mtime.getTime() / 1000);
    const a = Math.floor(fi.atime.getTime() / 1000);
    await this.send(`T${m} 0 ${a} 0\n`);
    await this.readAck();
  }

  private async sendItem(vpath: string): Promise<void> {
    const fi = await this.conn.stat(vpath);
    if (fi.isDirectory) {
      if (!this.args.recursive)
        throw new SftpgoError('INVALID_INPUT', `${vpath}: not a regular file`);
      await this.sendDir(vpath, fi);
      return;
    }
    await this.sendFile(vpath, fi);
  }

  /**
   * Sends a directory tree as the common walk presents it: directories the user may not list,
   * files denied by the patterns or without download permission stop the transfer with an
   * error (as a single file would); symlinks to regular files are sent as those files, other
   * symlinks are skipped (never walked into).
   */
  private async sendDir(vpath: string, fi: FileInfo): Promise<void> {
    const walk = this.conn.walk(vpath, {
      rootInfo: fi,
      filePerm: 'download',
      resolveSymlinks: true,
      onSkip: (p, reason) =>
        this.log.debug({ file_path: p, reason: reason.message }, 'scp: entry not sent'),
    });
    for await (const e of walk) {
      switch (e.type) {
        case 'dir': {
          await this.sendTimes(e.info);
          let name = posix.basename(e.path);
          if (e.path === '/' || name === '') name = this.user.username ?? 'root';
          await this.send(`D${modeString(e.info)} 0 ${name}\n`);
          await this.readAck();
          break;
        }
        case 'dir-end':
          await this.send('E\n');
          await this.readAck();
          break;
        case 'file':
          await this.sendFile(e.path, e.info);
          break;
        case 'symlink':
        case 'other':
          this.log.debug({ file_path: e.path }, 'scp: only files and directories are sent');
      }
    }
  }

  private async sendFile(vpath: string, fi: FileInfo): Promise<void> {
    const dl: DownloadHandle = await this.conn.openDownload(vpath, { offset: 0 });
    try {
      const size = dl.fileSize ?? fi.size;
      await this.sendTimes(fi);
      await this.send(`C${modeString(fi)} ${size} ${posix.basename(vpath)}\n`);
      await this.readAck();
      await this.streamFile(dl, size);
      await this.sendOk();
      await this.readAck();
    } catch (e) {
      await dl.abort(e);
      throw e;
    }
    await dl.close();
  }

  private async streamFile(dl: DownloadHandle, size: number): Promise<void> {
    type Result = { ok: true; buf: Buffer | null } | { ok: false; err: unknown };
    const fetch = (pos: number): Promise<Result> =>
      dl.read(pos, Math.min(CHUNK, size - pos)).then(
        (buf): Result => ({ ok: true, buf }),
        (err: unknown): Result => ({ ok: false, err }),
      );
    let pos = 0;
    let next: Promise<Result> | undefined = size > 0 ? fetch(0) : undefined;
    while (next) {
      const r = await next;
      if (!r.ok) throw r.err;
      const buf = r.buf;
      if (buf === null || buf.length === 0) {
        throw new SftpgoError('CONFLICT', 'the file was truncated while it was being sent');
      }
      const chunk = pos + buf.length > size ? buf.subarray(0, size - pos) : buf;
      pos += chunk.length;
      next = pos < size ? fetch(pos) : undefined;
      await this.send(chunk);
    }
  }
}
