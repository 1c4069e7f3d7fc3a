/**
 * Tag "defender": banned hosts and scores (mirrors httpd/api_defender.go of SFTPGo 2.1.2).
 * A host id is the hex encoding of the IP string (`127.0.0.1` -> `3132372e302e302e31`): a bad
 * hex string or a decoded value that is not an IP is a 400, an unknown host a 404. A disabled
 * defender lists nothing.
 */
import { isIP } from 'node:net';
import type Router from '@koa/router';
import { rfc3339 } from '../../common/defender.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { readJsonBody } from '../body.js';
import { decodeBody } from '../decode.js';
import { HttpError } from '../errors.js';
import { requireAdminToken, requirePermission } from '../middleware/auth.js';
import type { Query } from '../query.js';
import { pathParam, sendJson, sendMessage } from './respond.js';

function bad(message: string): HttpError {
  return new HttpError(400, message, { detail: message });
}

/** a valid IP address (as Go's net.ParseIP: no port, no brackets, no zone) */
export function validateIpAddress(ip: string | undefined): string {
  if (ip === undefined || ip === '') throw bad('ip address is required');
  if (isIP(ip) === 0 || ip.includes('%')) throw bad(`ip address ${JSON.stringify(ip)} is not valid`);
  return ip;
}

/** the IP of a host id (hex of the IP string) */
export function ipFromHostId(id: string): string {
  if (id === '' || id.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(id)) throw bad('invalid host id');
  return validateIpAddress(Buffer.from(id, 'hex').toString('utf8'));
}

function queryIp(q: Query): string | undefined {
  const v = q['ip'];
  return Array.isArray(v) ? v[0] : v;
}

/** DELETE /defender/hosts/{id}: removes the host (unban), 404 when it is not listed */
export function deleteDefenderHost(deps: ApiDeps, id: string): void {
  const ip = ipFromHostId(id);
  if (!deps.defender.deleteHost(ip)) throw new HttpError(404, 'Not found', { detail: 'Not Found' });
}

export function registerDefenderRoutes(router: Router<HttpdState>, deps: ApiDeps): void {
  const auth = requireAdminToken(deps);
  const view = requirePermission('view_defender');
  const manage = requirePermission('manage_defender');
  const { defender } = deps;

  router.get('/defender/hosts', auth, view, (ctx) => {
    sendJson(ctx, 200, defender.getHosts());
  });

  router.get('/defender/hosts/:id', auth, view, (ctx) => {
    const ip = ipFromHostId(pathParam(ctx, 'id'));
    sendJson(ctx, 200, defender.getHost(ip));
  });

  router.delete('/defender/hosts/:id', auth, manage, (ctx) => {
    deleteDefenderHost(deps, pathParam(ctx, 'id'));
    sendMessage(ctx, 200, 'OK');
  });

  // ---- deprecated forms
  router.get('/defender/bantime', auth, view, (ctx) => {
    const ip = validateIpAddress(queryIp(ctx.query));
    const until = defender.getBanTime(ip);
    sendJson(ctx, 200, { date_time: until ? rfc3339(until.getTime()) : null });
  });

  router.get('/defender/score', auth, view, (ctx) => {
    const ip = validateIpAddress(queryIp(ctx.query));
    sendJson(ctx, 200, { score: defender.getScore(ip) });
  });

  router.post('/defender/unban', auth, manage, async (ctx) => {
    const body = decodeBody({ object: { ip: 'string' } }, await readJsonBody(ctx.req)) as { ip?: string };
    const ip = validateIpAddress(body.ip);
    if (!defender.deleteHost(ip)) throw new HttpError(404, 'Not found', { detail: 'Not Found' });
    sendMessage(ctx, 200, 'OK');
  });
}
