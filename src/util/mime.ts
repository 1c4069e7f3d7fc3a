/**
 * Content types by file extension, as Go's mime.TypeByExtension answers them for upstream
 * (webdavd getcontenttype, the S3/GCS/Azure backends' Content-Type on upload): the platform's
 * table (/etc/mime.types) over a small built-in one.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

const BUILTIN: Readonly<Record<string, string>> = Object.freeze({
  '.avif': 'image/avif',
  '.css': 'text/css; charset=utf-8',
  '.gif': 'image/gif',
  '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.mjs': 'text/javascript; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.webp': 'image/webp',
  '.xml': 'text/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
});

/** the platform's extension table (lines "type ext1 ext2 ..."), lower-case ".ext" keys */
export function loadPlatformTypes(file = '/etc/mime.types'): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no platform table (minimal containers): the built-in one is used alone
    return out;
  }
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const [type, ...exts] = t.split(/\s+/);
    if (!type) continue;
    for (const e of exts) if (!out.has(`.${e.toLowerCase()}`)) out.set(`.${e.toLowerCase()}`, type);
  }
  return out;
}

/** the type of `name`'s extension in `platform`, then in the built-in table; undefined when unknown */
export function typeByExtension(
  name: string,
  platform: ReadonlyMap<string, string>,
): string | undefined {
  const ext = extname(name).toLowerCase();
  if (ext === '') return undefined;
  return platform.get(ext) ?? BUILTIN[ext];
}
