/**
 * The mount table of one user session: the home filesystem at "/" plus the virtual folders
 * mounted at sub-paths. Longest prefix wins (unstorage's getMount model).
 */
import { SftpgoError } from '../errors/index.js';
import { dirsForVirtualPath, isStrictlyBelow, normalizeVirtualPath, virtualDir } from './path.js';
import type { StorageLocation } from './registry.js';
import type { Fs } from './types.js';

/** Virtual folder data a mount carries for the layers above (quota, naming). */
export interface MountFolder {
  /** folder name (unique in the data provider) */
  name: string;
  /** bytes; 0 unlimited, -1 counted in the user quota */
  quotaSize: number;
  /** files; 0 unlimited, -1 counted in the user quota */
  quotaFiles: number;
}

export interface Mount {
  /** normalized virtual mount point ("/" for the home) */
  readonly path: string;
  readonly fs: Fs;
  /** undefined for the home mount */
  readonly folder?: MountFolder;
  /** the filesystem config's provider, bucket and endpoint (custom actions report them) */
  readonly location?: StorageLocation;
}

export interface Resolved {
  fs: Fs;
  mount: Mount;
  /** path relative to the mount's backend root, "/"-rooted */
  relPath: string;
  /** the normalized virtual path that was resolved */
  virtualPath: string;
}

export class MountTable {
  /** sorted longest mount point first */
  private readonly mounts: readonly Mount[];
  private readonly byPath: ReadonlyMap<string, Mount>;

  constructor(mounts: readonly Mount[]) {
    const norm = mounts.map((m) => ({ ...m, path: normalizeVirtualPath(m.path) }));
    const byPath = new Map<string, Mount>();
    for (const m of norm) {
      if (byPath.has(m.path)) {
        throw new SftpgoError('INVALID_INPUT', `duplicate mount point ${JSON.stringify(m.path)}`);
      }
      byPath.set(m.path, m);
    }
    if (!byPath.has('/')) throw new SftpgoError('INVALID_INPUT', 'a mount for "/" is required');
    this.mounts = [...norm].sort((a, b) => b.path.length - a.path.length);
    this.byPath = byPath;
  }

  /** every mount, longest mount point first */
  all(): readonly Mount[] {
    return this.mounts;
  }

  /** the home mount ("/") */
  get home(): Mount {
    return this.byPath.get('/') as Mount;
  }

  /** the mount serving a virtual path (normalized here) */
  resolve(virtualPath: string): Resolved {
    const vp = normalizeVirtualPath(virtualPath);
    for (const m of this.mounts) {
      if (m.path === '/' || vp === m.path || vp.startsWith(`${m.path}/`)) {
        const rel = m.path === '/' ? vp : vp.slice(m.path.length) || '/';
        return { fs: m.fs, mount: m, relPath: rel, virtualPath: vp };
      }
    }
    /* c8 ignore next */
    throw new SftpgoError('INTERNAL', 'no mount for path');
  }

  /** the mount serving a virtual path */
  mountFor(virtualPath: string): Mount {
    return this.resolve(virtualPath).mount;
  }

  /**
   * The virtual folder containing a path, or undefined when it is served by the home
   * (upstream User.GetVirtualFolderForPath). A mount point belongs to its folder.
   */
  folderMountFor(virtualPath: string): Mount | undefined {
    const m = this.mountFor(virtualPath);
    return m.path === '/' ? undefined : m;
  }

  /** true when the path is exactly a virtual folder's mount point */
  isMountPoint(virtualPath: string): boolean {
    const vp = normalizeVirtualPath(virtualPath);
    return vp !== '/' && this.byPath.has(vp);
  }

  /** virtual folders mounted strictly below the path */
  mountsInside(virtualPath: string): Mount[] {
    const vp = normalizeVirtualPath(virtualPath);
    return this.mounts.filter((m) => m.path !== '/' && isStrictlyBelow(m.path, vp));
  }

  hasMountsInside(virtualPath: string): boolean {
    return this.mountsInside(virtualPath).length > 0;
  }

  /**
   * Names of the virtual directories that appear directly inside `dir`: mount points and the
   * intermediate directories leading to deeper ones (upstream User.GetVirtualFoldersInPath).
   */
  virtualDirsIn(dir: string): string[] {
    const vp = normalizeVirtualPath(dir);
    const names = new Set<string>();
    for (const m of this.mounts) {
      if (m.path === '/') continue;
      for (const d of dirsForVirtualPath(m.path)) {
        if (d !== '/' && virtualDir(d) === vp) names.add(d.slice(vp === '/' ? 1 : vp.length + 1));
      }
    }
    return [...names];
  }

  /**
   * True when the path is a mount point or an intermediate directory leading to one: such a
   * directory exists for the client even when the serving backend has no such entry.
   */
  isVirtualDir(virtualPath: string): boolean {
    const vp = normalizeVirtualPath(virtualPath);
    if (vp === '/') return false;
    return this.virtualDirsIn(virtualDir(vp)).includes(
      vp.slice(virtualDir(vp) === '/' ? 1 : virtualDir(vp).length + 1),
    );
  }

  /** closes every backend; the first error is rethrown after all were tried */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.mounts.map((m) => m.fs.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
