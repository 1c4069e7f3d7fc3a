/**
 * Tag "maintenance", the backup part: GET /dumpdata and GET/POST /loaddata (mirrors
 * httpd/api_maintenance.go of SFTPGo 2.1.2), permission manage_system.
 *
 * dumpdata writes under httpd.backups_path only: `output-file` must be a relative path without
 * `..` that stays inside the backups dir once symlinks are resolved; directories are created
 * 0700, the file is written 0600 through a temp file renamed into place (an existing symlink
 * at the target is replaced, never followed). `output-data=1` returns the dump as the body.
 * loaddata reads an absolute path or one relative to backups_path (at most 10 MiB), or the
 * request body (at most 10 MiB).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { restoreWithScans } from '../../common/restore.js';
import { createBackup, parseBackupJson } from '../../dataprovider/dump.js';
import type { ApiDeps, HttpdContext, HttpdState } from '../context.js';
import { readRawBody } from '../body.js';
import { HttpError } from '../errors.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import type { Query } from '../query.js';
import { sendMessage } from './respond.js';

/** the largest dump loaddata accepts (upstream MaxRestoreSize) */
export const MAX_RESTORE_SIZE = 10 * 1024 * 1024;

function bad(message: string, detail = message): HttpError {
  return new HttpError(400, message, { detail });
}

/** a query parameter, trimmed; undefined when absent */
function param(q: Query, name: string): string | undefined {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : s.trim();
}

/** strconv.Atoi of an optional query parameter restricted to 0, 1, 2 */
function enumParam(q: Query, name: string, label: string): number {
  return parseRestoreOption(param(q, name), label);
}

/** a loaddata option (`mode`, `scan_quota`): '' or absent is 0, else 0, 1 or 2; 400 otherwise */
export function parseRestoreOption(raw: string | undefined, label: string): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^[+-]?\d+$/.test(raw)) throw bad(`invalid ${label}`, `invalid ${label}: ${JSON.stringify(raw)} is not an integer`);
  const n = Number(raw);
  if (n !== 0 && n !== 1 && n !== 2) throw bad(`invalid ${label}`, `invalid ${label}: ${n} is not 0, 1 or 2`);
  return n;
}

function isInside(base: string, p: string): boolean {
  const rel = relative(base, p);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Resolves a backup file name under the backups dir (upstream validateBackupFile, plus: no NUL,
 * no empty segment tricks, the result must stay inside the dir).
 */
export function resolveBackupFile(backupsPath: string, name: string | undefined, param = 'output-file'): string {
  if (name === undefined || name === '') throw bad(`invalid or missing ${param}`);
  if (name.includes('\0')) throw bad(`invalid ${param}`, `invalid ${param}: NUL byte`);
  if (isAbsolute(name)) throw bad(`invalid ${param}`, `invalid ${param} ${JSON.stringify(name)}: it must be a relative path`);
  if (name.includes('..')) throw bad(`invalid ${param}`, `invalid ${param} ${JSON.stringify(name)}`);
  const base = resolve(backupsPath);
  const full = resolve(base, name);
  if (!isInside(base, full) || name.endsWith('/')) throw bad(`invalid ${param}`, `invalid ${param} ${JSON.stringify(name)}`);
  return full;
}

/** creates the backups dir and the file's parent (0700) and checks no symlink leads outside */
async function prepareParent(backupsPath: string, file: string): Promise<void> {
  const base = resolve(backupsPath);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const [realBase, realParent] = await Promise.all([realpath(base), realpath(dirname(file))]);
  if (realParent !== realBase && !isInside(realBase, realParent)) {
    throw bad('invalid output-file', 'invalid output-file: it leads outside the backups directory');
  }
}

/** writes `data` to `file` with mode 0600, atomically */
async function writePrivateFile(file: string, data: string): Promise<void> {
  const tmp = join(dirname(file), `.${randomBytes(8).toString('hex')}.sftpgo-dump.tmp`);
  const h = await open(tmp, 'wx', 0o600);
  try {
    await h.writeFile(data, 'utf8');
    await h.sync();
  } catch (e) {
    await h.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

function fsError(e: unknown, what: string): HttpError {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return bad(`${what}: no such file or directory`);
  if (code === 'EISDIR') return bad(`${what}: is a directory`);
  if (code === 'EACCES' || code === 'EPERM') return new HttpError(403, `${what}: permission denied`, { detail: 'permission denied', cause: e });
  return new HttpError(500, 'Internal Server Error', { detail: `${what} failed`, cause: e });
}

/** the backup GET /dumpdata?output-data=1 returns, as JSON text */
export async function dumpDataJson(deps: ApiDeps, indent = false): Promise<string> {
  const backup = await createBackup(deps.provider);
  return indent ? JSON.stringify(backup, null, 2) : JSON.stringify(backup);
}

/** answers a dump as the attachment `sftpgo-backup.json` */
export function sendDumpAttachment(ctx: ParameterizedContext<HttpdState>, json: string): void {
  ctx.status = 200;
  ctx.set('Content-Disposition', 'attachment; filename="sftpgo-backup.json"');
  ctx.type = 'application/json';
  ctx.body = json;
}

/** loaddata: restores a dump (at most MAX_RESTORE_SIZE bytes) with its mode and quota scan option */
export async function restoreDump(
  deps: ApiDeps,
  content: Buffer,
  o: { mode: number; scanQuota: number; source: string },
): Promise<void> {
  const backup = parseBackupJson(content);
  await restoreWithScans(deps.provider, backup, {
    mode: o.mode,
    scanQuota: o.scanQuota,
    quotaScans: deps.quotaScans,
    trackQuota: deps.trackQuota,
    disconnectUser: (u) => deps.connections.disconnectUser(u),
    logger: deps.logger.child({ source: o.source }),
  });
}

export function registerBackupRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const manage = requirePermission('manage_system');

  router.get('/dumpdata', auth, manage, async (ctx) => {
    const outputData = param(ctx.query, 'output-data') === '1';
    const indent = param(ctx.query, 'indent') === '1';
    let file: string | undefined;
    if (!outputData) {
      file = resolveBackupFile(deps.backupsPath, param(ctx.query, 'output-file'));
      try {
        await prepareParent(deps.backupsPath, file);
      } catch (e) {
        if (HttpError.is(e)) throw e;
        throw fsError(e, 'unable to create the backups directory');
      }
    }
    const backup = await createBackup(deps.provider);
    const json = indent ? JSON.stringify(backup, null, 2) : JSON.stringify(backup);
    if (file === undefined) {
      sendDumpAttachment(ctx, json);
      return;
    }
    try {
      await writePrivateFile(file, json);
    } catch (e) {
      throw fsError(e, 'unable to write the backup file');
    }
    deps.logger.info({ file, users: backup.users.length, folders: backup.folders.length, admins: backup.admins.length }, 'data dumped');
    sendMessage(ctx, 200, 'Data saved');
  });

  const restore = async (ctx: HttpdContext, content: Buffer, source: string): Promise<void> => {
    await restoreDump(deps, content, {
      mode: enumParam(ctx.query, 'mode', 'mode'),
      scanQuota: enumParam(ctx.query, 'scan-quota', 'scan_quota'),
      source,
    });
    sendMessage(ctx, 200, 'Data restored');
  };

  router.get('/loaddata', auth, manage, async (ctx) => {
    // option errors first, as upstream getLoaddataOptions
    enumParam(ctx.query, 'mode', 'mode');
    enumParam(ctx.query, 'scan-quota', 'scan_quota');
    const name = param(ctx.query, 'input-file');
    if (name === undefined || name === '') throw bad('invalid or missing input-file');
    if (name.includes('\0')) throw bad('invalid input-file');
    const file = isAbsolute(name) ? name : resolveBackupFile(deps.backupsPath, name, 'input-file');
    let size: number;
    try {
      const st = await stat(file);
      if (st.isDirectory()) throw bad(`invalid input-file ${JSON.stringify(name)}: it is a directory`);
      size = st.size;
    } catch (e) {
      if (HttpError.is(e)) throw e;
      throw fsError(e, `unable to read input-file ${JSON.stringify(name)}`);
    }
    if (size > MAX_RESTORE_SIZE) {
      throw bad(`Unable to restore input file: ${JSON.stringify(name)} size too big: ${size}/${MAX_RESTORE_SIZE} bytes`);
    }
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (e) {
      throw fsError(e, `unable to read input-file ${JSON.stringify(name)}`);
    }
    if (content.length > MAX_RESTORE_SIZE) throw bad(`Unable to restore input file: ${JSON.stringify(name)} size too big`);
    await restore(ctx, content, file);
  });

  router.post('/loaddata', auth, manage, async (ctx) => {
    enumParam(ctx.query, 'mode', 'mode');
    enumParam(ctx.query, 'scan-quota', 'scan_quota');
    const content = await readRawBody(ctx.req, MAX_RESTORE_SIZE);
    if (content.length === 0) throw bad('request body is required');
    await restore(ctx, content, 'request body');
  });
}
