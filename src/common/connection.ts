/**
 * One protocol session (an SFTP channel, an SCP/SSH command, an FTP control connection, a
 * WebDAV/HTTP request) over a user's mount table — upstream common/connection.go
 * (BaseConnection), protocol-independent: every method takes VIRTUAL paths, checks the
 * per-directory permissions (most specific path wins), the file pattern filters and the
 * quota, and throws SftpgoError codes only. Protocol front ends map the codes at their edge.
 *
 * Permission rules (as upstream): list/readlink/stat need `list` on the parent directory
 * (listing a directory needs `list` on it); download/upload/overwrite/delete/create_dirs/
 * create_symlinks/rename are checked on the parent directory of the item; setstat checks the
 * item's own path for files and the parent for directories.
 */
import { setMaxListeners } from 'node:events';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { User } from '../dataprovider/provider.js';
import { SftpgoError } from '../errors/index.js';
import {
  isSameOrBelow,
  joinVirtual,
  mapFsError,
  normalizeVirtualPath,
  PROVIDER_KINDS,
  S_IFDIR,
  virtualBase,
  virtualDir,
  type FileInfo,
  type ResolvedFile,
  type ResolvedLink,
  type MountFolder,
  type MountTable,
  type Resolved,
  type SetStatAttrs,
  type StatVfs,
} from '../vfs/index.js';
import {
  OPEN_FLAGS,
  type ActionName,
  type ActionNotification,
  type ActionNotifier,
  type ActionStatus,
} from './actions.js';
import { QuotaTracker, type QuotaLease } from './quota-tracker.js';
import type { ActiveConnection, ConnectionRegistry } from './registry.js';
import {
  DownloadTransfer,
  handleSink,
  handleSource,
  quotaExceededError,
  streamSink,
  streamSource,
  UploadTransfer,
  type DownloadSource,
  type DownloadTransferInit,
  type Transfer,
  type TransferHost,
  type UploadTransferInit,
  type UploadEnd,
  type UploadOpenMode,
  type UploadSink,
} from './transfer.js';
import type {
  ConnectionConfig,
  Logger,
  Permission,
  Protocol,
  QuotaStore,
  TransferStatus,
} from './types.js';
import { isFolderIncludedInUserQuota } from './user-fs.js';
import { walkTree, type WalkEntry, type WalkOptions } from './walk.js';
import {
  hasPerm,
  hasPermissionsInside,
  isFileAllowed,
  userHasNoQuotaRestrictions,
  userHasQuotaRestrictions,
} from './user-policy.js';

export interface ConnectionOptions {
  /** e.g. newConnectionId('SFTP', sessionHex, channelNumber) */
  id: string;
  protocol: Protocol;
  user: User;
  mounts: MountTable;
  remoteAddress: string;
  localAddress?: string;
  clientVersion?: string;
  logger: Logger;
  provider: QuotaStore;
  config: ConnectionConfig;
  /** the registry this connection is (or will be) registered in; close() unregisters it */
  registry?: ConnectionRegistry;
  /**
   * The protocol's close callback (end the channel, destroy the socket). Called once, on the
   * first close(), whoever initiated it (registry close, idle checker, the protocol itself).
   */
  onClose?: () => void | Promise<void>;
  /** close the mount table's backends on close() (when the mounts belong to this connection only) */
  closeMounts?: boolean;
  /** uploads in progress per quota scope; default: the registry's (process-wide), else private */
  quotaTracker?: QuotaTracker;
}

export interface UploadOptions {
  /**
   * truncate: replace the content (a new file is created when missing);
   * append: continue after the current end (writes below the current size are refused);
   * resume: continue at `offset` (≤ current size; FTP REST + STOR);
   * inplace: positional writes anywhere in the existing content, nothing truncated (SFTP
   * open for writing without TRUNC/APPEND).
   * A missing file is created in every mode.
   */
  mode: UploadOpenMode;
  offset?: number;
  /**
   * A whole-file upload that cannot be resumed (WebDAV PUT, the web client's upload): a failed
   * one never leaves partial data under the name. An existing file is replaced atomically
   * (temp file, moved onto it only on success) whatever `upload_mode` says; a new file follows
   * `upload_mode` — written in place in mode 0, as SFTP and FTP write, and removed when the
   * upload fails — except that mode 2 never keeps a partial file. Atomic replacement only where
   * the backend supports atomic uploads; object stores are atomic anyway.
   */
  wholeFile?: boolean;
  /**
   * What the pre-upload custom action reports as `open_flags` (Linux values, OPEN_FLAGS): the
   * protocol's open of an existing file, and of a new one. Default: O_TRUNC for an existing file
   * and 0 for a new one (upstream's WebDAV and HTTP).
   */
  openFlags?: { existing: number; newFile?: number };
  /** the path as `lookupFile` found it: opened without resolving it again */
  looked?: LookedUpFile;
}

/**
 * A path as `Connection.lookupFile` found it: its attributes (undefined when missing) and, when
 * the backend can resolve a path once for a look and an open (Fs.resolveFile), that resolution,
 * handed to openUpload/openDownload of the same path so the open does not resolve it again.
 */
export interface LookedUpFile {
  /** the normalized virtual path */
  readonly path: string;
  readonly info: FileInfo | undefined;
  /** the backend's resolution (absent: the open resolves the path itself) */
  readonly resolved?: ResolvedFile;
}

export interface DownloadOptions {
  offset?: number;
  /**
   * false: a read the server makes for itself (WebDAV content sniffing, an HTTP HEAD), not a
   * download of the client's: no pre-download / download custom action
   */
  actions?: boolean;
  /** the path as `lookupFile` found it: opened without resolving it again */
  looked?: LookedUpFile;
}

export interface CopyOptions {
  /**
   * true: existing files are replaced (needs `overwrite` on their directory) and existing
   * directories are merged into; false: the target must not exist (ALREADY_EXISTS).
   */
  overwrite: boolean;
}

/** what a tree operation copied or removed */
export interface TreeResult {
  files: number;
  dirs: number;
  bytes: number;
}

export interface QuotaCheckResult {
  hasSpace: boolean;
  quotaSize: number;
  quotaFiles: number;
  usedSize: number;
  usedFiles: number;
}

type UploadLimits = { maxWriteSize: number };

/** how server-side operations open transfers: unthrottled, and optionally never replacing a file */
interface InternalOpen {
  bandwidth?: number;
  exclusive?: boolean;
  /** no custom action for this transfer (a read or copy the server makes for itself) */
  noActions?: boolean;
}

const COPY_CHUNK = 256 * 1024;

function newConnectionAborter(): AbortController {
  const c = new AbortController();
  // one listener per backend operation in progress, many at once on a busy session
  setMaxListeners(0, c.signal);
  return c;
}

const VIRTUAL_DIR_MODE = S_IFDIR | 0o755;

function virtualDirInfo(name: string): FileInfo {
  const now = new Date();
  return {
    name,
    size: 0,
    mode: VIRTUAL_DIR_MODE,
    mtime: now,
    atime: now,
    isDirectory: true,
    isSymlink: false,
    isFile: false,
    uid: 0,
    gid: 0,
  };
}

function remainingSize(q: QuotaCheckResult): number {
  return q.quotaSize > 0 ? q.quotaSize - q.usedSize : 0;
}

export class Connection implements ActiveConnection {
  readonly id: string;
  readonly protocol: Protocol;
  readonly user: User;
  readonly mounts: MountTable;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly clientVersion: string | undefined;
  readonly connectionTime: number;
  readonly log: Logger;
  /** last command / WebDAV method, shown in connection listings */
  command = '';
  private lastActivityMs: number;
  private readonly provider: QuotaStore;
  private readonly config: ConnectionConfig;
  private readonly registry: ConnectionRegistry | undefined;
  private readonly quotaTracker: QuotaTracker;
  private readonly onClose: (() => void | Promise<void>) | undefined;
  private readonly closeMounts: boolean;
  private readonly actions: ActionNotifier | undefined;
  private readonly transfers = new Set<Transfer>();
  private transferSeq = 0;
  private closing: Promise<void> | undefined;
  /**
   * fires when the connection closes: given to every backend operation, so closing a
   * connection cancels its listings and remote requests (one signal per connection; backends
   * remove their listeners when an operation ends)
   */
  private readonly aborter = newConnectionAborter();
  private readonly op: { signal: AbortSignal } = { signal: this.aborter.signal };
  private readonly host: TransferHost;

  constructor(o: ConnectionOptions) {
    this.id = o.id;
    this.protocol = o.protocol;
    this.user = o.user;
    this.mounts = o.mounts;
    this.remoteAddress = o.remoteAddress;
    this.localAddress = o.localAddress ?? '';
    this.clientVersion = o.clientVersion;
    this.log = o.logger;
    this.provider = o.provider;
    this.config = o.config;
    this.registry = o.registry;
    this.quotaTracker = o.quotaTracker ?? o.registry?.quota ?? new QuotaTracker();
    this.onClose = o.onClose;
    this.closeMounts = o.closeMounts ?? false;
    this.actions = o.config.actions;
    this.connectionTime = Date.now();
    this.lastActivityMs = this.connectionTime;
    this.host = {
      id: this.id,
      protocol: this.protocol,
      username: this.username,
      log: this.log,
      touch: () => this.touch(),
      nextTransferId: () => ++this.transferSeq,
      removeTransfer: (t) => {
        this.transfers.delete(t);
      },
      updateQuota: (p, files, size) => this.updateQuota(p, files, size),
      applyDeferredStat: (p, attrs) => this.applyDeferredStat(p, attrs),
    };
  }

  // ---------------------------------------------------------------- ActiveConnection

  get username(): string {
    return this.user.username ?? '';
  }

  get maxSessions(): number {
    return this.user.max_sessions ?? 0;
  }

  /** ms since epoch */
  get lastActivity(): number {
    return this.lastActivityMs;
  }

  /** marks activity now (every operation does it) */
  touch(): void {
    this.lastActivityMs = Date.now();
  }

  activeTransfers(): TransferStatus[] {
    return [...this.transfers].map((t) => t.status());
  }

  /** the open transfers (for the protocol: e.g. to find the upload of a path) */
  transfersList(): Transfer[] {
    return [...this.transfers];
  }

  /** adds this connection to its registry (enforces max_total_connections and max_sessions) */
  register(): void {
    if (!this.registry) throw new SftpgoError('INTERNAL', 'the connection has no registry');
    this.registry.add(this);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Closes the session: active transfers are aborted cleanly (per upload_mode), the
   * connection leaves the registry, the protocol's close callback runs. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await Promise.all(
      [...this.transfers].map((t) =>
        t.abort(new SftpgoError('ABORTED', 'transfer aborted: connection closed')),
      ),
    );
    // what is still running on a backend (a long listing, a remote request) stops too
    this.aborter.abort(new SftpgoError('ABORTED', 'the connection is closed'));
    this.registry?.remove(this);
    if (this.closeMounts) {
      await this.mounts.close().catch((e: unknown) => {
        this.log.warn(
          { sender: this.protocol, connection_id: this.id, err: e },
          'error closing the filesystems',
        );
      });
    }
    try {
      await this.onClose?.();
    } catch (e) {
      this.log.warn(
        { sender: this.protocol, connection_id: this.id, err: e },
        'error in the close callback',
      );
    }
  }

  // ---------------------------------------------------------------- helpers

  private begin(p: string): string {
    if (this.closing) throw new SftpgoError('ABORTED', 'the connection is closed');
    this.touch();
    return normalizeVirtualPath(p);
  }

  private requirePerm(perm: Permission, dir: string): void {
    if (!hasPerm(this.user, perm, dir))
      throw new SftpgoError('PERMISSION_DENIED', 'permission denied');
  }

  private requireFileAllowed(p: string): void {
    if (!isFileAllowed(this.user, p)) {
      throw new SftpgoError(
        'NAME_NOT_ALLOWED',
        `${JSON.stringify(virtualBase(p))} is not allowed by the file pattern filters`,
      );
    }
  }

  private logCommand(sender: string, fields: Record<string, unknown>): void {
    this.log.info(
      {
        sender,
        connection_id: this.id,
        protocol: this.protocol,
        username: this.username,
        ...fields,
      },
      sender,
    );
  }

  private folderFor(p: string): MountFolder | undefined {
    return this.mounts.folderMountFor(p)?.folder;
  }

  private uploadFor(p: string): UploadTransfer | undefined {
    for (const t of this.transfers) {
      if (t.type === 'upload' && t.virtualPath === p && !t.closed) return t;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- custom actions

  /** the action is configured (always false without a notifier: nothing else is computed then) */
  private wants(action: ActionName): boolean {
    return this.actions?.has(action) ?? false;
  }

  /**
   * The notification of `action` on the virtual path `p`: its filesystem path, and the
   * provider, bucket and endpoint of the mount (home or virtual folder) holding it. An empty
   * `p` (an SSH command without a path argument) names nothing, in the home's storage.
   */
  private notification(
    action: ActionName,
    p: string,
    o: {
      target?: string;
      sshCmd?: string;
      fileSize?: number;
      openFlags?: number;
      error?: unknown;
      protocol?: Protocol;
    } = {},
  ): ActionNotification {
    const r = this.mounts.resolve(p === '' ? '/' : p);
    const loc = r.mount.location;
    const provider =
      loc?.provider ??
      Number(Object.entries(PROVIDER_KINDS).find(([, k]) => k === r.fs.kind)?.[0] ?? 0);
    let target = '';
    if (o.target !== undefined && o.target !== '') {
      const rt = this.mounts.resolve(o.target);
      target = rt.fs.nativePath(rt.relPath);
    }
    let status: ActionStatus = 1;
    if (SftpgoError.is(o.error, 'QUOTA_EXCEEDED')) status = 2;
    else if (o.error !== undefined) status = 0;
    return {
      action,
      username: this.username,
      path: p === '' ? '' : r.fs.nativePath(r.relPath),
      target_path: target,
      ssh_cmd: o.sshCmd ?? '',
      file_size: o.fileSize ?? 0,
      fs_provider: provider,
      bucket: loc?.bucket ?? '',
      endpoint: loc?.endpoint ?? '',
      status,
      protocol: o.protocol ?? this.protocol,
      open_flags: o.openFlags ?? 0,
    };
  }

  /**
   * pre-download / pre-upload: the hook must succeed, otherwise the operation is denied with
   * PERMISSION_DENIED (fail closed, as upstream ExecutePreAction's callers)
   */
  private async preTransfer(
    action: 'pre-download' | 'pre-upload',
    p: string,
    fileSize: number,
    openFlags: number,
  ): Promise<void> {
    const actions = this.actions as ActionNotifier;
    try {
      await actions.run(this.notification(action, p, { fileSize, openFlags }), this.log);
    } catch (e) {
      const op = action === 'pre-download' ? 'download' : 'upload';
      this.log.debug(
        { sender: this.protocol, connection_id: this.id, file_path: p, err: e },
        `${op} for file ${JSON.stringify(p)} denied by pre action: ${e instanceof Error ? e.message : String(e)}`,
      );
      throw new SftpgoError('PERMISSION_DENIED', 'permission denied', { cause: e });
    }
  }

  /**
   * pre-delete (callers check wants('pre-delete') first): true when the hook took the deletion
   * over (it succeeded: the file is left to it); false when it failed, and the server deletes
   * the file itself
   */
  private async preDelete(p: string, size: number): Promise<boolean> {
    try {
      await (this.actions as ActionNotifier).run(
        this.notification('pre-delete', p, { fileSize: size }),
        this.log,
      );
    } catch {
      // the hook's failure is logged by the notifier; upstream then deletes the file itself
      return false;
    }
    this.log.debug(
      { sender: this.protocol, connection_id: this.id, file_path: p },
      `remove for path ${JSON.stringify(p)} handled by pre-delete action`,
    );
    return true;
  }

  /**
   * An action after the fact: awaited only when the action is in execute_sync. Callers on
   * per-file paths check wants() first, so that nothing is awaited when it is not configured.
   */
  private async notifyAfter(
    action: ActionName,
    p: string,
    o: Parameters<Connection['notification']>[2] = {},
  ): Promise<void> {
    if (!this.wants(action)) return;
    await (this.actions as ActionNotifier).notify(this.notification(action, p, o), this.log);
  }

  /**
   * The `ssh_cmd` action of an SSH command other than scp, once its exit status was sent:
   * `virtualPath` is its path argument ("" when none), `virtualTarget` the destination of
   * sftpgo-copy; `error` its failure, if any. Awaited only when ssh_cmd is in execute_sync.
   */
  async sshCommandEnded(
    command: string,
    virtualPath: string,
    virtualTarget: string,
    error: unknown,
  ): Promise<void> {
    if (!this.wants('ssh_cmd')) return;
    await this.notifyAfter('ssh_cmd', virtualPath === '' ? '' : normalizeVirtualPath(virtualPath), {
      ...(virtualTarget !== '' ? { target: normalizeVirtualPath(virtualTarget) } : {}),
      sshCmd: command,
      error,
      protocol: 'SSH',
    });
  }

  /** the `download` action of a transfer, or nothing when it is not configured */
  private downloadEnd(p: string, internal: InternalOpen): DownloadTransferInit['onEnd'] {
    if (internal.noActions || !this.wants('download')) return undefined;
    return (bytes, error) => this.notifyAfter('download', p, { fileSize: bytes, error });
  }

  /**
   * The `upload` action of a transfer: the size the upload left in place, else what the target
   * holds now (an atomic upload that failed leaves the old file; a cut resume, its old part), 0
   * when there is nothing there.
   */
  private uploadEnd(p: string, r: Resolved, internal: InternalOpen): UploadTransferInit['onEnd'] {
    if (internal.noActions || !this.wants('upload')) return undefined;
    return async (end: UploadEnd) => {
      let size = end.size;
      if (size === undefined) {
        try {
          size = (await this.statIn(r, true))?.size ?? 0;
        } catch (e) {
          this.log.debug(
            { sender: this.protocol, connection_id: this.id, err: e },
            'size after the upload unknown',
          );
          size = 0;
        }
      }
      await this.notifyAfter('upload', p, { fileSize: size, error: end.error });
    };
  }

  private async statIn(r: Resolved, follow: boolean): Promise<FileInfo | undefined> {
    try {
      return follow ? await r.fs.stat(r.relPath) : await r.fs.lstat(r.relPath);
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  // ---------------------------------------------------------------- quota

  /**
   * The quota situation for a path (upstream HasSpace): the folder's own quota when the path is
   * in a virtual folder not counted in the user quota, the user quota otherwise. `checkFiles`
   * includes the number-of-files limit (new files).
   */
  async checkQuota(checkFiles: boolean, virtualPath: string): Promise<QuotaCheckResult> {
    return this.quotaOf(
      this.folderFor(virtualDir(normalizeVirtualPath(virtualPath))),
      checkFiles,
      false,
    );
  }

  private async quotaOf(
    folder: MountFolder | undefined,
    checkFiles: boolean,
    includeUsage: boolean,
  ): Promise<QuotaCheckResult> {
    const res: QuotaCheckResult = {
      hasSpace: true,
      quotaSize: 0,
      quotaFiles: 0,
      usedSize: 0,
      usedFiles: 0,
    };
    if (this.config.track_quota === 0) return res;
    try {
      if (folder && !isFolderIncludedInUserQuota(folder)) {
        if (folder.quotaSize === 0 && (!checkFiles || folder.quotaFiles === 0) && !includeUsage)
          return res;
        res.quotaSize = folder.quotaSize;
        res.quotaFiles = folder.quotaFiles;
        const u = await this.provider.getFolderUsedQuota(folder.name);
        res.usedSize = u.usedQuotaSize;
        res.usedFiles = u.usedQuotaFiles;
      } else {
        if (userHasNoQuotaRestrictions(this.user, checkFiles) && !includeUsage) return res;
        res.quotaSize = this.user.quota_size ?? 0;
        res.quotaFiles = this.user.quota_files ?? 0;
        const u = await this.provider.getUserUsedQuota(this.username);
        res.usedSize = u.usedQuotaSize;
        res.usedFiles = u.usedQuotaFiles;
      }
    } catch (e) {
      this.log.error(
        { sender: this.protocol, connection_id: this.id, err: e },
        'error getting the used quota',
      );
      res.hasSpace = false;
      return res;
    }
    if (
      (checkFiles && res.quotaFiles > 0 && res.usedFiles >= res.quotaFiles) ||
      (res.quotaSize > 0 && res.usedSize >= res.quotaSize)
    ) {
      res.hasSpace = false;
    }
    return res;
  }

  /**
   * Applies a quota delta for a virtual path: to its virtual folder (and to the user when the
   * folder counts in the user quota) or to the user; honours track_quota (2: users without
   * quota limits are not updated, folders always are). Errors are logged, never thrown.
   */
  async updateQuota(virtualPath: string, filesDelta: number, sizeDelta: number): Promise<void> {
    const track = this.config.track_quota;
    if (track === 0 || (filesDelta === 0 && sizeDelta === 0)) return;
    const folder = this.folderFor(virtualDir(virtualPath));
    const updateUser = async (): Promise<void> => {
      if (track === 2 && !userHasQuotaRestrictions(this.user)) return;
      await this.provider.updateUserQuota(this.username, sizeDelta, filesDelta, false);
      this.quotaTracker.applied([QuotaTracker.userKey(this.username)], filesDelta, sizeDelta);
    };
    try {
      if (folder) {
        await this.provider.updateFolderQuota(folder.name, sizeDelta, filesDelta, false);
        this.quotaTracker.applied([QuotaTracker.folderKey(folder.name)], filesDelta, sizeDelta);
        if (isFolderIncludedInUserQuota(folder)) await updateUser();
      } else await updateUser();
    } catch (e) {
      this.log.error(
        {
          sender: this.protocol,
          connection_id: this.id,
          err: e,
          files: filesDelta,
          size: sizeDelta,
        },
        'unable to update the quota',
      );
    }
  }

  /**
   * The quota scopes of an upload to `p`: the one whose limits apply, and those its delta is
   * applied to (as updateQuota does).
   */
  private quotaScopes(p: string): { check: string; targets: string[] } {
    const folder = this.folderFor(virtualDir(p));
    const user = QuotaTracker.userKey(this.username);
    if (!folder) return { check: user, targets: [user] };
    const f = QuotaTracker.folderKey(folder.name);
    return isFolderIncludedInUserQuota(folder)
      ? { check: user, targets: [f, user] }
      : { check: f, targets: [f] };
  }

  /**
   * Checks the quota for an upload to `p` and, when a limit applies, reserves against it
   * (QuotaTracker): files and bytes of uploads in progress count, so parallel uploads cannot
   * overshoot. Throws QUOTA_EXCEEDED when there is no room (a new file beyond quota_files).
   */
  private async quotaForUpload(
    p: string,
    newFile: boolean,
  ): Promise<{ q: QuotaCheckResult; lease: QuotaLease | undefined }> {
    const scopes = this.quotaScopes(p);
    // before the provider read: a delta applied meanwhile is counted twice, never missed
    const applied = this.quotaTracker.appliedSnapshot(scopes.check);
    const q = await this.checkQuota(newFile, p);
    if (!q.hasSpace) throw quotaExceededError();
    if (q.quotaSize <= 0 && (!newFile || q.quotaFiles <= 0)) return { q, lease: undefined };
    const lease = this.quotaTracker.lease({
      ...scopes,
      quotaSize: q.quotaSize,
      quotaFiles: q.quotaFiles,
      usedSize: q.usedSize,
      usedFiles: q.usedFiles,
      applied,
      newFile,
    });
    return { q, lease };
  }

  /** upstream GetMaxWriteSize */
  private maxWriteSize(q: QuotaCheckResult, isResume: boolean, fileSize: number): UploadLimits {
    const maxUpload = this.user.filters?.max_upload_file_size ?? 0;
    let max = remainingSize(q);
    if (isResume) {
      if (maxUpload > 0 && maxUpload <= fileSize) throw quotaExceededError();
      if (maxUpload > 0) {
        const left = maxUpload - fileSize;
        if (left < max || max === 0) max = left;
      }
    } else {
      if (max > 0) max += fileSize;
      if (maxUpload > 0 && (maxUpload < max || max === 0)) max = maxUpload;
    }
    return { maxWriteSize: max };
  }

  // ---------------------------------------------------------------- read-only operations

  /** stat (symlinks followed); needs `list` on the parent directory */
  async stat(virtualPath: string): Promise<FileInfo> {
    return this.doStat(virtualPath, true);
  }

  /**
   * stat for a transfer that follows at once (WebDAV GET/HEAD/PUT): the permission checks of
   * stat, but a missing path is `info: undefined` instead of NOT_FOUND, and the backend's
   * resolution of the path is kept for openUpload/openDownload (`o.looked`): one resolution
   * (realpath and symlink-escape check on the local backend) per request instead of two. The
   * open checks its own permissions as ever; between the look and the open the path is as
   * exposed to a concurrent change as between an upload's look and open (Fs.resolveFile).
   */
  async lookupFile(virtualPath: string): Promise<LookedUpFile> {
    const p = this.begin(virtualPath);
    this.requirePerm('list', virtualDir(p));
    const r = this.mounts.resolve(p);
    const resolved =
      r.fs.capabilities.randomAccess && r.fs.resolveFile
        ? await r.fs.resolveFile(r.relPath)
        : undefined;
    let info = resolved ? resolved.info : await this.statIn(r, true);
    if (!info && this.mounts.isVirtualDir(p)) info = virtualDirInfo(virtualBase(p));
    else if (info) info = { ...info, name: virtualBase(p) };
    return resolved ? { path: p, info, resolved } : { path: p, info };
  }

  /**
   * Whether the parent directory of a looked-up file (lookupFile) is a directory, as
   * `stat(parent)` would tell (its checks: `list` on the parent's parent; NOT_FOUND when it
   * does not exist): without asking the backend again when the look already showed it (the
   * file's resolution went through it). WebDAV PUT: the parent must be a collection.
   */
  async parentIsDirectory(looked: LookedUpFile): Promise<boolean> {
    const parent = virtualDir(looked.path);
    if (looked.resolved?.parentIsDir !== true) return (await this.stat(parent)).isDirectory;
    const p = this.begin(parent);
    this.requirePerm('list', virtualDir(p));
    return true;
  }

  /** lstat (a final symlink is described itself); needs `list` on the parent directory */
  async lstat(virtualPath: string): Promise<FileInfo> {
    return this.doStat(virtualPath, false);
  }

  /**
   * Stat of a file this connection has open (SFTP FSTAT): the permission checks of stat, then
   * `info` — the attributes read when it was opened — when given, else a lookup of the path.
   */
  async statOpen(virtualPath: string, info?: FileInfo): Promise<FileInfo> {
    if (!info) return this.doStat(virtualPath, true);
    const p = this.begin(virtualPath);
    this.requirePerm('list', virtualDir(p));
    return { ...info, name: virtualBase(p) };
  }

  /**
   * The attributes of a file about to be downloaded, for protocols that must announce them
   * before the content (HTTP GET/HEAD: size, dates, ETag): needs `download` on the parent and
   * the file patterns, as the download itself, instead of `list`.
   */
  async statForDownload(virtualPath: string): Promise<FileInfo> {
    const p = this.begin(virtualPath);
    this.requirePerm('download', virtualDir(p));
    this.requireFileAllowed(p);
    const r = this.mounts.resolve(p);
    return { ...(await r.fs.stat(r.relPath)), name: virtualBase(p) };
  }

  private async doStat(virtualPath: string, follow: boolean): Promise<FileInfo> {
    const p = this.begin(virtualPath);
    this.requirePerm('list', virtualDir(p));
    const r = this.mounts.resolve(p);
    let info: FileInfo;
    try {
      info = follow ? await r.fs.stat(r.relPath) : await r.fs.lstat(r.relPath);
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND') && this.mounts.isVirtualDir(p))
        return virtualDirInfo(virtualBase(p));
      throw e;
    }
    return { ...info, name: virtualBase(p) };
  }

  /**
   * Lists a directory (needs `list` on it). Virtual folders mounted inside appear as
   * directories. Errors (NOT_FOUND, …) are thrown here, not during the iteration. The
   * iterator holds an open directory handle: iterate to the end, or call `return()` when
   * abandoning it (SFTP CLOSE of a directory handle).
   */
  async list(virtualDirPath: string): Promise<AsyncIterableIterator<FileInfo>> {
    const p = this.begin(virtualDirPath);
    this.requirePerm('list', p);
    const r = this.mounts.resolve(p);
    const virtualNames = new Set(this.mounts.virtualDirsIn(p));
    const it = r.fs.list(r.relPath, this.op);
    let first: IteratorResult<FileInfo>;
    try {
      first = await it.next();
    } catch (e) {
      if (SftpgoError.is(e, 'NOT_FOUND') && virtualNames.size > 0) {
        first = { done: true, value: undefined };
      } else throw e;
    }
    const touch = (): void => this.touch();
    async function* merged(): AsyncGenerator<FileInfo> {
      const seen = new Set<string>();
      try {
        let cur = first;
        while (!cur.done) {
          const info = cur.value;
          if (virtualNames.has(info.name)) {
            seen.add(info.name);
            yield virtualDirInfo(info.name);
          } else yield info;
          touch();
          cur = await it.next();
        }
      } finally {
        await it.return?.();
      }
      for (const name of virtualNames) if (!seen.has(name)) yield virtualDirInfo(name);
    }
    return merged();
  }

  /** the target of a symlink as a virtual path; needs `list` on the parent directory */
  async readlink(virtualPath: string): Promise<string> {
    const p = this.begin(virtualPath);
    this.requirePerm('list', virtualDir(p));
    const r = this.mounts.resolve(p);
    if (!r.fs.readlink)
      throw new SftpgoError('OP_UNSUPPORTED', 'symlinks are not supported by this storage backend');
    return joinVirtual(r.mount.path, await r.fs.readlink(r.relPath));
  }

  /**
   * The canonical virtual path (upstream SFTP realpath: a lexical clean, relative paths taken
   * from `cwd`). Symlinks are not resolved: clients see their own namespace.
   */
  realpath(virtualPath: string, cwd = '/'): string {
    this.touch();
    return normalizeVirtualPath(virtualPath, cwd);
  }

  /** statvfs@openssh.com: from the quota limits when the user/folder has some, from the disk otherwise */
  async statVfs(virtualPath: string): Promise<StatVfs> {
    const p = this.begin(virtualPath);
    const r = this.mounts.resolve(p);
    const q = await this.checkQuota(true, p);
    const limited = q.quotaSize > 0 || q.quotaFiles > 0;
    if (!limited) {
      if (!r.fs.statVfs)
        throw new SftpgoError('OP_UNSUPPORTED', 'statvfs is not supported by this storage backend');
      return r.fs.statVfs(r.relPath);
    }
    let quotaSize = q.quotaSize;
    let quotaFiles = q.quotaFiles;
    if ((quotaSize === 0 || quotaFiles === 0) && r.fs.statVfs) {
      const disk = await r.fs.statVfs(r.relPath);
      if (quotaSize === 0) quotaSize = disk.blocks * disk.frsize;
      if (quotaFiles === 0) quotaFiles = disk.files;
    }
    let bsize = 4096;
    while (bsize > quotaSize && bsize > 1) bsize = Math.floor(bsize / 4) || 1;
    const blocks = Math.floor(quotaSize / bsize);
    let bfree = Math.max(0, Math.floor((quotaSize - q.usedSize) / bsize));
    let ffree = Math.max(0, quotaFiles - q.usedFiles);
    if (!q.hasSpace) {
      bfree = 0;
      ffree = 0;
    }
    return {
      bsize,
      frsize: bsize,
      blocks,
      bfree,
      bavail: bfree,
      files: quotaFiles,
      ffree,
      favail: ffree,
      fsid: 0,
      flag: 0,
      namemax: 255,
    };
  }

  /**
   * Used and allowed quota of the quota scope a path belongs to: its virtual folder when the
   * folder has its own quota, the user otherwise (all zero when quota tracking is off).
   */
  async getUsage(virtualPath = '/'): Promise<QuotaCheckResult> {
    const p = this.begin(virtualPath);
    return this.quotaOf(this.folderFor(p), true, true);
  }

  // ---------------------------------------------------------------- mutations

  /** creates a directory; needs `create_dirs` on the parent */
  async mkdir(virtualPath: string): Promise<void> {
    const p = this.begin(virtualPath);
    this.requirePerm('create_dirs', virtualDir(p));
    if (p === '/' || this.mounts.isMountPoint(p) || this.mounts.isVirtualDir(p)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        `${JSON.stringify(p)} is a virtual folder: it cannot be created`,
      );
    }
    const r = this.mounts.resolve(p);
    await r.fs.mkdir(r.relPath);
    this.logCommand('Mkdir', { file_path: p });
  }

  /**
   * Removes a file or symlink; needs `delete` on the parent; the quota is decremented. With
   * the pre-delete custom action, a hook that succeeds takes the deletion over: the file is
   * left to it, the quota is decremented all the same and no delete action follows (upstream
   * RemoveFile); otherwise the file is removed and the delete action fires.
   */
  async remove(virtualPath: string): Promise<void> {
    await this.doRemove(virtualPath, true);
  }

  private async doRemove(virtualPath: string, actions: boolean): Promise<void> {
    const p = this.begin(virtualPath);
    this.requirePerm('delete', virtualDir(p));
    this.requireFileAllowed(p);
    if (p === '/' || this.mounts.isMountPoint(p))
      throw new SftpgoError('PERMISSION_DENIED', 'removing a virtual folder is not allowed');
    const r = this.mounts.resolve(p);
    const info = await r.fs.lstat(r.relPath);
    if (info.isDirectory)
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(p)} is a directory`);
    const handled = actions && this.wants('pre-delete') && (await this.preDelete(p, info.size));
    if (!handled) await r.fs.remove(r.relPath);
    this.logCommand('Remove', { file_path: p });
    if (!info.isSymlink) await this.updateQuota(p, -1, -info.size);
    if (actions && !handled && this.wants('delete'))
      await this.notifyAfter('delete', p, { fileSize: info.size });
  }

  /**
   * removes an empty directory; needs `delete` on the parent. On object stores (emulated
   * directories) a missing directory is removed without error, as upstream.
   */
  async rmdir(virtualPath: string): Promise<void> {
    const p = this.begin(virtualPath);
    if (p === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    if (this.mounts.isMountPoint(p))
      throw new SftpgoError('PERMISSION_DENIED', 'removing a virtual folder is not allowed');
    if (this.mounts.hasMountsInside(p)) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'removing a directory with a virtual folder inside is not supported',
      );
    }
    this.requirePerm('delete', virtualDir(p));
    const r = this.mounts.resolve(p);
    let info: FileInfo;
    try {
      info = await r.fs.lstat(r.relPath);
    } catch (e) {
      // upstream #149: on object stores a missing directory is removed without error (an
      // implicit directory vanishes with its last object, before the client's RMD)
      if (SftpgoError.is(e, 'NOT_FOUND') && r.fs.capabilities.emulatedDirs) return;
      throw e;
    }
    if (!info.isDirectory || info.isSymlink)
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(p)} is not a directory`);
    await r.fs.remove(r.relPath, { dir: true });
    this.logCommand('Rmdir', { file_path: p });
  }

  private checkRenameNames(from: string, to: string, info: FileInfo): void {
    if (info.isFile && (!isFileAllowed(this.user, from) || !isFileAllowed(this.user, to))) {
      throw new SftpgoError(
        'NAME_NOT_ALLOWED',
        'renaming this file is not allowed by the file pattern filters',
      );
    }
  }

  /** upstream isRenamePermitted: `rename` on both sides, or `delete` on the source and the creation permission on the target */
  private hasRenamePerms(from: string, to: string, info: FileInfo): boolean {
    const src = virtualDir(from);
    const dst = virtualDir(to);
    if (hasPerm(this.user, 'rename', src) && hasPerm(this.user, 'rename', dst)) return true;
    if (!hasPerm(this.user, 'delete', src)) return false;
    if (info.isDirectory) return hasPerm(this.user, 'create_dirs', dst);
    if (info.isSymlink) return hasPerm(this.user, 'create_symlinks', dst);
    return hasPerm(this.user, 'upload', dst);
  }

  /** every entry of a directory tree must pass the rename rules (permissions set inside it) */
  private async checkRecursiveRename(from: string, to: string, info: FileInfo): Promise<void> {
    for await (const e of this.walk(from, { rootInfo: info })) {
      if (e.depth === 0 || e.type === 'dir-end') continue;
      const childTo = `${to}${e.path.slice(from.length)}`;
      this.checkRenameNames(e.path, childTo, e.info);
      if (!this.hasRenamePerms(e.path, childTo, e.info)) {
        throw new SftpgoError(
          'PERMISSION_DENIED',
          `renaming ${JSON.stringify(e.path)} is not allowed`,
        );
      }
    }
  }

  /**
   * Renames (moves) a file or directory. Needs `rename` on both parents, or `delete` on the
   * source parent and `upload` / `create_dirs` / `create_symlinks` (by type) on the target
   * parent, plus `overwrite` when replacing a file. Virtual folders themselves cannot be
   * renamed; a move across virtual folders is a copy + delete (moveAcrossMounts).
   */
  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = this.begin(fromPath);
    const to = normalizeVirtualPath(toPath);
    if (from === to)
      throw new SftpgoError('OP_UNSUPPORTED', 'the rename source and target cannot be the same');
    if (from === '/' || to === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'renaming the root directory is not allowed');
    if (
      this.mounts.isMountPoint(from) ||
      this.mounts.isMountPoint(to) ||
      this.mounts.isVirtualDir(from) ||
      this.mounts.isVirtualDir(to)
    ) {
      throw new SftpgoError('PERMISSION_DENIED', 'renaming a virtual folder is not allowed');
    }
    const rf = this.mounts.resolve(from);
    const rt = this.mounts.resolve(to);
    const srcInfo = await rf.fs.lstat(rf.relPath);
    this.checkRenameNames(from, to, srcInfo);
    if (rf.mount !== rt.mount) {
      await this.moveAcrossMounts(from, to, srcInfo);
      return;
    }
    if (!this.hasRenamePerms(from, to, srcInfo))
      throw new SftpgoError('PERMISSION_DENIED', 'permission denied');
    let initialSize = -1;
    const dstInfo = await this.statIn(rt, false);
    if (dstInfo) {
      if (dstInfo.isDirectory)
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          'renaming onto an existing directory is not supported',
        );
      if (dstInfo.isFile) initialSize = dstInfo.size;
      this.requirePerm('overwrite', virtualDir(to));
    }
    if (srcInfo.isDirectory) {
      if (this.mounts.hasMountsInside(from)) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          'renaming a directory with virtual folders inside is not supported',
        );
      }
      if (this.mounts.hasMountsInside(to))
        throw new SftpgoError(
          'PERMISSION_DENIED',
          'renaming onto a virtual folder path is not allowed',
        );
      if (hasPermissionsInside(this.user, from) || hasPermissionsInside(this.user, to)) {
        await this.checkRecursiveRename(from, to, srcInfo);
      }
    }
    await rf.fs.rename(rf.relPath, rt.relPath);
    this.logCommand('Rename', { file_path: from, target_path: to });
    // same mount: only an overwritten file changes the counters
    if (initialSize !== -1) await this.updateQuota(to, -1, -initialSize);
    if (this.wants('rename')) await this.notifyAfter('rename', from, { target: to });
  }

  /**
   * A rename across virtual folders (different backends, or different roots of one): a copy,
   * then the removal of the source; never atomic. It needs what a copy and a delete need:
   * `download` and `delete` on the source, `upload` (+ `overwrite`) or `create_dirs` on the
   * target, the patterns on both, and room in the target's quota. Everything is checked before
   * anything is written, and the source is removed only once the whole copy is written, so a
   * failure leaves the source complete (plus whatever part of the copy was written). Quotas:
   * the target's grows as it is written, the source's shrinks as it is removed. Symlinks and
   * special files cannot be moved this way (they would be lost): they are refused.
   */
  private async moveAcrossMounts(from: string, to: string, src: FileInfo): Promise<void> {
    const unsupported = (p: string): SftpgoError =>
      new SftpgoError(
        'OP_UNSUPPORTED',
        `${JSON.stringify(p)}: only files and directories can be moved across virtual folders`,
      );
    if (src.isSymlink || (!src.isFile && !src.isDirectory)) throw unsupported(from);
    if (src.isDirectory) {
      if (this.mounts.hasMountsInside(from) || this.mounts.hasMountsInside(to)) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          'moving a directory with virtual folders inside is not supported',
        );
      }
      for await (const e of this.walk(from, { rootInfo: src })) {
        if (e.type === 'dir-end') continue;
        if (e.type !== 'dir' && e.type !== 'file') throw unsupported(e.path);
        this.requirePerm('delete', virtualDir(e.path));
      }
    } else {
      this.requirePerm('delete', virtualDir(from));
    }
    const dst = await this.lookup(to);
    if (dst?.isDirectory)
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'renaming onto an existing directory is not supported',
      );
    // a rename for the client: its own action only, not those of the copy and removal inside
    await this.doCopy(from, to, { overwrite: src.isFile }, false);
    if (src.isDirectory) await this.removeTree(from, { actions: false });
    else await this.doRemove(from, false);
    this.logCommand('Rename', { file_path: from, target_path: to, across_folders: true });
    if (this.wants('rename')) await this.notifyAfter('rename', from, { target: to });
  }

  // ---------------------------------------------------------------- trees

  /**
   * Walks the virtual tree at `root` with the rules every recursive operation shares (see
   * walk.ts): directories need `list`, files must pass the file patterns (and `filePerm` when
   * given), symlinks are never walked into.
   */
  walk(root: string, o: WalkOptions = {}): AsyncGenerator<WalkEntry> {
    return walkTree(this, root, o);
  }

  /** the attributes of a path whatever the permissions (undefined when missing) */
  private async lookup(p: string): Promise<FileInfo | undefined> {
    const info = await this.statIn(this.mounts.resolve(p), false);
    if (info) return info;
    return p === '/' || this.mounts.isVirtualDir(p) ? virtualDirInfo(virtualBase(p)) : undefined;
  }

  /**
   * Copies a file or a directory tree on the server (upstream's later BaseConnection.Copy).
   * Every entry is checked before anything is written: the source needs `list` on its
   * directories, `download` and the file patterns on its files; the target needs
   * `create_dirs` / `upload` (+ `overwrite` for replaced files) and the patterns. The quota
   * of every scope written to (user, virtual folders) must hold the whole copy, and each
   * file is then written as an upload (quota counted as it goes, max_upload_file_size,
   * atomic upload_mode), unthrottled. Symlinks and special files are not copied. A copy may
   * span virtual folders; copying onto itself or into its own subtree is refused. Each file
   * copied is a download and an upload for the custom actions (pre-download, pre-upload — which
   * can deny it — download, upload), so no hook that vets uploads is bypassed by a copy.
   */
  async copy(fromPath: string, toPath: string, o: CopyOptions): Promise<TreeResult> {
    return this.doCopy(fromPath, toPath, o, true);
  }

  private async doCopy(
    fromPath: string,
    toPath: string,
    o: CopyOptions,
    actions: boolean,
  ): Promise<TreeResult> {
    const from = this.begin(fromPath);
    const to = normalizeVirtualPath(toPath);
    if (from === to)
      throw new SftpgoError('OP_UNSUPPORTED', 'the copy source and target cannot be the same');
    const src = await this.lstat(from);
    if (!src.isFile && !(src.isDirectory && !src.isSymlink)) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'unsupported copy source: only files and directories are supported',
      );
    }
    if (src.isDirectory && (isSameOrBelow(to, from) || isSameOrBelow(from, to))) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        `copying ${JSON.stringify(from)} to ${JSON.stringify(to)} is not supported: one contains the other`,
      );
    }
    const targetOf = (p: string): string => (p === from ? to : `${to}${p.slice(from.length)}`);
    const walkOpts: WalkOptions = { rootInfo: src, filePerm: 'download' };
    const rootExists = (await this.lookup(to)) !== undefined;
    if (rootExists && !o.overwrite) {
      throw new SftpgoError(
        'ALREADY_EXISTS',
        'invalid copy destination: cannot overwrite an existing file or directory',
      );
    }

    // 1. check every entry and add up what each quota scope receives; nothing is written yet
    const scopes = new Map<string, { path: string; files: number; bytes: number }>();
    const maxUpload = this.user.filters?.max_upload_file_size ?? 0;
    for await (const e of this.walk(from, walkOpts)) {
      if (e.type !== 'dir' && e.type !== 'file') continue;
      const target = targetOf(e.path);
      const existing = rootExists ? await this.lookup(target) : undefined;
      if (e.type === 'dir') {
        if (existing && !existing.isDirectory) {
          throw new SftpgoError(
            'OP_UNSUPPORTED',
            `cannot replace the file ${JSON.stringify(target)} with a directory`,
          );
        }
        if (!existing) this.requirePerm('create_dirs', virtualDir(target));
        continue;
      }
      this.requireFileAllowed(target);
      this.requirePerm('upload', virtualDir(target));
      if (existing?.isDirectory) {
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          `cannot replace the directory ${JSON.stringify(target)} with a file`,
        );
      }
      if (existing) this.requirePerm('overwrite', virtualDir(target));
      if (maxUpload > 0 && e.info.size > maxUpload) throw quotaExceededError();
      const key = this.quotaScopes(target).check;
      const acc = scopes.get(key) ?? { path: target, files: 0, bytes: 0 };
      acc.files += existing ? 0 : 1;
      acc.bytes += e.info.size - (existing?.isFile ? existing.size : 0);
      scopes.set(key, acc);
    }
    for (const acc of scopes.values()) {
      const q = await this.checkQuota(acc.files > 0, acc.path);
      if (
        !q.hasSpace ||
        (q.quotaFiles > 0 && q.quotaFiles - q.usedFiles < acc.files) ||
        (q.quotaSize > 0 && q.quotaSize - q.usedSize < acc.bytes)
      ) {
        throw quotaExceededError();
      }
    }

    // 2. copy; every operation checks its permissions and quota again
    const done: TreeResult = { files: 0, dirs: 0, bytes: 0 };
    for await (const e of this.walk(from, walkOpts)) {
      const target = targetOf(e.path);
      if (e.type === 'dir') {
        if (!(rootExists && (await this.lookup(target))?.isDirectory)) {
          await this.mkdir(target);
          done.dirs++;
        }
      } else if (e.type === 'file') {
        done.bytes += await this.copyFile(e.path, target, !o.overwrite, !actions);
        done.files++;
      } else if (e.type !== 'dir-end') {
        this.log.debug(
          { sender: this.protocol, connection_id: this.id, file_path: e.path },
          'copy: only files and directories are copied',
        );
      }
    }
    this.logCommand('Copy', { file_path: from, target_path: to, files: done.files });
    return done;
  }

  /** copies one file's content as a download + upload pair; returns the bytes copied */
  private async copyFile(
    from: string,
    to: string,
    exclusive: boolean,
    noActions: boolean,
  ): Promise<number> {
    const dl = await this.doOpenDownload(from, {}, { bandwidth: 0, noActions });
    let up: UploadTransfer;
    try {
      up = await this.doOpenUpload(
        to,
        { mode: 'truncate' },
        { bandwidth: 0, exclusive, noActions },
      );
    } catch (e) {
      await dl.abort(e);
      throw e;
    }
    let pos = 0;
    try {
      // one read ahead of the write in progress; a read failing while a write fails is
      // already handled (its error is the write's)
      const readAt = (at: number): Promise<Buffer | null> => {
        const r = dl.read(at, COPY_CHUNK);
        r.catch(() => undefined);
        return r;
      };
      let next = readAt(0);
      for (;;) {
        const buf = await next;
        if (buf === null || buf.length === 0) break;
        const at = pos;
        pos += buf.length;
        next = readAt(pos);
        await up.write(at, buf);
      }
    } catch (e) {
      await Promise.all([up.abort(e), dl.abort(e)]);
      throw e;
    }
    await dl.close();
    await up.close();
    return pos;
  }

  /**
   * Removes a file or a directory tree. Every entry is checked before anything is removed:
   * `list` on each directory, `delete` on the directory of each entry, the file patterns on
   * files and symlinks; the first entry that fails stops the removal with its error and
   * nothing is removed. Virtual folders (the path itself or inside it) and the root cannot be
   * removed. The quota is decremented by the files removed, also when an error (e.g. a
   * concurrent change) stops the removal mid-way. Unless `actions` is false, each file and
   * symlink goes through the pre-delete and delete custom actions as `remove()` does (a file a
   * pre-delete hook takes over stays, so its directory is not empty).
   */
  async removeTree(virtualPath: string, o: { actions?: boolean } = {}): Promise<TreeResult> {
    const actions = o.actions !== false;
    const p = this.begin(virtualPath);
    if (p === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'removing the root directory is not allowed');
    if (this.mounts.isMountPoint(p) || this.mounts.isVirtualDir(p))
      throw new SftpgoError('PERMISSION_DENIED', 'removing a virtual folder is not allowed');
    if (this.mounts.hasMountsInside(p)) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'removing a directory with a virtual folder inside is not supported',
      );
    }
    const info = await this.lstat(p);
    const check = (e: WalkEntry): void => {
      this.requirePerm('delete', virtualDir(e.path));
      if (!e.info.isDirectory) this.requireFileAllowed(e.path);
    };
    for await (const e of this.walk(p, { rootInfo: info })) if (e.type !== 'dir-end') check(e);

    // every entry is in p's mount: one quota scope
    const done: TreeResult = { files: 0, dirs: 0, bytes: 0 };
    try {
      for await (const e of this.walk(p, { rootInfo: info })) {
        if (e.type === 'dir') continue;
        check(e);
        const r = this.mounts.resolve(e.path);
        if (e.type === 'dir-end') {
          await r.fs.remove(r.relPath, { dir: true });
          done.dirs++;
          continue;
        }
        const handled =
          actions && this.wants('pre-delete') && (await this.preDelete(e.path, e.info.size));
        if (!handled) await r.fs.remove(r.relPath);
        if (e.type === 'file') {
          done.files++;
          done.bytes += e.info.size;
        }
        if (actions && !handled && this.wants('delete'))
          await this.notifyAfter('delete', e.path, { fileSize: e.info.size });
      }
    } finally {
      await this.updateQuota(p, -done.files, -done.bytes);
    }
    this.logCommand('RemoveTree', { file_path: p, files: done.files, dirs: done.dirs });
    return done;
  }

  /**
   * Creates `linkPath` as a symlink to `target` (a virtual path, absolute or relative to the
   * link's directory); stored relative, inside the same filesystem. Needs `create_symlinks`
   * on the link's parent.
   */
  async symlink(target: string, linkPath: string): Promise<void> {
    const link = this.begin(linkPath);
    if (typeof target !== 'string' || target === '')
      throw new SftpgoError('INVALID_INPUT', 'invalid symlink target');
    const tgt = normalizeVirtualPath(target, virtualDir(link));
    const rl = this.mounts.resolve(link);
    const rt = this.mounts.resolve(tgt);
    if (link === '/' || rl.relPath === '/' || this.mounts.isVirtualDir(link)) {
      throw new SftpgoError(
        'PERMISSION_DENIED',
        'a virtual folder cannot be replaced by a symlink',
      );
    }
    if (rl.mount !== rt.mount)
      throw new SftpgoError('OP_UNSUPPORTED', 'cross folder symlinks are not supported');
    if (rt.relPath === '/')
      throw new SftpgoError('PERMISSION_DENIED', 'symlinking the root directory is not allowed');
    this.requirePerm('create_symlinks', virtualDir(link));
    this.requireFileAllowed(link);
    if (!rl.fs.capabilities.symlinks || !rl.fs.symlink) {
      throw new SftpgoError('OP_UNSUPPORTED', 'symlinks are not supported by this storage backend');
    }
    const rel = posix.relative(posix.dirname(rl.relPath), rt.relPath) || '.';
    await rl.fs.symlink(rel, rl.relPath);
    this.logCommand('Symlink', { file_path: tgt, target_path: link });
  }

  /**
   * chmod / chown / chtimes / truncate, honouring setstat_mode (0 execute, 1 ignore silently,
   * 2 ignore where the backend cannot do it). Needs `chmod`/`chown`/`chtimes`, and `overwrite`
   * for a size change. Attributes of a file being uploaded on this connection are applied
   * once the upload completes (the size change applies at once).
   */
  async setStat(virtualPath: string, attrs: SetStatAttrs): Promise<void> {
    const p = this.begin(virtualPath);
    this.requireFileAllowed(p);
    const r = this.mounts.resolve(p);
    const upload = this.uploadFor(p);
    let info: FileInfo | undefined;
    // the backend's resolution of the path for the look is kept for the changes (one
    // resolution instead of two: MFMT after every FTP upload, SFTP SETSTAT)
    let looked: ResolvedLink | undefined;
    const mode = this.config.setstat_mode;
    // no look when it decides nothing: the permissions are the same whether the path is a file
    // or a directory, and the backend's setStat answers for a missing path (MFMT after every
    // FTP upload: one thread-pool job less)
    const look = !upload && !(mode === 0 && attrs.size === undefined && this.permsAlike(p, attrs));
    if (look && r.fs.resolveLink) {
      looked = await r.fs.resolveLink(r.relPath);
      info = looked.info;
    } else if (look) info = await this.statIn(r, false);
    const permPath = info?.isDirectory ? virtualDir(p) : p;
    const caps = r.fs.capabilities;
    const deferred: SetStatAttrs = {};

    if (attrs.atime !== undefined || attrs.mtime !== undefined) {
      this.requirePerm('chtimes', permPath);
      if (mode !== 1) {
        const times: SetStatAttrs = {};
        if (attrs.atime !== undefined) times.atime = attrs.atime;
        if (attrs.mtime !== undefined) times.mtime = attrs.mtime;
        if (upload) Object.assign(deferred, times);
        else if (!(mode === 2 && !caps.chtimes))
          await this.fsSetStat(r, times, caps.chtimes, looked);
      }
    }
    if (attrs.mode !== undefined) {
      this.requirePerm('chmod', permPath);
      if (!(mode === 1 || (mode === 2 && !caps.chmod))) {
        if (upload) deferred.mode = attrs.mode;
        else await this.fsSetStat(r, { mode: attrs.mode }, caps.chmod, looked);
        this.logCommand('Chmod', { file_path: p, mode: (attrs.mode & 0o7777).toString(8) });
      }
    }
    if (attrs.uid !== undefined || attrs.gid !== undefined) {
      this.requirePerm('chown', permPath);
      if (!(mode === 1 || (mode === 2 && !caps.chown))) {
        const owner: SetStatAttrs = {};
        if (attrs.uid !== undefined) owner.uid = attrs.uid;
        if (attrs.gid !== undefined) owner.gid = attrs.gid;
        if (upload) Object.assign(deferred, owner);
        else await this.fsSetStat(r, owner, caps.chown, looked);
        this.logCommand('Chown', { file_path: p, uid: attrs.uid, gid: attrs.gid });
      }
    }
    if (attrs.size !== undefined) {
      this.requirePerm('overwrite', permPath);
      if (!Number.isSafeInteger(attrs.size) || attrs.size < 0)
        throw new SftpgoError('INVALID_INPUT', 'invalid size');
      if (upload) {
        await upload.truncate(attrs.size);
      } else {
        if (!caps.truncate || !r.fs.setStat)
          throw new SftpgoError(
            'OP_UNSUPPORTED',
            'truncate is not supported by this storage backend',
          );
        const before = await r.fs.stat(r.relPath);
        if (before.isDirectory)
          throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(p)} is a directory`);
        await r.fs.setStat(r.relPath, { size: attrs.size });
        await this.updateQuota(p, 0, attrs.size - before.size);
      }
      this.logCommand('Truncate', { file_path: p, size: attrs.size });
    }
    if (upload && Object.keys(deferred).length > 0) upload.deferStat(deferred);
  }

  /**
   * Whether every permission `attrs` needs is granted alike for `p` as a file and as a
   * directory (setStat checks a directory's permissions on its parent)
   */
  private permsAlike(p: string, attrs: SetStatAttrs): boolean {
    const needed: Permission[] = [];
    if (attrs.atime !== undefined || attrs.mtime !== undefined) needed.push('chtimes');
    if (attrs.mode !== undefined) needed.push('chmod');
    if (attrs.uid !== undefined || attrs.gid !== undefined) needed.push('chown');
    const dir = virtualDir(p);
    return needed.every((perm) => hasPerm(this.user, perm, p) === hasPerm(this.user, perm, dir));
  }

  /** truncates a file (SFTP SETSTAT size, FTP/WebDAV helpers) */
  async truncate(virtualPath: string, size: number): Promise<void> {
    await this.setStat(virtualPath, { size });
  }

  private async fsSetStat(
    r: Resolved,
    attrs: SetStatAttrs,
    supported: boolean,
    looked: ResolvedLink | undefined,
  ): Promise<void> {
    if (!supported || !r.fs.setStat)
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'this attribute change is not supported by this storage backend',
      );
    if (looked) await looked.setStat(attrs);
    else await r.fs.setStat(r.relPath, attrs);
  }

  private async applyDeferredStat(p: string, attrs: SetStatAttrs): Promise<void> {
    const r = this.mounts.resolve(p);
    if (!r.fs.setStat) return;
    const a: SetStatAttrs = {};
    const caps = r.fs.capabilities;
    if (caps.chmod && attrs.mode !== undefined) a.mode = attrs.mode;
    if (caps.chown && (attrs.uid !== undefined || attrs.gid !== undefined)) {
      if (attrs.uid !== undefined) a.uid = attrs.uid;
      if (attrs.gid !== undefined) a.gid = attrs.gid;
    }
    if (caps.chtimes && (attrs.atime !== undefined || attrs.mtime !== undefined)) {
      if (attrs.atime !== undefined) a.atime = attrs.atime;
      if (attrs.mtime !== undefined) a.mtime = attrs.mtime;
    }
    if (Object.keys(a).length > 0) await r.fs.setStat(r.relPath, a);
  }

  // ---------------------------------------------------------------- transfers

  /**
   * Opens a file for download; needs `download` on the parent and the file pattern
   * allowance, then the pre-download custom action's consent. The transfer is listed as active
   * until closed; closing it fires the download action.
   */
  async openDownload(virtualPath: string, o: DownloadOptions = {}): Promise<DownloadTransfer> {
    return this.doOpenDownload(virtualPath, o, { noActions: o.actions === false });
  }

  private async doOpenDownload(
    virtualPath: string,
    o: { offset?: number; looked?: LookedUpFile | undefined },
    internal: InternalOpen,
  ): Promise<DownloadTransfer> {
    const p = this.begin(virtualPath);
    const offset = o.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new SftpgoError('INVALID_INPUT', 'invalid offset');
    this.requirePerm('download', virtualDir(p));
    this.requireFileAllowed(p);
    if (!internal.noActions && this.wants('pre-download'))
      await this.preTransfer('pre-download', p, 0, 0);
    const r = this.mounts.resolve(p);
    let source: DownloadSource;
    let fileSize: number | undefined;
    let info: FileInfo | undefined;
    const looked = o.looked?.path === p ? o.looked.resolved : undefined;
    if (r.fs.capabilities.randomAccess && r.fs.openFile) {
      const h = looked
        ? await looked.openFile({ read: true }, this.op)
        : await r.fs.openFile(r.relPath, { read: true }, this.op);
      try {
        const st = h.openInfo ?? (await h.stat());
        if (st.isDirectory)
          throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(p)} is a directory`);
        fileSize = st.size;
        info = { ...st, name: virtualBase(p) };
      } catch (e) {
        await h.close();
        throw mapFsError(e, p);
      }
      source = handleSource(h);
    } else {
      const fs = r.fs;
      const open = (at: number): Promise<Readable> =>
        fs.openRead(r.relPath, { offset: at, ...this.op });
      source = streamSource(open, await open(offset), offset);
    }
    const onEnd = this.downloadEnd(p, internal);
    const t = new DownloadTransfer({
      host: this.host,
      virtualPath: p,
      source,
      offset,
      bandwidth: internal.bandwidth ?? this.user.download_bandwidth ?? 0,
      ...(fileSize !== undefined ? { fileSize } : {}),
      ...(info !== undefined ? { info } : {}),
      ...(onEnd ? { onEnd } : {}),
    });
    this.transfers.add(t);
    return t;
  }

  /**
   * Opens a file for upload. Checks `upload` on the parent (+ `overwrite` when the file
   * exists), the file patterns, the quota (user or folder) and max_upload_file_size; throws
   * QUOTA_EXCEEDED ("denying write due to space limit") when there is no room; then asks the
   * pre-upload custom action. Atomic (upload_mode 1/2) when the backend supports it. Closing
   * the transfer fires the upload action.
   */
  async openUpload(
    virtualPath: string,
    o: UploadOptions = { mode: 'truncate' },
  ): Promise<UploadTransfer> {
    return this.doOpenUpload(virtualPath, o, {});
  }

  private async doOpenUpload(
    virtualPath: string,
    o: UploadOptions,
    internal: InternalOpen,
  ): Promise<UploadTransfer> {
    const p = this.begin(virtualPath);
    this.requirePerm('upload', virtualDir(p));
    this.requireFileAllowed(p);
    if (p === '/' || this.mounts.isVirtualDir(p))
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(p)} is a directory`);
    const r = this.mounts.resolve(p);
    const caps = r.fs.capabilities;
    // the backend resolves the path once for this look and the open below (when it can)
    const looked =
      o.looked?.path === p && o.looked.resolved
        ? o.looked.resolved
        : caps.randomAccess && r.fs.resolveFile
          ? await r.fs.resolveFile(r.relPath)
          : undefined;
    const existing = looked ? looked.info : await this.statIn(r, true);
    if (existing?.isDirectory)
      throw new SftpgoError('INVALID_INPUT', `${JSON.stringify(p)} is a directory`);
    if (existing && internal.exclusive)
      throw new SftpgoError('ALREADY_EXISTS', `${JSON.stringify(p)} already exists`);
    if (existing) this.requirePerm('overwrite', virtualDir(p));

    let mode: UploadOpenMode = existing ? o.mode : 'truncate';
    const fileSize = existing?.size ?? 0;
    let startOffset = 0;
    if (mode === 'append') startOffset = fileSize;
    else if (mode === 'resume') {
      const off = o.offset ?? fileSize;
      if (!Number.isSafeInteger(off) || off < 0 || off > fileSize) {
        throw new SftpgoError(
          'INVALID_INPUT',
          `invalid resume offset ${String(off)}: the file has ${fileSize} bytes`,
        );
      }
      startOffset = off;
      if (off === 0) mode = 'truncate';
    }
    const isResume = mode === 'append' || mode === 'resume';
    if ((isResume || mode === 'inplace') && !caps.resume) {
      throw new SftpgoError(
        'OP_UNSUPPORTED',
        'resuming uploads is not supported by this storage backend',
      );
    }

    const { q, lease } = await this.quotaForUpload(p, !existing);
    // the quota itself is enforced write by write through the lease; this is max_upload_file_size
    const { maxWriteSize } = this.maxWriteSize(
      lease ? { ...q, quotaSize: 0 } : q,
      isResume,
      fileSize,
    );
    try {
      if (!internal.noActions && this.wants('pre-upload')) {
        const flags = existing
          ? (o.openFlags?.existing ?? OPEN_FLAGS.O_TRUNC)
          : (o.openFlags?.newFile ?? 0);
        await this.preTransfer('pre-upload', p, fileSize, flags);
      }
      return await this.startUpload(p, r, {
        mode,
        existing: existing !== undefined,
        fileSize,
        startOffset,
        isResume,
        maxWriteSize,
        lease,
        bandwidth: internal.bandwidth ?? this.user.upload_bandwidth ?? 0,
        wholeFile: o.wholeFile === true,
        onEnd: this.uploadEnd(p, r, internal),
        looked,
      });
    } catch (e) {
      lease?.release();
      throw e;
    }
  }

  private async startUpload(
    p: string,
    r: Resolved,
    u: {
      mode: UploadOpenMode;
      existing: boolean;
      fileSize: number;
      startOffset: number;
      isResume: boolean;
      maxWriteSize: number;
      lease: QuotaLease | undefined;
      bandwidth: number;
      /** UploadOptions.wholeFile */
      wholeFile?: boolean;
      onEnd: UploadTransferInit['onEnd'];
      /** the path as the backend's resolveFile resolved it: opened without resolving it again */
      looked?: ResolvedFile | undefined;
    },
  ): Promise<UploadTransfer> {
    const { mode, fileSize, startOffset, isResume, maxWriteSize } = u;
    const caps = r.fs.capabilities;
    const forceAtomic = u.wholeFile === true && (u.existing || this.config.upload_mode !== 0);
    const atomic = (this.config.upload_mode !== 0 || forceAtomic) && caps.atomicUpload;
    let sink: UploadSink;
    if (caps.randomAccess && r.fs.openFile) {
      const flags = { write: true, create: true, truncate: mode === 'truncate', append: isResume };
      const h = u.looked
        ? await u.looked.openFile(flags, { atomic, ...this.op })
        : await r.fs.openFile(r.relPath, flags, { atomic, ...this.op });
      sink = handleSink(h);
    } else {
      if (mode === 'inplace')
        throw new SftpgoError(
          'OP_UNSUPPORTED',
          'random access writes are not supported by this storage backend',
        );
      const up = await r.fs.openWrite(r.relPath, {
        offset: startOffset,
        truncate: mode === 'truncate',
        atomic,
        ...this.op,
      });
      sink = streamSink(up, startOffset);
    }
    const t = new UploadTransfer({
      host: this.host,
      virtualPath: p,
      sink,
      mode,
      uploadMode: forceAtomic ? 1 : this.config.upload_mode,
      ...(u.wholeFile === true ? { discardOnError: true } : {}),
      isNewFile: !u.existing,
      initialSize: fileSize,
      minWriteOffset: isResume ? startOffset : 0,
      maxWriteSize,
      streamOffset: startOffset,
      bandwidth: u.bandwidth,
      ...(u.lease ? { quota: u.lease } : {}),
      ...(u.onEnd ? { onEnd: u.onEnd } : {}),
    });
    this.transfers.add(t);
    return t;
  }
}
