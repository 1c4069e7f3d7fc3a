/**
 * GET/HEAD `<web_root>/static/<path>`: the web UIs' CSS, scripts and images. A file under
 * `httpd.static_files_path` wins over the package's own; `vendor/pico.min.css` comes from the
 * @picocss/pico package. Dot-files, `..` and anything but regular files answer 404.
 *
 * Written by hand rather than with koa-static/koa-send (unmaintained since 2018/2020): they
 * serve one root, and we look a file up in the override directory first, then in ours.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Middleware } from 'koa';
import type { HttpdState } from '../context.js';
import { BUILTIN_STATIC, PICO_CSS_DIR } from './assets.js';
import { setSecurityHeaders } from './kit.js';

async function regularFile(
  p: string,
): Promise<{ path: string; size: number; mtime: Date } | undefined> {
  try {
    const st = await stat(p);
    return st.isFile() ? { path: p, size: st.size, mtime: st.mtime } : undefined;
  } catch {
    return undefined;
  }
}

export function serveStatic(o: {
  prefix: string;
  overrideDir?: string | undefined;
}): Middleware<HttpdState> {
  const roots = [...(o.overrideDir ? [o.overrideDir] : []), BUILTIN_STATIC];
  return async function staticFiles(ctx, next) {
    if (!ctx.path.startsWith(`${o.prefix}/`) || (ctx.method !== 'GET' && ctx.method !== 'HEAD'))
      return next();
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path.slice(o.prefix.length + 1));
    } catch {
      return next();
    }
    const clean = posix.normalize(rel);
    if (
      clean !== rel ||
      clean.split('/').some((s) => s === '' || s.startsWith('.')) ||
      clean.includes('\0')
    ) {
      return next();
    }
    let found: Awaited<ReturnType<typeof regularFile>>;
    if (clean === 'vendor/pico.min.css')
      found = await regularFile(join(PICO_CSS_DIR, 'pico.min.css'));
    for (const r of roots) {
      if (found) break;
      found = await regularFile(join(r, ...clean.split('/')));
    }
    if (!found) return next();
    setSecurityHeaders(ctx);
    ctx.set('Cache-Control', 'no-cache');
    ctx.lastModified = found.mtime;
    ctx.type = posix.extname(clean) || 'application/octet-stream';
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    // koa sends no body for HEAD and destroys the stream when the response ends
    ctx.body = createReadStream(found.path);
    ctx.length = found.size;
  };
}
