/**
 * The WebDAV driver of the shared cases (test/cases/README.md "Adding a protocol"): one
 * request per operation with node:http (raw request paths, so `..` segments reach the server
 * as sent instead of being resolved by the client), paths percent-encoded once, statuses
 * mapped to the neutral outcomes as src/webdavd/http-map.ts produces them.
 *
 * WebDAV has no method for append, symlink, readlink, realpath, chmod or chtimes (`supports`
 * below), so more cases are left out than for SFTP/FTP; and three cases are answered
 * differently on purpose (`differences`): PUT is always atomic, so an overwrite refused by the
 * quota keeps the old file, and WebDAV's DELETE is also its rmdir.
 */
import { request } from 'node:http';
import type { CaseUser, DriverSession, Op, OpKind, OpResult, Outcome, ProtocolDriver, ProtocolServer, Support } from '../types.js';
import type { ConfigOverrides } from '../../helpers/server.js';
import { basicAuth } from '../../helpers/server.js';
import { startDavTestServer } from '../../helpers/webdavd.js';

/** a virtual path as a request path: absolute, each segment percent-encoded once */
export function davPath(p: string): string {
  const abs = p.startsWith('/') ? p : `/${p}`;
  return abs
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

export function davOutcome(status: number): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  switch (status) {
    case 403:
      return 'permission-denied';
    case 404:
    case 409:
      return 'not-found';
    case 413:
    case 507:
      return 'quota-exceeded';
    case 405:
    case 501:
      return 'unsupported';
    default:
      return 'failure';
  }
}

interface Reply {
  status: number;
  body: Buffer;
}

const UNSUPPORTED: Partial<Record<OpKind, string>> = {
  append: 'a WebDAV PUT replaces the whole resource: there is no append',
  symlink: 'WebDAV has no method to create a symlink',
  readlink: 'WebDAV has no method to read a symlink target',
  realpath: 'WebDAV has no canonical-path query (a URL is the path)',
  chmod: 'WebDAV has no permission bits (no live property sets them)',
  chtimes: 'getlastmodified is a protected live property (RFC 4918 §15.7); no other property sets the time',
};

class DavCaseSession implements DriverSession {
  constructor(
    private readonly port: number,
    private readonly auth: string,
  ) {}

  private send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: this.port,
        method,
        path,
        headers: {
          authorization: this.auth,
          ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.end(body);
    });
  }

  private result(r: Reply, extra: Partial<OpResult> = {}): OpResult {
    if (r.status === 401) throw new Error(`401: the session's credentials were refused`);
    const ok = r.status >= 200 && r.status < 300;
    return { outcome: davOutcome(r.status), detail: `${r.status} ${r.body.toString('utf8').slice(0, 300)}`, ...(ok ? extra : {}) };
  }

  private propfind(path: string, depth: '0' | '1'): Promise<Reply> {
    const body =
      '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>';
    return this.send('PROPFIND', path, { depth, 'content-type': 'application/xml' }, body);
  }

  async run(op: Op): Promise<OpResult> {
    switch (op.op) {
      case 'upload':
        return this.result(await this.send('PUT', davPath(op.path), {}, op.data));
      case 'download': {
        const r = await this.send('GET', davPath(op.path));
        return this.result(r, { content: r.body });
      }
      case 'mkdir':
        return this.result(await this.send('MKCOL', davPath(op.path)));
      case 'rmdir':
      case 'remove':
        return this.result(await this.send('DELETE', davPath(op.path)));
      case 'rename':
        return this.result(
          await this.send('MOVE', davPath(op.from), {
            destination: `http://127.0.0.1:${this.port}${davPath(op.to)}`,
            overwrite: 'T',
          }),
        );
      case 'list': {
        const r = await this.propfind(davPath(op.path), '1');
        const self = davPath(op.path).replace(/\/+$/, '');
        const hrefs = [...r.body.toString('utf8').matchAll(/<(?:\w+:)?href>([^<]*)<\/(?:\w+:)?href>/g)].map((m) =>
          new URL(m[1] ?? '', 'http://x').pathname.replace(/\/+$/, ''),
        );
        const names = hrefs.filter((h) => h !== self).map((h) => decodeURIComponent(h.slice(h.lastIndexOf('/') + 1)));
        return this.result(r, { names });
      }
      case 'stat': {
        const r = await this.propfind(davPath(op.path), '0');
        const xml = r.body.toString('utf8');
        const size = Number(/getcontentlength>(\d+)</.exec(xml)?.[1] ?? 0);
        return this.result(r, { stat: { size, isDirectory: /<(?:\w+:)?collection\s*\/>/.test(xml) } });
      }
      case 'append':
      case 'symlink':
      case 'readlink':
      case 'realpath':
      case 'chmod':
      case 'chtimes':
        throw new Error(`${op.op}: ${UNSUPPORTED[op.op] ?? 'not supported'}`);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The cases an HTTP protocol answers differently because its uploads are always atomic (an
 * overwrite refused by a size limit keeps the old file) and its one delete verb is also the
 * rmdir (it removes a symlink to a directory itself): WebDAV PUT/DELETE, the web client's
 * upload and delete forms.
 */
export function atomicUploadDifferences(upload: string, del: string): NonNullable<ProtocolDriver['differences']> {
  return {
    Q06: {
      reason: `${upload} is atomic: an overwrite refused by max_upload_file_size keeps the old file`,
      steps: [{ files: { '/keep.bin': 'keep' } }],
    },
    Q08: {
      reason: `${upload} is atomic: an overwrite refused by the quota keeps the old file and its quota`,
      steps: [{}, { files: { '/o.bin': { size: 600 * 1024 } }, quota: { user: { size: 600 * 1024, files: 1 } } }],
    },
    H35: {
      reason: `${del} is also the rmdir: it removes the symlink itself and leaves its outside target alone`,
      steps: [{ expect: 'ok', home: { outlink: null } }],
    },
  };
}

export const davDriver: ProtocolDriver = {
  name: 'DAV',
  async start(base: ConfigOverrides): Promise<ProtocolServer> {
    const env = await startDavTestServer({ config: base });
    return {
      srv: env.srv,
      connect: (user: CaseUser): Promise<DriverSession> =>
        Promise.resolve(new DavCaseSession(env.port, basicAuth(user.username, user.password))),
      stop: () => env.stop(),
    };
  },
  // one status (403) for both: the file patterns are a permission of the core
  indistinguishable: [['permission-denied', 'name-not-allowed']],
  // 18 of the table's 99 cases use append, symlink, readlink, realpath, chmod or chtimes
  maxLeftOut: 20,
  differences: atomicUploadDifferences('PUT', 'DELETE'),
  supports: (op: OpKind): Support => UNSUPPORTED[op] ?? true,
  // a PUT over an existing file reports O_TRUNC, as upstream
  actionOpenFlags: { truncate: 512 },
};
