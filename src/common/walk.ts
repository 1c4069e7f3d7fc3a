/**
 * The one walk over a user's virtual tree, used by every recursive operation (Connection.copy,
 * removeTree, recursive rename checks, SCP's recursive download, the HTTP zip stream), so the
 * same entries are visible to all of them:
 *
 * - a directory is entered only when the user has `list` on it (listing goes through the
 *   Connection, so virtual folders mounted inside appear and are walked into);
 * - a regular file is visible only when the file pattern filters allow its name and, when the
 *   caller asks for one (`filePerm`, e.g. `download`), the user has that permission on its
 *   directory;
 * - symlinks are never walked into, so a link loop cannot make a walk endless and a link out of
 *   the home is never followed. With `resolveSymlinks` a link to a regular file is reported as
 *   that file (its target is read through the storage backend, which refuses targets outside its
 *   root); links to anything else are skipped.
 *
 * What happens to an entry the rules hide is the caller's choice (`onDenied`): `throw` for
 * operations that must see the whole tree or fail (copy, remove, rename, SCP which can report
 * the error), `skip` for those that cannot report it mid-way (the zip stream). The order is
 * depth first; inside a directory its files (as listed) come first, then its subdirectories,
 * and one directory handle is open at a time.
 */
import { SftpgoError } from '../errors/index.js';
import { normalizeVirtualPath, virtualBase, virtualDir, type FileInfo } from '../vfs/index.js';
import type { User } from '../dataprovider/provider.js';
import type { Permission } from './types.js';
import { hasPerm, isFileAllowed } from './user-policy.js';

/**
 * dir: a directory, before its content; dir-end: the same directory after its content;
 * file: a regular file (or, with resolveSymlinks, a link to one); symlink: a link not resolved;
 * other: sockets, fifos, devices.
 */
export type WalkEntryType = 'dir' | 'dir-end' | 'file' | 'symlink' | 'other';

export interface WalkEntry {
  type: WalkEntryType;
  /** normalized virtual path */
  path: string;
  /**
   * lstat attributes (name = base name); for a resolved symlink, its target's attributes.
   * Virtual folders appear as directories.
   */
  info: FileInfo;
  /** 0 for the root of the walk */
  depth: number;
  /** the entry is a symlink reported as the file it points to (resolveSymlinks) */
  viaSymlink?: boolean;
}

export interface WalkOptions {
  /** what to do with an entry the rules hide (default `throw`) */
  onDenied?: 'skip' | 'throw';
  /** told about every entry left out (denied, dangling or unresolvable links, vanished dirs) */
  onSkip?: (path: string, reason: SftpgoError) => void;
  /** a permission a file needs on its directory to be visible (e.g. `download`) */
  filePerm?: Permission;
  /** report symlinks to regular files as those files (see the module comment) */
  resolveSymlinks?: boolean;
  /** the root's attributes when the caller already has them (e.g. a followed stat) */
  rootInfo?: FileInfo;
  /** deepest level walked into (default 1000, as upstream's MaxRecursion) */
  maxDepth?: number;
}

/** what the walk needs from a connection */
export interface WalkHost {
  readonly user: User;
  list(dir: string): Promise<AsyncIterableIterator<FileInfo>>;
  lstat(p: string): Promise<FileInfo>;
  stat(p: string): Promise<FileInfo>;
}

export const MAX_WALK_DEPTH = 1000;

/**
 * Why an entry is hidden by the walk's rules, or undefined when it is visible: `list` on a
 * directory; file patterns and `filePerm` on a regular file. Other entry types are not judged.
 */
export function walkDenial(
  user: User,
  p: string,
  info: FileInfo,
  filePerm?: Permission,
): SftpgoError | undefined {
  if (info.isDirectory && !info.isSymlink) {
    if (!hasPerm(user, 'list', p))
      return new SftpgoError('PERMISSION_DENIED', `permission denied: listing ${JSON.stringify(p)} is not allowed`);
    return undefined;
  }
  if (!info.isFile) return undefined;
  if (!isFileAllowed(user, p)) {
    return new SftpgoError(
      'NAME_NOT_ALLOWED',
      `${JSON.stringify(p)} is not allowed by the file pattern filters`,
    );
  }
  if (filePerm && !hasPerm(user, filePerm, virtualDir(p)))
    return new SftpgoError(
      'PERMISSION_DENIED',
      `permission denied: ${filePerm} of ${JSON.stringify(p)} is not allowed`,
    );
  return undefined;
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Walks the tree at `root` (see the module comment). */
export async function* walkTree(
  host: WalkHost,
  root: string,
  o: WalkOptions = {},
): AsyncGenerator<WalkEntry> {
  const throwing = (o.onDenied ?? 'throw') === 'throw';
  const maxDepth = o.maxDepth ?? MAX_WALK_DEPTH;
  const skip = (p: string, reason: SftpgoError): void => {
    o.onSkip?.(p, reason);
  };
  const deny = (p: string, reason: SftpgoError): void => {
    if (throwing) throw reason;
    skip(p, reason);
  };

  async function* leaf(p: string, info: FileInfo, depth: number): AsyncGenerator<WalkEntry> {
    if (info.isSymlink) {
      if (!o.resolveSymlinks) {
        yield { type: 'symlink', path: p, info, depth };
        return;
      }
      let target: FileInfo;
      try {
        target = await host.stat(p);
      } catch (e) {
        if (SftpgoError.is(e, 'NOT_FOUND')) skip(p, e);
        else if (SftpgoError.is(e, 'PERMISSION_DENIED')) deny(p, e);
        else throw e;
        return;
      }
      if (!target.isFile) {
        skip(p, new SftpgoError('OP_UNSUPPORTED', 'only links to regular files are followed'));
        return;
      }
      const resolved = { ...target, name: info.name };
      const denied = walkDenial(host.user, p, resolved, o.filePerm);
      if (denied) deny(p, denied);
      else yield { type: 'file', path: p, info: resolved, depth, viaSymlink: true };
      return;
    }
    if (!info.isFile) {
      yield { type: 'other', path: p, info, depth };
      return;
    }
    const denied = walkDenial(host.user, p, info, o.filePerm);
    if (denied) deny(p, denied);
    else yield { type: 'file', path: p, info, depth };
  }

  async function* dir(p: string, info: FileInfo, depth: number): AsyncGenerator<WalkEntry> {
    const denied = walkDenial(host.user, p, info);
    if (denied) {
      deny(p, denied);
      return;
    }
    if (depth > maxDepth)
      throw new SftpgoError('INVALID_INPUT', `the tree is deeper than ${maxDepth} levels`);
    let it: AsyncIterableIterator<FileInfo>;
    try {
      it = await host.list(p);
    } catch (e) {
      // a directory removed while walking is gone, not an error (the root must exist)
      if (depth > 0 && SftpgoError.is(e, 'NOT_FOUND')) {
        skip(p, e);
        return;
      }
      throw e;
    }
    yield { type: 'dir', path: p, info, depth };
    const subdirs: FileInfo[] = [];
    for await (const e of it) {
      if (e.isDirectory && !e.isSymlink) subdirs.push(e);
      else yield* leaf(childPath(p, e.name), e, depth + 1);
    }
    for (const d of subdirs) yield* dir(childPath(p, d.name), d, depth + 1);
    yield { type: 'dir-end', path: p, info, depth };
  }

  const p = normalizeVirtualPath(root);
  const info = { ...(o.rootInfo ?? (await host.lstat(p))), name: virtualBase(p) };
  if (info.isDirectory && !info.isSymlink) yield* dir(p, info, 0);
  else yield* leaf(p, info, 0);
}
