/**
 * What every web page handler shares (web admin and web client alike): URLs under `web_root`,
 * the session cookie holding our JWT with the area's audience, CSRF tokens, form bodies, page
 * rendering with the security headers, and the HTML error page. Area-specific rules (which
 * admin or user a session stands for) live in session.ts.
 *
 * Cookies as upstream 2.1.2: name `jwt`, path `<web_root>/web/admin` or `/web/client`,
 * HttpOnly, SameSite=Strict, Secure when the request came over TLS (or through an allowed proxy
 * that says `X-Forwarded-Proto: https`).
 */
import type { Middleware, ParameterizedContext } from 'koa';
import { SftpgoError } from '../../errors/index.js';
import type { ApiDeps, HttpdState } from '../context.js';
import { readRawBody } from '../body.js';
import { HttpError } from '../errors.js';
import type { TokenAudience, TokenClaims, TokenSubject } from '../jwt.js';
import { errorSummary, mapError } from '../middleware/errors.js';
import { CSRF_FIELD, CSRF_HEADER, type CsrfTokens } from './csrf.js';
import type { WebRenderer } from './render.js';

export type WebArea = 'admin' | 'client';

/** a koa context of a web route (router or plain middleware) */
export type WebCtx = ParameterizedContext<HttpdState>;

export const COOKIE_NAME = 'jwt';
/** login and other small forms (upstream: 256 KiB for login forms) */
export const MAX_FORM_BYTES = 256 * 1024;
/** a session cookie is re-issued when it has less than this left (upstream: 10 minutes) */
const REFRESH_BEFORE_S = 10 * 60;

export const AUDIENCE: Readonly<Record<WebArea, TokenAudience>> = {
  admin: 'WebAdmin',
  client: 'WebClient',
};

/**
 * Content-Security-Policy of every web response: scripts and styles from our own origin only
 * (no inline code anywhere), images also as data: URIs (Pico's icons), no framing, forms post
 * to ourselves.
 */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

export function setSecurityHeaders(ctx: WebCtx): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'same-origin');
}

export interface WebOptions {
  /** `httpd.web_root` normalized: "" or "/prefix" (no trailing slash) */
  webRoot: string;
  /** `httpd.templates_path` resolved; files there override the built-in templates */
  templatesPath?: string | undefined;
  /** `httpd.static_files_path` resolved; files there override the built-in static files */
  staticFilesPath?: string | undefined;
  enableAdmin: boolean;
  enableClient: boolean;
}

export interface FlashMessage {
  kind: 'error' | 'success' | 'info';
  text: string;
}

export interface WebKit {
  readonly deps: ApiDeps;
  readonly webRoot: string;
  readonly renderer: WebRenderer;
  readonly csrf: CsrfTokens;
  /** `<web_root>/web/<area><path>` */
  url(area: WebArea, path?: string): string;
  /** `<web_root>/static/<path>` */
  staticUrl(path: string): string;
  /** the claims of the area's session cookie when it verifies, else undefined (no throw) */
  sessionClaims(ctx: WebCtx, area: WebArea): { claims: TokenClaims; token: string } | undefined;
  /** issues a token for the subject and sets the area's cookie */
  startSession(ctx: WebCtx, area: WebArea, subject: TokenSubject): void;
  /** re-issues the cookie when the session has less than 10 minutes left */
  refreshSession(ctx: WebCtx, area: WebArea, claims: TokenClaims, subject: TokenSubject): void;
  /** revokes the session's token (when it is one of this area) and clears the cookie */
  endSession(ctx: WebCtx, area: WebArea): void;
  /** the CSRF subject of a request: `<area>:<username>`, `<area>:login` without a session */
  csrfSubject(ctx: WebCtx, area: WebArea): string;
  /** 403 unless the token (form field or X-CSRF-Token header) matches the session */
  checkCsrf(ctx: WebCtx, area: WebArea, form?: URLSearchParams): void;
  /** an urlencoded form body (256 KiB at most); 400 for another content type */
  readForm(ctx: WebCtx, limit?: number): Promise<URLSearchParams>;
  /**
   * renders `template` inside the area's layout with what every page needs (`it.webRoot`,
   * `it.base`, `it.csrf`, `it.session`, `it.flash`, `it.static`) plus `data`
   */
  page(
    ctx: WebCtx,
    area: WebArea,
    template: string,
    data: Record<string, unknown>,
    status?: number,
  ): void;
  /** the area's login form, with an error message and the name typed when a sign-in failed */
  loginPage(
    ctx: WebCtx,
    area: WebArea,
    o?: { error?: string; username?: string; status?: number },
  ): void;
  /** 302 to a path of the area */
  redirect(ctx: WebCtx, area: WebArea, path: string): void;
  /** an HTML error page for failures of web routes (the REST API's JSON shape elsewhere) */
  errors(area: WebArea): Middleware<HttpdState>;
}

function isSecureRequest(ctx: WebCtx, trustProxy: boolean): boolean {
  if ((ctx.req.socket as { encrypted?: boolean }).encrypted) return true;
  return trustProxy && ctx.get('x-forwarded-proto').toLowerCase() === 'https';
}

export function normalizeWebRoot(raw: string): string {
  const t = raw.trim().replace(/\/+$/, '');
  if (t === '') return '';
  return t.startsWith('/') ? t : `/${t}`;
}

export function createWebKit(
  deps: ApiDeps,
  o: WebOptions & {
    renderer: WebRenderer;
    csrf: CsrfTokens;
    isAllowedProxy: (ip: string) => boolean;
  },
): WebKit {
  const webRoot = o.webRoot;
  const url = (area: WebArea, path = ''): string => `${webRoot}/web/${area}${path}`;
  const trustProxy = (ctx: WebCtx): boolean => o.isAllowedProxy(ctx.req.socket.remoteAddress ?? '');

  const setCookie = (ctx: WebCtx, area: WebArea, value: string, maxAgeMs: number): void => {
    ctx.cookies.set(COOKIE_NAME, value, {
      path: url(area),
      httpOnly: true,
      sameSite: 'strict',
      secure: isSecureRequest(ctx, trustProxy(ctx)),
      maxAge: maxAgeMs,
      overwrite: true,
    });
  };

  const kit: WebKit = {
    deps,
    webRoot,
    renderer: o.renderer,
    csrf: o.csrf,
    url,
    staticUrl: (path) => `${webRoot}/static/${path.replace(/^\/+/, '')}`,

    sessionClaims(ctx, area) {
      const token = ctx.cookies.get(COOKIE_NAME);
      if (!token) return undefined;
      try {
        return { claims: deps.tokens.verify(token, AUDIENCE[area]), token };
      } catch {
        return undefined;
      }
    },

    startSession(ctx, area, subject) {
      const issued = deps.tokens.issue(subject, AUDIENCE[area]);
      // koa's cookies refuse to set a Secure cookie on a plain connection: tell it what we know
      (ctx.cookies as { secure?: boolean }).secure = isSecureRequest(ctx, trustProxy(ctx));
      setCookie(ctx, area, issued.access_token, (issued.claims.exp - issued.claims.iat) * 1000);
      ctx.state.claims = issued.claims;
      ctx.state.token = issued.access_token;
    },

    refreshSession(ctx, area, claims, subject) {
      if (claims.exp - Date.now() / 1000 > REFRESH_BEFORE_S) return;
      kit.startSession(ctx, area, subject);
    },

    endSession(ctx, area) {
      // only a token of this area: a cookie holding any other token (an API token pasted in
      // by someone) must not get that token revoked
      const s = kit.sessionClaims(ctx, area);
      if (s) deps.tokens.revoke(s.token);
      (ctx.cookies as { secure?: boolean }).secure = isSecureRequest(ctx, trustProxy(ctx));
      setCookie(ctx, area, '', 0);
    },

    csrfSubject(ctx, area) {
      const u = ctx.state.claims?.username;
      return `${area}:${u === undefined ? 'login' : `user ${u}`}`;
    },

    checkCsrf(ctx, area, form) {
      const token = form?.get(CSRF_FIELD) ?? (ctx.get(CSRF_HEADER) || undefined);
      if (!o.csrf.verify(token ?? undefined, kit.csrfSubject(ctx, area))) {
        throw new HttpError(403, 'Invalid CSRF token', {
          detail: 'the form is missing its token or it expired: reload the page and try again',
        });
      }
    },

    async readForm(ctx, limit = MAX_FORM_BYTES) {
      if (!ctx.is('application/x-www-form-urlencoded')) {
        throw new HttpError(400, 'expected a form (application/x-www-form-urlencoded)', {
          detail: `content type ${JSON.stringify(ctx.get('content-type'))}`,
        });
      }
      const raw = await readRawBody(ctx.req, limit);
      return new URLSearchParams(raw.toString('utf8'));
    },

    page(ctx, area, template, data, status = 200) {
      const claims = ctx.state.claims;
      const html = o.renderer.render(template, {
        webRoot,
        base: url(area),
        static: `${webRoot}/static`,
        area,
        csrf: o.csrf.issue(kit.csrfSubject(ctx, area)),
        csrfField: CSRF_FIELD,
        session: claims
          ? { username: claims.username, permissions: claims.permissions }
          : undefined,
        flash: [] as FlashMessage[],
        version: deps.version.version,
        ...data,
      });
      setSecurityHeaders(ctx);
      ctx.set('Cache-Control', 'no-store');
      ctx.status = status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = html;
    },

    loginPage(ctx, area, lo = {}) {
      const heading = area === 'admin' ? 'SFTPGo admin' : 'SFTPGo';
      const data = {
        title: 'Login',
        heading,
        action: url(area, '/login'),
        username: lo.username ?? '',
        error: lo.error,
      };
      kit.page(ctx, area, 'common/login', data, lo.status ?? 200);
    },

    redirect(ctx, area, path) {
      setSecurityHeaders(ctx);
      ctx.status = 302;
      ctx.redirect(url(area, path));
    },

    errors(area) {
      return async function webErrors(ctx, next) {
        try {
          await next();
          if (ctx.status === 404 && (ctx.body === undefined || ctx.body === null)) {
            kit.page(
              ctx,
              area,
              'common/error',
              { title: 'Not found', message: 'Not Found', detail: 'the page does not exist' },
              404,
            );
          }
        } catch (e) {
          const m = mapError(e);
          if (m.status >= 500) {
            deps.logger.error(
              { error: errorSummary(e), method: ctx.method, uri: ctx.path },
              'web request failed',
            );
          } else if (!(HttpError.is(e) && e.logged)) {
            deps.logger.debug(
              {
                method: ctx.method,
                uri: ctx.path,
                status: m.status,
                reason: m.body.error ?? m.body.message,
              },
              'web request rejected',
            );
          }
          for (const [k, v] of Object.entries(m.headers)) {
            // no Basic challenge on a web page: the browser would pop up its own login dialog
            if (k.toLowerCase() !== 'www-authenticate') ctx.set(k, v);
          }
          const detail =
            m.body.error !== undefined && m.body.error !== m.body.message
              ? m.body.error
              : undefined;
          kit.page(
            ctx,
            area,
            'common/error',
            { title: m.body.message, message: m.body.message, detail },
            m.status,
          );
        }
      };
    },
  };
  return kit;
}

/** a SftpgoError/HttpError message a page can show next to the form, for handled failures */
export function errorText(e: unknown): string {
  if (HttpError.is(e))
    return e.detail && e.detail !== e.message ? `${e.message}: ${e.detail}` : e.message;
  if (SftpgoError.is(e)) return mapError(e).body.message;
  return 'internal error';
}
