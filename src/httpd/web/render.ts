/**
 * Server-rendered pages with eta templates (autoescaping `<%= %>`; `<%~ %>` only for markup we
 * built). Templates are named from the templates root (`webadmin/users`, `common/base`); each
 * name resolves to `httpd.templates_path/<name>.eta` when that file exists, else to the
 * package's own, so an installation can replace one page or the layout without copying all.
 */
import { existsSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { Eta } from 'eta';
import { BUILTIN_TEMPLATES } from './assets.js';

export interface WebRenderer {
  render(template: string, data: object): string;
}

function inside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

export function createRenderer(
  o: { overrideDir?: string | undefined; builtinDir?: string } = {},
): WebRenderer {
  const builtin = o.builtinDir ?? BUILTIN_TEMPLATES;
  const override = o.overrideDir && existsSync(o.overrideDir) ? o.overrideDir : undefined;
  const eta = new Eta({ views: builtin, autoEscape: true, cache: true, autoTrim: [false, 'nl'] });
  eta.resolvePath = function resolveTemplate(name: string): string {
    const rel = `${name.replace(/^\/+/, '')}${name.endsWith('.eta') ? '' : '.eta'}`;
    if (override) {
      const p = join(override, rel);
      if (inside(override, p) && existsSync(p)) return p;
    }
    const p = join(builtin, rel);
    if (!inside(builtin, p))
      throw new Error(`template ${JSON.stringify(name)} is outside the templates directory`);
    return p;
  };
  return {
    render(template, data) {
      return eta.render(template, data);
    },
  };
}
