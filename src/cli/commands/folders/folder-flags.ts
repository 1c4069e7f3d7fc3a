import type { Folder } from '../../../client/index.js';
import type { AnyCommand } from '../cmd.js';
import { applyFsFlags, withFsFlags, type FsFlags } from '../shared/fs-flags.js';
import { readTextFlagFile } from '../shared/input.js';

export interface FolderFlags extends FsFlags {
  fromFile?: string | undefined;
  mappedPath?: string | undefined;
  description?: string | undefined;
}

export function withFolderFlags<C extends AnyCommand>(cmd: C): C {
  cmd
    .option('--from-file <file>', 'read the folder object (JSON, as in the API) from a file, - for stdin; flags override it')
    .option('--mapped-path <path>', 'absolute local path of the folder (local and crypt storage)')
    .option('--description <text>', 'free description');
  return withFsFlags(cmd);
}

export function pickFolderFlags(o: FolderFlags): FolderFlags {
  const out: FolderFlags = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined && !['url', 'username', 'passwordFile', 'json', 'quiet', 'yes'].includes(k)) {
      (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

export function hasFolderFieldFlags(f: FolderFlags): boolean {
  return Object.entries(f).some(([k, v]) => k !== 'fromFile' && v !== undefined);
}

export async function applyFolderFlags(
  base: Folder,
  f: FolderFlags,
  readText: (path: string) => Promise<string> = readTextFlagFile,
): Promise<Folder> {
  const out: Folder = structuredClone(base);
  if (f.mappedPath !== undefined) out.mapped_path = f.mappedPath;
  if (f.description !== undefined) out.description = f.description;
  const fs = await applyFsFlags(out.filesystem, f, readText);
  if (fs !== undefined) out.filesystem = fs;
  return out;
}
