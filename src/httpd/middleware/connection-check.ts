/**
 * The pre-authentication checks of every HTTP request (upstream httpd/server.go checkConnection
 * at v2.1.2), in upstream's order: per-host/total client limits (403 "configured connections
 * limit reached"), banned host (403 "your IP address is banned"), rate limiters (429 with
 * Retry-After in seconds and X-Retry-In). The decisions themselves live in src/common
 * (ConnectionRegistry, ConnectionGate) so every protocol refuses the same hosts.
 */
import type { Middleware } from 'koa';
import type { ConnectionGate } from '../../common/connection-gate.js';
import { retryAfterSeconds } from '../../common/ratelimiter.js';
import type { ConnectionRegistry } from '../../common/registry.js';
import { SftpgoError } from '../../errors/index.js';
import type { HttpdState } from '../context.js';
import { HttpError } from '../errors.js';

export interface ConnectionCheckDeps {
  gate: ConnectionGate;
  connections: ConnectionRegistry;
}

export function connectionCheck(deps: ConnectionCheckDeps): Middleware<HttpdState> {
  return async function checkConnection(ctx, next) {
    const ip = ctx.state.remoteIp;
    try {
      deps.connections.acceptClient(ip);
    } catch (e) {
      if (SftpgoError.is(e, 'CONNECTION_DENIED')) {
        throw new HttpError(403, 'configured connections limit reached', { detail: e.message });
      }
      throw e;
    }
    // released when the response is over (streamed bodies outlive the middleware chain)
    ctx.res.once('close', () => deps.connections.releaseClient(ip));
    try {
      // the post-connect hook runs on the login endpoint only (routes/user-api.ts), as upstream
      await deps.gate.checkConnectionAllowed(ip, 'HTTP', { postConnect: false });
    } catch (e) {
      if (SftpgoError.is(e, 'CONNECTION_DENIED')) throw new HttpError(403, e.message, { detail: e.message });
      if (SftpgoError.is(e, 'RATE_LIMITED')) {
        const seconds = retryAfterSeconds(e);
        const ms = Math.ceil((e as { retryAfterMs?: number }).retryAfterMs ?? seconds * 1000);
        throw new HttpError(429, 'Too Many Requests', {
          detail: e.message,
          headers: { 'Retry-After': String(seconds), 'X-Retry-In': `${ms}ms` },
        });
      }
      throw e;
    }
    await next();
  };
}
