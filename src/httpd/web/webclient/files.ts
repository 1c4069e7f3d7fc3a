/**
 * The web client's file pages (upstream webclient.go handleClientGetFiles /
 * handleClientGetDirContents / handleWebClientDownloadZip of 2.1.2, plus the file management
 * of later upstream versions): browse, download one file (Range-capable: the REST API's code),
 * download a selection as zip, upload, mkdir, rename, delete. Every operation is one request
 * through a registered src/common Connection with protocol HTTP (user-files.ts), so the user's
 * permissions, file patterns, quota, max_upload_file_size, bandwidth and login conditions are
 * those of every other protocol.
 *
 * Every page works as plain HTML forms: state changes are POSTs carrying the CSRF token that
 * answer with a redirect to the directory (303-style Post/Redirect/Get, a `done` code for the
 * confirmation) or, on failure, the directory page with the error and the error's status.
 * Differences from 2.1.2: the zip is a POST form (upstream: GET with a `files` JSON parameter),
 * so the selection travels with the CSRF token like every other form; uploads are atomic
 * (a temp file moved into place once complete) whatever `upload_mode` says, as WebDAV PUT.
 */
import type Router from '@koa/router';
import type { Connection } from '../../../common/connection.js';
import type { User } from '../../../dataprovider/provider.js';
import { SftpgoError } from '../../../errors/index.js';
import {
  normalizeVirtualPath,
  virtualBase,
  virtualDir,
  type FileInfo,
} from '../../../vfs/index.js';
import type { HttpdState } from '../../context.js';
import { HttpError } from '../../errors.js';
import { errorSummary, mapError } from '../../middleware/errors.js';
import { openHttpConnection, sendFileDownload, sendZip } from '../../user-files.js';
import { errorText, type FlashMessage, type WebCtx, type WebKit } from '../kit.js';
import { readMultipart } from '../multipart.js';
import { requireWebClient } from '../session.js';
import { breadcrumbs, childPath, formatSize, renameTarget, sortEntries } from './paths.js';

/** the confirmations a redirect after a change may ask for (`?done=`) */
const DONE: Readonly<Record<string, string>> = {
  upload: 'Upload complete',
  mkdir: 'Directory created',
  rename: 'Renamed',
  delete: 'Deleted',
};

interface Failure {
  text: string;
  status: number;
}

function queryString(ctx: WebCtx, name: string): string {
  const v = ctx.query[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function webUser(ctx: WebCtx): User {
  const u = ctx.state.webUser;
  if (!u) throw new HttpError(401, 'Unauthorized', { detail: 'no web client session' });
  return u;
}

/**
 * stat, or — when `list` is denied on the parent — the download's own check (`download` on the
 * parent and the file patterns): a file may be downloadable from a directory that cannot be
 * listed, as over every other protocol.
 */
async function statEntry(conn: Connection, p: string): Promise<FileInfo> {
  try {
    return await conn.stat(p);
  } catch (e) {
    if (!SftpgoError.is(e, 'PERMISSION_DENIED')) throw e;
    return conn.statForDownload(p).catch(() => {
      throw e;
    });
  }
}

export function registerClientFilePages(router: Router<HttpdState>, kit: WebKit): void {
  const { deps } = kit;
  const auth = requireWebClient(kit);

  /** the page text and status of a failed file operation; unexpected failures are logged */
  const failure = (ctx: WebCtx, e: unknown, what?: string): Failure => {
    const m = mapError(e);
    if (m.status >= 500)
      deps.logger.error(
        { error: errorSummary(e), method: ctx.method, uri: ctx.path },
        'web client request failed',
      );
    const text = errorText(e);
    return { text: what ? `${what}: ${text}` : text, status: m.status };
  };

  const filesUrl = (dir: string, done?: string): string =>
    `/files?path=${encodeURIComponent(dir)}${done ? `&done=${done}` : ''}`;

  /** the listing of `dir`, with a message; when the listing itself fails, its error */
  const showDir = async (
    ctx: WebCtx,
    conn: Connection,
    dir: string,
    o: { failed?: Failure; flash?: FlashMessage[] } = {},
  ): Promise<void> => {
    const flash: FlashMessage[] = [...(o.flash ?? [])];
    let status = o.failed?.status ?? 200;
    if (o.failed) flash.push({ kind: 'error', text: o.failed.text });
    const entries: FileInfo[] = [];
    let listed = true;
    try {
      for await (const info of await conn.list(dir)) entries.push(info);
      sortEntries(entries);
    } catch (e) {
      listed = false;
      if (!o.failed) {
        const f = failure(ctx, e);
        flash.push({ kind: 'error', text: f.text });
        status = f.status;
      }
    }
    kit.page(
      ctx,
      'client',
      'webclient/files',
      {
        title: 'Files',
        active: '/files',
        flash,
        dir,
        crumbs: breadcrumbs(dir),
        listed,
        entries: entries.map((e) => ({
          name: e.name,
          path: childPath(dir, e.name),
          isDir: e.isDirectory,
          isLink: e.isSymlink,
          size: e.isDirectory ? '' : formatSize(e.size),
          bytes: e.isDirectory ? '' : String(e.size),
          modified: e.mtime.toISOString().slice(0, 16).replace('T', ' '),
          modifiedIso: e.mtime.toISOString(),
        })),
      },
      status,
    );
  };

  /** runs a file handler with a connection closed at the end (unless the response owns it) */
  const withConnection = async (
    ctx: WebCtx,
    fn: (conn: Connection) => Promise<'handed-over' | void>,
  ): Promise<void> => {
    const conn = await openHttpConnection(deps, ctx, webUser(ctx));
    let handed = false;
    try {
      handed = (await fn(conn)) === 'handed-over';
    } finally {
      if (!handed) await conn.close();
    }
  };

  /** the directory a form acts in (`path`), normalized; the root when missing */
  const formDir = (form: URLSearchParams): string => normalizeVirtualPath(form.get('path') ?? '/');

  // ---------------------------------------------------------------- browse and download

  router.get('/files', auth, async (ctx) => {
    await withConnection(ctx, async (conn) => {
      let p = '/';
      let info: FileInfo | undefined;
      try {
        p = normalizeVirtualPath(queryString(ctx, 'path') || '/');
        if (p !== '/') info = await statEntry(conn, p);
      } catch (e) {
        const parent = p === '/' ? '/' : virtualDir(p);
        return showDir(ctx, conn, parent, { failed: failure(ctx, e, virtualBase(p)) });
      }
      if (info && !info.isDirectory) {
        // a file: its content, with the REST API's Range handling; the response closes conn
        await sendFileDownload(ctx, conn, p, info);
        return 'handed-over';
      }
      const done = DONE[queryString(ctx, 'done')];
      return showDir(ctx, conn, p, done ? { flash: [{ kind: 'success', text: done }] } : {});
    });
  });

  router.post('/downloadzip', auth, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    await withConnection(ctx, async (conn) => {
      let dir = '/';
      let paths: string[];
      try {
        dir = formDir(form);
        paths = form.getAll('files').map((n) => childPath(dir, n));
        if (paths.length === 0)
          throw new SftpgoError('INVALID_INPUT', 'select one or more files to download');
      } catch (e) {
        return showDir(ctx, conn, dir, { failed: failure(ctx, e) });
      }
      // a failure before the first byte (a path that is gone or not allowed) is shown on the
      // page; sendZip closes conn itself in every case
      try {
        await sendZip(ctx, deps, conn, paths);
      } catch (e) {
        const again = await openHttpConnection(deps, ctx, webUser(ctx));
        try {
          await showDir(ctx, again, dir, { failed: failure(ctx, e) });
        } finally {
          await again.close();
        }
      }
      return 'handed-over';
    });
  });

  // ---------------------------------------------------------------- changes

  router.post('/upload', auth, async (ctx) => {
    await withConnection(ctx, async (conn) => {
      let dir = '/';
      let current = '';
      let count = 0;
      let verified = false;
      try {
        const fields = await readMultipart(ctx, {
          verify: (f) => {
            kit.checkCsrf(ctx, 'client', f);
            verified = true;
            dir = formDir(f);
          },
          onFile: async (file, stream) => {
            if (file.filename === '') {
              // an empty file input: the browser sends a part without a name
              stream.resume();
              return;
            }
            current = file.filename;
            const up = await conn.openUpload(childPath(dir, file.filename), {
              mode: 'truncate',
              // never partial data under the name (client gone, over a size limit)
              wholeFile: true,
            });
            await up.consume(stream);
            count++;
            current = '';
          },
        });
        dir = formDir(fields);
        if (count === 0)
          throw new SftpgoError('INVALID_INPUT', 'choose one or more files to upload');
      } catch (e) {
        // no valid token (or no form at all): the error page, nothing was written
        if (!verified) throw e;
        const done = count > 0 ? ` (${count} file${count === 1 ? '' : 's'} uploaded before)` : '';
        const f = failure(ctx, e, current || undefined);
        return showDir(ctx, conn, dir, { failed: { ...f, text: `${f.text}${done}` } });
      }
      kit.redirect(ctx, 'client', filesUrl(dir, 'upload'));
    });
  });

  router.post('/mkdir', auth, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    await withConnection(ctx, async (conn) => {
      let dir = '/';
      try {
        dir = formDir(form);
        await conn.mkdir(childPath(dir, form.get('name') ?? ''));
      } catch (e) {
        return showDir(ctx, conn, dir, { failed: failure(ctx, e) });
      }
      kit.redirect(ctx, 'client', filesUrl(dir, 'mkdir'));
    });
  });

  router.get('/rename', auth, async (ctx) => {
    await withConnection(ctx, async (conn) => {
      let p = '/';
      try {
        p = normalizeVirtualPath(queryString(ctx, 'path'));
        if (p === '/')
          throw new SftpgoError('INVALID_INPUT', 'the root directory cannot be renamed');
        await conn.lstat(p);
      } catch (e) {
        return showDir(ctx, conn, virtualDir(p), { failed: failure(ctx, e) });
      }
      kit.page(ctx, 'client', 'webclient/rename', {
        title: 'Rename',
        active: '/files',
        path: p,
        name: virtualBase(p),
        dir: virtualDir(p),
        crumbs: breadcrumbs(virtualDir(p)),
      });
    });
  });

  router.post('/rename', auth, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    await withConnection(ctx, async (conn) => {
      let dir = '/';
      try {
        const from = normalizeVirtualPath(form.get('path') ?? '');
        dir = virtualDir(from);
        if (from === '/')
          throw new SftpgoError('INVALID_INPUT', 'the root directory cannot be renamed');
        await conn.rename(from, renameTarget(from, form.get('to') ?? ''));
      } catch (e) {
        return showDir(ctx, conn, dir, { failed: failure(ctx, e) });
      }
      kit.redirect(ctx, 'client', filesUrl(dir, 'rename'));
    });
  });

  router.post('/delete', auth, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    const recursive = form.get('recursive') === '1';
    await withConnection(ctx, async (conn) => {
      let dir = '/';
      const nonEmpty: string[] = [];
      let deleted = 0;
      try {
        dir = formDir(form);
        const names = form.getAll('files');
        if (names.length === 0)
          throw new SftpgoError('INVALID_INPUT', 'select one or more files to delete');
        for (const name of names) {
          const p = childPath(dir, name);
          // lstat: a symlink is removed itself, never what it points to
          const info = await conn.lstat(p);
          if (!info.isDirectory) await conn.remove(p);
          else if (recursive) await conn.removeTree(p);
          else {
            try {
              await conn.rmdir(p);
            } catch (e) {
              if (!SftpgoError.is(e, 'NOT_EMPTY')) throw e;
              nonEmpty.push(name);
              continue;
            }
          }
          deleted++;
        }
      } catch (e) {
        const f = failure(ctx, e);
        const text = deleted > 0 ? `${f.text} (${deleted} deleted before)` : f.text;
        return showDir(ctx, conn, dir, { failed: { ...f, text } });
      }
      if (nonEmpty.length > 0) {
        // a non-empty directory is deleted with its content only once confirmed
        kit.page(
          ctx,
          'client',
          'webclient/delete-confirm',
          {
            title: 'Delete',
            active: '/files',
            dir,
            names: nonEmpty,
            deleted,
            crumbs: breadcrumbs(dir),
          },
          409,
        );
        return;
      }
      kit.redirect(ctx, 'client', filesUrl(dir, 'delete'));
    });
  });
}
