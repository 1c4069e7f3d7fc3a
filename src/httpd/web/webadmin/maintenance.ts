/**
 * Maintenance (manage_system; upstream templates/webadmin/maintenance.html): download a backup
 * (the content of GET /api/v2/dumpdata?output-data=1, as an attachment) and restore one from an
 * upload (multipart) with loaddata's `mode` and `scan_quota`, through loaddata's own code path.
 */
import type { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { HttpdState } from '../../context.js';
import { HttpError } from '../../errors.js';
import { requirePermission } from '../../middleware/auth.js';
import {
  dumpDataJson,
  MAX_RESTORE_SIZE,
  parseRestoreOption,
  restoreDump,
  sendDumpAttachment,
} from '../../routes/backup.js';
import type { WebCtx, WebKit } from '../kit.js';
import { readMultipart } from '../multipart.js';
import { requireWebAdmin } from '../session.js';
import { flashFromQuery, formFailure } from './form-page.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function registerMaintenancePages(router: Router<HttpdState>, kit: WebKit): void {
  const { deps } = kit;
  const session = requireWebAdmin(kit);
  const manage = requirePermission('manage_system');

  const page = (ctx: WebCtx, o: { summary?: string; status?: number } = {}): void =>
    kit.page(
      ctx,
      'admin',
      'webadmin/maintenance',
      {
        title: 'Maintenance',
        active: '/maintenance',
        summary: o.summary,
        flash: flashFromQuery(ctx),
        maxRestoreMiB: MAX_RESTORE_SIZE / (1024 * 1024),
      },
      o.status ?? 200,
    );

  router.get('/maintenance', session, manage, (ctx) => page(ctx));

  router.get('/backup', session, manage, async (ctx) => {
    const json = await dumpDataJson(deps, ctx.query['indent'] === '1');
    ctx.set('Cache-Control', 'no-store');
    sendDumpAttachment(ctx, json);
  });

  router.post('/restore', session, manage, async (ctx) => {
    let content: Buffer | undefined;
    try {
      const fields = await readMultipart(ctx, {
        maxFiles: 1,
        maxFileBytes: MAX_RESTORE_SIZE,
        verify: (f) => kit.checkCsrf(ctx, 'admin', f),
        onFile: async (_file, stream) => {
          content = await collect(stream);
        },
      });
      const mode = parseRestoreOption(fields.get('mode') ?? '', 'mode');
      const scanQuota = parseRestoreOption(fields.get('scan_quota') ?? '', 'scan_quota');
      if (content === undefined || content.length === 0) {
        throw new HttpError(400, 'please choose a backup file', {
          detail: 'please choose a backup file',
        });
      }
      await restoreDump(deps, content, { mode, scanQuota, source: 'web admin upload' });
    } catch (e) {
      const fail = formFailure(e);
      if (!fail || (HttpError.is(e) && e.status === 403)) throw e;
      return page(ctx, { summary: fail.summary, status: fail.status });
    }
    kit.redirect(ctx, 'admin', '/maintenance?ok=restored');
  });
}
