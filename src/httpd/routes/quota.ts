/**
 * Tag "quota": quota scans and quota usage updates, with the deprecated 2.0 forms still routed
 * (mirrors httpd/api_quota.go of SFTPGo 2.1.2). Scans run in the background (202); one scan or
 * usage update per user/folder at a time (409).
 */
import type Router from '@koa/router';
import type { Folder, User } from '../../dataprovider/provider.js';
import type { ApiDeps, HttpdContext, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeBody, decodeFolder, decodeUser, type Shape } from '../decode.js';
import { HttpError } from '../errors.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import type { Query } from '../query.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

const QUOTA_USAGE_SHAPE: Shape = { object: { used_quota_size: 'int', used_quota_files: 'int' } };

export const TRACK_QUOTA_DISABLED = 'Quota tracking is disabled!';

interface Usage {
  size: number;
  files: number;
}

function bad(message: string, detail = message): HttpError {
  return new HttpError(400, message, { detail });
}

/** `?mode=`: reset (default) or add */
export function parseQuotaUpdateMode(q: Query): 'reset' | 'add' {
  const raw = q['mode'];
  if (raw === undefined) return 'reset';
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v !== 'reset' && v !== 'add') throw bad('invalid mode', `invalid mode ${JSON.stringify(v)}: expected "add" or "reset"`);
  return v;
}

function checkUsage(u: Usage): void {
  if (u.size < 0 || u.files < 0) throw bad('invalid used quota parameters, negative values are not allowed');
}

function hasQuotaRestrictions(u: User): boolean {
  return (u.quota_size ?? 0) > 0 || (u.quota_files ?? 0) > 0;
}

const trackingDisabled = (): HttpError =>
  new HttpError(403, TRACK_QUOTA_DISABLED, { detail: 'quota tracking is disabled: set data_provider.track_quota to 1 or 2' });

/** POST /quotas/users/{username}/scan: starts a background scan; 403 without quota tracking, 409 when one runs */
export async function startUserQuotaScan(deps: ApiDeps, username: string): Promise<void> {
  if (deps.trackQuota === 0) throw trackingDisabled();
  const user = await deps.provider.getUser(username);
  if (!deps.quotaScans.startUserScan(user)) throw new HttpError(409, 'Another scan is already in progress', { detail: 'Conflict' });
}

/** POST /quotas/folders/{name}/scan, as startUserQuotaScan */
export async function startFolderQuotaScan(deps: ApiDeps, name: string): Promise<void> {
  if (deps.trackQuota === 0) throw trackingDisabled();
  const folder = await deps.provider.getFolder(name);
  if (!deps.quotaScans.startFolderScan(folder)) throw new HttpError(409, 'Another scan is already in progress', { detail: 'Conflict' });
}

export function registerQuotaRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const scans = requirePermission('quota_scans');
  const edit = requirePermission('edit_users');
  const { provider, quotaScans } = deps;

  const startUserScan = async (ctx: HttpdContext, username: string): Promise<void> => {
    await startUserQuotaScan(deps, username);
    sendMessage(ctx, 202, 'Scan started');
  };

  const startFolderScan = async (ctx: HttpdContext, name: string): Promise<void> => {
    await startFolderQuotaScan(deps, name);
    sendMessage(ctx, 202, 'Scan started');
  };

  const updateUserUsage = async (ctx: HttpdContext, username: string, usage: Usage): Promise<void> => {
    checkUsage(usage);
    const mode = parseQuotaUpdateMode(ctx.query);
    const user = await provider.getUser(username);
    if (mode === 'add' && deps.trackQuota === 2 && !hasQuotaRestrictions(user)) {
      throw bad('this user has no quota restrictions, only reset mode is supported');
    }
    if (deps.trackQuota === 0) throw trackingDisabled();
    if (!quotaScans.addUserScan(username)) {
      throw new HttpError(409, 'A quota scan is in progress for this user', { detail: 'Conflict' });
    }
    try {
      await provider.updateUserQuota(username, usage.size, usage.files, mode === 'reset');
    } finally {
      quotaScans.removeUserScan(username);
    }
    sendMessage(ctx, 200, 'Quota updated');
  };

  const updateFolderUsage = async (ctx: HttpdContext, name: string, usage: Usage): Promise<void> => {
    checkUsage(usage);
    const mode = parseQuotaUpdateMode(ctx.query);
    await provider.getFolder(name);
    if (deps.trackQuota === 0) throw trackingDisabled();
    if (!quotaScans.addFolderScan(name)) {
      throw new HttpError(409, 'A quota scan is in progress for this folder', { detail: 'Conflict' });
    }
    try {
      await provider.updateFolderQuota(name, usage.size, usage.files, mode === 'reset');
    } finally {
      quotaScans.removeFolderScan(name);
    }
    sendMessage(ctx, 200, 'Quota updated');
  };

  const usageFromBody = async (ctx: HttpdContext): Promise<Usage> => {
    const b = decodeBody(QUOTA_USAGE_SHAPE, await readJsonBody(ctx.req)) as { used_quota_size?: number; used_quota_files?: number };
    return { size: b.used_quota_size ?? 0, files: b.used_quota_files ?? 0 };
  };

  // ---- current forms
  router.get('/quotas/users/scans', auth, scans, (ctx) => sendJson(ctx, 200, quotaScans.getUserScans()));
  router.post('/quotas/users/:username/scan', auth, scans, (ctx) => startUserScan(ctx, pathParam(ctx, 'username')));
  router.put('/quotas/users/:username/usage', auth, edit, async (ctx) =>
    updateUserUsage(ctx, pathParam(ctx, 'username'), await usageFromBody(ctx)),
  );
  router.get('/quotas/folders/scans', auth, scans, (ctx) => sendJson(ctx, 200, quotaScans.getFolderScans()));
  router.post('/quotas/folders/:name/scan', auth, scans, (ctx) => startFolderScan(ctx, pathParam(ctx, 'name')));
  router.put('/quotas/folders/:name/usage', auth, edit, async (ctx) =>
    updateFolderUsage(ctx, pathParam(ctx, 'name'), await usageFromBody(ctx)),
  );

  // ---- deprecated forms (the object in the body names the user/folder)
  router.get('/quota-scans', auth, scans, (ctx) => sendJson(ctx, 200, quotaScans.getUserScans()));
  router.post('/quota-scans', auth, scans, async (ctx) => {
    const u: User = decodeUser(await readJsonBody(ctx.req));
    await startUserScan(ctx, u.username ?? '');
  });
  router.put('/quota-update', auth, edit, async (ctx) => {
    const u: User = decodeUser(await readJsonBody(ctx.req));
    await updateUserUsage(ctx, u.username ?? '', { size: u.used_quota_size ?? 0, files: u.used_quota_files ?? 0 });
  });
  router.get('/folder-quota-scans', auth, scans, (ctx) => sendJson(ctx, 200, quotaScans.getFolderScans()));
  router.post('/folder-quota-scans', auth, scans, async (ctx) => {
    const f: Folder = decodeFolder(await readJsonBody(ctx.req));
    await startFolderScan(ctx, f.name ?? '');
  });
  router.put('/folder-quota-update', auth, edit, async (ctx) => {
    const f: Folder = decodeFolder(await readJsonBody(ctx.req));
    await updateFolderUsage(ctx, f.name ?? '', { size: f.used_quota_size ?? 0, files: f.used_quota_files ?? 0 });
  });
}
