/**
 * The web client driver of the shared cases (test/cases/README.md "Adding a protocol"): the
 * operations a user can do in the browser, sent as its forms send them (session cookie and
 * CSRF token), and the answer's status mapped to the neutral outcomes (the page shows the
 * message; the status is src/httpd/http-map.ts's).
 *
 * - upload: POST /upload (multipart: the directory in `path`, the file's base name as the
 *   part's filename); download: GET /files?path=<file>; list: GET /files?path=<dir>, names
 *   read from the rows' data-name; stat: the row of the name in its parent's listing;
 * - mkdir: POST /mkdir (directory + name); rmdir and remove: POST /delete (directory + name;
 *   a non-empty directory asks for a confirmation: 409); rename: POST /rename (path + target).
 *
 * The web client has no append, symlink, readlink, realpath, chmod or chtimes, and a browser
 * cannot send a file name with CR or LF (`transports`).
 */
import { posix } from 'node:path';
import { startWebServer } from '../../helpers/browser.js';
import type { ConfigOverrides } from '../../helpers/server.js';
import { atomicUploadDifferences } from './webdav.js';
import type {
  CaseUser,
  DriverSession,
  Op,
  OpKind,
  OpResult,
  Outcome,
  ProtocolDriver,
  ProtocolServer,
  Support,
} from '../types.js';

export function webOutcome(status: number): Outcome {
  if (status >= 200 && status < 400) return 'ok';
  switch (status) {
    case 403:
      return 'permission-denied';
    case 404:
      return 'not-found';
    case 413:
      return 'quota-exceeded';
    case 405:
    case 501:
      return 'unsupported';
    default:
      return 'failure';
  }
}

const UNSUPPORTED: Partial<Record<OpKind, string>> = {
  append: 'an upload form replaces the whole file: there is no append',
  symlink: 'the web client cannot create symlinks',
  readlink: 'the web client does not show symlink targets',
  realpath: 'the web client has no canonical-path query (the breadcrumb is the cleaned path)',
  chmod: 'the web client does not change permission bits',
  chtimes: 'the web client does not change modification times',
};

/** HTML text: entities of eta's autoescape undone */
export function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function csrfOf(html: string): string {
  const m = /name="_form_token" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF field in the page');
  return m[1];
}

/** the rows of a files page: name, type and size */
export function listingOf(html: string): { name: string; type: string; size: number }[] {
  return [...html.matchAll(/<tr data-name="([^"]*)" data-type="(\w+)" data-size="(\d*)">/g)].map(
    (m) => ({ name: unescapeHtml(m[1] ?? ''), type: m[2] ?? '', size: Number(m[3] || 0) }),
  );
}

/** the error text a page shows */
export function alertOf(html: string): string {
  const m = /<article class="flash flash-error" role="alert">([^<]*)</.exec(html);
  return unescapeHtml(m?.[1] ?? '');
}

/** a multipart body as a browser sends it (the filename's quotes escaped as %22) */
export function multipartBody(
  fields: Record<string, string>,
  files: { field: string; filename: string; data: Buffer }[],
): { body: Buffer; contentType: string } {
  const boundary = `----sftpgoCases${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    );
  }
  for (const f of files) {
    const name = f.filename.replace(/"/g, '%22');
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${name}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** a signed-in web client session: the cookie and a CSRF token of the user's pages */
export async function webClientLogin(
  base: string,
  user: CaseUser,
): Promise<{ cookie: string; csrf: string }> {
  const page = await fetch(`${base}/web/client/login`);
  const r = await fetch(`${base}/web/client/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _form_token: csrfOf(await page.text()),
      username: user.username,
      password: user.password,
    }),
  });
  const jwt = /^jwt=([^;]+)/.exec(
    r.headers.getSetCookie().find((c) => c.startsWith('jwt=')) ?? '',
  )?.[1];
  if (r.status !== 302 || !jwt) throw new Error(`web client login failed: ${r.status}`);
  const cookie = `jwt=${jwt}`;
  const files = await fetch(`${base}/web/client/files`, { headers: { cookie } });
  return { cookie, csrf: csrfOf(await files.text()) };
}

class WebClientSession implements DriverSession {
  constructor(
    private readonly base: string,
    private readonly cookie: string,
    private readonly csrf: string,
  ) {}

  private async send(
    method: string,
    path: string,
    body?: { form: Record<string, string | string[]> } | { raw: Buffer; contentType: string },
  ): Promise<{ status: number; body: Buffer; html: boolean; location: string }> {
    const headers: Record<string, string> = { cookie: this.cookie };
    let payload: Buffer | URLSearchParams | undefined;
    if (body && 'form' in body) {
      const f = new URLSearchParams({ _form_token: this.csrf });
      for (const [k, v] of Object.entries(body.form))
        for (const x of Array.isArray(v) ? v : [v]) f.append(k, x);
      payload = f;
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (body) {
      payload = body.raw;
      headers['content-type'] = body.contentType;
    }
    const r = await fetch(`${this.base}/web/client${path}`, {
      method,
      redirect: 'manual',
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const location = r.headers.get('location') ?? '';
    if (r.status === 302 && location.endsWith('/login'))
      throw new Error('the web session was refused (redirect to the login page)');
    return {
      status: r.status,
      body: Buffer.from(await r.arrayBuffer()),
      html: /text\/html/.test(r.headers.get('content-type') ?? ''),
      location,
    };
  }

  private result(
    r: { status: number; body: Buffer; html: boolean },
    extra: Partial<OpResult> = {},
  ): OpResult {
    const outcome = webOutcome(r.status);
    const text = r.html ? alertOf(r.body.toString('utf8')) : '';
    return { outcome, detail: `${r.status} ${text}`, ...(outcome === 'ok' ? extra : {}) };
  }

  private list(path: string): Promise<{ status: number; body: Buffer; html: boolean }> {
    return this.send('GET', `/files?path=${encodeURIComponent(path)}`);
  }

  async run(op: Op): Promise<OpResult> {
    switch (op.op) {
      case 'upload': {
        const { body, contentType } = multipartBody(
          { _form_token: this.csrf, path: posix.dirname(op.path) },
          [{ field: 'files', filename: posix.basename(op.path), data: op.data }],
        );
        return this.result(await this.send('POST', '/upload', { raw: body, contentType }));
      }
      case 'download': {
        const r = await this.list(op.path);
        // a directory answers with its page
        if (r.status === 200 && r.html) return { outcome: 'failure', detail: 'a directory' };
        return this.result(r, { content: r.body });
      }
      case 'list': {
        const r = await this.list(op.path);
        if (r.status === 200 && !r.html) return { outcome: 'failure', detail: 'a file' };
        return this.result(r, { names: listingOf(r.body.toString('utf8')).map((e) => e.name) });
      }
      case 'stat': {
        const r = await this.list(posix.dirname(op.path));
        const res = this.result(r);
        if (res.outcome !== 'ok') return res;
        const name = posix.basename(op.path);
        const row = listingOf(r.body.toString('utf8')).find((e) => e.name === name);
        if (!row) return { outcome: 'not-found', detail: `${name} is not listed` };
        return { outcome: 'ok', stat: { size: row.size, isDirectory: row.type === 'dir' } };
      }
      case 'mkdir':
        return this.result(
          await this.send('POST', '/mkdir', {
            form: { path: posix.dirname(op.path), name: posix.basename(op.path) },
          }),
        );
      case 'rmdir':
      case 'remove':
        return this.result(
          await this.send('POST', '/delete', {
            form: { path: posix.dirname(op.path), files: posix.basename(op.path) },
          }),
        );
      case 'rename':
        return this.result(
          await this.send('POST', '/rename', { form: { path: op.from, to: op.to } }),
        );
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

export const webClientDriver: ProtocolDriver = {
  name: 'HTTP',
  async start(base: ConfigOverrides): Promise<ProtocolServer> {
    const srv = await startWebServer({ config: base });
    return {
      srv,
      connect: async (user: CaseUser): Promise<DriverSession> => {
        const s = await webClientLogin(srv.httpUrl, user);
        return new WebClientSession(srv.httpUrl, s.cookie, s.csrf);
      },
      stop: () => srv.stop(),
    };
  },
  // one status (403) for both: the file patterns are a permission of the core
  indistinguishable: [['permission-denied', 'name-not-allowed']],
  maxLeftOut: 22,
  differences: atomicUploadDifferences('an upload', 'Delete'),
  supports: (op: OpKind): Support => UNSUPPORTED[op] ?? true,
  transports: (path: string): Support =>
    /[\r\n]/.test(path) ? 'a browser cannot send a file name with CR or LF' : true,
  actionOpenFlags: { truncate: 512 },
};
