import { isAbsolute, resolve } from 'node:path';

/**
 * Resolves a configured path the way upstream does: "" stays "" (feature off), an absolute path is
 * kept, a relative one is taken relative to the config dir (the result is absolute).
 */
export function resolvePath(configDir: string, p: string): string {
  if (p === '' || isAbsolute(p)) return p;
  return resolve(configDir, p);
}
