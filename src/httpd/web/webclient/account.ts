/**
 * The web client's account page (`/credentials`, upstream templates/webclient/credentials.html
 * of 2.1.2): change the password and the public keys with the REST user API's rules
 * (user-account.ts: the same checks, `publickey-change-disabled` honoured), and the user's own
 * quota, virtual folders included.
 */
import type Router from '@koa/router';
import type { User } from '../../../dataprovider/provider.js';
import type { HttpdState } from '../../context.js';
import { HttpError } from '../../errors.js';
import { mapError } from '../../middleware/errors.js';
import { changeUserPassword, keyChangeDenied, setUserPublicKeys } from '../../user-account.js';
import { errorText, type FlashMessage, type WebCtx, type WebKit } from '../kit.js';
import { requireWebClient, userSubject } from '../session.js';
import { formatSize } from './paths.js';

export interface QuotaLine {
  label: string;
  size: string;
  files: string;
}

function limit(used: number, max: number, fmt: (n: number) => string): string {
  if (max === -1) return `${fmt(used)} (counted in your quota)`;
  return max > 0 ? `${fmt(used)} of ${fmt(max)}` : `${fmt(used)} (no limit)`;
}

/** the quota lines of the page: the user's, then each virtual folder's (mapped path hidden) */
export function quotaLines(u: User): QuotaLine[] {
  const count = (n: number): string => String(n);
  const lines: QuotaLine[] = [
    {
      label: 'Your files',
      size: limit(u.used_quota_size ?? 0, u.quota_size ?? 0, formatSize),
      files: limit(u.used_quota_files ?? 0, u.quota_files ?? 0, count),
    },
  ];
  for (const f of u.virtual_folders ?? []) {
    lines.push({
      label: f.virtual_path ?? '',
      size: limit(f.used_quota_size ?? 0, f.quota_size ?? -1, formatSize),
      files: limit(f.used_quota_files ?? 0, f.quota_files ?? -1, count),
    });
  }
  return lines;
}

/** one key per line; blank lines dropped */
export function parseKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export function registerClientAccountPages(router: Router<HttpdState>, kit: WebKit): void {
  const auth = requireWebClient(kit);
  const { deps } = kit;

  const show = (ctx: WebCtx, user: User, flash: FlashMessage[] = [], status = 200): void => {
    const disabled = keyChangeDenied(user);
    kit.page(
      ctx,
      'client',
      'webclient/credentials',
      {
        title: 'Account',
        active: '/credentials',
        flash,
        quota: quotaLines(user),
        keysDisabled: disabled,
        keys: (user.public_keys ?? []).join('\n'),
      },
      status,
    );
  };

  const user = (ctx: WebCtx): User => {
    const u = ctx.state.webUser;
    if (!u) throw new HttpError(401, 'Unauthorized', { detail: 'no web client session' });
    return u;
  };

  /** a refusal of the API's rules shown on the page with its status; anything else is thrown */
  const refused = (ctx: WebCtx, u: User, e: unknown): void => {
    const status = mapError(e).status;
    if (status >= 500) throw e;
    show(ctx, u, [{ kind: 'error', text: errorText(e) }], status);
  };

  router.get('/credentials', auth, (ctx) => show(ctx, user(ctx)));

  router.post('/changepwd', auth, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    const u = user(ctx);
    const next = form.get('new_password') ?? '';
    try {
      if (next !== (form.get('confirm_password') ?? next)) {
        const m = 'the two new passwords do not match';
        throw new HttpError(400, m, { detail: m });
      }
      await changeUserPassword(
        deps,
        ctx.state.remoteIp,
        u,
        form.get('current_password') ?? '',
        next,
      );
    } catch (e) {
      return refused(ctx, u, e);
    }
    // the session was opened with the old password: this one continues with the new one,
    // every other session of the user ends
    const updated = await deps.provider.getUser(u.username ?? '');
    kit.startSession(ctx, 'client', userSubject(updated));
    show(ctx, updated, [{ kind: 'success', text: 'Password changed' }]);
  });

  router.post('/publickeys', auth, async (ctx) => {
    const form = await kit.readForm(ctx);
    kit.checkCsrf(ctx, 'client', form);
    const u = user(ctx);
    try {
      await setUserPublicKeys(
        deps,
        ctx.state.remoteIp,
        u,
        parseKeys(form.get('public_keys') ?? ''),
      );
    } catch (e) {
      return refused(ctx, u, e);
    }
    show(ctx, await deps.provider.getUser(u.username ?? ''), [
      { kind: 'success', text: 'Public keys saved' },
    ]);
  });
}
