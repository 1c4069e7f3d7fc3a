/**
 * Where the web UIs' templates and static files come from: the package's own `templates/` and
 * `static/` (next to `dist/` and `src/`), each file overridable by a file of the same relative
 * path under `httpd.templates_path` / `httpd.static_files_path`. Pico CSS is served from its
 * npm package, so no asset is fetched from a CDN.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

/** the package root: src/httpd/web and dist/httpd/web are both three levels down */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const BUILTIN_TEMPLATES = `${ROOT}templates`;
export const BUILTIN_STATIC = `${ROOT}static`;
/** the directory holding pico.min.css */
export const PICO_CSS_DIR = dirname(
  createRequire(import.meta.url).resolve('@picocss/pico/css/pico.min.css'),
);
