/**
 * The FTP driver of the shared cases (test/cases): one control connection per session (the
 * RawFtp helper), EPSV data connections, FTP replies mapped to the neutral outcomes through
 * the codes of src/ftpd/reply-map.ts: 552 quota, 553 file pattern, 502/504 unsupported. 550
 * carries permission, not-found and other refusals alike (RFC 959 has no finer code): the
 * message after it usually tells them apart and is used for the outcome, but the driver
 * declares the three indistinguishable, since some core messages ("renaming a virtual folder
 * is not allowed" is a permission refusal) do not.

 */
import { connect, type Socket } from 'node:net';
import type { CaseUser, DriverSession, Op, OpResult, Outcome, ProtocolDriver, ProtocolServer } from '../types.js';
import { RawFtp, readAll, startFtpTestServer, type FtpReply } from '../../helpers/ftpd.js';
import type { ConfigOverrides } from '../../helpers/server.js';

export function ftpOutcome(r: FtpReply): Outcome {
  const text = r.lines.join('\n');
  if (r.code >= 200 && r.code < 400) return 'ok';
  switch (r.code) {
    case 552:
      return 'quota-exceeded';
    case 553:
      return 'name-not-allowed';
    case 502:
    case 504:
      return 'unsupported';
    case 550:
      if (/permission denied|is not allowed|not allowed/i.test(text)) return 'permission-denied';
      if (/does not exist|no such file|not found/i.test(text)) return 'not-found';
      return 'failure';
    default:
      return 'failure';
  }
}

function result(r: FtpReply, extra: Partial<OpResult> = {}): OpResult {
  return { outcome: ftpOutcome(r), detail: r.lines.join(' | '), ...extra };
}

function ftpTime(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

class FtpCaseSession implements DriverSession {
  constructor(private readonly c: RawFtp) {}

  private async data(): Promise<Socket> {
    const r = await this.c.cmd('EPSV');
    const m = /\(\|\|\|(\d+)\|\)/.exec(r.text);
    if (r.code !== 229 || !m) throw new Error(`EPSV: ${r.lines.join('|')}`);
    const s = connect({ host: '127.0.0.1', port: Number(m[1]) });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    s.on('error', () => undefined);
    return s;
  }

  /** a transfer command: the 150 (or the refusal), then the final reply */
  private async transfer(cmd: string, io: (s: Socket) => Promise<Buffer | undefined>): Promise<{ reply: FtpReply; got: Buffer | undefined }> {
    const s = await this.data();
    this.c.send(cmd);
    const first = await this.c.read();
    if (first.code !== 150) {
      s.destroy();
      return { reply: first, got: undefined };
    }
    const [got, reply] = await Promise.all([io(s), this.c.read(30_000)]);
    s.destroy();
    return { reply, got };
  }

  private store(cmd: string, data: Buffer): Promise<{ reply: FtpReply; got: Buffer | undefined }> {
    return this.transfer(cmd, async (s) => {
      await new Promise<void>((resolve) => s.end(data, () => resolve()));
      return undefined;
    });
  }

  async run(op: Op): Promise<OpResult> {
    const c = this.c;
    switch (op.op) {
      case 'upload':
        return result((await this.store(`STOR ${op.path}`, op.data)).reply);
      case 'append':
        return result((await this.store(`APPE ${op.path}`, op.data)).reply);
      case 'download': {
        const { reply, got } = await this.transfer(`RETR ${op.path}`, (s) => readAll(s).catch(() => Buffer.alloc(0)));
        return result(reply, got && reply.code === 226 ? { content: got } : {});
      }
      case 'mkdir':
        return result(await c.cmd(`MKD ${op.path}`));
      case 'rmdir':
        return result(await c.cmd(`RMD ${op.path}`));
      case 'remove':
        return result(await c.cmd(`DELE ${op.path}`));
      case 'rename': {
        const r1 = await c.cmd(`RNFR ${op.from}`);
        if (r1.code !== 350) return result(r1);
        return result(await c.cmd(`RNTO ${op.to}`));
      }
      case 'list': {
        const { reply, got } = await this.transfer(`MLSD ${op.path}`, (s) => readAll(s).catch(() => Buffer.alloc(0)));
        if (reply.code !== 226 || !got) return result(reply);
        const names = got
          .toString('utf8')
          .split('\r\n')
          .filter(Boolean)
          .map((l) => l.slice(l.indexOf('; ') + 2));
        return result(reply, { names });
      }
      case 'stat': {
        const r = await c.cmd(`MLST ${op.path}`);
        if (r.code !== 250) return result(r);
        const facts = r.lines[1] ?? '';
        const size = Number(/Size=(\d+);/i.exec(facts)?.[1] ?? NaN);
        return result(r, { stat: { size, isDirectory: /Type=dir;/i.test(facts) } });
      }
      case 'symlink':
        return result(await c.cmd(`SITE SYMLINK ${op.target} ${op.link}`));
      case 'readlink':
        throw new Error('readlink is not supported by FTP');
      case 'realpath': {
        const r = await c.cmd(`CWD ${op.path}`);
        if (r.code !== 250) return result(r);
        const p = await c.cmd('PWD');
        const path = /^"(.*)"/.exec(p.text)?.[1]?.replace(/""/g, '"');
        await c.cmd('CWD /');
        return result(p, path !== undefined ? { path } : {});
      }
      case 'chmod':
        return result(await c.cmd(`SITE CHMOD ${op.mode.toString(8)} ${op.path}`));
      case 'chtimes':
        return result(await c.cmd(`MFMT ${ftpTime(op.mtime)} ${op.path}`));
    }
  }

  close(): Promise<void> {
    this.c.send('QUIT');
    this.c.close();
    return Promise.resolve();
  }
}

export const ftpDriver: ProtocolDriver = {
  name: 'FTP',
  async start(base: ConfigOverrides): Promise<ProtocolServer> {
    const env = await startFtpTestServer({ config: base, ftpd: { enable_site: true } });
    const port = env.ports[0] as number;
    return {
      srv: env.srv,
      async connect(user: CaseUser): Promise<DriverSession> {
        const c = await RawFtp.connect(port);
        const g = await c.read();
        if (g.code !== 220) throw new Error(`greeting: ${g.lines.join('|')}`);
        await c.login(user.username, user.password);
        return new FtpCaseSession(c);
      },
      stop: () => env.stop(),
    };
  },
  indistinguishable: [['permission-denied', 'not-found', 'failure']],
  // STOR: WRONLY|CREAT|TRUNC; APPE: WRONLY|APPEND
  actionOpenFlags: { truncate: 577, append: 1025 },
  supports: (op) => (op === 'readlink' ? 'FTP has no command to read a symlink target' : true),
  // a command line ends at LF (CR LF); a NUL byte travels inside the line
  transports: (p) => (/[\r\n]/.test(p) ? 'CR and LF end an FTP command line' : true),
};
