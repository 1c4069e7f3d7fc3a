/**
 * The SFTP driver of the shared cases: ssh2's SFTP client, SFTP v3 status codes mapped to the
 * neutral outcomes. SFTP answers NAME_NOT_ALLOWED with the same status as PERMISSION_DENIED (3)
 * and QUOTA_EXCEEDED with FAILURE (4), as upstream does; the core's exposed message tells them
 * apart (src/common: "... not allowed by the file pattern filters", "denying write due to space
 * limit"), so this driver reads it rather than declaring the outcomes indistinguishable.
 */
import type { ConfigOverrides } from '../../helpers/server.js';
import {
  sftpCode,
  ssh2Connect,
  startSftpTestServer,
  type Ssh2Session,
} from '../../helpers/sftpd.js';
import type {
  CaseUser,
  DriverSession,
  Op,
  OpResult,
  Outcome,
  ProtocolDriver,
  ProtocolServer,
} from '../types.js';

const CHUNK = 32 * 1024;
const WINDOW = 16;

interface FileAttrs {
  size: number;
  mode: number;
}

/** SFTP status (+ message) -> outcome; anything without a status is a broken session */
export function sftpOutcome(e: unknown): OpResult {
  const code = sftpCode(e);
  const message = (e as Error).message;
  const detail = `SFTP status ${String(code)}: ${message}`;
  let outcome: Outcome;
  switch (code) {
    case 2:
      outcome = 'not-found';
      break;
    case 3:
      outcome = /not allowed by the file pattern/i.test(message)
        ? 'name-not-allowed'
        : 'permission-denied';
      break;
    case 4:
      outcome = /space limit|quota/i.test(message) ? 'quota-exceeded' : 'failure';
      break;
    case 5:
      outcome = 'failure';
      break;
    case 8:
      outcome = 'unsupported';
      break;
    case undefined:
    default:
      // no SFTP status: the session itself broke (connection lost, protocol error)
      throw e instanceof Error ? e : new Error(String(e));
  }
  return { outcome, detail };
}

class SftpSession implements DriverSession {
  constructor(private readonly s: Ssh2Session) {}

  async run(op: Op): Promise<OpResult> {
    try {
      return await this.exec(op);
    } catch (e) {
      return sftpOutcome(e);
    }
  }

  private async exec(op: Op): Promise<OpResult> {
    const s = this.s;
    switch (op.op) {
      case 'upload':
        await this.write(op.path, 'w', op.data, false);
        return { outcome: 'ok' };
      case 'append':
        await this.write(op.path, 'a', op.data, true);
        return { outcome: 'ok' };
      case 'download': {
        const h = await s.call<Buffer>('open', op.path, 'r');
        const parts: Buffer[] = [];
        try {
          for (let pos = 0; ;) {
            const buf = Buffer.alloc(CHUNK);
            const n = await s.call<number>('read', h, buf, 0, CHUNK, pos).catch((e: unknown) => {
              if (sftpCode(e) === 1) return 0; // EOF
              throw e;
            });
            if (n === 0) break;
            parts.push(buf.subarray(0, n));
            pos += n;
          }
        } finally {
          await s.call('close', h);
        }
        return { outcome: 'ok', content: Buffer.concat(parts) };
      }
      case 'mkdir':
        await s.call('mkdir', op.path);
        return { outcome: 'ok' };
      case 'rmdir':
        await s.call('rmdir', op.path);
        return { outcome: 'ok' };
      case 'remove':
        await s.call('unlink', op.path);
        return { outcome: 'ok' };
      case 'rename':
        await s.call('rename', op.from, op.to);
        return { outcome: 'ok' };
      case 'list': {
        const entries = await s.call<{ filename: string }[]>('readdir', op.path);
        return {
          outcome: 'ok',
          names: entries.map((e) => e.filename).filter((n) => n !== '.' && n !== '..'),
        };
      }
      case 'stat': {
        const a = await s.call<FileAttrs>('stat', op.path);
        return {
          outcome: 'ok',
          stat: { size: a.size, isDirectory: (a.mode & 0o170000) === 0o040000 },
        };
      }
      case 'symlink':
        // The server reads SYMLINK in OpenSSH's order (target first) from every client, as
        // pkg/sftp does; ssh2's client writes the draft's order (link first), hence the swap.
        await s.call('symlink', op.link, op.target);
        return { outcome: 'ok' };
      case 'readlink':
        return { outcome: 'ok', path: await s.call<string>('readlink', op.path) };
      case 'realpath':
        return { outcome: 'ok', path: await s.call<string>('realpath', op.path) };
      case 'chmod':
        await s.call('chmod', op.path, op.mode);
        return { outcome: 'ok' };
      case 'chtimes':
        await s.call('utimes', op.path, op.mtime, op.mtime);
        return { outcome: 'ok' };
    }
  }

  /**
   * open, sequential writes, close. The first refusal wins; after a refused write the handle is
   * still closed, and a refused close is the answer when every write went through.
   */
  private async write(
    path: string,
    flags: 'w' | 'a',
    data: Buffer,
    append: boolean,
  ): Promise<void> {
    const s = this.s;
    const h = await s.call<Buffer>('open', path, flags);
    let failure: unknown;
    try {
      const base = append ? (await s.call<FileAttrs>('fstat', h)).size : 0;
      // pipelined like OpenSSH's sftp (up to WINDOW writes in flight); no new write after a refusal
      let next = 0;
      const writer = async (): Promise<void> => {
        while (failure === undefined && next < data.length) {
          const off = next;
          const n = Math.min(CHUNK, data.length - off);
          next += n;
          await s.call('write', h, data, off, n, base + off);
        }
      };
      const results = await Promise.allSettled(Array.from({ length: WINDOW }, writer));
      for (const r of results) if (r.status === 'rejected') failure ??= r.reason;
    } catch (e) {
      failure = e;
    }
    try {
      await s.call('close', h);
    } catch (e) {
      failure ??= e;
    }
    if (failure !== undefined) throw failure;
  }

  close(): Promise<void> {
    return this.s.end();
  }
}

export const sftpDriver: ProtocolDriver = {
  name: 'SFTP',
  async start(base: ConfigOverrides): Promise<ProtocolServer> {
    const env = await startSftpTestServer({ config: base });
    return {
      srv: env.srv,
      async connect(user: CaseUser): Promise<DriverSession> {
        return new SftpSession(
          await ssh2Connect(env.port, user.username, { password: user.password }),
        );
      },
      stop: () => env.stop(),
    };
  },
  // SFTP v3 carries every operation of the table, and paths are length-prefixed byte strings
  supports: () => true,
  // ssh2's "w" (WRITE|CREAT|TRUNC) and "a" (APPEND|CREAT|WRITE, APPEND dropped): the Linux values
  actionOpenFlags: { truncate: 577, append: 65 },
};
