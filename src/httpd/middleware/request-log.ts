/**
 * One log line per request with upstream's http log fields (docs/logs.md): method, uri,
 * remote_addr, resp_status, resp_size, elapsed_ms, user_agent. No bodies, no credentials:
 * the query string is dropped from `uri`. Each request is also counted by status class in the
 * sftpgo_http_* metrics, as upstream's request logger does.
 */
import type { Middleware } from 'koa';
import { metrics } from '../../util/metrics.js';
import type { HttpdLogger, HttpdState } from '../context.js';

export function requestLog(logger: HttpdLogger): Middleware<HttpdState> {
  return async function logRequest(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      metrics.httpRequestServed(ctx.status);
      logger.info(
        {
          method: ctx.method,
          uri: ctx.path,
          proto: `HTTP/${ctx.req.httpVersion}`,
          remote_addr: ctx.state.remoteIp,
          user_agent: ctx.get('user-agent'),
          resp_status: ctx.status,
          resp_size: ctx.response.length ?? 0,
          elapsed_ms: Math.round(elapsed * 1000) / 1000,
        },
        'request',
      );
    }
  };
}
